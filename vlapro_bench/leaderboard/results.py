"""The numbers of an entry, computed one way for ``submit`` and recomputed the same way by ``validate``.

Per task: the success rate with a Wilson 95% interval. Split average: the mean of per-task rates
with the evaluator's interval (stratified bootstrap, or pooled Wilson when every task is at 0% or
100%; :mod:`vlapro_bench.evaluation.stats`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from vlapro_bench.evaluation.protocol import Protocol
from vlapro_bench.evaluation.records import EpisodeRecord
from vlapro_bench.evaluation.stats import DEFAULT_RESAMPLES, split_average, wilson_interval
from vlapro_bench.leaderboard.schema import CONFIDENCE, AverageResult, TaskResult

#: Recomputed Wilson bounds are closed-form: they must agree to rounding error.
WILSON_TOLERANCE = 1e-6
RATE_TOLERANCE = 1e-9
#: Bootstrap bounds are Monte Carlo: the same seed reproduces them exactly with the same NumPy,
#: but NumPy may change a generator's stream between versions. Half a percentage point is far
#: below what a tampered interval would move and far above 10 000-resample noise (~0.1 points).
BOOTSTRAP_TOLERANCE = 0.005
BOOTSTRAP_SEED = 0


def task_result(successes: int, episodes: int, excluded_seeds: Sequence[int] = ()) -> TaskResult:
    ci = wilson_interval(successes, episodes, CONFIDENCE)
    return TaskResult(successes=successes, episodes=episodes, rate=successes / episodes, low=ci.low, high=ci.high,
                      excluded_seeds=list(excluded_seeds))


def average_result(counts: Sequence[tuple[int, int]], resamples: int = DEFAULT_RESAMPLES,
                   seed: int = BOOTSTRAP_SEED) -> AverageResult:
    ci, method = split_average(counts, resamples=resamples, confidence=CONFIDENCE, seed=seed)
    return AverageResult(rate=ci.estimate, low=ci.low, high=ci.high, method=method, resamples=resamples, seed=seed)


def counts_by_task(records: Iterable[EpisodeRecord]) -> dict[str, tuple[int, int]]:
    """(successes, episodes) per task."""
    out: dict[str, list[int]] = {}
    for record in records:
        cell = out.setdefault(record.task, [0, 0])
        cell[0] += int(record.success)
        cell[1] += 1
    return {task: (k, n) for task, (k, n) in sorted(out.items())}


def expected_seeds(protocol: Protocol, episodes: int, excluded: Iterable[int]) -> list[int]:
    """The protocol's first ``episodes`` candidate seeds after dropping ``excluded`` (the seeds the
    expert filter rejected): exactly the seeds an honest run plays, in order."""
    dropped = set(excluded)
    chosen: list[int] = []
    for walked, seed in enumerate(protocol.candidate_seeds()):
        if len(chosen) == episodes or walked >= episodes + len(dropped):
            break
        if seed not in dropped:
            chosen.append(seed)
    return chosen


def task_problems(task: str, result: TaskResult) -> list[str]:
    """Inconsistent numbers of one task (empty when all agree with a recomputation)."""
    if result.successes > result.episodes:
        return [f"{task}: {result.successes} successes out of {result.episodes} episodes"]
    problems = []
    rate = result.successes / result.episodes
    if abs(result.rate - rate) > RATE_TOLERANCE:
        problems.append(f"{task}: rate {result.rate} is not successes/episodes = {rate}")
    ci = wilson_interval(result.successes, result.episodes, CONFIDENCE)
    if abs(result.low - ci.low) > WILSON_TOLERANCE or abs(result.high - ci.high) > WILSON_TOLERANCE:
        problems.append(f"{task}: interval [{result.low}, {result.high}] is not the Wilson 95% interval "
                        f"[{ci.low}, {ci.high}] of {result.successes}/{result.episodes}")
    return problems


def average_problems(tasks: Mapping[str, TaskResult], average: AverageResult) -> list[str]:
    """Inconsistencies between the split average and the per-task results."""
    counts = [(r.successes, r.episodes) for r in tasks.values() if r.successes <= r.episodes]
    if len(counts) != len(tasks):
        return []  # reported per task
    expected = average_result(counts, average.resamples, average.seed)
    problems = []
    if abs(average.rate - expected.rate) > RATE_TOLERANCE:
        problems.append(f"average rate {average.rate} is not the mean of the per-task rates, {expected.rate}")
    if average.method != expected.method:
        problems.append(f"average interval method {average.method!r}: these counts take {expected.method!r} "
                        f"(pooled Wilson for one task or when every task is at 0% or 100%)")
    elif max(abs(average.low - expected.low), abs(average.high - expected.high)) > BOOTSTRAP_TOLERANCE:
        problems.append(f"average interval [{average.low}, {average.high}] does not match the {expected.method} "
                        f"interval recomputed with seed {average.seed} and {average.resamples} resamples: "
                        f"[{expected.low}, {expected.high}]")
    return problems
