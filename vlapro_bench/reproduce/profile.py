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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlapro_bench.config_files import read_json_object

#: Where ``--profile small`` is looked up: the repository's configs/ folder.
CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
SUITES = ("robotwin", "rlbench")


class ProfileError(ValueError):
    """A profile file that is missing, malformed, or names an unknown setting."""


@dataclass(frozen=True)
class CollectSpec:
    """Expert demonstrations on the seen tasks.

    Attributes:
        tasks: seen tasks to record; empty = every seen task of the suite's split.
        episodes: successful demonstrations per task.
        seed_start: first reset seed (collection seeds stay below the protocol's evaluation seeds).
        camera_size: rendered ``[height, width]`` of every camera.
    """

    tasks: tuple[str, ...] = ()
    episodes: int = 10
    seed_start: int = 0
    camera_size: tuple[int, int] = (64, 64)

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ProfileError(f"collect.episodes must be >= 1, got {self.episodes}")


@dataclass(frozen=True)
class EvalSpec:
    """Evaluation of the plain backbone and of backbone + memory for each k, on the same seeds.

    Attributes:
        protocol: protocol name (``robotwin-v0-small``) or a protocol JSON file.
        tasks: tasks to evaluate; empty = the suite's unseen split.
        ks: memories fused per chunk, one evaluation per value (the paper's ablation: 1, 2, 3).
        episodes: play only the first N protocol episodes per task (``None`` = all of them).
        camera_size: rendered ``[height, width]``; match the collection size.
        control_mode: the suite's action mode the backbone was trained for.
        execute: actions executed per predicted chunk, the same for both arms.
        workers: parallel evaluation workers (the CLI's ``--workers`` overrides it).
    """

    protocol: str = "robotwin-v0"
    tasks: tuple[str, ...] = ()
    ks: tuple[int, ...] = (1, 2, 3)
    episodes: int | None = None
    camera_size: tuple[int, int] = (64, 64)
    control_mode: str = "qpos"
    execute: int = 8
    workers: int = 1

    def __post_init__(self) -> None:
        if not self.ks or any(k < 1 for k in self.ks):
            raise ProfileError(f"eval.ks must list memory counts >= 1, got {list(self.ks)}")
        if len(set(self.ks)) != len(self.ks):
            raise ProfileError(f"eval.ks must be distinct, got {list(self.ks)}")
        if self.workers < 1:
            raise ProfileError(f"eval.workers must be >= 1, got {self.workers}")


@dataclass(frozen=True)
class ReproduceProfile:
    """Everything one ``vlapro-bench reproduce`` run does, for one suite.

    ``stage_estimates_s`` are rough wall times per stage on the machine the profile targets; the
    progress output scales them by how fast the finished stages actually went to give an ETA.
    """

    name: str
    suite: str
    description: str = ""
    collect: CollectSpec = field(default_factory=CollectSpec)
    train: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    eval: EvalSpec = field(default_factory=EvalSpec)
    stage_estimates_s: dict[str, float] = field(default_factory=dict)

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
    allowed = {"name", "description", "collect", "train", "memory", "eval", "stage_estimates_s"}
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


__all__ = ["CollectSpec", "EvalSpec", "ProfileError", "ReproduceProfile", "load_profile", "profile_from_dict",
           "profile_path"]
