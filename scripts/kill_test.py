#!/usr/bin/env python3
"""SIGKILL a batch at random moments, then let it finish: is the result complete and identical to a
batch that was never killed, with nothing half-written and nothing redone that was finished?

    python scripts/kill_test.py [--kills 10] [--seed S] [--clips 4] [--frames 100] [--json out.json]

Makes ``--clips`` short clips from the bundled sample (half size, different stretches, so each has its
own bytes) in a library layout, and runs ``gaitlab batch --model lite``:

1. once untouched into ``ref/`` (its own empty pose cache): the reference (and once more, all reused,
   which times the start-up);
2. again and again into ``out0/`` (another empty pose cache), each run's process group killed with
   SIGKILL at a random moment (uniform over the start-up and the time the clips not yet done should
   take), until ``--kills`` kills have landed. A run that finishes before its moment completes that
   batch, which is then checked, and the next run starts a new one (``out1/``, a new empty cache);
3. the last batch killed is run once more to completion.

After every run each visible file in the output folder must read whole (JSON, CSV, HTML, PNG, TRC/MOT),
and no finished clip may be analyzed again (a clip's ``batch_done.json`` is written last; one that
changes after it existed means the clip was redone). Each completed batch must equal ``ref/`` byte for
byte (team tables, team report, every clip's outputs; only ``gaitlab.log``, which holds wall-clock
times, is left out), with no temporary file left in it or in its pose cache. Exit status 0 when
all of that holds. Runs the code in a snapshot of the package, so edits to the working tree meanwhile
do not change the result between the runs.
"""

from __future__ import annotations

import argparse
import csv
import io
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import fuzz_inputs as fi  # noqa: E402

SAMPLE = REPO / "sample_videos" / "sprint_240fps_capture.mp4"
MARKER = "batch_done.json"
TEMP = re.compile(r"^\..*\.(tmp|part)$|^\.gaitlab-write-test-")


def make_source(src: Path, n_clips: int, n_frames: int) -> None:
    """Clips in a library layout (athlete/session/clip.mp4): fixed athlete and session, so the team
    table does not depend on the day it runs."""
    for k in range(n_clips):
        folder = src / f"athlete{k % 2}" / f"2024-05-0{k + 1}"
        folder.mkdir(parents=True)
        fi.subsample_clip(SAMPLE, folder / f"run{k}.mp4", n_frames=n_frames, step=4, start=7 * k, gop=25)


def snapshot(work: Path) -> Path:
    dst = work / "snapshot"
    shutil.copytree(REPO / "gaitlab", dst / "gaitlab", ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def env_for(code: Path, cache: Path) -> dict:
    env = dict(os.environ)
    env.update(GAITLAB_CACHE_DIR=str(cache), PYTHONPATH=str(code))
    env.setdefault("GAITLAB_MODELS_DIR", str(REPO / "models"))
    return env


def batch_cmd(src: Path, out: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "gaitlab", "batch", str(src), "--out", str(out), "--model", "lite"] + [
        "--workers",
        str(workers),
        "--quiet",
    ]


def markers(out: Path) -> dict[str, tuple[int, int]]:
    """Every finished clip's marker: (inode, modification time), which change when it is written again."""
    found = {}
    for path in (out / "clips").rglob(MARKER) if (out / "clips").is_dir() else []:
        st = path.stat()
        found[str(path.relative_to(out))] = (st.st_ino, st.st_mtime_ns)
    return found


def run_once(cmd, env, kill_after: float | None) -> tuple[int | None, float, str]:
    """(exit code or None when killed, seconds, stderr)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        _out, err = proc.communicate(timeout=kill_after)
        return proc.returncode, time.monotonic() - t0, err.decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _out, err = proc.communicate()
        return None, time.monotonic() - t0, err.decode(errors="replace")


def half_written(out: Path) -> list[str]:
    """Visible files that do not read whole."""
    bad = []
    for path in sorted(out.rglob("*")):
        if not path.is_file() or any(p.startswith(".") for p in path.relative_to(out).parts):
            continue
        data = path.read_bytes()
        try:
            if path.suffix == ".json":
                json.loads(data)
            elif path.suffix == ".csv":
                text = data.decode("utf-8")
                rows = list(csv.reader(io.StringIO(text)))
                assert text.endswith("\n") and rows and all(len(r) == len(rows[0]) for r in rows)
            elif path.suffix == ".html":
                assert data.rstrip().endswith(b"</html>")
            elif path.suffix == ".png":
                assert data.startswith(b"\x89PNG") and data[-12:-4] == b"\x00\x00\x00\x00IEND"
            elif path.suffix in (".trc", ".mot", ".log"):
                assert data.endswith(b"\n")
        except (AssertionError, ValueError, csv.Error):
            bad.append(str(path.relative_to(out)))
    return bad


def compare(ref: Path, out: Path) -> list[str]:
    """Files that differ between the two output folders (gaitlab.log aside), or are in one only."""

    def files(root: Path) -> dict[str, Path]:
        return {
            str(p.relative_to(root)): p
            for p in root.rglob("*")
            if p.is_file() and p.name != "gaitlab.log" and ".gaitlab-locks" not in p.parts
        }

    a, b = files(ref), files(out)
    diff = sorted(set(a) ^ set(b))
    diff += [name for name in sorted(set(a) & set(b)) if a[name].read_bytes() != b[name].read_bytes()]
    return diff


def stamps(root: Path) -> dict[str, tuple[int, int]]:
    """(inode, modification time) of every output file (gaitlab.log and the lock files aside)."""
    return {
        str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and p.name != "gaitlab.log" and ".gaitlab-locks" not in p.parts
    }


def leftovers(*folders: Path) -> list[str]:
    return [str(p) for folder in folders if folder.is_dir() for p in folder.rglob(".*") if TEMP.match(p.name)]


def check_episode(ref: Path, out: Path, cache: Path) -> dict:
    """A batch that ran to completion after kills, against the reference."""
    differ = compare(ref, out)
    return {
        "out": out.name,
        "complete": len(markers(out)) == len(markers(ref)),
        "differing_files": differ,
        "half_written_files": half_written(out),
        "temporary_files_left": leftovers(out, cache),
    }


def kill_runs(args, rng, src: Path, ref: Path, work: Path, code: Path, ref_s: float, idle_s: float) -> dict:
    """Runs killed at random moments until ``args.kills`` kills landed; a batch that completes is checked
    against the reference and the next run starts a new one (fresh OUT and pose cache)."""
    runs, episodes, redone, episode = [], [], 0, 0
    out, cache = work / "out0", work / "cache0"
    while sum(r["killed"] for r in runs) < args.kills and len(runs) < 6 * args.kills:
        before = markers(out)
        left = args.clips - len(before)
        moment = rng.uniform(0.2, idle_s + ref_s * left / args.clips)  # start-up, then the clips still to do
        code_, seconds, err = run_once(batch_cmd(src, out, args.workers), env_for(code, cache), moment)
        after = markers(out)
        again = [m for m, st in before.items() if after.get(m) != st]
        redone += len(again)
        broken = half_written(out)
        runs.append(
            {
                "out": out.name,
                "moment_s": round(moment, 2),
                "killed": code_ is None,
                "exit": code_,
                "clips_done_before": len(before),
                "clips_done_after": len(after),
                "redone": again,
                "half_written": broken,
                "stderr": err.strip()[-300:] if code_ not in (None, 0, 4) else "",
            }
        )
        state = "killed" if code_ is None else f"finished (exit {code_})"
        print(
            f"run {len(runs):2d} ({out.name}): {state} at {seconds:5.1f} s; clips done {len(before)} -> {len(after)}"
            + (f"; REDONE {', '.join(again)}" if again else "")
            + (f"; HALF-WRITTEN {', '.join(broken)}" if broken else ""),
            flush=True,
        )
        if code_ is not None:
            episodes.append(dict(check_episode(ref, out, cache), final_exit=code_))
            episode += 1
            out, cache = work / f"out{episode}", work / f"cache{episode}"
    if runs and runs[-1]["killed"]:  # the last batch killed: the same command finishes it
        before = markers(out)
        code_, seconds, err = run_once(batch_cmd(src, out, args.workers), env_for(code, cache), None)
        redone += sum(markers(out).get(m) != st for m, st in before.items())
        print(f"final run ({out.name}): exit {code_} in {seconds:.1f} s", flush=True)
        episodes.append(dict(check_episode(ref, out, cache), final_exit=code_, stderr=err.strip()[-300:]))
    return {"runs": runs, "batches": episodes, "redone": redone}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--seed", default="0")
    p.add_argument("--clips", type=int, default=4)
    p.add_argument("--frames", type=int, default=100, help="frames per clip (default 100)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--workdir", type=Path)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    rng = random.Random(f"kill:{args.seed}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gaitlab-kill-"))
    work.mkdir(parents=True, exist_ok=True)
    src, ref = work / "src", work / "ref"
    make_source(src, args.clips, args.frames)
    code = snapshot(work)
    ref_env = env_for(code, work / "cache-ref")
    ref_exit, ref_s, ref_err = run_once(batch_cmd(src, ref, args.workers), ref_env, None)
    if ref_exit not in (0, 4):
        sys.exit(f"kill_test: the reference batch failed:\n{ref_err}")
    ref_files = stamps(ref)
    again_exit, idle_s, _ = run_once(batch_cmd(src, ref, args.workers), ref_env, None)  # all reused: start-up time
    rewritten = sorted(name for name, st in stamps(ref).items() if ref_files.get(name) != st)
    print(f"reference batch: exit {ref_exit} in {ref_s:.1f} s; run again (all reused) in {idle_s:.1f} s", flush=True)
    done = kill_runs(args, rng, src, ref, work, code, ref_s, idle_s)
    batches, runs = done["batches"], done["runs"]
    n_kills = sum(r["killed"] for r in runs)
    problems = [f"run {i + 1}: exit {r['exit']}: {r['stderr']}" for i, r in enumerate(runs) if r["stderr"]]
    for b in batches:
        if b["final_exit"] != ref_exit or not b["complete"]:
            problems.append(f"{b['out']}: exit {b['final_exit']} (reference {ref_exit}), complete {b['complete']}")
        problems += [f"{b['out']}: differs from the reference: {d}" for d in b["differing_files"]]
        problems += [f"{b['out']}: temporary file left: {t}" for t in b["temporary_files_left"]]
    broken = sorted({f"{r['out']}/{f}" for r in runs for f in r["half_written"]})
    broken += [f"{b['out']}/{f}" for b in batches for f in b["half_written_files"]]
    problems += [f"half-written: {f}" for f in broken]
    if again_exit != ref_exit or rewritten:
        problems.append(f"the reference run again: exit {again_exit}, files written again: {rewritten}")
    if done["redone"]:
        problems.append(f"{done['redone']} finished clip(s) analyzed again")
    if n_kills < args.kills:
        problems.append(f"only {n_kills} of {args.kills} kills landed")
    report = {
        "kills": n_kills,
        "runs": len(runs) + bool(runs and runs[-1]["killed"]),
        "reference_exit": ref_exit,
        "reference_rerun_exit": again_exit,
        "reference_rerun_rewrote": rewritten,
        "batches_completed": len(batches),
        "complete": all(b["complete"] and b["final_exit"] == ref_exit for b in batches),
        "identical": all(not b["differing_files"] for b in batches),
        "half_written_files": broken,
        "temporary_files_left": [t for b in batches for t in b["temporary_files_left"]],
        "clips_redone_after_finishing": done["redone"],
        "batches": batches,
        "run_log": runs,
    }
    print(
        f"\n{n_kills} kills over {len(runs)} killed or finished runs, {len(batches)} batches run to completion; "
        f"complete: {report['complete']}; identical to the reference: {report['identical']}; "
        f"half-written files seen: {len(broken)}; temporary files left: {len(report['temporary_files_left'])}; "
        f"clips redone after finishing: {done['redone']}"
    )
    for text in problems:
        print(f"PROBLEM: {text}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if not problems and args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
