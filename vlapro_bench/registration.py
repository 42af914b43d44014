"""Gymnasium ids, derived from the task registry and the split files (nothing listed by hand).

- ``VLAPro-RoboTwin/<task>-v0``: one task.
- ``VLAPro-RoboTwin-Seen-v0`` / ``VLAPro-RoboTwin-Unseen-v0``: the tasks of a split.
- ``VLAPro-RoboTwin-ZW7-Seen-v0`` / ``-Unseen-v0``: the tasks of a named split line (here ``zw7``).
"""

from __future__ import annotations

import gymnasium as gym

from vlapro_bench.registry import all_specs
from vlapro_bench.splits import available_splits, load_split

SUITE_TITLES = {"robotwin": "RoboTwin", "rlbench": "RLBench"}
ENTRY_POINT = "vlapro_bench.make:make_env"
VECTOR_ENTRY_POINT = "vlapro_bench.make:make_vector_env"


def split_id(suite: str, split: str, version: int = 0, name: str = "") -> str:
    """Gym id of one side (``seen``/``unseen``) of a split; a named split line's name is upper-cased."""
    line = f"{name.upper()}-" if name else ""
    return f"VLAPro-{SUITE_TITLES[suite]}-{line}{split.capitalize()}-v{version}"


def env_ids() -> dict[str, dict]:
    """Every id we register, with the kwargs it carries."""
    ids: dict[str, dict] = {}
    for spec in all_specs():
        # No max_episode_steps: the env truncates at its task's limit itself, and an outer
        # TimeLimit with the embedded limit would cut upstream backends (backend="robotwin"
        # counts RoboTwin's own, longer, per-task limits) short.
        ids[spec.gym_id] = {"tasks": spec.name, "suite": spec.suite}
    for suite, line, version in available_splits():
        split = load_split(suite, version, check_registered=False, name=line)
        for name in ("seen", "unseen"):
            if split.tasks(name):  # a single-task line such as all50 has no unseen side
                ids[split_id(suite, name, version, line)] = {"tasks": list(split.tasks(name)), "suite": suite}
    return ids


def register_envs() -> None:
    """Register all ids (idempotent: re-registering an existing id is skipped)."""
    for env_id, kw in env_ids().items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point=ENTRY_POINT,
            vector_entry_point=VECTOR_ENTRY_POINT,
            kwargs=kw,
        )
