"""Inputs for scripts/fuzz.py: small real base clips, and seeded damage to clips, pose-cache entries,
config files and batch folder trees.

Every function takes a ``random.Random`` and returns a short description of what it did, so a
failing case can be read and re-made from its seed alone.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import struct
from fractions import Fraction
from pathlib import Path

# --- base clips ------------------------------------------------------------------------------------


def subsample_clip(
    src: Path,
    dst: Path,
    *,
    n_frames: int,
    step: int = 1,
    start: int = 0,
    scale: float = 0.5,
    gop: int = 25,
    bframes: int = 0,
    faststart: bool = False,
) -> Path:
    """Every ``step``-th frame of ``src`` from ``start``, re-encoded small (H.264, ``gop`` frames per
    keyframe, ``bframes`` B-frames, the index first with ``faststart``). A capture rate in the
    phone metadata is divided by ``step``, so the clip is the same motion at a lower capture rate."""
    import av

    movflags = "use_metadata_tags+faststart" if faststart else "use_metadata_tags"
    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": movflags}) as out:
        for key, value in inp.metadata.items():
            if "capture.fps" in key:
                out.metadata[key] = f"{float(value) / step:.6f}"
        s = inp.streams.video[0]
        rate = Fraction(s.average_rate).limit_denominator(1000)
        w = int(s.codec_context.width * scale) // 2 * 2
        h = int(s.codec_context.height * scale) // 2 * 2
        enc = out.add_stream("libx264", rate=rate)
        enc.width, enc.height, enc.pix_fmt = w, h, "yuv420p"
        enc.codec_context.time_base = 1 / rate
        preset = "veryfast" if bframes else "ultrafast"
        enc.options = {"preset": preset, "crf": "23", "g": str(gop), "bf": str(bframes)}
        j = 0
        for i, frame in enumerate(inp.decode(s)):
            if i < start or (i - start) % step:
                continue
            if j >= n_frames:
                break
            f = frame.reformat(width=w, height=h, format="yuv420p")
            f.pts, f.time_base = j, 1 / rate
            j += 1
            out.mux(enc.encode(f))
        out.mux(enc.encode())
    return dst


def noise_clip(dst: Path, *, n_frames: int = 8, size_px=(96, 64), seed: int = 0) -> Path:
    """A valid clip of random noise: decodable, no person in it."""
    import av
    import numpy as np

    rng = np.random.default_rng(seed)
    with av.open(str(dst), "w") as out:
        enc = out.add_stream("libx264", rate=30)
        enc.width, enc.height, enc.pix_fmt = size_px[0], size_px[1], "yuv420p"
        for i in range(n_frames):
            rgb = rng.integers(0, 256, (size_px[1], size_px[0], 3), dtype=np.uint8)
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            f.pts = i
            out.mux(enc.encode(f))
        out.mux(enc.encode())
    return dst


# --- MP4 boxes -------------------------------------------------------------------------------------

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta", b"mvex"}


def mp4_boxes(data: bytes, start: int = 0, end: int | None = None, depth: int = 0):
    """(offset, size, type, header bytes, depth) of every box, depth first; stops at the first that does
    not fit (a damaged file lists what it can)."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        hdr = 8
        if size == 1 and pos + 16 <= end:
            size, hdr = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < hdr or pos + size > end:
            return
        yield pos, size, kind, hdr, depth
        children = {b"stsd": hdr + 8, b"avc1": hdr + 78}.get(kind, hdr if kind in _CONTAINERS else None)
        if children is not None:
            yield from mp4_boxes(data, pos + children, pos + size, depth + 1)
        pos += size


def _regions(data: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(header ranges: ftyp and moov boxes, data ranges: mdat payloads) as [start, end)."""
    header, payload = [], []
    for pos, size, kind, hdr, depth in mp4_boxes(data):
        if depth == 0 and kind in (b"ftyp", b"moov"):
            header.append((pos, pos + size))
        elif depth == 0 and kind == b"mdat":
            payload.append((pos + hdr, pos + size))
    return header or [(0, min(len(data), 4096))], payload or [(0, len(data))]


def _offset_in(rng: random.Random, ranges: list[tuple[int, int]]) -> int:
    lo, hi = rng.choice(ranges)
    return rng.randrange(lo, max(lo + 1, hi))


# --- clip damage -----------------------------------------------------------------------------------


def _truncate(rng, data):
    keep = rng.choice([rng.randrange(1, 64), rng.randrange(len(data) // 4, len(data)), int(len(data) * 0.9)])
    return data[:keep], f"truncated to {keep} of {len(data)} bytes"


def _flip(rng, data, where):
    header, payload = _regions(bytes(data))
    ranges = header if where == "header" else payload
    n = rng.choice([1, 2, 5, 20, 100])
    for _ in range(n):
        data[_offset_in(rng, ranges)] ^= 1 << rng.randrange(8) if rng.random() < 0.5 else rng.randrange(1, 256)
    return data, f"{n} byte(s) changed in the {where}"


def _zero(rng, data):
    start = rng.randrange(len(data))
    n = rng.choice([16, 512, 4096, 65536])
    data[start : start + n] = bytes(len(data[start : start + n]))
    return data, f"{n} bytes zeroed at {start}"


def _append(rng, data):
    n = rng.choice([1, 100, 10_000, 300_000])
    junk = rng.choice([bytes(n), rng.randbytes(n), (b"moov" + bytes(4)) * (n // 8 + 1)])
    return data + junk, f"{len(junk)} bytes of junk appended"


def _prepend(rng, data):
    n = rng.choice([1, 7, 4096])
    return rng.randbytes(n) + data, f"{n} bytes of junk before the file"


def _copy_over(rng, data):
    n = rng.choice([188, 4096, 32768])
    src, dst = rng.randrange(len(data)), rng.randrange(len(data))
    chunk = data[src : src + n]
    data[dst : dst + len(chunk)] = chunk
    return data, f"{len(chunk)} bytes copied from {src} over {dst}"


_EXTREMES = (0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0xFFFF, 2)


def _box_lie(rng, data):
    """One 32-bit field of a box inside moov (its size, a count, an offset, ...) set to an extreme."""
    boxes = [b for b in mp4_boxes(bytes(data)) if b[4] > 0]
    if not boxes:
        return _flip(rng, data, "header")
    pos, size, kind, hdr, _ = rng.choice(boxes)
    field = 0 if rng.random() < 0.3 or size < hdr + 8 else rng.randrange(hdr, size - 3) // 4 * 4
    value = rng.choice(_EXTREMES)
    data[pos + field : pos + field + 4] = struct.pack(">I", value)
    what = "size" if field == 0 else f"word at +{field}"
    return data, f"box {kind.decode('latin-1')} {what} set to {value:#x}"


def _huge_dims(rng, data):
    """The container claims a frame size the stream does not have (sample entry and track header)."""
    w, h = rng.choice([(65535, 65535), (0, 0), (32768, 2), (1, 1)])
    done = []
    for pos, size, kind, hdr, _ in list(mp4_boxes(bytes(data))):
        if kind == b"avc1":
            data[pos + hdr + 24 : pos + hdr + 28] = struct.pack(">HH", w, h)
            done.append("avc1")
        elif kind == b"tkhd":
            data[pos + size - 8 : pos + size] = struct.pack(">II", w << 16 & 0xFFFFFFFF, h << 16 & 0xFFFFFFFF)
            done.append("tkhd")
    return data, f"frame size claimed {w}x{h} in {'+'.join(done) or 'nothing (no box found)'}"


CLIP_DAMAGE = {
    "truncate": _truncate,
    "flip_header": lambda rng, d: _flip(rng, d, "header"),
    "flip_data": lambda rng, d: _flip(rng, d, "data"),
    "zero_range": _zero,
    "append_junk": _append,
    "prepend_junk": _prepend,
    "copy_over": _copy_over,
    "box_lie": _box_lie,
    "huge_dims": _huge_dims,
}
WRONG_SUFFIXES = (".mov", ".avi", ".mkv", ".MP4", ".txt", "", ".jpg", ".mp4.part")


def damage_clip(rng: random.Random, base: bytes, dst_dir: Path) -> tuple[Path, list[str]]:
    """A damaged copy of ``base``: 1-3 kinds of damage, maybe under a wrong suffix; or zero bytes."""
    if rng.random() < 0.04:
        path = dst_dir / "empty.mp4"
        path.write_bytes(b"")
        return path, ["zero-length file"]
    data, what = bytearray(base), []
    for kind in rng.sample(sorted(CLIP_DAMAGE), rng.choice([1, 1, 2, 3])):
        data, text = CLIP_DAMAGE[kind](rng, bytearray(data))
        what.append(f"{kind}: {text}")
    suffix = ".mp4"
    if rng.random() < 0.15:
        suffix = rng.choice(WRONG_SUFFIXES)
        what.append(f"named {suffix or 'without a suffix'}")
    path = dst_dir / f"clip{suffix}"
    path.write_bytes(bytes(data))
    return path, what


def decode_signature(path: Path) -> dict:
    """What FFmpeg itself says about a clip: frames, decode errors, frames flagged corrupt, and a hash
    per frame (to tell a damaged clip whose pictures changed from one that decodes as before)."""
    import hashlib

    import av

    av.logging.set_level(None)
    out = {"opened": False, "frames": 0, "errors": 0, "corrupt": 0, "hashes": []}
    try:
        container = av.open(str(path))
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        out["open_error"] = exc.__class__.__name__
        return out
    with container:
        out["opened"] = True
        if not container.streams.video:
            return out
        stream = container.streams.video[0]
        stream.thread_count = 1
        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    out["errors"] += 1
                    continue
                for frame in frames:
                    out["frames"] += 1
                    out["corrupt"] += bool(frame.is_corrupt)
                    planes = frame.to_ndarray(format="gray")
                    out["hashes"].append(hashlib.md5(planes.tobytes()).hexdigest()[:12])
        except Exception as exc:  # noqa: BLE001
            out["errors"] += 1
            out["demux_error"] = exc.__class__.__name__
    return out


# --- pose-cache damage -----------------------------------------------------------------------------


def _rewrite_npz(path: Path, change) -> None:
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    change(arrays)
    path.unlink()
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _random_value(rng: random.Random):
    return rng.choice([None, -1, 0, 1.5, 1e308, float("nan"), "x", "", [], [1, "a"], {}, {"a": 1}, True, 2**70])


def _mutate_json(rng: random.Random, node, depth: int = 0) -> str:
    """Replace, delete or retype one random leaf or branch of a JSON document in place; say which."""
    if isinstance(node, dict) and node:
        key = rng.choice(sorted(node))
        if depth < 4 and isinstance(node[key], (dict, list)) and node[key] and rng.random() < 0.7:
            return f"{key}." + _mutate_json(rng, node[key], depth + 1)
        if rng.random() < 0.3:
            del node[key]
            return f"{key} deleted"
        node[key] = _random_value(rng)
        return f"{key} = {node[key]!r}"
    if isinstance(node, list) and node:
        k = rng.randrange(len(node))
        if depth < 4 and isinstance(node[k], (dict, list)) and node[k] and rng.random() < 0.7:
            return f"[{k}]." + _mutate_json(rng, node[k], depth + 1)
        node[k] = _random_value(rng)
        return f"[{k}] = {node[k]!r}"
    return "nothing to change"


def _cache_meta(rng, path):
    import numpy as np

    what = []

    def change(arrays):
        record = json.loads(str(arrays["meta"][()]))
        what.append(_mutate_json(rng, record))
        arrays["meta"] = np.array(json.dumps(record))

    _rewrite_npz(path, change)
    return f"meta record: {what[0]}"


def _cache_array(rng, path):
    import numpy as np

    name = rng.choice(["xy_px", "z", "visibility", "time_s", "frame_index", "meta"])
    how = rng.choice(["drop", "shorter", "dtype", "nan", "shuffle", "scalar", "huge"])

    def change(arrays):
        a = arrays[name]
        if how == "drop":
            del arrays[name]
        elif how == "shorter" and a.ndim:
            arrays[name] = a[: max(0, len(a) - rng.randrange(1, 5))]
        elif how == "dtype":
            arrays[name] = a.astype(rng.choice(["U3", "i1", "f2", "bool"])) if a.dtype.kind != "U" else np.zeros(3)
        elif how == "nan" and a.dtype.kind == "f" and a.size:
            a = a.copy()
            a.flat[rng.randrange(a.size)] = rng.choice([np.nan, np.inf, -1e30])
            arrays[name] = a
        elif how == "shuffle" and a.ndim and len(a) > 1:
            arrays[name] = a[np.random.default_rng(rng.randrange(1 << 30)).permutation(len(a))]
        elif how == "huge" and a.ndim and a.dtype.kind in "iu":
            arrays[name] = a + 2**40
        else:
            arrays[name] = np.array(0)

    _rewrite_npz(path, change)
    return f"array {name}: {how}"


def damage_cache_entry(rng: random.Random, entry: Path, other_entry: Path | None) -> tuple[str, bool]:
    """Damage the pose-cache file ``entry``; (what was done, whether the entry may still read as valid
    data: only then may the analysis differ from the clean run)."""
    kind = rng.choice(
        ["truncate", "flip", "zero", "append", "empty", "random", "folder", "dangling_link", "link_loop", "fifo"]
        + ["other_entry", "link_other", "pose_dir_file", "meta", "meta", "array", "array"]
    )
    data = bytearray(entry.read_bytes())
    if kind == "truncate":
        n = rng.randrange(len(data))
        entry.write_bytes(bytes(data[:n]))
        return f"entry truncated to {n} bytes", False
    if kind == "flip":
        for _ in range(rng.choice([1, 3, 30])):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        entry.write_bytes(bytes(data))
        return "bits flipped in the entry", False
    if kind == "zero":
        start = rng.randrange(len(data))
        data[start : start + 512] = bytes(len(data[start : start + 512]))
        entry.write_bytes(bytes(data))
        return f"512 bytes zeroed at {start}", False
    if kind == "append":
        entry.write_bytes(bytes(data) + rng.randbytes(rng.choice([1, 1000])))
        return "junk appended to the entry", False
    if kind == "empty":
        entry.write_bytes(b"")
        return "entry emptied", False
    if kind == "random":
        entry.write_bytes(rng.randbytes(len(data)))
        return "entry replaced by random bytes", False
    entry.unlink()
    if kind == "folder":
        entry.mkdir()
        (entry / "x").write_text("x")
        return "a folder in the entry's place", False
    if kind == "dangling_link":
        entry.symlink_to(entry.parent / "nowhere.npz")
        return "entry is a dangling symlink", False
    if kind == "link_loop":
        entry.symlink_to(entry)
        return "entry is a symlink to itself", False
    if kind == "fifo":
        os.mkfifo(entry)
        return "entry is a FIFO", False
    if kind in ("other_entry", "link_other") and other_entry is not None:
        if kind == "other_entry":
            shutil.copyfile(other_entry, entry)
            return "entry holds another clip's entry", False
        entry.symlink_to(other_entry)
        return "entry is a symlink to another clip's entry", False
    if kind == "pose_dir_file":
        shutil.rmtree(entry.parent)
        entry.parent.write_text("not a folder")
        return "the cache's pose folder is a file", False
    entry.write_bytes(bytes(data))
    if kind == "meta":
        return _cache_meta(rng, entry), True
    return _cache_array(rng, entry), True


# --- config files ----------------------------------------------------------------------------------


def config_schema() -> dict[str, dict[str, tuple]]:
    """{table: {setting: (default, Range or None)}} from gaitlab's own settings classes."""
    import dataclasses

    from gaitlab.core.config import AnalysisConfig

    schema = {}
    for table in dataclasses.fields(AnalysisConfig):
        cls = table.default_factory
        schema[table.name] = {f.name: (f.default, f.metadata.get("range")) for f in dataclasses.fields(cls)}
    return schema


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


class Raw(str):
    """TOML text written as is (a date, a literal the dumper would not make)."""


def _in_range(rng: random.Random, default, allowed):
    if isinstance(default, bool):
        return rng.random() < 0.5
    lo = allowed.lo
    hi = allowed.hi if math.isfinite(allowed.hi) else max(abs(lo) * 10, 1000.0)
    if isinstance(default, int):
        return rng.choice(
            [int(lo) + (1 if allowed.lo_open else 0), int(lo) + 1, int(hi), 2**62, rng.randint(int(lo), int(hi))]
        )
    eps = 1e-9 * max(1.0, abs(hi))
    pick = rng.choice(
        [lo + eps if allowed.lo_open else lo, hi - eps if allowed.hi_open else hi, rng.uniform(lo, hi), default]
    )
    if isinstance(default, tuple):
        n = rng.choice([1, 2, 6, 50])
        return [
            rng.choice([lo, allowed.hi if math.isfinite(allowed.hi) else hi, rng.uniform(lo, hi)]) for _ in range(n)
        ]
    return float(pick) if math.isfinite(pick) else default


_WRONG = [
    "12",
    "nan",
    "inf",
    "",
    True,
    [1, 2],
    [],
    {"x": 1},
    Raw("1979-05-27T07:32:00Z"),
    Raw("2024-01-01"),
    Raw("1e400"),
    Raw("-1e400"),
    Raw("nan"),
    Raw("inf"),
    Raw("-inf"),
    Raw("9223372036854775807"),
    Raw("-9223372036854775808"),
    Raw("0x7fffffff"),
    Raw("5e-324"),
    Raw("-0.0"),
    4.0,
    -1,
    1e300,
]


def _out_of_range(rng: random.Random, default, allowed):
    if allowed is None:
        return rng.choice(_WRONG)
    choices = [allowed.lo - 1, allowed.lo - 1e-12, allowed.lo * -10 - 5]
    if math.isfinite(allowed.hi):
        choices += [allowed.hi + 1, allowed.hi * 1e6 + 1]
    if allowed.lo_open:
        choices.append(allowed.lo)
    if allowed.hi_open:
        choices.append(allowed.hi)
    value = rng.choice(choices)
    if isinstance(default, int) and not isinstance(default, bool):
        return int(value)
    if isinstance(default, tuple):
        return [0.01, value]
    return float(value)


def _tables_text(tables: dict[str, dict]) -> str:
    lines = []
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {v if isinstance(v, Raw) else toml_value(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)


def random_config(rng: random.Random) -> tuple[bytes, str, bool]:
    """(file bytes, what it is, whether gaitlab must accept it as far as types and ranges go)."""
    schema = config_schema()
    tables: dict[str, dict] = {}
    for table, fields in schema.items():
        for name, (default, allowed) in fields.items():
            if rng.random() < 0.25:
                tables.setdefault(table, {})[name] = _in_range(rng, default, allowed)
    mode = rng.choice(["valid", "valid", "valid", "wrong_type", "range", "unknown", "syntax", "bytes"])
    valid = mode == "valid"
    what = mode
    if mode in ("wrong_type", "range"):
        table = rng.choice(sorted(schema))
        name = rng.choice(sorted(schema[table]))
        default, allowed = schema[table][name]
        value = rng.choice(_WRONG) if mode == "wrong_type" else _out_of_range(rng, default, allowed)
        tables.setdefault(table, {})[name] = value
        what = f"{mode}: [{table}] {name} = {value if isinstance(value, Raw) else toml_value(value)}"
    elif mode == "unknown":
        kind = rng.choice(["key", "table", "top_value", "table_as_value", "array_of_tables"])
        table = rng.choice(sorted(schema))
        text = _tables_text(tables)
        extra = {
            "key": f"[{table}]\nno_such_setting = 1\n",
            "table": "[no_such_table]\nx = 1\n",
            "top_value": "",
            "table_as_value": "",
            "array_of_tables": f"[[{table}_list]]\nx = 1\n",
        }[kind]
        if kind == "top_value":
            text = "cutoff_hz = 3.0\n" + text
        elif kind == "table_as_value":
            text = f"{table} = 3\n" + text.replace(f"[{table}]", "[other_table_renamed]")
        return (text + "\n" + extra).encode(), f"unknown: {kind}", False
    text = _tables_text(tables)
    if mode == "syntax":
        chars = list(text or "x")
        for _ in range(rng.choice([1, 2, 4])):
            k = rng.randrange(len(chars) + 1)
            op = rng.choice(["insert", "delete", "dup_line"])
            if op == "insert":
                chars.insert(k, rng.choice("[]=\"'{},.#\n=\\\t"))
            elif op == "delete" and chars:
                del chars[min(k, len(chars) - 1)]
            else:
                lines = "".join(chars).splitlines(keepends=True) or ["x\n"]
                j = rng.randrange(len(lines))
                lines.insert(j, lines[j])
                chars = list("".join(lines))
        return "".join(chars).encode(), "syntax: characters inserted/deleted or a line repeated", False
    if mode == "bytes":
        kind = rng.choice(["bom", "latin1", "nul", "empty", "comments", "crlf", "dotted_keys", "deep"])
        raw = text.encode()
        data = {
            "bom": b"\xef\xbb\xbf" + raw,
            "latin1": raw + b"# caf\xe9\n",
            "nul": raw + b"\x00\n",
            "empty": b"",
            "comments": b"# comment\n" * 100_000 + raw,
            "crlf": raw.replace(b"\n", b"\r\n"),
            "dotted_keys": b"clean.cutoff_hz = 3.0\nevents.min_contact_s = 0.05\n",
            "deep": b"a = " + b"[" * 3000 + b"]" * 3000 + b"\n",
        }[kind]
        return data, f"bytes: {kind}", kind in ("crlf", "dotted_keys", "empty")
    return text.encode(), what, valid


# --- batch folder trees ----------------------------------------------------------------------------

ODD_NAMES = [
    "run 1",
    "sprint é",
    "sprint e\u0301",
    "跑步",
    "🏃 fast",
    "-rf",
    "--help",
    '=HYPERLINK("x")',
    "+1",
    "@sum",
    "line\nbreak",
    "tab\there",
    'quote"s',
    "back\\slash",
    "semi;colon,comma",
    "___",
    "-",
    " ",
    "x" * 120,
    "é" * 100,
    "CON",
    "..clip",
    "a:b",
    "%s%n",
    "$(reboot)",
    "<b>bold<b>",
    "\u202eevil",
    "zero\u200bwidth",
    "carriage\rreturn",
]
BAD_BYTES_NAMES = [b"\xff\xfe", b"caf\xe9", b"\x80abc"]


def _odd_name(rng: random.Random, suffix: str = "") -> str | bytes:
    if rng.random() < 0.1:
        return rng.choice(BAD_BYTES_NAMES) + suffix.encode()
    return rng.choice(ODD_NAMES) + suffix


def _join(folder: Path, name) -> Path | bytes:
    return os.path.join(os.fsencode(folder), name) if isinstance(name, bytes) else folder / name


def _exists(path) -> bool:
    return os.path.lexists(path)


def random_tree(rng: random.Random, source: Path, real_clips: list[Path], scratch: Path) -> tuple[list[str], int, int]:
    """Fill ``source`` with odd entries around 1-2 real clips; (what is there, how many real clips a
    batch must analyze ``ok``: those under visible names, reached through no hidden or output folder,
    how many more may be ``ok``: real clips whose sidecar gives odd facts)."""
    what, expected_ok, maybe_ok = [], 0, 0
    folders = [source]
    for _ in range(rng.randint(0, 3)):
        parent = rng.choice(folders)
        name = rng.choice([_odd_name(rng), "2024-05-01", "2024-13-45", "athlete", ".hidden", "old.gaitlab", "x.mp4"])
        path = _join(parent, name)
        if not _exists(path):
            os.makedirs(path)
            folders.append(Path(os.fsdecode(path)))
            what.append(f"folder {os.fsdecode(path)!r}")
    n_real = rng.choice([1, 1, 2])
    for k in range(n_real):
        folder = rng.choice(folders)
        path = _join(
            folder, _odd_name(rng, rng.choice([".mp4", ".MOV", ".mkv"])) if rng.random() < 0.7 else f"clip{k}.mp4"
        )
        if _exists(path):
            continue
        shutil.copyfile(rng.choice(real_clips), path)
        visible = _visible(Path(os.fsdecode(path)), source)
        expected_ok += visible
        what.append(f"real clip {os.fsdecode(path)!r}{'' if visible else ' (hidden)'}")
    for _ in range(rng.randint(1, 6)):
        folder = rng.choice(folders)
        kind = rng.choice(
            ["empty", "text", "fifo", "dangling", "loop", "dev", "dir_link", "link_clip", "noise", "truncated"]
            + ["sidecar", "dir_named_clip", "same_stem"]
        )
        name = _odd_name(rng, ".mp4") if rng.random() < 0.5 else f"{kind}.mp4"
        path = _join(folder, name)
        if _exists(path):
            continue
        sure, maybe = _make_entry(rng, kind, path, source, real_clips, scratch)
        expected_ok, maybe_ok = expected_ok + sure, maybe_ok + maybe
        what.append(f"{kind} {os.fsdecode(path)!r}")
    return what, expected_ok, maybe_ok


def _visible(path: Path, source: Path) -> bool:
    parts = path.relative_to(source).parts
    return not any(p.startswith(".") or p.endswith(".gaitlab") for p in parts)


def _make_entry(rng, kind, path, source, real_clips, scratch) -> tuple[int, int]:
    """Make one odd entry; (real clips in it a batch must analyze ``ok``, real clips that may be ``ok``)."""
    if kind == "empty":
        open(path, "wb").close()
    elif kind == "text":
        with open(path, "wb") as fh:
            fh.write(b"not a video\n" * 10)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling":
        os.symlink("does-not-exist.mp4", path)
    elif kind == "loop":
        os.symlink(os.path.basename(path), path)
    elif kind == "dev":
        os.symlink(rng.choice(["/dev/null", "/dev/zero", "/dev/urandom"]), path)
    elif kind == "dir_link":
        os.symlink(os.fsencode(source) if isinstance(path, bytes) else source, path)
    elif kind == "link_clip":
        os.symlink(rng.choice(real_clips), path)
        return int(_visible(Path(os.fsdecode(path)), source)), 0
    elif kind == "noise":
        made = noise_clip(scratch / f"noise-{rng.randrange(1 << 30)}.mp4", seed=rng.randrange(1000))
        shutil.copyfile(made, path)
    elif kind == "truncated":
        with open(path, "wb") as fh:
            fh.write(rng.choice(real_clips).read_bytes()[: rng.randrange(100, 20000)])
    elif kind == "sidecar":
        shutil.copyfile(rng.choice(real_clips), path)
        meta = {
            "athlete": rng.choice(["../..", "", None, 42, ["a"], "Ann", "é" * 300, "/abs"]),
            "session": rng.choice(["2024-02-30", "..", "", 20240101, None, "2024-05-01"]),
            "capture_fps": rng.choice([None, -1, 0, "abc", 1e-300, 1e300, 240, True, float("nan")]),
        }
        side = os.fsdecode(path) + ".meta.json"
        Path(side).write_text(json.dumps(meta) if rng.random() < 0.8 else "{not json", encoding="utf-8")
        return 0, int(_visible(Path(os.fsdecode(path)), source))  # its capture fps may be absurd: maybe not ok
    elif kind == "dir_named_clip":
        os.makedirs(path)
    elif kind == "same_stem":
        shutil.copyfile(rng.choice(real_clips), path)
        twin = os.path.splitext(os.fsdecode(path))[0] + ".MOV"
        if not os.path.lexists(twin):
            shutil.copyfile(rng.choice(real_clips), twin)
            return int(_visible(Path(os.fsdecode(path)), source)) * 2, 0
        return int(_visible(Path(os.fsdecode(path)), source)), 0
    return 0, 0


def random_roster(rng: random.Random, source: Path, path: Path) -> str:
    """A roster CSV naming some entries of ``source`` (and some that are not there), with odd rows."""
    entries = []
    for folder, _dirs, files in os.walk(source):
        entries += [os.path.relpath(os.path.join(folder, f), source) for f in files]
    kind = rng.choice(["odd_rows", "odd_rows", "missing_column", "empty", "junk", "nul", "latin1", "bom"])
    header = rng.choice(["clip,athlete,session,capture_fps", "clip,athlete", "athlete,clip,extra"])
    rows = []
    for _ in range(rng.randint(0, 6)):
        clip = rng.choice(entries + ["missing.mp4", "", "../outside.mp4", "/abs/path.mp4"]) if entries else "x.mp4"
        athlete = rng.choice(["Ann", "", "../..", "=cmd|' /C calc'!A0", "é" * 200, " ", "a,b", 'q"uote'])
        session = rng.choice(["", "2024-05-01", "2024-02-30", "yesterday", "../x"])
        fps = rng.choice(["", "240", "0", "-1", "nan", "inf", "1e309", "abc", "1e-300", "1e300"])
        rows.append([clip, athlete, session, fps, "extra"][: rng.choice([1, 2, 4, 5])])
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    if kind != "missing_column":
        buf.write(header + "\n")
    else:
        buf.write("file,name\n")
    for row in rows:
        writer.writerow(row)
    text = buf.getvalue()
    data = {
        "empty": b"",
        "junk": rng.randbytes(300),
        "nul": text.encode("utf-8", "surrogateescape") + b"\x00,x\n",
        "latin1": text.encode("utf-8", "surrogateescape") + b"caf\xe9.mp4,Ann\n",
        "bom": b"\xef\xbb\xbf" + text.encode("utf-8", "surrogateescape"),
    }.get(kind, text.encode("utf-8", "surrogateescape"))
    path.write_bytes(data)
    return f"roster {kind} ({len(rows)} rows)"


# --- landmark files (analyze --keypoints) ----------------------------------------------------------

_CELL_JUNK = ["abc", "nan", "inf", "-inf", "1e400", "", "-", "1,5", "0x10", "\uff11\uff12", "\x00"]


def damage_trc(rng: random.Random, text: str) -> tuple[bytes, str]:
    """A TRC file's text with lines, cells or its header damaged; or odd bytes."""
    lines = text.splitlines()
    kind = rng.choice(["cells", "cells", "lines", "header", "times", "truncate", "bytes", "columns"])
    if kind == "cells":
        for _ in range(rng.choice([1, 5, 50])):
            i = rng.randrange(5, len(lines)) if len(lines) > 5 else 0
            cells = lines[i].split("\t")
            cells[rng.randrange(len(cells))] = rng.choice(_CELL_JUNK)
            lines[i] = "\t".join(cells)
    elif kind == "lines":
        for _ in range(rng.choice([1, 3, 20])):
            if lines:
                del lines[rng.randrange(len(lines))]
    elif kind == "header":
        i = rng.randrange(min(5, len(lines)))
        cells = lines[i].split("\t")
        cells[rng.randrange(len(cells))] = rng.choice(["furlongs", "abc", "0", "-1", "", "PathFileType", "px"])
        lines[i] = "\t".join(cells)
    elif kind == "times":
        how = rng.choice(["same", "reversed", "nan", "huge"])
        for i in range(5, len(lines)):
            cells = lines[i].split("\t")
            if len(cells) > 1:
                cells[1] = {"same": "0", "reversed": str(-i), "nan": "nan", "huge": str(1e300 * i)}[how]
                lines[i] = "\t".join(cells)
        kind = f"times {how}"
    elif kind == "truncate":
        n = rng.randrange(len(lines) + 1)
        lines = lines[:n]
        kind = f"first {n} lines"
    elif kind == "columns":
        cut = rng.choice([2, 5, 40])
        lines = lines[:5] + ["\t".join(ln.split("\t")[:cut]) for ln in lines[5:]]
        kind = f"data rows cut to {cut} columns"
    data = "\n".join(lines).encode("utf-8")
    if kind == "bytes":
        data = rng.choice([b"", b"\xef\xbb\xbf" + data, data.replace(b"\t", b" "), data + b"\xff\xfe\x00", data[:1]])
    return data, f"trc: {kind}"


def _json_junk(rng: random.Random):
    return rng.choice(
        [
            "not json",
            "[]",
            "[1, 2]",
            "null",
            '{"people": 3}',
            '{"people": [3, "x"]}',
            '{"people": [{"pose_keypoints_2d": "abc"}]}',
            '{"people": [{"pose_keypoints_2d": [1, 2, 3]}]}',
            '{"people": [{"pose_keypoints_2d": [' + ", ".join(["1e400"] * 75) + "]}]}",
            '{"people": [{"pose_keypoints_2d": [' + ", ".join(['"a"'] * 75) + "]}]}",
            '{"people": [{"pose_keypoints_2d": [' + ", ".join(["[1]"] * 75) + "]}]}",
            '{"people": [{"pose_keypoints_2d": [' + ", ".join(["-5"] * 75) + "]}]}",
            '{"people": [{"pose_keypoints_2d": null}]}',
            '{"people": {"a": 1}}',
            "\xff",
        ]
    )


def damage_openpose(rng: random.Random, src: Path, dst: Path) -> str:
    """A copy of (part of) an OpenPose JSON folder with odd frames, names or entries in it."""
    files = sorted(src.glob("*.json"))
    start = rng.randrange(max(1, len(files) - 10))
    keep = files[start : start + rng.choice([1, 2, 10, 40, len(files)])]
    dst.mkdir()
    for f in keep:
        shutil.copyfile(f, dst / f.name)
    what = [f"{len(keep)} frames"]
    for _ in range(rng.choice([0, 1, 3])):
        kind = rng.choice(["junk", "junk", "fifo", "folder", "empty", "delete_all"])
        name = dst / (rng.choice(keep).name if keep and rng.random() < 0.7 else "zzz_extra.json")
        if os.path.lexists(name) and (kind != "junk" or not name.is_file()):  # never open a FIFO made here
            continue
        if kind == "junk":
            name.write_bytes(_json_junk(rng).encode("utf-8", "surrogateescape"))
        elif kind == "fifo":
            name.unlink(missing_ok=True)
            os.mkfifo(name)
        elif kind == "folder":
            name.unlink(missing_ok=True)
            name.mkdir()
        elif kind == "empty":
            name.write_bytes(b"")
        else:
            for f in dst.glob("*.json"):
                if f.is_file():
                    f.unlink()
        what.append(f"{kind} {name.name}")
    return "openpose: " + ", ".join(what)
