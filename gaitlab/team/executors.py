"""Executors that run ``worker.process_clip`` over many clips: a local process pool or Ray.

Both yield one result dict per clip as clips finish, and keep at most
``2 x workers`` clips in flight, so memory does not grow with the batch size.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator

from gaitlab.core.cpu import available_cores, thread_env
from gaitlab.team.worker import process_clip


def _crash_result(job: dict, reason: str) -> dict:
    from gaitlab.team.table import failure_row

    row = failure_row(athlete=job["athlete"], session=job["session"], clip=job["rel"], reason=reason)
    return {"rel": job["rel"], "row": row, "failed": True, "reused": False, "n_frames": 0, "pose_cached": False}


def run_local(jobs: Iterable[dict], *, workers: int) -> Iterator[dict]:
    """A spawn-started process pool; each worker limited to its share of the cores.

    A worker that dies (a native crash, out of memory) breaks the pool: its
    clips are recorded as failed and a fresh pool takes the remaining ones.
    """
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from gaitlab.team.worker import init_pool_worker

    cores = available_cores()
    threads = max(1, len(cores) // workers)
    pin = cores if 1 < workers <= len(cores) else []
    # spawn, not fork: the parent may hold threads (rich, Ray) and forked MediaPipe state is unsafe.
    ctx = mp.get_context("spawn")
    todo = iter(jobs)
    while True:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=init_pool_worker,
            initargs=(threads, ctx.Value("i", 0), pin),
        )
        inflight: dict = {}
        broken = False
        try:
            while True:
                while not broken and len(inflight) < 2 * workers and (job := next(todo, None)) is not None:
                    inflight[pool.submit(process_clip, job)] = job
                if not inflight:
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = inflight.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True  # every clip in flight fails with it; none is cached, a re-run retries
                        result = _crash_result(
                            job,
                            "the worker process died while analyzing this clip (native crash, out of memory, "
                            "or stuck past the clip's time limit)",
                        )
                    yield result
        except BaseException:
            # Ctrl-C / SIGTERM / generator closed: stop the workers now, not after their current clip.
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        if not broken:
            return


def _ray_init(address: str | None, workers: int):
    """Connect to the cluster at ``address``, or start a local Ray with ``workers`` CPUs."""
    try:
        import ray
    except ImportError:
        from gaitlab.core.errors import BadInputError

        raise BadInputError('--executor ray: Ray is not installed (pip install "gaitlab[ray]")') from None
    if ray.is_initialized():
        return ray, False
    # Ray gives each task one CPU; its threads must match, as in the local pool.
    runtime_env = {"env_vars": thread_env(1)}
    kwargs = dict(runtime_env=runtime_env, log_to_driver=False, logging_level="ERROR", configure_logging=True)
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, **kwargs)
    return ray, True


def run_ray(jobs: Iterable[dict], *, workers: int, address: str | None) -> Iterator[dict]:
    """One Ray task (1 CPU) per clip, on an existing cluster or a local one started here."""
    ray, started = _ray_init(address, workers)
    inflight: dict = {}
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(process_clip)
        window = 2 * max(1, int(ray.cluster_resources().get("CPU", workers)))
        todo = iter(jobs)
        exhausted = False
        while True:
            while not exhausted and len(inflight) < window:
                job = next(todo, None)
                if job is None:
                    exhausted = True
                    break
                inflight[remote.remote(job)] = job
            if not inflight:
                break
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                job = inflight.pop(ref)
                try:
                    yield ray.get(ref)
                except ray.exceptions.RayError as exc:
                    yield _crash_result(job, f"Ray task failed: {exc.__class__.__name__}")
    except BaseException:
        for ref in list(inflight):
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()


class BatchProgress:
    """Overall progress on stderr: clips done, frames/s, time left.

    A rich bar on a terminal; otherwise one plain line per finished clip.
    """

    def __init__(self, total: int, *, enabled: bool = True, stream=None):
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.done = self.frames = 0
        self.t0 = time.perf_counter()
        self._rich = None
        if enabled and total and self.stream.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._rich = Progress(
                TextColumn("[bold]batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("clips"),
                TextColumn("{task.fields[fps]}"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
            )
            self._task = self._rich.add_task("batch", total=total, fps="")
            self._rich.start()

    def advance(self, n_frames: int, label: str) -> None:
        self.done += 1
        self.frames += n_frames
        elapsed = time.perf_counter() - self.t0
        fps = self.frames / elapsed if elapsed > 0 else 0.0
        if self._rich is not None:
            self._rich.update(self._task, advance=1, fps=f"{fps:.0f} frames/s")
        elif self.enabled:
            left = elapsed / self.done * (self.total - self.done)
            print(
                f"batch: {self.done}/{self.total} clips ({label}), {fps:.1f} frames/s, {left:.0f} s left",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
