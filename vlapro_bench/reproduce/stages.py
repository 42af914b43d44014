"""The stages of a reproduction, each a thin call into the module that does the work.

collect -> train -> gate -> memory [-> collect-ceiling -> memory-ceiling] -> eval-<arm> ... -> report

Every stage knows its settings (hashed into its cache key), the stages it reads from, its
output folder and how to run. Running is delegated: :func:`~vlapro_bench.collection.collect_demonstrations`
(resumable), :func:`vlapro_bench.training.train` (resumable), :func:`vlapro_bench.memory.build.build_bank`
(restarted from scratch when interrupted: it is minutes, and its folder must be new), and
:func:`vlapro_bench.evaluation.runner.evaluate` (resumable per episode). All arms use one protocol,
hence the same expert-filtered seeds, so every comparison between arms is paired. The gate
evaluates the plain backbone on its own seen tasks first, on the protocol's held-out seeds.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlapro_bench.collection import collect_demonstrations
from vlapro_bench.evaluation.protocol import load_protocol
from vlapro_bench.evaluation.runner import EvalSettings, evaluate
from vlapro_bench.reproduce.cache import stage_key
from vlapro_bench.reproduce.profile import ReproduceProfile, arm_memories
from vlapro_bench.splits import load_split

GATE = "gate"


def eval_stage_name(arm: str) -> str:
    return f"eval-{arm}"


@dataclass(frozen=True)
class Layout:
    """Folders inside a reproduction's OUT."""

    root: Path

    @property
    def demos(self) -> Path:
        return self.root / "demos"

    @property
    def ceiling_demos(self) -> Path:
        return self.root / "demos-unseen"

    @property
    def backbone(self) -> Path:
        return self.root / "backbone"

    @property
    def bank(self) -> Path:
        return self.root / "bank"

    @property
    def ceiling_bank(self) -> Path:
        return self.root / "bank-ceiling"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def gate(self) -> Path:
        return self.results / GATE

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


def _split_tasks(profile: ReproduceProfile, part: str, chosen: tuple[str, ...], what: str) -> list[str]:
    allowed = list(load_split(profile.suite).tasks(part))
    tasks = list(chosen) or allowed
    wrong = [t for t in tasks if t not in allowed]
    if wrong:
        raise ValueError(f"{what} {wrong} are not {part} tasks of the {profile.suite} split ({', '.join(allowed)})")
    return tasks


def _seen_tasks(profile: ReproduceProfile) -> list[str]:
    return _split_tasks(profile, "seen", profile.collect.tasks, "collect.tasks (memories come from seen tasks only)")


def _eval_tasks(profile: ReproduceProfile) -> list[str]:
    return _split_tasks(profile, "unseen", profile.eval.tasks,
                        "eval.tasks (the reproduction measures transfer to unseen tasks)")


def _gate_tasks(profile: ReproduceProfile, seen: list[str]) -> list[str]:
    assert profile.gate is not None
    wrong = [t for t in profile.gate.tasks if t not in seen]
    if wrong:
        raise ValueError(f"gate.tasks {wrong} are not among the collected seen tasks ({', '.join(seen)})")
    return list(profile.gate.tasks) or seen


def run_collect(profile: ReproduceProfile, out: Path, tasks: list[str], episodes: dict[str, int],
                workers: int, progress: bool) -> dict[str, Any]:
    """Record the demonstrations, a task per process in ``workers`` processes (the run's worker
    count: the dataset does not depend on it, so it is not part of the stage's key)."""
    spec = profile.collect
    total = collect_demonstrations(out, tasks, episodes, suite=profile.suite, seed_start=spec.seed_start,
                                   camera_size=tuple(spec.camera_size), cameras=spec.cameras or None,
                                   obs_mode=spec.obs_mode, control_mode=profile.eval.control_mode,
                                   instruction_pool="seen", workers=workers, progress=progress)
    return {"tasks": tasks, "episodes": episodes, "dataset_episodes": total}


def run_train(profile: ReproduceProfile, layout: Layout, progress: bool) -> dict[str, Any]:
    # Deferred for import-time cost: training imports torch, which the finished stages never need.
    from vlapro_bench.training import TrainConfig, train  # noqa: PLC0415

    config = TrainConfig.from_dict({**profile.train, "data": str(layout.demos), "out": str(layout.backbone)})
    last = train(config, progress=progress)
    return {"checkpoint": str(last)}


def memory_config(profile: ReproduceProfile, layout: Layout, ceiling: bool, tasks: list[str]) -> dict[str, Any]:
    """The memory build's settings: VLA-Pro's bank, or the ceiling's (unseen tasks, the same base LoRA)."""
    config = {**profile.memory, "backbone": str(layout.backbone), "suite": profile.suite}
    if not ceiling:
        return {**config, "data": str(layout.demos), "out": str(layout.bank)}
    assert profile.ceiling is not None
    steps = profile.ceiling.task_steps or profile.memory.get("task_steps")
    return {**config, **({"task_steps": steps} if steps else {}), "data": str(layout.ceiling_demos),
            "out": str(layout.ceiling_bank), "memories_from": "unseen", "base_bank": str(layout.bank),
            "tasks": tasks}


def run_memory(config: dict[str, Any], workers: int, progress: bool) -> dict[str, Any]:
    # Deferred for import-time cost: the memory imports torch and peft.
    from vlapro_bench.memory.build import build_bank  # noqa: PLC0415
    from vlapro_bench.memory.config import MemoryBuildConfig  # noqa: PLC0415

    bank = build_bank(MemoryBuildConfig.from_dict(config), progress=progress, log=print, workers=workers)
    return {"memories": list(bank.memory_names)}


#: How each kind of arm is named in reports.
ARM_LABELS = {"plain": "{backbone}", "k0": "base LoRA only (k=0)", "k": "VLA-Pro k={k}",
              "random": "random memories k={k}", "oracle": "oracle retrieval k={k}",
              "ceiling": "ceiling: own-task LoRA"}


def arm_policy(arm: str, layout: Layout, execute: int) -> tuple[str, dict[str, Any], str]:
    """``(policy spec, kwargs, label)`` of an arm (see :data:`~vlapro_bench.reproduce.profile.ARM_PATTERN`)."""
    backbone = str(layout.backbone.resolve())
    k = arm_memories(arm)
    if k is None:
        return backbone, {"execute": execute}, ARM_LABELS["plain"].format(backbone="tinyvla")
    kwargs: dict[str, Any] = {"backbone": backbone, "bank": str(layout.bank.resolve()), "k": k, "execute": execute}
    if arm == "ceiling":
        kwargs.update(bank=str(layout.ceiling_bank.resolve()), retrieval="task")
        return "vla_pro", kwargs, ARM_LABELS["ceiling"]
    if arm.startswith("random-"):
        return "vla_pro", {**kwargs, "retrieval": "random"}, ARM_LABELS["random"].format(k=k)
    if arm.startswith("oracle-"):
        return "vla_pro", {**kwargs, "state": "oracle"}, ARM_LABELS["oracle"].format(k=k)
    return "vla_pro", kwargs, ARM_LABELS["k0"] if k == 0 else ARM_LABELS["k"].format(k=k)


def eval_protocol(profile: ReproduceProfile, gate: bool = False) -> Any:
    """The arms' protocol; for the gate, the same rules with the gate's instruction templates."""
    protocol = load_protocol(profile.eval.protocol)
    if gate and profile.gate is not None and profile.gate.instruction_pool != protocol.instruction_pool:
        protocol = protocol.with_overrides(name=f"{protocol.name}-{profile.gate.instruction_pool}-instructions",
                                           instruction_pool=profile.gate.instruction_pool)
    return protocol


def eval_settings(profile: ReproduceProfile, layout: Layout, tasks: list[str], arm: str,
                  episodes: int | None = None, gate: bool = False) -> Any:
    """The evaluator's settings for one arm on ``tasks`` (``episodes`` overrides the profile's)."""
    spec = profile.eval
    policy, kwargs, label = arm_policy(arm, layout, spec.execute)
    return EvalSettings(policy=policy, tasks=tuple(tasks), protocol=eval_protocol(profile, gate),
                        policy_kwargs=kwargs, obs_mode=spec.obs_mode, control_mode=spec.control_mode,
                        camera_size=tuple(spec.camera_size), episodes=episodes or spec.episodes, label=label)


def run_eval(settings: Any, folder: Path, cache: Path, workers: int, progress: bool) -> dict[str, Any]:
    result = evaluate(settings, folder, workers=workers, cache_dir=cache, progress=progress)
    wins = sum(r.success for r in result.records)
    return {"episodes": len(result.records), "successes": wins, "played_now": result.played_now,
            "protocol_hash": result.manifest.protocol_hash}


def build_plan(profile: ReproduceProfile, out: Path, workers: int | None = None,
               report: Callable[[Layout, list[str]], dict[str, Any]] | None = None) -> list[Stage]:
    """The stages of ``profile`` writing into ``out``, in order, with chained cache keys.

    ``workers`` only changes speed, not results, so it is not part of any key.
    """
    layout = Layout(Path(out))
    seen, unseen = _seen_tasks(profile), _eval_tasks(profile)
    n_workers = workers or profile.eval.workers
    most = max((arm_memories(a) or 0) for a in profile.eval.arms if a != "ceiling")
    if most > len(seen):
        raise ValueError(f"eval.arms fuse up to {most} memories, but the bank will hold {len(seen)} (one per seen "
                         f"task: {', '.join(seen)}); lower k or add tasks")
    suite = {"suite": profile.suite}
    collect_spec = {**_plain(profile.collect), "control_mode": profile.eval.control_mode}  # actions as evaluated
    episodes = profile.collect.episodes_for(seen)
    collect = Stage("collect", {**suite, "tasks": seen, "collect": collect_spec}, [], layout.demos,
                    lambda progress: run_collect(profile, layout.demos, seen, episodes, n_workers, progress))
    train = Stage("train", {**suite, "train": profile.train}, [collect], layout.backbone,
                  lambda progress: run_train(profile, layout, progress))
    stages = [collect, train]
    protocol_hash = load_protocol(profile.eval.protocol).protocol_hash()
    common = {**suite, "protocol_hash": protocol_hash, "camera_size": list(profile.eval.camera_size),
              "control_mode": profile.eval.control_mode, "execute": profile.eval.execute,
              "obs_mode": profile.eval.obs_mode}
    if profile.gate is not None:
        gate_tasks = _gate_tasks(profile, seen)
        gate_settings = eval_settings(profile, layout, gate_tasks, "plain", profile.gate.episodes, gate=True)
        gate_common = {**common, "protocol_hash": gate_settings.protocol.protocol_hash()}
        stages.append(Stage(GATE, {**gate_common, "gate": _plain(profile.gate), "tasks": gate_tasks}, [train],
                            layout.gate,
                            lambda progress: run_eval(gate_settings, layout.gate, layout.cache, n_workers, progress)))
    memory_settings = memory_config(profile, layout, False, seen)
    memory = Stage("memory", {**suite, "memory": profile.memory}, [collect, train], layout.bank,
                   lambda progress: run_memory(memory_settings, n_workers, progress), restart_only=True)
    stages.append(memory)
    memory_stages = {"bank": memory}
    if "ceiling" in profile.eval.arms:
        assert profile.ceiling is not None
        ceiling_episodes = {t: profile.ceiling.episodes for t in unseen}
        collect_unseen = Stage("collect-ceiling", {**suite, "tasks": unseen, "collect": collect_spec,
                                                   "episodes": ceiling_episodes}, [], layout.ceiling_demos,
                               lambda progress: run_collect(profile, layout.ceiling_demos, unseen, ceiling_episodes,
                                                            n_workers, progress))
        ceiling_settings = memory_config(profile, layout, True, unseen)
        ceiling = Stage("memory-ceiling", {**suite, "memory": profile.memory, "ceiling": _plain(profile.ceiling)},
                        [collect_unseen, train, memory], layout.ceiling_bank,
                        lambda progress: run_memory(ceiling_settings, n_workers, progress), restart_only=True)
        stages += [collect_unseen, ceiling]
        memory_stages["ceiling"] = ceiling
    evals = []
    for arm in profile.eval.arms:
        name = eval_stage_name(arm)
        upstream = [train] if arm == "plain" else [train, memory_stages["ceiling" if arm == "ceiling" else "bank"]]
        settings = eval_settings(profile, layout, unseen, arm)
        evals.append(Stage(name, {**common, "tasks": unseen, "episodes": profile.eval.episodes, "arm": arm},
                           upstream, layout.eval_folder(name),
                           lambda progress, settings=settings, name=name: run_eval(
                               settings, layout.eval_folder(name), layout.cache, n_workers, progress)))
    stages += evals
    if report is not None:
        arms = list(profile.eval.arms)
        stages.append(Stage("report", {"report": 2}, [*evals, *(s for s in stages if s.name == GATE)],
                            layout.report, lambda progress: report(layout, arms)))
    return stages


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(dataclasses.asdict(value)))


__all__ = ["GATE", "Layout", "Stage", "arm_policy", "build_plan", "eval_settings", "eval_stage_name",
           "memory_config"]
