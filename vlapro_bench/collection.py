"""Record scripted-expert demonstrations into a dataset: the library call behind ``vlapro-bench collect``.

Only successful episodes are kept; seeds are tried upward from ``seed_start`` until each task
has its number of them (failed seeds are skipped, as RoboTwin does). Every finished episode is
on disk at once, so a killed run resumes where it stopped without repeating an episode.
With ``workers`` > 1, tasks are recorded in parallel processes (a task per process) and written
in task order, so the dataset is the one a single process writes; a task's episodes then reach
the disk when the whole task is done.
Errors are the library's own (:class:`~vlapro_bench.errors.CollectionError`, ``ValueError`` for a
bad argument, :class:`~vlapro_bench.errors.RunInterrupted` on Ctrl-C); nothing here prints or exits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from vlapro_bench.datasets.recording import RecordedEpisode, env_features
from vlapro_bench.datasets.writer import DatasetWriter
from vlapro_bench.env import VLAProEnv
from vlapro_bench.errors import CollectionError, RunInterrupted
from vlapro_bench.evaluation.recording import record_episode
from vlapro_bench.layout_draws import PlacementError
from vlapro_bench.policy import make_policy
from vlapro_bench.processes import results_in_order


def _per_task(tasks: Sequence[str], episodes: int | Mapping[str, int]) -> dict[str, int]:
    if isinstance(episodes, Mapping):
        unknown = sorted(set(episodes) - set(tasks))
        if unknown:
            raise ValueError(f"episodes names tasks {unknown} that are not being collected ({', '.join(tasks)})")
    wanted = {t: int(episodes.get(t, 0) if isinstance(episodes, Mapping) else episodes) for t in tasks}
    bad = {t: n for t, n in wanted.items() if n < 1}
    if bad:
        raise ValueError(f"every task needs at least 1 episode, got {bad}")
    return wanted


@dataclass(frozen=True)
class _TaskJob:
    """One task's share of a collection: what a process needs to record it on its own."""

    name: str
    wanted: int
    seed_start: int
    done: frozenset[int]
    env_kwargs: dict[str, Any] = field(default_factory=dict)


def collect_demonstrations(out: str | Path, tasks: Sequence[str], episodes: int | Mapping[str, int], *,
                           suite: str = "robotwin", seed_start: int = 0, camera_size: tuple[int, int] = (128, 128),
                           cameras: Sequence[str] | None = None, obs_mode: str = "rgb",
                           control_mode: str | None = None, instruction_pool: str = "seen",
                           instruction_set: int = 0, workers: int = 1, progress: bool = True) -> int:
    """Record ``episodes`` successful expert demonstrations per task (an int, or per task) into ``out``.

    ``obs_mode="state"`` records no images (state-mode observations, rendered nothing); ``cameras``
    records a subset of the cameras; ``control_mode`` the action space the actions are recorded
    in (the suite's default when ``None``); ``instruction_set`` which instruction templates the
    episodes read (see :class:`~vlapro_bench.env.VLAProEnv`); ``workers`` how many processes
    record tasks side by side (the dataset is the same for any number). Returns the number of
    episodes the dataset holds.
    Ctrl-C raises :class:`~vlapro_bench.errors.RunInterrupted` saying how many episodes are kept.
    """
    if not tasks:
        raise ValueError("collect needs at least one task")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    wanted = _per_task(tasks, episodes)
    env_kwargs = {"suite": suite, "obs_mode": obs_mode, "control_mode": control_mode, "camera_size": camera_size,
                  "cameras": list(cameras) if cameras else None, "instruction_pool": instruction_pool,
                  "instruction_set": instruction_set}
    writer: DatasetWriter | None = None
    try:
        with tqdm(total=sum(wanted.values()), desc="demos", unit="ep", disable=not progress) as bar:
            env = VLAProEnv(tasks[0], **env_kwargs)  # the dataset's features; every task shares them
            try:
                writer = DatasetWriter(out, fps=round(env.profile.control_hz), features=env_features(env),
                                       robot_type=env.profile.robot_type, episode_key=("task_name", "reset_seed"))
            finally:
                env.close()
            finished = writer.finished_keys("task_name", "reset_seed")
            jobs = []
            for name in tasks:
                done = frozenset(seed for task, seed in finished if task == name)
                bar.update(min(len(done), wanted[name]))
                if len(done) < wanted[name]:
                    jobs.append(_TaskJob(name, wanted[name], seed_start, done, env_kwargs))
            if min(workers, len(jobs)) > 1:
                _collect_in_processes(jobs, writer, bar, min(workers, len(jobs)))
            else:
                for job in jobs:
                    for episode in _task_episodes(job, bar):
                        writer.add_episode(episode.frames, episode.instruction, episode.extra_meta)
                        bar.update(1)
    except KeyboardInterrupt:
        kept = writer.num_episodes if writer is not None else 0
        raise RunInterrupted(f"{kept} finished demonstration(s) are kept in {out}") from None
    assert writer is not None
    return writer.num_episodes


def _task_episodes(job: _TaskJob, bar: tqdm | None = None) -> Iterator[RecordedEpisode]:
    """The task's new successful demonstrations, seed by seed upward from ``job.seed_start``,
    skipping the seeds already on disk, until the task has ``job.wanted``."""
    env = VLAProEnv(job.name, **job.env_kwargs)
    try:
        policy = make_policy("expert", env)
        seed, kept, failures = job.seed_start, len(job.done), 0
        while kept < job.wanted:
            if seed not in job.done:
                if bar is not None:
                    bar.set_postfix_str(f"{job.name} seed {seed}")
                try:
                    episode = record_episode(env, policy, seed)
                except PlacementError:  # the seed has no valid layout: count it as a failed demonstration
                    episode = None
                if episode is not None and episode.extra_meta["success"]:
                    kept += 1
                    yield episode
                else:
                    failures += 1
                    if failures > max(10, job.wanted):
                        raise CollectionError(f"{job.name}: the expert failed {failures} seeds from {job.seed_start}; "
                                              f"the demonstrations kept so far are saved")
            seed += 1
    finally:
        env.close()


def _record_task(job: _TaskJob) -> list[RecordedEpisode]:
    return list(_task_episodes(job))


def _collect_in_processes(jobs: list[_TaskJob], writer: DatasetWriter, bar: tqdm, workers: int) -> None:
    """Record the tasks in ``workers`` spawned processes; write each task's episodes in task order
    (the order a single process writes them), as soon as it and every task before it are done."""
    with closing(results_in_order(_record_task, jobs, workers)) as results:  # closed early: workers end
        for job, episodes in results:
            bar.set_postfix_str(f"{job.name} ({workers} processes)")
            for episode in episodes:
                writer.add_episode(episode.frames, episode.instruction, episode.extra_meta)
                bar.update(1)


__all__ = ["CollectionError", "collect_demonstrations"]
