"""What a task is, as data: its static spec, its procedure labels and its per-step procedural state.

A leaf module (it imports nothing of the project), so every layer can name these types: the
engine's placement predicates return a :class:`ProceduralState`, the registry indexes
:class:`TaskSpec` s, and the env, policies and memory read them, without any of them importing
a task. ``vlapro_bench.registry`` and ``vlapro_bench.task`` re-export the names, which is where
task files import them from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

SUITES = ("robotwin", "rlbench")
#: A task's registry name ends in ``-v<N>`` from version 1 on; version 0 keeps the bare name, so
#: every result recorded before tasks had versions still names its task.
_VERSION_SUFFIX = re.compile(r"-v(\d+)$")


def task_ref(base_name: str, version: int = 0) -> str:
    """The registry name of version ``version`` of a task: ``open_laptop``, ``open_laptop-v1``."""
    return base_name if version == 0 else f"{base_name}-v{version}"


def parse_task_ref(name: str) -> tuple[str, int]:
    """``(base name, version)`` of a registry name; ``open_laptop-v0`` is read as ``open_laptop``."""
    match = _VERSION_SUFFIX.search(name)
    return (name[: match.start()], int(match.group(1))) if match else (name, 0)


@dataclass(frozen=True)
class ProceduralAnnotation:
    """The procedure a task exercises, in the four fields VLA-Pro retrieves on.

    These are the task-level labels; the per-step state in ``info`` refines them by stage.
    """

    action_type: str  # e.g. "press", "pick_place", "stack", "open_hinge", "handover", "hit"
    object_geometry: str  # e.g. "dome", "cuboid", "thin_slab", "bowl", "hinged_door"
    ee_orientation: str  # e.g. "downward", "side", "tilted"
    interaction_point: str  # e.g. "top_centre", "handle", "lid_edge"


@dataclass(frozen=True)
class TaskSpec:
    """Static metadata of a task: what a registry row, a gym id and a docs page need.

    ``name`` is the registry name, unique within the suite: the upstream task's name for
    version 0 and ``<name>-v<version>`` after that (:func:`task_ref`). A task whose behaviour
    changes (objects, ranges, procedure) gets a new version beside the old one instead of
    replacing it, so results recorded on the old one stay reproducible.
    """

    name: str
    suite: str
    max_episode_steps: int
    procedure: ProceduralAnnotation
    description: str
    arms: tuple[str, ...] = ("left", "right")  # arms the expert may use
    tags: tuple[str, ...] = field(default_factory=tuple)
    version: int = 0
    #: Where the task comes from, e.g. "RoboTwin 2.0", "RLBench", or "VLA-Pro paper" for the
    #: paper's custom tasks on RoboTwin assets, which are not RoboTwin 2.0 tasks. Shown by
    #: ``vlapro-bench list`` so nobody mistakes one for the other when comparing numbers.
    origin: str = ""

    def __post_init__(self) -> None:
        if self.suite not in SUITES:
            raise ValueError(f"Unknown suite {self.suite!r}; expected one of {SUITES}")
        if self.max_episode_steps <= 0:
            raise ValueError(f"{self.name}: max_episode_steps must be positive")
        if self.version < 0 or parse_task_ref(self.name)[1] != self.version or self.name.endswith("-v0"):
            raise ValueError(f"Task name {self.name!r} does not match version {self.version}: version 0 is named "
                             f"{self.base_name!r}, version {max(self.version, 1)} "
                             f"{task_ref(self.base_name, max(self.version, 1))!r}")

    @property
    def base_name(self) -> str:
        """The task's name without its version: upstream's name for it."""
        return parse_task_ref(self.name)[0]

    @property
    def gym_id(self) -> str:
        suite = {"robotwin": "RoboTwin", "rlbench": "RLBench"}[self.suite]
        return f"VLAPro-{suite}/{self.base_name}-v{self.version}"


@dataclass(frozen=True)
class ProceduralState:
    """Ground truth for analysis: what the robot should be doing now, in VLA-Pro's four fields."""

    action_type: str
    object_geometry: str
    ee_orientation: np.ndarray  # wxyz quaternion of the acting arm's TCP
    target_point: np.ndarray  # world xyz of the point the acting arm should interact with
    arm: str
    stage: str

    def as_dict(self) -> dict:
        return {
            "action_type": self.action_type,
            "object_geometry": self.object_geometry,
            "ee_orientation": self.ee_orientation.astype(float).round(5).tolist(),
            "target_point": self.target_point.astype(float).round(5).tolist(),
            "arm": self.arm,
            "stage": self.stage,
        }
