"""The processes our pools spawn: each ends with its parent, leaves Ctrl-C to it, and runs one
math thread unless told otherwise.

The evaluator's workers, the parallel demonstration collector and the parallel memory build all
start their spawned processes with :func:`init_pool_process` and shut their pools with
:func:`end_pool`, so a killed or interrupted run never leaves workers behind.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

JobT = TypeVar("JobT")
ResultT = TypeVar("ResultT")

#: Seconds between a pool worker's checks that its parent is alive (where no death signal exists).
PARENT_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


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


def results_in_order(function: Callable[[JobT], ResultT], jobs: Sequence[JobT], workers: int,
                     initializer: Callable[..., None] = init_pool_process,
                     initargs: tuple[Any, ...] = ()) -> Generator[tuple[JobT, ResultT], None, None]:
    """``(job, function(job))`` in job order, computed in ``workers`` spawned processes.

    ``initializer(*initargs, parent_pid)`` starts each process (it must call
    :func:`init_pool_process`). The pool ends with the iteration; closed early (Ctrl-C, an error
    in the caller's loop: use ``contextlib.closing``), it terminates the work in flight.
    """
    pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=initializer,
                               initargs=(*initargs, os.getpid()))
    finished = False
    try:
        futures = [pool.submit(function, job) for job in jobs]
        for job, future in zip(jobs, futures, strict=True):
            yield job, future.result()
        finished = True
    finally:
        end_pool(pool, cancel=not finished)


__all__ = ["MATH_THREAD_VARIABLES", "end_pool", "exit_with_parent", "init_pool_process", "one_math_thread",
           "results_in_order"]
