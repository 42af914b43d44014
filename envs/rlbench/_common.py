"""What every RLBench-suite task shares: RLBench's colours, the task-base frame and its placement,
spawn sampling, and a Task base class with the suite's defaults.

Facts from RLBench (``rlbench/const.py``, ``backend/spawn_boundary.py``, ``backend/scene.py``):
20 named colours; each episode the task base is placed on the table inside the ``workspace``
with a yaw from the task's rotation bounds; props are sampled uniformly inside boundary shapes
with a minimum distance. Task geometry in ``rlbench_geometry.json`` is relative to that base.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from vlapro_bench.sim.franka import ARM, TABLE_TOP_Z
from vlapro_bench.sim.geometry import gripper_down_quat, nearest_symmetric_yaw, yaw_quat
from vlapro_bench.sim.ik import shared_ik
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import Task

#: RLBench's colour list (``rlbench/const.py``), in its order: variation ``i`` of a colour task
#: uses ``COLORS[i]``.
COLORS: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("red", (1.0, 0.0, 0.0)), ("maroon", (0.5, 0.0, 0.0)), ("lime", (0.0, 1.0, 0.0)),
    ("green", (0.0, 0.5, 0.0)), ("blue", (0.0, 0.0, 1.0)), ("navy", (0.0, 0.0, 0.5)),
    ("yellow", (1.0, 1.0, 0.0)), ("cyan", (0.0, 1.0, 1.0)), ("magenta", (1.0, 0.0, 1.0)),
    ("silver", (0.75, 0.75, 0.75)), ("gray", (0.5, 0.5, 0.5)), ("orange", (1.0, 0.5, 0.0)),
    ("olive", (0.5, 0.5, 0.0)), ("purple", (0.5, 0.0, 0.5)), ("teal", (0.0, 0.5, 0.5)),
    ("azure", (0.0, 0.5, 1.0)), ("violet", (0.5, 0.0, 1.0)), ("rose", (1.0, 0.0, 0.5)),
    ("black", (0.0, 0.0, 0.0)), ("white", (1.0, 1.0, 1.0)),
)
COLOR_NAMES = tuple(name for name, _ in COLORS)

#: Where RLBench stores every task base: on the table, 0.52 m in front of the arm's base.
BASE_ORIGIN = (0.25, 0.0, TABLE_TOP_Z)
#: The area task bases are placed in. RLBench's ``workspace`` shape lives in the unpublished
#: ``task_design.ttt``; this box keeps every base reachable for the Panda (checked by the
#: experts on 50 seeds per task). Tasks narrow it when their props are large.
WORKSPACE_X = (0.05, 0.45)
WORKSPACE_Y = (-0.3, 0.3)


def rgba(color: str | tuple[float, float, float], alpha: float = 1.0) -> tuple[float, float, float, float]:
    """RGBA of an RLBench colour name (or of an RGB triple)."""
    if isinstance(color, str):
        rgb = dict(COLORS)[color]
    else:
        rgb = color
    return (*rgb, alpha)


@dataclass(frozen=True)
class TaskFrame:
    """The task base's pose on the table: world position of its origin and yaw about z.

    Reference geometry is given in this frame; ``point`` and ``direction`` map it to the world.
    """

    pos: np.ndarray
    yaw: float

    @classmethod
    def at(cls, x: float, y: float, yaw: float = 0.0, z: float = TABLE_TOP_Z) -> TaskFrame:
        return cls(np.array([x, y, z], dtype=float), float(yaw))

    @cached_property
    def rotation(self) -> np.ndarray:
        """Base-to-world rotation (read-only: success checks use it every step, so it is built once)."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        rotation.flags.writeable = False
        return rotation

    @property
    def quat(self) -> np.ndarray:
        return yaw_quat(self.yaw)

    def point(self, local: ArrayLike) -> np.ndarray:
        """World position of a point given in the base frame."""
        return self.pos + self.rotation @ np.asarray(local, dtype=float)

    def direction(self, local: ArrayLike) -> np.ndarray:
        """World direction of a vector given in the base frame."""
        return self.rotation @ np.asarray(local, dtype=float)

    def local(self, world: ArrayLike) -> np.ndarray:
        """Base-frame coordinates of a world point."""
        return self.rotation.T @ (np.asarray(world, dtype=float) - self.pos)


def sample_frame(
    rng: np.random.Generator,
    yaw_bounds: tuple[float, float] = (-math.pi, math.pi),
    x_range: tuple[float, float] = WORKSPACE_X,
    y_range: tuple[float, float] = WORKSPACE_Y,
) -> TaskFrame:
    """RLBench's base placement: a uniform point of the workspace and a yaw within the bounds."""
    x = rng.uniform(*x_range)
    y = rng.uniform(*y_range)
    yaw = rng.uniform(*yaw_bounds) if yaw_bounds[0] != yaw_bounds[1] else yaw_bounds[0]
    return TaskFrame.at(x, y, yaw)


def spawn_points(
    rng: np.random.Generator,
    count: int,
    low: ArrayLike,
    high: ArrayLike,
    min_distance: float,
    attempts: int = 1000,
) -> list[np.ndarray]:
    """``count`` points uniform in the box ``[low, high]``, pairwise at least ``min_distance``
    apart (RLBench's ``SpawnBoundary.sample(..., min_distance)``), by rejection."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    points: list[np.ndarray] = []
    for _ in range(attempts):
        candidate = rng.uniform(low, high)
        if all(np.linalg.norm(candidate - p) >= min_distance for p in points):
            points.append(candidate)
            if len(points) == count:
                return points
    raise RuntimeError(f"Could not place {count} points {min_distance} m apart in {low}..{high}")


def reachable(
    sim: Simulation,
    poses: Sequence[tuple[ArrayLike, np.ndarray | None]],
    arm: str = ARM,
    check_collisions: bool = True,
    samples_per_move: int = 6,
    ignore: Sequence[str] = (),
) -> bool:
    """RLBench's placement check (``Task.validate``): every waypoint ``(tcp_position, wxyz or
    None)`` has an IK solution, each solved from the previous one as the expert would move, and
    (``check_collisions``) the arm's links clear the props at the waypoints and at
    ``samples_per_move`` joint-space points between them (the expert's moves are joint-space
    interpolations); ``ignore`` names bodies the motion itself moves (a drawer being pushed).
    Call it after placing the props.

    Tasks call it in ``initialize_episode`` and draw the placement again when it fails (RLBench
    makes up to 40 attempts with its path planner).
    """
    robot = sim.robot
    ik = shared_ik(robot)
    home = robot.home_action()[robot.arm_slice(arm)]
    q = home
    if check_collisions:
        sim.forward()
    for position, quat in poses:
        result = ik.solve(arm, np.asarray(position, float), quat, q)
        if not result.converged:
            result = ik.solve(arm, np.asarray(position, float), quat, home)
        if not result.converged:
            return False
        if check_collisions:
            for s in np.linspace(0.0, 1.0, samples_per_move + 1)[1:]:
                if sim.arm_collides(arm, q + s * (result.qpos - q), ignore):
                    return False
        q = result.qpos
    return True


MAX_PLACEMENT_ATTEMPTS = 40  # RLBench's _MAX_RESET_ATTEMPTS


class RLBenchTask(Task):
    """Base class of the RLBench-suite tasks: one arm (``panda``), numbered variations.

    Subclasses set ``spec = RLBenchTask.spec_for(...)`` (suite ``rlbench``, arm ``panda``),
    ``instructions``, ``variation_count`` and ``tracked_bodies``, and fill in the hooks of
    :class:`vlapro_bench.task.Task` plus :meth:`variation_placeholders`. ``initialize_episode``
    calls :meth:`choose_variation` first, places the props (redrawing with
    :meth:`~vlapro_bench.task.Task.draw_layout` until :func:`reachable` accepts them), and
    returns ``self.variation_placeholders(index)``: as in RLBench, the instruction depends on the
    variation alone.
    """

    suite: ClassVar[str | None] = "rlbench"
    default_arms: ClassVar[tuple[str, ...]] = (ARM,)
    default_origin: ClassVar[str] = "RLBench"
    placement_attempt_limit: ClassVar[int] = MAX_PLACEMENT_ATTEMPTS
    arm = ARM
    variation_count = 1

    def variation_placeholders(self, index: int) -> dict[str, str]:
        """Instruction placeholder values of variation ``index`` (e.g. ``{"color": "red"}``).
        Distinct variations must give distinct values, and every template uses every key. A task
        with one variation has no placeholders; one with several must say what each is."""
        if self.variation_count == 1:
            return {}
        raise NotImplementedError(f"{type(self).__name__} has {self.variation_count} variations: "
                                  f"define variation_placeholders")

    def choose_variation(self, rng: np.random.Generator) -> int:
        """Draw this episode's variation index (uniform, as RLBench's ``sample_variation``)."""
        assert self.variation_count is not None, f"{type(self).__name__} must set variation_count"
        self.variation = int(rng.integers(self.variation_count))
        return self.variation


def hinge_push_waypoints(sim: Simulation, arm: str, frame: TaskFrame, hinge_point: Callable[[float, float], np.ndarray],
                         points: Sequence[tuple[float, float]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """TCP poses that push a lid shut about a hinge along the task frame's y axis: the gripper
    points down with its fingers along the hinge (of the two such yaws, the one nearest the
    arm's natural yaw), its fingertips at each of ``points``, which ``hinge_point`` maps from
    the task's hinge coordinates to the world (close_laptop_lid, toilet_seat_down)."""
    hinge_axis = frame.direction((0.0, 1.0, 0.0))
    yaw = nearest_symmetric_yaw(math.atan2(hinge_axis[1], hinge_axis[0]), sim.robot.natural_yaw[arm])
    quat = gripper_down_quat(yaw)
    tip = np.array([0.0, 0.0, sim.robot.fingertip_below_tcp])
    return [(hinge_point(a, b) + tip, quat) for a, b in points]
