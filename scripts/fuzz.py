#!/usr/bin/env python3
"""Seeded fuzzing of gaitlab's command line: damaged clips, pose-cache entries, config files, batch
folder trees and landmark files (--keypoints). Nothing a user's file can do may break gaitlab (exit 1,
a traceback, a hang) or make it lie (``ok`` for a clip FFmpeg finds damaged, with no note saying so; a
damaged cache entry that changes a result; a real clip a batch silently drops).

    python scripts/fuzz.py --n 200 [--seed S] [--json out.json] [--jobs J] [--only clip,cache,...]
    python scripts/fuzz.py --seed S --case I [--keep]       # re-run one case (as printed for a failure)

Case ``I`` of seed ``S`` is made by ``random.Random(f"{S}:{I}")`` alone, in category ``I mod 5``
(clip, cache, config, batch, keypoints; or the ``--only`` list). Every case runs the real CLI
(``python -m gaitlab``) as a subprocess in a session of its own, killed after ``--timeout`` seconds
(a hang). The inputs are small: the bundled sample clip re-encoded at half size, every 3rd or 4th
frame (100 frames), and ``../shared``'s short jogger clip when present, always with ``--model lite``
and one pose worker. A warm pose cache (made once at the start) is shared by the cases that do not
damage the cache. Exit status: 0 when no case found a problem, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import fuzz_inputs as fi  # noqa: E402

CATEGORIES = ("clip", "cache", "config", "batch", "keypoints")
SAMPLE = REPO / "sample_videos" / "sprint_240fps_capture.mp4"
SHARED = Path(os.environ.get("GAITLAB_SHARED_DIR", REPO.parent / "shared")) / "data"
# A quality note that tells the reader a clip is damaged (pipeline bad_packets, analysis/damage.py).
DAMAGE_NOTE = re.compile(r"damag|could not be decoded|skipped|corrupt|truncat|missing", re.I)
BUG_REASON = re.compile(r"internal error|worker process died|Ray task failed", re.I)
ANALYZE = ("--model", "lite", "--workers", "1", "--quiet", "--json")


@dataclass
class Base:
    """A clip the cases start from, and its clean analysis."""

    name: str
    path: Path
    exit: int
    summary: dict
    contacts: str
    signature: dict
    entry: Path | None = None  # its pose-cache entry in the warm cache


@dataclass
class Ctx:
    work: Path
    cache: Path
    bases: list[Base]
    keypoints: Path | None
    timeout: float
    keep: bool
    code: Path  # the snapshot of the gaitlab package the cases run


@dataclass
class Run:
    exit: int | None
    hung: bool
    stdout: str
    stderr: str
    seconds: float


@dataclass
class Case:
    index: int
    category: str
    seed: str
    what: list[str] = field(default_factory=list)
    command: list[str] = field(default_factory=list)
    exit: int | None = None
    hung: bool = False
    traceback: bool = False
    lie: bool = False
    damage: str = ""  # clips analyzed ok: "noted", "lie", "silent change" (FFmpeg reports none), "none"
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    stderr_tail: str = ""


# --- running the CLI -------------------------------------------------------------------------------


def run_cli(args: list, *, env: dict, timeout: float, cwd: Path) -> Run:
    """``python -m gaitlab ARGS`` in its own session; the whole group is killed after ``timeout`` s."""
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gaitlab", *map(os.fsdecode, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    hung = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        hung = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    with_errors = dict(encoding="utf-8", errors="replace")
    return Run(
        None if hung else proc.returncode,
        hung,
        out.decode(**with_errors),
        err.decode(**with_errors),
        time.monotonic() - t0,
    )


def snapshot(work: Path) -> Path:
    """A copy of the gaitlab package the whole run imports: others editing the working tree meanwhile
    cannot change the code between the clean reference runs and the cases compared with them."""
    dst = work / "snapshot"
    shutil.copytree(REPO / "gaitlab", dst / "gaitlab", ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def case_env(ctx: Ctx, case_dir: Path, cache: Path | None = None) -> dict:
    env = dict(os.environ)
    env.pop("GAITLAB_DEBUG", None)
    env.update(GAITLAB_CACHE_DIR=str(cache or ctx.cache), TMPDIR=str(case_dir), PYTHONIOENCODING="utf-8")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ctx.code), env.get("PYTHONPATH")]))
    env.setdefault("GAITLAB_MODELS_DIR", str(REPO / "models"))  # the snapshot has no checkout's models/ beside it
    return env


def signature(path: Path, timeout: float = 60) -> dict:
    """decode_signature in a child process (a decoder stuck on a damaged file must not stop the fuzz)."""
    try:
        r = subprocess.run(
            [sys.executable, __file__, "--signature", os.fsdecode(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return json.loads(r.stdout)
    except (subprocess.TimeoutExpired, ValueError):
        return {"opened": False, "frames": 0, "errors": 1, "corrupt": 0, "hashes": [], "hung": True}


def record(case: Case, run: Run, args: list) -> None:
    case.command = ["python", "-m", "gaitlab", *map(os.fsdecode, args)]
    case.exit, case.hung, case.seconds = run.exit, run.hung, round(run.seconds, 1)
    text = run.stderr + run.stdout
    case.traceback = "Traceback (most recent call last)" in text or "internal error" in run.stderr
    case.stderr_tail = "\n".join(run.stderr.strip().splitlines()[-6:])[-1500:]
    if case.hung:
        case.problems.append(f"hang: killed after {run.seconds:.0f} s")
    if case.traceback:
        case.problems.append("traceback or internal error on stderr")
    if case.exit == 1:
        case.problems.append("exit 1 (internal error)")


def expect_exit(case: Case, allowed: tuple[int, ...]) -> None:
    if case.exit is not None and case.exit not in allowed and case.exit != 1:
        case.problems.append(f"exit {case.exit}, expected one of {allowed}")


def one_line_error(case: Case, run: Run, out: Path | None) -> None:
    """Exit 2 is one line on stderr (argparse's usage errors aside) and leaves no output folder."""
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    usage = any(ln.startswith("usage:") for ln in lines)
    if case.exit == 2 and not usage and len(lines) != 1:
        case.remarks.append(f"exit 2 with {len(lines)} stderr lines")
    if case.exit == 2 and out is not None and out.exists() and any(out.iterdir()):
        case.remarks.append("exit 2 left an output folder")
    foreign = [ln for ln in lines if not ln.startswith(("gaitlab", "usage:", "  ")) and ln.strip()]
    if foreign and not case.traceback:
        case.remarks.append(f"stderr lines not from gaitlab: {foreign[0][:120]!r}")


def read_summary(out: Path) -> dict | None:
    try:
        return json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def log_warnings(case: Case, out: Path) -> None:
    try:
        text = (out / "gaitlab.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for line in text.splitlines():
        if "py.warnings" in line:
            case.remarks.append(f"a Python warning in gaitlab.log: {line.split('py.warnings:', 1)[-1][:140].strip()}")
            break


# --- the four categories ---------------------------------------------------------------------------


def clip_case(rng: random.Random, ctx: Ctx, case: Case, d: Path) -> None:
    base = rng.choice(ctx.bases)
    extra, damaged = [], True
    roll = rng.random()
    if roll < 0.08:
        n = rng.choice([1, 2, 3])
        clip = fi.subsample_clip(SAMPLE, d / "short.mp4", n_frames=n, step=4, start=rng.randrange(0, 400))
        case.what.append(f"a valid clip of {n} frame(s)")
        damaged = False
    elif roll < 0.14:
        clip = d / "clip.mp4"
        shutil.copyfile(base.path, clip)
        fps = rng.choice(["1e-300", "1e300", "0.001", "100000", "nan", "inf", "-1", "0", "1e-5"])
        extra = ["--capture-fps", fps]
        case.what.append(f"{base.name} with --capture-fps {fps}")
        damaged = False
    else:
        clip, what = fi.damage_clip(rng, base.path.read_bytes(), d)
        case.what += [f"base {base.name}", *what]
    out = d / "out"
    args = ["analyze", clip, "--out", out, *ANALYZE, *extra]
    run = run_cli(args, env=case_env(ctx, d), timeout=ctx.timeout, cwd=d)
    record(case, run, args)
    expect_exit(case, (0, 2, 3))
    one_line_error(case, run, out)
    log_warnings(case, out)
    summary = read_summary(out)
    if case.exit == 0 and damaged and summary is not None and summary.get("status") == "ok":
        check_no_lie(case, summary, signature(clip), base)


def check_no_lie(case: Case, summary: dict, sig: dict, base: Base) -> None:
    """``ok`` for a clip FFmpeg finds damaged needs a note saying so."""
    notes = [str(q) for q in summary.get("quality") or []]
    noted = any(DAMAGE_NOTE.search(n) for n in notes)
    decoder_knows = sig["errors"] or sig["corrupt"] or sig["frames"] < base.signature["frames"]
    changed = sig["hashes"] != base.signature["hashes"]
    case.damage = "noted" if noted else "lie" if decoder_knows else "silent change" if changed else "none"
    if decoder_knows and not noted:
        case.lie = True
        case.problems.append(
            f"status ok without a damage note, yet FFmpeg finds {sig['errors']} decode error(s), "
            f"{sig['corrupt']} corrupt frame(s), {sig['frames']} of {base.signature['frames']} frames"
        )
    elif changed and not noted:
        changed = sum(a != b for a, b in zip(sig["hashes"], base.signature["hashes"]))
        case.remarks.append(f"silent damage: {changed} frame(s) decode differently, FFmpeg reports no error")


def cache_case(rng: random.Random, ctx: Ctx, case: Case, d: Path) -> None:
    bases = [b for b in ctx.bases if b.entry is not None]
    base = rng.choice(bases)
    cache = d / "cache"
    (cache / "pose").mkdir(parents=True)
    for b in bases:  # the clean entries only: other cases write to the shared cache meanwhile
        shutil.copyfile(b.entry, cache / "pose" / b.entry.name)
    entry = cache / "pose" / base.entry.name
    others = [cache / "pose" / b.entry.name for b in bases if b is not base]
    what, may_differ = fi.damage_cache_entry(rng, entry, rng.choice(others) if others else None)
    case.what += [f"base {base.name}", what]
    out = d / "out"
    args = ["analyze", base.path, "--out", out, *ANALYZE]
    run = run_cli(args, env=case_env(ctx, d, cache), timeout=ctx.timeout, cwd=d)
    record(case, run, args)
    expect_exit(case, (0, 2, 3))
    one_line_error(case, run, out)
    summary = read_summary(out)
    same_exit = case.exit == base.exit
    same = summary is not None and same_result(summary, base.summary) and contacts_text(out) == base.contacts
    if not (same_exit and same) and case.exit in (0, 2, 3):
        if may_differ:
            case.remarks.append("an altered entry that reads as valid data was used (the result differs)")
        else:
            case.lie = True
            case.problems.append(f"a damaged cache entry changed the result (exit {case.exit}, clean {base.exit})")


def same_result(a: dict, b: dict) -> bool:
    keys = ("status", "status_reason", "n_contacts", "legs", "flags", "flags_withheld")
    return all(a.get(k) == b.get(k) for k in keys)


def contacts_text(out: Path) -> str | None:
    try:
        return (out / "contacts.csv").read_text(encoding="utf-8")
    except OSError:
        return None


def config_case(rng: random.Random, ctx: Ctx, case: Case, d: Path) -> None:
    data, what, _valid = fi.random_config(rng)
    path = d / "settings.toml"
    path.write_bytes(data)
    case.what.append(what)
    roll = rng.random()
    if roll < 0.1:
        kind = rng.choice(["folder", "missing", "fifo", "dev_null"])
        path.unlink()
        if kind == "folder":
            path.mkdir()
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "dev_null":
            path = Path("/dev/null")
        case.what = [f"config path: {kind}"]
    base = ctx.bases[0]
    out = d / "out"
    target = rng.random()
    if target < 0.2:
        source = d / "src"
        source.mkdir()
        shutil.copyfile(base.path, source / "clip.mp4")
        args, allowed = ["batch", source, "--out", out, "--model", "lite", "--workers", "1", "--quiet"], (0, 2, 4)
        case.what.append("via batch")
    elif target < 0.35 and ctx.keypoints is not None:
        args, allowed = ["analyze", "--keypoints", ctx.keypoints, "--out", out, "--quiet", "--json"], (0, 2, 3)
        case.what.append("via analyze --keypoints")
    else:
        args, allowed = ["analyze", base.path, "--out", out, *ANALYZE], (0, 2, 3)
    args += ["--config", path]
    run = run_cli(args, env=case_env(ctx, d), timeout=ctx.timeout, cwd=d)
    record(case, run, args)
    expect_exit(case, allowed)
    one_line_error(case, run, out if args[0] == "analyze" else None)
    if args[0] == "batch" and case.exit in (0, 4):
        check_batch_outputs(case, out, None)
    log_warnings(case, out)


def keypoints_case(rng: random.Random, ctx: Ctx, case: Case, d: Path) -> None:
    openpose = SHARED / "keypoints" / "side_run_openpose_body25" / "json"
    trcs = [ctx.work / "ref" / ctx.bases[0].name / "landmarks.trc", *([ctx.keypoints] if ctx.keypoints else [])]
    if openpose.is_dir() and rng.random() < 0.4:
        path = d / "openpose"
        case.what.append(fi.damage_openpose(rng, openpose, path))
    else:
        src = rng.choice(trcs)
        data, what = fi.damage_trc(rng, src.read_text(encoding="utf-8"))
        path = d / "landmarks.trc"
        path.write_bytes(data)
        case.what += [f"from {src.name}", what]
    extra = ["--capture-fps", rng.choice(["30", "240", "1e-300", "1e300"])] if rng.random() < 0.2 else []
    case.what += [" ".join(extra)] if extra else []
    out = d / "out"
    args = ["analyze", "--keypoints", path, "--out", out, "--quiet", "--json", *extra]
    run = run_cli(args, env=case_env(ctx, d), timeout=ctx.timeout, cwd=d)
    record(case, run, args)
    expect_exit(case, (0, 2, 3))
    one_line_error(case, run, out)
    log_warnings(case, out)


def batch_case(rng: random.Random, ctx: Ctx, case: Case, d: Path) -> None:
    oks = [b.path for b in ctx.bases if b.exit == 0]
    source = d / "src"
    source.mkdir()
    what, expected_ok, maybe_ok = fi.random_tree(rng, source, oks, d)
    case.what += what
    out = d / "out"
    roll = rng.random()
    if roll < 0.1:
        out = source / "results"
        case.what.append("OUT inside SOURCE")
    elif roll < 0.22:
        case.what.append(junk_out(rng, out))
        expected_ok = None
    args = ["batch", source, "--out", out, "--model", "lite", "--workers", str(rng.choice([1, 2])), "--quiet"]
    if rng.random() < 0.25:
        roster = d / "roster.csv"
        case.what.append(fi.random_roster(rng, source, roster))
        args += ["--roster", roster]
        expected_ok = None
    run = run_cli(args, env=case_env(ctx, d), timeout=2 * ctx.timeout, cwd=d)
    record(case, run, args)
    expect_exit(case, (0, 2, 4))
    one_line_error(case, run, None)
    if case.exit in (0, 4):
        check_batch_outputs(case, out, None if expected_ok is None else (expected_ok, expected_ok + maybe_ok))


def junk_out(rng: random.Random, out: Path) -> str:
    """An output folder that is already there with something odd in it."""
    kind = rng.choice(["table_is_folder", "clips_is_file", "locks_is_file", "out_is_file", "stale_temp"])
    if kind == "out_is_file":
        out.write_text("not a folder")
        return "OUT is a file"
    out.mkdir()
    if kind == "table_is_folder":
        (out / "team_summary.csv").mkdir()
    elif kind == "clips_is_file":
        (out / "clips").write_text("x")
    elif kind == "locks_is_file":
        (out / ".gaitlab-locks").write_text("x")
    else:
        (out / ".team_summary.csv.abc123.tmp").write_text("half")
    return f"OUT exists: {kind}"


def check_batch_outputs(case: Case, out: Path, expected_ok: tuple[int, int] | None) -> None:
    """The team table exists and parses, no clip failed by a bug, every real clip is in it ``ok``."""
    try:
        with open(out / "team_summary.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        with open(out / "failures.csv", newline="", encoding="utf-8") as fh:
            failures = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        case.problems.append(f"batch exit {case.exit} but its tables do not read back ({exc.__class__.__name__})")
        return
    bugs = [f["reason"] for f in failures if BUG_REASON.search(f.get("reason") or "")]
    if bugs:
        case.problems.append(f"{len(bugs)} clip(s) failed by a bug: {bugs[0][:200]}")
    n_ok = sum(r.get("status") == "ok" for r in rows)
    if expected_ok is not None and not expected_ok[0] <= n_ok <= expected_ok[1]:
        case.lie = True
        case.problems.append(f"{n_ok} clip(s) ok in the team table, expected {expected_ok[0]}..{expected_ok[1]}")
    left = [p for p in out.rglob(".*") if p.name.endswith((".tmp", ".part"))]
    if left:
        case.problems.append(f"temporary files left: {left[0].relative_to(out)}")


CASES = {"clip": clip_case, "cache": cache_case, "config": config_case, "batch": batch_case}
CASES["keypoints"] = keypoints_case


# --- setup, the run, the report --------------------------------------------------------------------


def make_bases(ctx: Ctx, n: int) -> None:
    """Up to ``n`` small clips from the sample (and the shared jogger clip), each analyzed once into the
    warm cache."""
    d = ctx.work / "bases"
    d.mkdir()
    made = [("sample_gop25", fi.subsample_clip(SAMPLE, d / "sample_gop25.mp4", n_frames=100, step=4, gop=25))]
    if n > 1:
        path = fi.subsample_clip(
            SAMPLE, d / "sample_bf.mp4", n_frames=100, step=4, start=2, gop=30, bframes=2, faststart=True
        )
        made.append(("sample_bframes_faststart", path))
    jogger = SHARED / "clips" / "jogger_side_short.mp4"
    if jogger.exists() and n > 2:
        made.append(("jogger", Path(shutil.copyfile(jogger, d / "jogger.mp4"))))
    for name, path in made:
        before = set((ctx.cache / "pose").glob("*.npz")) if (ctx.cache / "pose").is_dir() else set()
        out = ctx.work / "ref" / name
        args = ["analyze", path, "--out", out, *ANALYZE]
        run = run_cli(args, env=case_env(ctx, ctx.work), timeout=4 * ctx.timeout, cwd=ctx.work)
        if run.exit not in (0, 3):
            sys.exit(f"fuzz: the clean base clip {name} gives exit {run.exit}:\n{run.stderr}")
        new = set((ctx.cache / "pose").glob("*.npz")) - before
        base = Base(name, path, run.exit, read_summary(out), contacts_text(out), signature(path))
        base.entry = next(iter(new), None)
        ctx.bases.append(base)
        print(f"base {name}: exit {run.exit} ({base.summary['status']}), {base.signature['frames']} frames", flush=True)


def run_case(ctx: Ctx, seed: str, index: int, categories: tuple[str, ...]) -> Case:
    category = categories[index % len(categories)]
    case = Case(index, category, seed)
    rng = random.Random(f"{seed}:{index}")
    d = ctx.work / "cases" / f"{index:04d}-{category}"
    d.mkdir(parents=True)
    try:
        CASES[category](rng, ctx, case, d)
    except Exception as exc:  # noqa: BLE001 - a fuzz bug must not hide the other cases
        case.problems.append(f"fuzz script error: {exc.__class__.__name__}: {exc}")
    if not case.problems and not ctx.keep:
        shutil.rmtree(d, ignore_errors=True)
    return case


def summary_table(cases: list[Case]) -> str:
    cols = ["cases", "exit 0", "exit 2", "exit 3", "exit 4", "exit 1", "other", "hang", "traceback", "lie", "failing"]
    lines = [f"{'category':<9}" + "".join(f"{c:>10}" for c in cols)]
    for cat in (*CATEGORIES, "total"):
        mine = [c for c in cases if cat in ("total", c.category)]
        if not mine:
            continue
        codes = Counter(c.exit for c in mine if not c.hung)
        other = sum(n for code, n in codes.items() if code not in (0, 1, 2, 3, 4))
        row = [len(mine), codes[0], codes[2], codes[3], codes[4], codes[1], other]
        row += [sum(c.hung for c in mine), sum(c.traceback for c in mine), sum(c.lie for c in mine)]
        row.append(sum(bool(c.problems) for c in mine))
        lines.append(f"{cat:<9}" + "".join(f"{v:>10}" for v in row))
    return "\n".join(lines)


def report(cases: list[Case], args, work: Path) -> str:
    lines = ["", summary_table(cases)]
    damage = Counter(c.damage for c in cases if c.damage)
    if damage:
        lines.append(
            f"damaged clips analyzed 'ok': {sum(damage.values())}; FFmpeg finds damage and a note says so: "
            f"{damage['noted']}; no note: {damage['lie']}; pictures changed without FFmpeg noticing: "
            f"{damage['silent change']}; decode as the clean clip: {damage['none']}"
        )
    remarks, example = Counter(), {}
    for c in cases:
        for r in c.remarks:
            kind = re.sub(r"\d+", "N", r.split(":")[0])
            remarks[kind] += 1
            example.setdefault(kind, f"case {c.index}: {r}"[:300])
    if remarks:
        lines += ["", "remarks (not failures), each with its first case:"]
        lines += [f"  {n:4d} x {text}\n         {example[text]}" for text, n in remarks.most_common()]
    failing = [c for c in cases if c.problems]
    if failing:
        lines += ["", f"{len(failing)} failing case(s) (case folders kept under {work / 'cases'}):"]
    only = f" --only {','.join(args.only)}" if args.only != list(CATEGORIES) else ""
    for c in failing:
        lines.append(f"- case {c.index} ({c.category}): {'; '.join(c.problems)}")
        lines.append(f"    input: {'; '.join(c.what)}"[:600])
        if c.stderr_tail:
            lines.append("    stderr: " + c.stderr_tail.replace("\n", "\n            ")[:800])
        lines.append(f"    reproduce: python scripts/fuzz.py --seed {c.seed} --case {c.index}{only} --keep")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=20, help="number of cases (default 20)")
    p.add_argument("--seed", default="0", help="master seed (default 0)")
    p.add_argument("--case", type=int, action="append", help="run only case I of the seed (repeatable)")
    p.add_argument("--only", default=",".join(CATEGORIES), help="categories, comma-separated (default: all five)")
    p.add_argument("--json", type=Path, help="write every case as JSON here")
    p.add_argument("--jobs", type=int, default=1, help="cases run at once (default 1)")
    p.add_argument("--bases", type=int, default=3, help="base clips, 1-3 (default 3; fewer start faster)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds before a case counts as hung (batch: 2x)")
    p.add_argument("--workdir", type=Path, help="where inputs and outputs go (default: a new temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep every case folder, not just the failing ones")
    p.add_argument("--signature", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.signature:
        print(json.dumps(fi.decode_signature(Path(args.signature))))
        return 0
    args.only = [c for c in args.only.split(",") if c]
    if not set(args.only) <= set(CATEGORIES):
        p.error(f"--only: choose from {', '.join(CATEGORIES)}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gaitlab-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    keypoints = next(iter(sorted((SHARED / "keypoints").glob("*/*.trc"))), None) if SHARED.is_dir() else None
    ctx = Ctx(work, work / "cache", [], keypoints, args.timeout, args.keep, snapshot(work))
    t0 = time.monotonic()
    make_bases(ctx, args.bases)
    indices = args.case or list(range(args.n))
    cases: list[Case] = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for case in pool.map(lambda i: run_case(ctx, args.seed, i, tuple(args.only)), indices):
            cases.append(case)
            mark = "FAIL " + "; ".join(case.problems) if case.problems else "ok"
            print(f"case {case.index:4d} {case.category:<6} exit {case.exit} {case.seconds:5.1f} s  {mark}", flush=True)
    print(report(cases, args, work))
    print(f"\n{len(cases)} cases in {time.monotonic() - t0:.0f} s; seed {args.seed}; work folder {work}")
    if args.json:
        doc = {"seed": args.seed, "n": len(cases), "table": summary_table(cases), "cases": [vars(c) for c in cases]}
        args.json.write_text(json.dumps(doc, indent=1, default=str) + "\n", encoding="utf-8")
    failed = any(c.problems for c in cases)
    if not failed and not args.keep and args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
