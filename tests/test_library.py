"""Team library and team table without the pose model: names, upload, discovery, cache keys, HTML."""

import hashlib
import json
import re
import subprocess
import sys
import time
from html.parser import HTMLParser

import pytest

from clipfactory import noise_clip, trim_clip
from conftest import REPO
from gaitlab.core.errors import BadInputError
from gaitlab.io.locks import file_lock
from gaitlab.team.batch import cached_row, discover
from gaitlab.team.library import (
    MAX_NAME_BYTES,
    UPLOAD_LOCK_NAME,
    check_session,
    name_or_fallback,
    read_sidecar,
    sanitize_name,
    upload_clip,
)
from gaitlab.team.report import team_report_html
from gaitlab.team.table import clip_report_link, failure_row, table_csv_text
from gaitlab.team.worker import MARKER_FORMAT_VERSION, MARKER_NAME, marker_key


@pytest.mark.parametrize(
    "given, expected",
    [
        ("Anna Smith", "Anna_Smith"),
        ("../../etc", "etc"),
        ("..\\..\\evil", "evil"),
        ("a/b/c", "a_b_c"),
        (".hidden", "hidden"),
        ("-rf", "rf"),
        ("José", "José"),
        ("x\x00y", "x_y"),
        ("2024-05-01", "2024-05-01"),
    ],
)
def test_sanitize_name_stays_one_component(given, expected):
    assert sanitize_name(given) == expected


@pytest.mark.parametrize("given", ["", "..", "/", "...", " ", "./"])
def test_sanitize_name_refuses_nothing_left(given):
    with pytest.raises(BadInputError):
        sanitize_name(given, what="athlete")


@pytest.mark.parametrize("given", ["2024-13-01", "01/05/2024", "../2024-05-01", "yesterday"])
def test_session_must_be_a_date(given):
    with pytest.raises(BadInputError, match="YYYY-MM-DD"):
        check_session(given)


@pytest.fixture
def tiny_clip(tmp_path):
    (tmp_path / "in").mkdir()
    return noise_clip(tmp_path / "in" / "clip one.MP4", n_frames=5)


@pytest.mark.integration
def test_upload_files_clip_with_sidecar_inside_library(tmp_path, tiny_clip):
    lib = tmp_path / "lib"
    done = upload_clip(tiny_clip, athlete="../../outside", session="2024-05-01", library=lib, capture_fps=240)
    assert done.status == "uploaded"
    assert done.path == lib / "outside" / "2024-05-01" / "clip_one.mp4"
    assert done.path.read_bytes() == tiny_clip.read_bytes()
    meta = read_sidecar(done.path)
    assert meta["sha256"] == hashlib.sha256(tiny_clip.read_bytes()).hexdigest()
    assert meta["capture_fps"] == 240 and meta["athlete"] == "outside" and meta["session"] == "2024-05-01"
    assert meta["probe"]["n_frames"] == 5 and meta["probe"]["width_px"] == 96
    assert not list(tmp_path.glob("outside*")), "nothing may be written outside the library"
    left = [p for p in lib.rglob(".*") if p.name != UPLOAD_LOCK_NAME]  # the lock file stays, empty, by design
    assert not left, "no temporary file is left visible or behind"


@pytest.mark.integration
def test_upload_skips_exact_duplicate_and_keeps_same_named_different_clip(tmp_path, tiny_clip):
    lib = tmp_path / "lib"
    first = upload_clip(tiny_clip, athlete="A", session="2024-05-01", library=lib)
    again = upload_clip(tiny_clip, athlete="B", session="2024-05-02", library=lib)
    assert again.status == "duplicate" and again.path == first.path
    assert not (lib / "B").exists()
    other = noise_clip(tmp_path / "in" / "other.mp4", n_frames=5, seed=1)
    renamed = tmp_path / "in2" / "clip one.MP4"
    renamed.parent.mkdir()
    renamed.write_bytes(other.read_bytes())
    second = upload_clip(renamed, athlete="A", session="2024-05-01", library=lib)
    assert second.status == "uploaded" and second.path.name == "clip_one-2.mp4"
    assert first.path.read_bytes() == tiny_clip.read_bytes(), "an upload never overwrites a clip"


def test_upload_refuses_non_video_and_writes_nothing(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(BadInputError, match=r"notes\.mp4"):
        upload_clip(bad, athlete="A", session="2024-05-01", library=tmp_path / "lib")
    assert not (tmp_path / "lib").exists()


@pytest.mark.integration
def test_upload_script_exit_codes(tmp_path, tiny_clip):
    lib = tmp_path / "lib"
    bad = tmp_path / "bad.mov"
    bad.write_bytes(b"\x00" * 100)

    def run(*a):
        return subprocess.run(
            [sys.executable, str(REPO / "scripts" / "upload_clip.py"), *map(str, a)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    r = run(tiny_clip, "--athlete", "Anna", "--session", "2024-05-01", "--library", lib, "--no-analyze")
    assert r.returncode == 0, r.stderr
    assert (lib / "Anna" / "2024-05-01" / "clip_one.mp4").is_file()
    r = run(tiny_clip, bad, "--athlete", "Anna", "--library", lib, "--no-analyze")
    assert r.returncode == 2 and "skipped" in r.stdout and "bad.mov" in r.stderr
    r = run(tiny_clip, "--athlete", "Anna", "--session", "May 1st", "--library", lib, "--no-analyze")
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_upload_analysis_takes_model_config_and_annotate(tmp_path, sample_clip):
    clip = trim_clip(sample_clip, tmp_path / "s.mp4", n_frames=150, crf=23)  # the batch test's trim: one pose run
    (tmp_path / "cfg.toml").write_text("[flags]\nmin_steps = 5\n")
    lib = tmp_path / "lib"

    def upload(*args):
        return subprocess.run(
            [sys.executable, "-m", "gaitlab.cli", "upload", clip, "--athlete", "Ann", "--session", "2024-05-01"]
            + ["--library", str(lib), "--quiet", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=REPO,
        )

    r = upload("--annotate", "--no-analyze")
    assert r.returncode == 2 and "--annotate needs the analysis" in r.stderr and not lib.exists()
    r = upload("--model", "lite", "--config", tmp_path / "cfg.toml", "--annotate")
    assert r.returncode in (0, 3), r.stderr  # a 150-frame stretch may hold too few steps: still analyzed
    out = lib / "Ann" / "2024-05-01" / "s.gaitlab"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pose_model"] == "lite" and summary["config"]["flags"]["min_steps"] == 5
    assert (out / "annotated.mp4").stat().st_size > 0


def test_discover_layouts_roster_and_skips(tmp_path):
    src = tmp_path / "src"
    for rel in [
        "Anna/2024-05-01/s1.mp4",
        "Anna/2024-05-01/s1.mov",
        "trip 2024-06-02/Bob/run.mp4",
        "loose.mp4",
        "Cara/x.gaitlab/annotated.mp4",
        ".hidden/h.mp4",
        "Cara/.part.mp4",
        "Cara/notes.txt",
    ]:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(b"x")
    out = src / "OUT"
    (out / "clips").mkdir(parents=True)
    (out / "clips" / "old.mp4").write_bytes(b"x")
    roster = tmp_path / "roster.csv"
    roster.write_text("clip,athlete,session,capture_fps\nloose.mp4,Dan Lee,2024-07-01,240\n")
    jobs = {j.rel: j for j in discover(src, out, roster=roster)}
    assert set(jobs) == {"Anna/2024-05-01/s1.mov", "Anna/2024-05-01/s1.mp4", "trip 2024-06-02/Bob/run.mp4", "loose.mp4"}
    assert (jobs["Anna/2024-05-01/s1.mp4"].athlete, jobs["Anna/2024-05-01/s1.mp4"].session) == ("Anna", "2024-05-01")
    assert (jobs["trip 2024-06-02/Bob/run.mp4"].athlete, jobs["trip 2024-06-02/Bob/run.mp4"].session) == (
        "Bob",
        "2024-06-02",
    )
    loose = jobs["loose.mp4"]
    assert (loose.athlete, loose.session, loose.capture_fps) == ("Dan_Lee", "2024-07-01", 240.0)
    dirs = {j.out_dir for j in jobs.values()}
    assert len(dirs) == 4, "two clips with the same stem get separate output folders"
    assert all(out / "clips" in d.parents for d in dirs)


def _row(athlete, session, clip, flags=""):
    return {
        "athlete": athlete,
        "session": session,
        "clip": clip,
        "status": "ok",
        "status_reason": "",
        "flagged": "yes" if flags else "no",
        "flags": flags,
        "n_flags": len(flags.split("; ")) if flags else 0,
        "capture_fps": 240.0,
        "n_contacts": 6,
        "report": f"clips/{athlete}/{clip}/summary.json",
        "left_peak_swing_hip_flexion_velocity_deg_s": 650.0,
        "left_peak_swing_hip_flexion_velocity_deg_s_ci95_low": 600.0,
        "left_peak_swing_hip_flexion_velocity_deg_s_ci95_high": 700.0,
    }


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.rows, self._in_body, self.scripts = [], [], False, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.links.append(attrs["href"])
        if tag == "tr" and self._in_body:
            self.rows.append(attrs.get("class"))
        if tag == "tbody":
            self._in_body = True
        if tag == "script":
            self.scripts += 1
            assert "src" not in attrs, "self-contained: no external script"
        if tag == "link":
            raise AssertionError("self-contained: no external stylesheet")

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False


def test_team_report_flagged_first_links_escaped_and_deterministic():
    rows = [
        _row("Anna", "2024-05-01", "a.mp4"),
        _row("Zed", "2024-05-01", "z.mp4", "left:slow_swing_velocity"),
        _row("<b>Eve</b>", "2024-05-08", "e.mp4"),
        failure_row(athlete="Anna", session="2024-05-08", clip="broken.mp4", reason="not a readable video"),
    ]
    page = team_report_html(rows)
    assert page == team_report_html(list(reversed(rows))), "same rows, same bytes, whatever the input order"
    parsed = _Collect()
    parsed.feed(page)
    assert parsed.rows[0] == "flagged", "flagged athlete first"
    assert parsed.links[:1] == ["clips/Zed/z.mp4/summary.json"]
    assert "clips/Anna/broken.mp4/summary.json" not in page and "&lt;b&gt;Eve&lt;/b&gt;" in page
    assert "<b>Eve</b>" not in page
    assert page.count("<svg") == 4 * 3, "one trend chart per key measure per athlete"


def test_clip_report_link_prefers_report_html(tmp_path):
    assert clip_report_link(tmp_path) is None
    (tmp_path / "summary.json").write_text("{}")
    assert clip_report_link(tmp_path) == tmp_path / "summary.json"
    (tmp_path / "report.html").write_text("<html></html>")
    assert clip_report_link(tmp_path) == tmp_path / "report.html"


def test_marker_reused_only_for_same_bytes_and_settings(tmp_path):
    from gaitlab.team.batch import ClipJob

    clip = tmp_path / "c.mp4"
    clip.write_bytes(b"clip bytes")
    sha = hashlib.sha256(b"clip bytes").hexdigest()
    job = ClipJob(clip=clip, rel="c.mp4", athlete="A", session="2024-05-01", capture_fps=None, out_dir=tmp_path / "out")
    job.out_dir.mkdir()
    st = clip.stat()
    row = _row("A", "2024-05-01", "c.mp4")
    (job.out_dir / MARKER_NAME).write_text(
        json.dumps(
            {
                "format": MARKER_FORMAT_VERSION,
                "key": marker_key(sha, "S1", None),
                "clip_sha256": sha,
                "size_bytes": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "row": row,
            }
        )
    )
    assert cached_row(job, "S1")["left_peak_swing_hip_flexion_velocity_deg_s"] == 650.0
    assert cached_row(job, "S2") is None, "other settings: redo"
    job.capture_fps = 240.0
    assert cached_row(job, "S1") is None, "another capture fps: redo"
    job.capture_fps = None
    clip.write_bytes(b"other bytes")
    assert cached_row(job, "S1") is None, "changed clip: redo"


def test_csv_blank_for_missing_values():
    text = table_csv_text([failure_row(athlete="A", session="s", clip="c.mp4", reason='bad, "very"')])
    header, line = text.splitlines()
    assert header.startswith("athlete,session,clip,status,status_reason")
    assert line.startswith('A,s,c.mp4,failed,"bad, ""very"""')


def test_names_are_nfc_limited_in_bytes_and_never_empty():
    assert sanitize_name("Jose\u0301") == sanitize_name("Jos\u00e9") == "Jos\u00e9", "one athlete, one folder"
    long = sanitize_name("語" * 200)
    assert len(long.encode()) <= MAX_NAME_BYTES and long == "語" * (MAX_NAME_BYTES // 3)
    assert re.fullmatch(r"clip-[0-9a-f]{8}", name_or_fallback("-", fallback="clip"))
    assert name_or_fallback("-", fallback="clip") != name_or_fallback("--", fallback="clip")


def _upload(*args, **kw):
    return subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "upload_clip.py"), *map(str, args), "--no-analyze"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


@pytest.mark.integration
def test_simultaneous_uploads_of_one_clip_file_it_once(tmp_path, tiny_clip):
    """Both uploads copy, then meet at the library's lock (held here until both wait): one files the clip."""
    lib = tmp_path / "lib"
    lib.mkdir()
    with file_lock(lib / UPLOAD_LOCK_NAME):
        procs = [_upload(tiny_clip, "--athlete", who, "--session", "2024-05-01", "--library", lib) for who in "AB"]
        deadline = time.time() + 120
        while len(list(lib.rglob(".*.part"))) < 2 and time.time() < deadline:
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.02)
        assert len(list(lib.rglob(".*.part"))) == 2, "both copied before filing"
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    said = " ".join(o for o, _ in outs)
    assert said.count("uploaded to") == 1 and said.count("skipped, the same clip") == 1, said
    clips = [p for p in lib.rglob("*.mp4") if not p.name.startswith(".")]
    assert len(clips) == 1 and clips[0].read_bytes() == tiny_clip.read_bytes()
    assert not list(lib.rglob(".*.part")), "no temporary file is left behind"
    assert len([p for p in lib.iterdir() if p.is_dir()]) == 1, "the second upload leaves no empty folder"


@pytest.mark.integration
def test_upload_of_a_250_byte_name(tmp_path, tiny_clip):
    src = tiny_clip.with_name("語" * 82 + ".mp4")
    assert len(src.name.encode()) == 250
    tiny_clip.rename(src)
    done = upload_clip(src, athlete="Ann", session="2024-05-01", library=tmp_path / "lib")
    assert done.status == "uploaded" and done.path.read_bytes() == src.read_bytes()
    assert len(done.path.name.encode()) <= MAX_NAME_BYTES + 4 and read_sidecar(done.path)["original_name"] == src.name


@pytest.mark.integration
def test_failed_copy_leaves_no_folder_and_no_temporary(tmp_path, tiny_clip):
    """A file-size limit below the clip's size makes the real copy fail half-way (EFBIG)."""
    import resource
    import signal

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    assert tiny_clip.stat().st_size > 2048
    lib = tmp_path / "lib"
    proc = _upload(tiny_clip, "--athlete", "Ann", "--library", lib, preexec_fn=small_files)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "cannot copy" in err, err
    assert not lib.exists(), "nothing is left behind: no session, athlete or library folder"
