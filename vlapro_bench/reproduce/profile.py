"""Reproduction profiles: how much data, model, training and evaluation one reproduction uses.

A profile is a JSON file (``configs/reproduce_<name>.json``) with shared settings and one block
of overrides per suite (the suites differ in cameras, state and action sizes, control mode and
protocol). Loading deep-merges the suite block over the shared settings and builds the typed
:class:`ReproduceProfile`, so a typo in a key is an error, not a silently ignored setting.

The training and memory blocks are handed as they are to
:class:`~vlapro_bench.training.TrainConfig` and
:class:`~vlapro_bench.memory.config.MemoryBuildConfig` (without their data/out folders, which
the pipeline sets), so every field those configs know is available here too.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlapro_bench.config_files import read_json_object

#: Where ``--profile small`` is looked up: the repository's configs/ folder.
CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
SUITES = ("robotwin", "rlbench")


class ProfileError(ValueError):
    """A profile file that is missing, malformed, or names an unknown setting."""


OBS_MODES = ("rgb", "state")


@dataclass(frozen=True)
class CollectSpec:
    """Expert demonstrations on the seen tasks.

    Attributes:
        tasks: seen tasks to record; empty = every seen task of the suite's split.
        episodes: successful demonstrations per task.
        episodes_per_task: overrides of ``episodes`` for some tasks (a family's source task gets
            enough demonstrations to be learned well, its competing memories fewer).
        seed_start: first reset seed (collection seeds stay below the protocol's evaluation seeds).
        camera_size: rendered ``[height, width]`` of every camera.
        cameras: cameras to record; empty = every camera (record only what the backbone reads).
        obs_mode: ``rgb`` (images) or ``state`` (object poses, no rendering: for state models).
    """

    tasks: tuple[str, ...] = ()
    episodes: int = 10
    episodes_per_task: dict[str, int] = field(default_factory=dict)
    seed_start: int = 0
    camera_size: tuple[int, int] = (64, 64)
    cameras: tuple[str, ...] = ()
    obs_mode: str = "rgb"

    def __post_init__(self) -> None:
        if self.episodes < 1 or any(int(n) < 1 for n in self.episodes_per_task.values()):
            raise ProfileError(f"collect.episodes must be >= 1, got {self.episodes} and {self.episodes_per_task}")
        if self.obs_mode not in OBS_MODES:
            raise ProfileError(f"collect.obs_mode must be one of {list(OBS_MODES)}, got {self.obs_mode!r}")

    def episodes_for(self, tasks: list[str]) -> dict[str, int]:
        unknown = sorted(set(self.episodes_per_task) - set(tasks))
        if unknown:
            raise ProfileError(f"collect.episodes_per_task names {unknown}, which are not collected ({tasks})")
        return {t: int(self.episodes_per_task.get(t, self.episodes)) for t in tasks}


@dataclass(frozen=True)
class GateSpec:
    """The seen-task gate: can the trained backbone do the tasks it was trained on?

    Evaluated before anything else, on the protocol's held-out seeds (collection seeds lie below
    them). If the average success is under ``threshold``, the report says in its first line that
    there is no skill to transfer and that the unseen-task numbers are not evidence either way.

    Attributes:
        tasks: seen tasks to check; empty = every collected seen task.
        episodes: episodes per task.
        threshold: average success (0..1) the backbone must reach.
        instruction_pool: the instruction templates of the gate: ``seen`` (default), those the
            backbone was trained with, so the gate measures the skill itself; the unseen-task
            arms use the protocol's own (unseen templates). A head-camera click_bell model scored
            43% with its training templates and 18% with the unseen paraphrases (development seeds).
    """

    tasks: tuple[str, ...] = ()
    episodes: int = 20
    threshold: float = 0.5
    instruction_pool: str = "seen"

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ProfileError(f"gate.episodes must be >= 1, got {self.episodes}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ProfileError(f"gate.threshold must be in [0, 1], got {self.threshold}")
        if self.instruction_pool not in ("seen", "unseen"):
            raise ProfileError(f"gate.instruction_pool must be seen or unseen, got {self.instruction_pool!r}")


@dataclass(frozen=True)
class CeilingSpec:
    """The ceiling arm's data: demonstrations of the unseen tasks themselves (privileged, analysis only).

    Attributes:
        episodes: demonstrations per unseen task (seeds from ``collect.seed_start``, below the
            evaluation seeds).
        task_steps: optimiser steps of each unseen task's LoRA; ``None``: the memory block's
            ``task_steps``, so the ceiling's LoRAs get the same budget as the memories.
    """

    episodes: int = 20
    task_steps: int | None = None

    def __post_init__(self) -> None:
        if self.episodes < 1 or (self.task_steps is not None and self.task_steps < 1):
            raise ProfileError(f"ceiling.episodes and task_steps must be >= 1, got {self.episodes}, {self.task_steps}")


#: Arms a reproduction can evaluate (``k<N>``, ``random-k<N>``, ``oracle-k<N>`` for any N):
#: the plain backbone; the base LoRA alone (``k0``, the fair baseline: the same training budget
#: without retrieval); VLA-Pro with N memories; N random memories (does retrieval matter?);
#: retrieval on the ground-truth procedural state (privileged); the unseen task's own LoRA
#: (privileged ceiling).
ARM_PATTERN = re.compile(r"^(plain|ceiling|k(\d+)|random-k(\d+)|oracle-k(\d+))$")


def arm_memories(arm: str) -> int | None:
    """Memories an arm fuses per chunk (``None`` for ``plain``; 1 for ``ceiling``)."""
    match = ARM_PATTERN.match(arm)
    if match is None:
        raise ProfileError(f"unknown arm {arm!r}; arms are plain, k<N>, random-k<N>, oracle-k<N> and ceiling")
    if arm == "plain":
        return None
    if arm == "ceiling":
        return 1
    return int(next(g for g in match.groups()[1:] if g is not None))


@dataclass(frozen=True)
class EvalSpec:
    """The arms, evaluated on the same seeds, and the contrast the profile is sized for.

    Attributes:
        protocol: protocol name (``robotwin-v0-small``) or a protocol JSON file.
        tasks: tasks to evaluate; empty = the suite's unseen split.
        arms: what to evaluate (:data:`ARM_PATTERN`); every arm plays the same seeds.
        primary: ``[method arm, base arm]``, the contrast the report leads with and the episode
            count is chosen for (VLA-Pro at the paper's best k against the base LoRA alone).
        episodes: play only the first N protocol episodes per task (``None`` = all of them).
        camera_size: rendered ``[height, width]``; match the collection size.
        control_mode: the suite's action mode the backbone was trained for.
        execute: actions executed per predicted chunk, the same for every arm.
        workers: parallel evaluation workers (the CLI's ``--workers`` overrides it).
        obs_mode: ``rgb`` or ``state`` (a state backbone).
    """

    protocol: str = "robotwin-v0"
    tasks: tuple[str, ...] = ()
    arms: tuple[str, ...] = ("plain", "k0", "k1", "k2", "k3")
    primary: tuple[str, str] = ("k2", "k0")
    episodes: int | None = None
    camera_size: tuple[int, int] = (64, 64)
    control_mode: str = "qpos"
    execute: int = 8
    workers: int = 1
    obs_mode: str = "rgb"

    def __post_init__(self) -> None:
        if not self.arms or len(set(self.arms)) != len(self.arms):
            raise ProfileError(f"eval.arms must be distinct and not empty, got {list(self.arms)}")
        for arm in self.arms:
            arm_memories(arm)
        if len(self.primary) != 2 or any(a not in self.arms for a in self.primary):
            raise ProfileError(f"eval.primary must name two of the evaluated arms {list(self.arms)}, "
                               f"got {list(self.primary)}")
        if self.workers < 1:
            raise ProfileError(f"eval.workers must be >= 1, got {self.workers}")
        if self.obs_mode not in OBS_MODES:
            raise ProfileError(f"eval.obs_mode must be one of {list(OBS_MODES)}, got {self.obs_mode!r}")


@dataclass(frozen=True)
class ReproduceProfile:
    """Everything one ``vlapro-bench reproduce`` run does, for one suite.

    ``stage_estimates_s`` are rough wall times per stage on the machine the profile targets; the
    progress output scales them by how fast the finished stages actually went to give an ETA.
    ``gate`` and ``ceiling`` are optional blocks (no gate stage, no ceiling arm without them).
    """

    name: str
    suite: str
    description: str = ""
    collect: CollectSpec = field(default_factory=CollectSpec)
    train: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    eval: EvalSpec = field(default_factory=EvalSpec)
    gate: GateSpec | None = None
    ceiling: CeilingSpec | None = None
    stage_estimates_s: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "ceiling" in self.eval.arms and self.ceiling is None:
            raise ProfileError("eval.arms has the ceiling arm, but the profile has no ceiling block "
                               "(how many unseen-task demonstrations its LoRAs learn from)")

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _typed(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ProfileError(f"{where} must be a JSON object, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ProfileError(f"{where}: unknown keys {unknown}; valid keys: {sorted(known)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**values)


def profile_from_dict(data: dict[str, Any], suite: str, name: str = "custom") -> ReproduceProfile:
    """Merge ``data["suites"][suite]`` over the shared settings and type-check the result."""
    if suite not in SUITES:
        raise ProfileError(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)}")
    suites = data.get("suites", {})
    if suite not in suites:
        raise ProfileError(f"profile {name!r} has no settings for suite {suite!r} (it has {sorted(suites)})")
    merged = _deep_merge({k: v for k, v in data.items() if k != "suites"}, suites[suite])
    allowed = {"name", "description", "collect", "train", "memory", "eval", "gate", "ceiling", "stage_estimates_s"}
    unknown = sorted(set(merged) - allowed)
    if unknown:
        raise ProfileError(f"profile {name!r}: unknown keys {unknown}; valid keys: {sorted(allowed | {'suites'})}")
    for block, reserved in (("train", ("data", "out")), ("memory", ("backbone", "data", "out", "suite"))):
        clash = sorted(set(merged.get(block, {})) & set(reserved))
        if clash:
            raise ProfileError(f"profile {name!r}: {block} must not set {clash}; the pipeline sets them")
    return ReproduceProfile(
        name=str(merged.get("name", name)), suite=suite, description=str(merged.get("description", "")),
        collect=_typed(CollectSpec, merged.get("collect", {}), "collect"),
        train=dict(merged.get("train", {})), memory=dict(merged.get("memory", {})),
        eval=_typed(EvalSpec, merged.get("eval", {}), "eval"),
        gate=_typed(GateSpec, merged["gate"], "gate") if merged.get("gate") is not None else None,
        ceiling=_typed(CeilingSpec, merged["ceiling"], "ceiling") if merged.get("ceiling") is not None else None,
        stage_estimates_s={k: float(v) for k, v in merged.get("stage_estimates_s", {}).items()},
    )


def profile_path(profile: str | Path) -> Path:
    """``small`` -> ``configs/reproduce_small.json``; a path to a JSON file is used as it is."""
    text = str(profile)
    if text.endswith(".json") or "/" in text:
        return Path(text)
    return CONFIG_DIR / f"reproduce_{text}.json"


def load_profile(profile: str | Path, suite: str) -> ReproduceProfile:
    """Load a profile by name (``small``, ``full``) or JSON path, for ``suite``."""
    path = profile_path(profile)
    if not path.is_file():
        available = sorted(p.stem.removeprefix("reproduce_") for p in CONFIG_DIR.glob("reproduce_*.json"))
        raise ProfileError(f"profile {profile!r}: {path} does not exist; profiles: {', '.join(available)} "
                           f"or a path to a JSON file")
    data = read_json_object(path, "profile file", ProfileError)
    return profile_from_dict(data, suite, name=path.stem.removeprefix("reproduce_"))


__all__ = ["ARM_PATTERN", "CeilingSpec", "CollectSpec", "EvalSpec", "GateSpec", "ProfileError", "ReproduceProfile",
           "arm_memories", "load_profile", "profile_from_dict", "profile_path"]
