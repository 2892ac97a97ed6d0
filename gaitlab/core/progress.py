"""Progress display for long work (frames, clips), on stderr.

Uses rich when stderr is a terminal; otherwise prints a plain line every ~10 %
so logs (CI, batch runs) still show progress and time left.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class _PlainProgress:
    def __init__(self, label: str, total: int | None, unit: str, stream=None):
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream or sys.stderr
        self.done = 0
        self.t0 = time.perf_counter()
        self._next_report = 0.1

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.total:
            return
        frac = self.done / self.total
        if frac >= self._next_report or self.done == self.total:
            elapsed = time.perf_counter() - self.t0
            rate = self.done / elapsed if elapsed > 0 else 0.0
            left = (self.total - self.done) / rate if rate > 0 else float("nan")
            print(
                f"{self.label}: {self.done}/{self.total} {self.unit} ({rate:.1f} {self.unit}/s, {left:.0f} s left)",
                file=self.stream,
                flush=True,
            )
            self._next_report = frac + 0.1


class _RichProgress:
    def __init__(self, progress, task):
        self._progress, self._task = progress, task

    def advance(self, n: int = 1) -> None:
        self._progress.advance(self._task, n)


@contextmanager
def progress(label: str, total: int | None, *, unit: str = "frames", enabled: bool = True, stream=None) -> Iterator:
    """Context manager yielding an object with ``advance(n)``; writes to ``stream`` (default stderr)."""
    stream = stream or sys.stderr
    if not enabled:
        yield _PlainProgress(label, None, unit, stream)
        return
    if not stream.isatty():
        yield _PlainProgress(label, total, unit, stream)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream)) as prog:
        task = prog.add_task(label, total=total)
        yield _RichProgress(prog, task)
