"""The stages of a reproduction, each a thin call into the module that does the work.

collect -> train -> memory -> eval-plain, eval-k1, eval-k2, ... -> report

Every stage knows its settings (hashed into its cache key), the stages it reads from, its
output folder and how to run. Running is delegated: ``vlapro-bench collect`` (resumable),
:func:`vlapro_bench.training.train` (resumable), :func:`vlapro_bench.memory.build.build_bank`
(restarted from scratch when interrupted: it is minutes, and its folder must be new), and
:func:`vlapro_bench.evaluation.runner.evaluate` (resumable per episode). All evaluations use one
protocol, hence the same expert-filtered seeds, so the plain and memory arms are paired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlapro_bench.reproduce.cache import stage_key
from vlapro_bench.reproduce.profile import ReproduceProfile

PLAIN = "eval-plain"


def eval_stage_name(k: int) -> str:
    return f"eval-k{k}"


@dataclass(frozen=True)
class Layout:
    """Folders inside a reproduction's OUT."""

    root: Path

    @property
    def demos(self) -> Path:
        return self.root / "demos"

    @property
    def backbone(self) -> Path:
        return self.root / "backbone"

    @property
    def bank(self) -> Path:
        return self.root / "bank"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def eval_folder(self, stage: str) -> Path:
        return self.results / stage.removeprefix("eval-")


@dataclass
class Stage:
    """One step of the pipeline."""

    name: str
    settings: dict[str, Any]
    upstream: list[Stage]
    output: Path | None
    run: Callable[[bool], dict[str, Any]]  # run(progress) -> info for the done marker
    restart_only: bool = False  # True: an interrupted run is started over, not resumed (needs a new folder)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = stage_key(self.settings, [s.key for s in self.upstream])


def _seen_tasks(profile: ReproduceProfile) -> list[str]:
    from vlapro_bench.splits import load_split  # noqa: PLC0415

    split = load_split(profile.suite)
    tasks = list(profile.collect.tasks) or list(split.seen)
    wrong = [t for t in tasks if t not in split.seen]
    if wrong:
        raise ValueError(f"collect.tasks {wrong} are not seen tasks of the {profile.suite} split "
                         f"({', '.join(split.seen)}); memories come from seen tasks only")
    return tasks


def _eval_tasks(profile: ReproduceProfile) -> list[str]:
    from vlapro_bench.splits import load_split  # noqa: PLC0415

    split = load_split(profile.suite)
    tasks = list(profile.eval.tasks) or list(split.unseen)
    wrong = [t for t in tasks if t not in split.unseen]
    if wrong:
        raise ValueError(f"eval.tasks {wrong} are not unseen tasks of the {profile.suite} split "
                         f"({', '.join(split.unseen)}); the reproduction measures transfer to unseen tasks")
    return tasks


def _size(size: tuple[int, int]) -> str:
    return f"{int(size[0])}x{int(size[1])}"


def run_collect(profile: ReproduceProfile, layout: Layout, tasks: list[str], progress: bool) -> dict[str, Any]:
    from vlapro_bench.cli import collect  # noqa: PLC0415

    spec = profile.collect
    collect(out=layout.demos, split="seen", tasks=tasks, episodes=spec.episodes, seed_start=spec.seed_start,
            size=_size(spec.camera_size), instruction_pool="seen", suite=profile.suite, progress=progress)
    return {"tasks": tasks, "episodes_per_task": spec.episodes}


def run_train(profile: ReproduceProfile, layout: Layout, progress: bool) -> dict[str, Any]:
    from vlapro_bench.training import TrainConfig, train  # noqa: PLC0415

    config = TrainConfig.from_dict({**profile.train, "data": str(layout.demos), "out": str(layout.backbone)})
    last = train(config, progress=progress)
    return {"checkpoint": str(last)}


def run_memory(profile: ReproduceProfile, layout: Layout, progress: bool) -> dict[str, Any]:
    from vlapro_bench.memory.build import build_bank  # noqa: PLC0415
    from vlapro_bench.memory.config import MemoryBuildConfig  # noqa: PLC0415

    config = MemoryBuildConfig.from_dict({**profile.memory, "backbone": str(layout.backbone),
                                          "data": str(layout.demos), "out": str(layout.bank),
                                          "suite": profile.suite})
    bank = build_bank(config, progress=progress, log=print)
    return {"memories": list(bank.memory_names)}


def eval_settings(profile: ReproduceProfile, layout: Layout, tasks: list[str], k: int | None) -> Any:
    """The evaluator's settings for the plain backbone (``k=None``) or backbone + memory."""
    from vlapro_bench.evaluation.protocol import load_protocol  # noqa: PLC0415
    from vlapro_bench.evaluation.runner import EvalSettings  # noqa: PLC0415

    spec = profile.eval
    backbone = str(layout.backbone.resolve())
    if k is None:
        policy, kwargs, label = backbone, {"execute": spec.execute}, "tinyvla"
    else:
        policy = "vla_pro"
        kwargs = {"backbone": backbone, "bank": str(layout.bank.resolve()), "k": k, "execute": spec.execute}
        label = f"tinyvla+VLA-Pro k={k}"
    return EvalSettings(policy=policy, tasks=tuple(tasks), protocol=load_protocol(spec.protocol),
                        policy_kwargs=kwargs, obs_mode="rgb", control_mode=spec.control_mode,
                        camera_size=tuple(spec.camera_size), episodes=spec.episodes, label=label)


def run_eval(profile: ReproduceProfile, layout: Layout, stage: str, tasks: list[str], k: int | None,
             workers: int, progress: bool) -> dict[str, Any]:
    from vlapro_bench.evaluation.runner import evaluate  # noqa: PLC0415

    settings = eval_settings(profile, layout, tasks, k)
    result = evaluate(settings, layout.eval_folder(stage), workers=workers, cache_dir=layout.cache,
                      progress=progress)
    wins = sum(r.success for r in result.records)
    return {"episodes": len(result.records), "successes": wins, "played_now": result.played_now,
            "protocol_hash": result.manifest["protocol_hash"]}


def build_plan(profile: ReproduceProfile, out: Path, workers: int | None = None,
               report: Callable[[Layout, list[str]], dict[str, Any]] | None = None) -> list[Stage]:
    """The stages of ``profile`` writing into ``out``, in order, with chained cache keys.

    ``workers`` only changes speed, not results, so it is not part of any key.
    """
    from vlapro_bench.evaluation.protocol import load_protocol  # noqa: PLC0415

    layout = Layout(Path(out))
    seen, unseen = _seen_tasks(profile), _eval_tasks(profile)
    n_workers = workers or profile.eval.workers
    if max(profile.eval.ks) > len(seen):
        raise ValueError(f"eval.ks {list(profile.eval.ks)} fuses up to {max(profile.eval.ks)} memories, but the bank "
                         f"will hold {len(seen)} (one per seen task: {', '.join(seen)}); lower ks or add tasks")
    suite = {"suite": profile.suite}
    collect = Stage("collect", {**suite, "tasks": seen, "collect": _plain(profile.collect)}, [], layout.demos,
                    lambda progress: run_collect(profile, layout, seen, progress))
    train = Stage("train", {**suite, "train": profile.train}, [collect], layout.backbone,
                  lambda progress: run_train(profile, layout, progress))
    memory = Stage("memory", {**suite, "memory": profile.memory}, [collect, train], layout.bank,
                   lambda progress: run_memory(profile, layout, progress), restart_only=True)
    protocol_hash = load_protocol(profile.eval.protocol).protocol_hash()
    common = {**suite, "tasks": unseen, "protocol_hash": protocol_hash, "episodes": profile.eval.episodes,
              "camera_size": list(profile.eval.camera_size), "control_mode": profile.eval.control_mode,
              "execute": profile.eval.execute}
    evals = [Stage(PLAIN, {**common, "arm": "plain"}, [train], layout.eval_folder(PLAIN),
                   lambda progress: run_eval(profile, layout, PLAIN, unseen, None, n_workers, progress))]
    for k in profile.eval.ks:
        name = eval_stage_name(k)
        evals.append(Stage(name, {**common, "arm": "memory", "k": k}, [train, memory], layout.eval_folder(name),
                           lambda progress, name=name, k=k: run_eval(profile, layout, name, unseen, k, n_workers,
                                                                     progress)))
    stages = [collect, train, memory, *evals]
    if report is not None:
        names = [s.name for s in evals]
        stages.append(Stage("report", {"report": 1}, evals, layout.report,
                            lambda progress: report(layout, names)))
    return stages


def _plain(value: Any) -> Any:
    import dataclasses  # noqa: PLC0415
    import json  # noqa: PLC0415

    return json.loads(json.dumps(dataclasses.asdict(value)))


__all__ = ["PLAIN", "Layout", "Stage", "build_plan", "eval_settings", "eval_stage_name"]
