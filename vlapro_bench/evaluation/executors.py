"""Where jobs run: in this process, in a local process pool, or on Ray actors.

Every executor hands jobs to :class:`~vlapro_bench.evaluation.worker.EpisodeWorker` objects that
keep their environment and policy alive between jobs (scene compilation and model loading are
paid once per worker, not per episode), and yields results in completion order. The caller
writes them; workers never touch the records file.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from vlapro_bench.errors import WorkerDiedError
from vlapro_bench.evaluation.records import EpisodeRecord
from vlapro_bench.evaluation.worker import EpisodeWorker, ExpertCheck, Job, WorkerConfig
from vlapro_bench.processes import end_pool, init_pool_process

EXECUTORS = ("local", "ray")
Result = EpisodeRecord | ExpertCheck


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
