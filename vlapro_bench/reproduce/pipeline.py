"""Run a reproduction: every stage in order, skipping finished ones, with a stage-level ETA.

The ETA is the profile's per-stage estimates for the stages still to run, scaled by how the
stages run in this session compared with their estimates (a busy machine stretches all of them
alike). Inside a stage, the collect / train / eval progress bars show their own ETAs.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlapro_bench.reproduce.cache import StageCache
from vlapro_bench.reproduce.profile import ReproduceProfile
from vlapro_bench.reproduce.side_by_side import write_side_by_side
from vlapro_bench.reproduce.stages import Layout, Stage, build_plan, eval_stage_name
from vlapro_bench.splits import load_split

#: Used when a profile has no estimate for a stage.
DEFAULT_ESTIMATE_S = 60.0


@dataclass
class ReproduceResult:
    out: Path
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    wall_s: dict[str, float] = field(default_factory=dict)
    summary: str = ""


def _fmt_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class StageClock:
    """Remaining-time estimate from the profile's estimates and the speed observed so far."""

    def __init__(self, estimates: dict[str, float]):
        self.estimates = estimates
        self.spent = 0.0
        self.expected = 0.0

    def estimate(self, stage: str) -> float:
        family = stage.partition("-")[0]  # eval-k2 -> eval
        return float(self.estimates.get(stage, self.estimates.get(family, DEFAULT_ESTIMATE_S)))

    def record(self, stage: str, wall_s: float) -> None:
        self.spent += wall_s
        self.expected += self.estimate(stage)

    def remaining(self, stages: list[str]) -> float:
        scale = self.spent / self.expected if self.expected > 0 else 1.0
        return scale * sum(self.estimate(s) for s in stages)


def report_notes(profile: ReproduceProfile) -> list[str]:
    """What a reader must know about the profile before reading its numbers."""
    notes = [f"Profile {profile.name}: {profile.description}"] if profile.description else []
    if profile.eval.obs_mode == "state":
        notes.append("This profile's backbone reads joint state, object poses and the instruction, not images: it is "
                     "not a vision-language-action model. It tests the memory mechanism at full statistical power "
                     "on a CPU.")
    return notes


def report_stage(profile: ReproduceProfile, title: str) -> Callable[[Layout, list[str]], dict[str, Any]]:
    def run(layout: Layout, arms: list[str]) -> dict[str, Any]:
        folders = {arm: layout.eval_folder(eval_stage_name(arm)) for arm in arms}
        gate = (profile.gate, layout.gate) if profile.gate is not None else None
        return write_side_by_side(folders, layout.report, profile.suite, title, tuple(profile.eval.primary), gate,
                                  report_notes(profile), load_split(profile.suite).transfer_sources)

    return run


def run_reproduction(profile: ReproduceProfile, out: str | Path, workers: int | None = None, progress: bool = True,
                     echo: Callable[[str], None] = print) -> ReproduceResult:
    """Run (or resume) the reproduction of ``profile`` in ``out``; return what ran and the summary."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    title = f"VLA-Pro reproduction, {profile.suite}, profile {profile.name}"
    stages = build_plan(profile, out, workers, report=report_stage(profile, title))
    (out / "profile.json").write_text(json.dumps(profile.to_dict(), indent=2) + "\n")
    cache = StageCache(out)
    clock = StageClock(profile.stage_estimates_s)
    result = ReproduceResult(out)
    todo = [s.name for s in stages if not cache.is_done(s.name, s.key)]
    echo(f"{title} -> {out}")
    echo(f"stages: {', '.join(s.name + ('' if s.name in todo else ' (done)') for s in stages)}")
    for index, stage in enumerate(stages, 1):
        head = f"[{index}/{len(stages)}] {stage.name}"
        if cache.is_done(stage.name, stage.key):
            marker = cache.done(stage.name) or {}
            echo(f"{head}: finished earlier ({_fmt_duration(float(marker.get('wall_s', 0)))}), skipped")
            result.skipped.append(stage.name)
            result.wall_s[stage.name] = float(marker.get("wall_s", 0))
            if stage.name == "report":
                result.summary = str(marker.get("summary", ""))
            continue
        remaining = [s for s in todo if s not in result.ran]
        echo(f"{head}: running; about {_fmt_duration(clock.remaining(remaining))} left for "
             f"{len(remaining)} stage(s)")
        wall, resumed = _run_stage(stage, cache, progress, echo, head)
        result.wall_s[stage.name] = wall
        if not resumed:  # a resumed stage's time covers only part of its work: it would skew the ETA
            clock.record(stage.name, wall)
        result.ran.append(stage.name)
        if stage.name == "report":
            result.summary = str((cache.done(stage.name) or {}).get("summary", ""))
    timings = {name: round(wall, 1) for name, wall in result.wall_s.items()}
    (out / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    echo("wall time per stage (s): " + ", ".join(f"{k} {v}" for k, v in timings.items()))
    if result.summary:
        echo(result.summary)
    echo(f"report: {out / 'report' / 'reproduce.md'}")
    return result


def _run_stage(stage: Stage, cache: StageCache, progress: bool, echo: Callable[[str], None],
               head: str) -> tuple[float, bool]:
    """Run one stage between its started and done markers; return (wall seconds, resumed)."""
    resuming = cache.begin(stage.name, stage.key, stage.output)
    if stage.restart_only and stage.output is not None and stage.output.exists():
        shutil.rmtree(stage.output)
        echo(f"{head}: restarting the interrupted stage (it cannot resume part-way)")
    elif resuming:
        echo(f"{head}: resuming the interrupted run in {stage.output}")
    started = time.perf_counter()
    info = stage.run(progress)
    wall = time.perf_counter() - started
    cache.finish(stage.name, stage.key, wall, {"resumed": resuming, **info})
    echo(f"{head}: done in {_fmt_duration(wall)}")
    return wall, resuming and not stage.restart_only


__all__ = ["ReproduceResult", "StageClock", "run_reproduction"]
