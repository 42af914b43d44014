"""Where jobs run: in this process, in a local process pool, or on Ray actors.

Every executor hands jobs to :class:`~vlapro_bench.evaluation.worker.EpisodeWorker` objects that
keep their environment and policy alive between jobs (scene compilation and model loading are
paid once per worker, not per episode), and yields results in completion order. The caller
writes them; workers never touch the records file.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from vlapro_bench.errors import WorkerDiedError
from vlapro_bench.evaluation.records import EpisodeRecord
from vlapro_bench.evaluation.worker import EpisodeWorker, ExpertCheck, Job, WorkerConfig

EXECUTORS = ("local", "ray")
Result = EpisodeRecord | ExpertCheck
#: Seconds between a pool worker's checks that its parent is alive (where no death signal exists).
PARENT_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Executor(Protocol):
    workers: int

    def map_unordered(self, jobs: Iterable[Job]) -> Iterator[Result]: ...

    def close(self, cancel: bool = False) -> None:
        """Release the workers; ``cancel``: the run stopped early, so drop work in flight."""


class InProcessExecutor:
    """One worker in the calling process (``--workers 1``): no start-up cost, easy to debug."""

    def __init__(self, worker: EpisodeWorker):
        self.worker = worker
        self.workers = 1

    def map_unordered(self, jobs: Iterable[Job]) -> Iterator[Result]:
        for job in jobs:
            yield self.worker.run(job)

    def close(self, cancel: bool = False) -> None:
        self.worker.close()


_PROCESS_WORKER: EpisodeWorker | None = None


#: Environment variables that size the math libraries' thread pools (read when they load).
MATH_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def one_math_thread() -> None:
    """One math thread in this process: pool workers share the machine's cores, and two torch
    threads per process on two shared cores ran a training step 2.4x slower than one thread.

    Set before torch is imported (the worker imports it when it builds the policy), and on
    torch itself if it is already loaded. Ray does the same for actors of ``num_cpus=1``.
    """
    for variable in MATH_THREAD_VARIABLES:
        os.environ[variable] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def exit_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` (the evaluation that started it) dies.

    A pool worker otherwise outlives a SIGKILLed evaluation for minutes, holding its environment
    and policy (about 250 MB each), and keeps the pool's resource tracker alive with it. On
    Linux the kernel sends SIGTERM at the parent's death (``PR_SET_PDEATHSIG``); everywhere, a
    daemon thread also polls the parent id, which covers other systems and a parent that died
    before the signal was armed. The pool spawns its workers from the thread that runs the
    evaluation, which outlives the pool, so the death signal never fires early.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):  # no libc symbol: the watchdog below still works
            pass
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def init_pool_process(parent_pid: int) -> None:
    """What every pool process of ours does first: end with its parent, leave Ctrl-C to the
    parent (it reaches the whole process group; the parent ends the pool with :func:`end_pool`,
    so a worker need not print a KeyboardInterrupt traceback of its own), one math thread."""
    exit_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    one_math_thread()


def end_pool(pool: ProcessPoolExecutor, cancel: bool = False) -> None:
    """Shut ``pool`` down. ``cancel`` (Ctrl-C, an error): terminate its processes rather than wait
    for the work they already took, which may take minutes and whose results would be dropped."""
    if cancel:
        processes = getattr(pool, "_processes", None) or {}  # private, but stable since 3.2
        for process in list(processes.values()):
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _init_process(config: WorkerConfig, parent_pid: int) -> None:
    global _PROCESS_WORKER
    init_pool_process(parent_pid)
    _PROCESS_WORKER = EpisodeWorker(config)


def _run_in_process(job: Job) -> Result:
    assert _PROCESS_WORKER is not None, "pool initializer did not run"
    return _PROCESS_WORKER.run(job)


class LocalPoolExecutor:
    """``workers`` processes, each holding one worker for the whole run.

    Processes are spawned, not forked: a forked child would inherit the parent's GL contexts,
    torch thread pools and open files. ``concurrent.futures`` rather than ``multiprocessing.Pool``
    because it raises ``BrokenProcessPool`` when a worker dies instead of waiting forever; that
    becomes :class:`~vlapro_bench.errors.WorkerDiedError`. Workers end when the evaluation does,
    even when it is killed (:func:`exit_with_parent`).
    """

    def __init__(self, config: WorkerConfig, workers: int):
        self.workers = workers
        self._pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_process,
                                         initargs=(config, os.getpid()))

    def map_unordered(self, jobs: Iterable[Job]) -> Iterator[Result]:
        futures = [self._pool.submit(_run_in_process, job) for job in jobs]
        try:
            for future in as_completed(futures):
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    raise WorkerDiedError("an evaluation worker process died (killed, or out of memory); the "
                                          "episodes it was playing are not recorded") from exc
                yield result
        finally:
            for future in futures:
                future.cancel()

    def close(self, cancel: bool = False) -> None:
        """``cancel`` (Ctrl-C, an error): terminate the workers rather than wait for the episodes
        they already took, each of which may take a minute; their results would be dropped anyway."""
        end_pool(self._pool, cancel)


class RayExecutor:
    """``workers`` Ray actors, each holding one worker. ``address=None`` starts a local Ray with
    ``workers`` CPUs; ``address="auto"`` or ``"ray://host:10001"`` joins a cluster (every node
    needs vlapro-bench installed). A Ray already initialised by the caller is used as is."""

    def __init__(self, config: WorkerConfig, workers: int, address: str | None = None):
        try:
            import ray  # noqa: PLC0415
            from ray.util import ActorPool  # noqa: PLC0415
        except ImportError as exc:
            raise RuntimeError("--executor ray needs Ray: pip install 'vlapro-bench[ray]'") from exc
        self._ray = ray
        self.workers = workers
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                     logging_level=logging.WARNING)
        remote_worker = ray.remote(num_cpus=1)(EpisodeWorker)
        self._actors = [remote_worker.remote(config) for _ in range(workers)]
        self._pool = ActorPool(self._actors)

    def map_unordered(self, jobs: Iterable[Job]) -> Iterator[Result]:
        yield from self._pool.map_unordered(lambda actor, job: actor.run.remote(job), list(jobs))

    def close(self, cancel: bool = False) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        if self._owns_ray:
            self._ray.shutdown()


def check_executor(kind: str, workers: int, address: str | None = None) -> None:
    """Refuse an executor setting before a run starts (and records a session in its folder)."""
    if kind not in EXECUTORS:
        raise ValueError(f"Unknown executor {kind!r}; choose one of {list(EXECUTORS)}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if kind == "local" and address is not None:
        raise ValueError("--address is for --executor ray")


def make_executor(kind: str, config: WorkerConfig, workers: int, main_worker: EpisodeWorker,
                  address: str | None = None) -> Executor:
    """``main_worker`` (already holding the env and policy the parent built to validate the
    spec) serves ``--workers 1`` locally, so nothing is built twice."""
    check_executor(kind, workers, address)
    if kind == "ray":
        return RayExecutor(config, workers, address)
    if workers == 1:
        return InProcessExecutor(main_worker)
    return LocalPoolExecutor(config, workers)
