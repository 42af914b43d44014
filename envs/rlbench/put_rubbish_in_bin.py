"""put_rubbish_in_bin: pick up the crumpled paper and drop it into the bin, leaving the tomatoes.

Description:
    A black bin stands on the table beside a wad of crumpled paper and two tomatoes. The Panda
    grasps the paper from above, carries it over the bin and lets it fall in (RLBench
    ``put_rubbish_in_bin``, an AGNOSTOS level-1 unseen task).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the rubbish, the bin and the two tomatoes.
Success:
    RLBench's ``DetectedCondition(rubbish, success)``, the sensor filling the bin: here the
    rubbish's centre is inside the bin's inner volume, from its floor up to its rim.
Starting state:
    RLBench's ``put_rubbish_in_bin.ttm`` is not in the reference data, so the geometry is ours,
    at realistic sizes: a bin of 0.18 x 0.24 m, 0.15 m tall; a paper wad about 7 x 4.4 x 4 cm
    (20 g, a fixed crumpled convex shape); tomatoes 6.4 cm across (0.1 kg). What RLBench's task
    code does is kept: the three objects sit on three fixed spots of the task base, and each
    episode the rubbish swaps places with tomato2, stays, or swaps with tomato1 (one of three,
    uniformly). The base is placed at x 0.05..0.30, y -0.15..0.15 with a yaw in [-pi, pi]
    (RLBench's default bounds), drawn again while a spot or the bin leaves the area the Panda
    reaches pointing down, or the grasp and drop waypoints have no collision-free IK solution
    (RLBench's placement check).
Variations:
    1 (RLBench has one).
Episode end:
    Success, or 400 control steps (20 s at 20 Hz; the expert needs at most about 190).
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import mujoco
import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.franka import TABLE_TOP_Z
from vlapro_bench.sim.geometry import gripper_down_quat, quat_yaw, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import grasp_yaw
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._pick_and_carry import grasp_from_above, in_reach, place_held, table_point

RUBBISH = "rubbish"
TOMATOES = ("tomato1", "tomato2")
BIN = "bin"
#: Spots of the task base (x, y) where RLBench's model puts each object before the swap.
SPOTS = {RUBBISH: (0.06, 0.02), "tomato1": (-0.06, 0.08), "tomato2": (0.04, 0.17)}
BIN_XY = (0.0, -0.23)
BIN_HALF = (0.09, 0.12)
BIN_HEIGHT = 0.15
WALL = 0.006
BIN_RGBA = (0.1, 0.1, 0.11, 1.0)
#: The crumpled paper: a convex hull of points on an ellipsoid (6.8 x 4.4 x 4.0 cm), each pushed in
#: or out by up to 12%. Elongated on purpose: it is grasped across its width, so its length lies
#: along the finger pads, and a wad that slides along the pads while carried (the engine's
#: grasps creep, see place_held) stays between them.
RUBBISH_SEMI_AXES = (0.034, 0.022, 0.020)
RUBBISH_JITTER = 0.12
#: The wad lies with its length pointing at the bin, so the hand (about 20 cm long along the
#: finger axis) closes on it parallel to the bin's wall instead of reaching over the wall.
RUBBISH_YAW = math.pi / 2
RUBBISH_MASS = 0.02
RUBBISH_RGBA = (0.93, 0.92, 0.86, 1.0)
TOMATO_RADII = (0.032, 0.032, 0.028)
TOMATO_MASS = 0.1
TOMATO_RGBA = (0.85, 0.12, 0.06, 1.0)
YAW_BOUNDS = (-math.pi, math.pi)
X_RANGE = (0.05, 0.30)
Y_RANGE = (-0.15, 0.15)
#: The TCP closes this far above the paper's centre: the fingertips then stay 8 mm clear of the
#: table (touching it, they drag and stall before they close).
GRASP_ABOVE_CENTRE = 0.012
#: The fingers are driven to this opening (m per finger) on the 4.4 cm wide wad: a squeeze of
#: about 15 N instead of the servo's 40 N cap.
CLOSE_TO = 0.016
#: The paper is let go with its centre this far above the rim, over the bin's centre.
DROP_ABOVE_RIM = 0.06
HOVER = 0.05
#: Lift and carry slowly enough that the held paper stays between the pads (see place_held).
LIFT_STEPS = 30
CARRY_STEPS = 50


def _crumpled_points() -> np.ndarray:
    """Points of the paper wad (fixed: the same shape in every episode and process)."""
    rng = np.random.default_rng(2024)
    directions = rng.normal(size=(40, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    scale = rng.uniform(1.0 - RUBBISH_JITTER, 1.0 + RUBBISH_JITTER, size=(40, 1))
    return directions * scale * np.array(RUBBISH_SEMI_AXES)


CRUMPLED_POINTS = _crumpled_points()
#: How far the paper wad reaches below its body origin.
RUBBISH_BOTTOM = float(-CRUMPLED_POINTS[:, 2].min())


@register_task
class PutRubbishInBin(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="put_rubbish_in_bin",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("pick_place", "crumpled_paper", "downward", "container_inside"),
        description="Pick up the crumpled paper and drop it into the bin, leaving the tomatoes.",
    )
    instructions = {
        "seen": (
            "put rubbish in bin",
            "drop the rubbish into the bin",
            "pick up the rubbish and leave it in the trash can",
            "throw away the trash, leaving any other objects alone",
            "chuck away any rubbish on the table",
        ),
        "unseen": (
            "toss the crumpled paper into the waste bin and leave the tomatoes",
            "get rid of the crumpled paper by dropping it in the black bin",
        ),
    }
    variation_count = 1
    tracked_bodies = (RUBBISH, BIN, *TOMATOES)

    def build_scene(self, scene: SceneBuilder) -> None:
        scene.mesh("crumpled_paper", CRUMPLED_POINTS)
        rubbish = scene.body(RUBBISH, pos=(0.25, 0.3, 1.0), free=True)
        scene.geom(rubbish, RUBBISH, mujoco.mjtGeom.mjGEOM_MESH, (1.0, 1.0, 1.0), RUBBISH_RGBA, mesh="crumpled_paper",
                   mass=RUBBISH_MASS)
        for name in TOMATOES:
            body = scene.body(name, pos=(0.25, 0.4, 1.0), free=True)
            scene.ellipsoid(body, name, TOMATO_RADII, TOMATO_RGBA, mass=TOMATO_MASS)
            scene.cylinder(body, f"{name}_stem", 0.004, 0.004, (0.2, 0.45, 0.15, 1.0),
                           pos=(0.0, 0.0, TOMATO_RADII[2] + 0.003), collide=False)
        bin_body = scene.body(BIN, pos=(0.25, -0.3, TABLE_TOP_Z))
        hx, hy = BIN_HALF
        half_height = BIN_HEIGHT / 2
        scene.box(bin_body, f"{BIN}_floor", (hx, hy, WALL / 2), BIN_RGBA, pos=(0.0, 0.0, WALL / 2))
        for geom, pos, half in (
            ("front", (hx - WALL / 2, 0.0, half_height), (WALL / 2, hy, half_height)),
            ("back", (-hx + WALL / 2, 0.0, half_height), (WALL / 2, hy, half_height)),
            ("left", (0.0, hy - WALL / 2, half_height), (hx, WALL / 2, half_height)),
            ("right", (0.0, -hy + WALL / 2, half_height), (hx, WALL / 2, half_height)),
        ):
            scene.box(bin_body, f"{BIN}_{geom}", half, BIN_RGBA, pos=pos)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.choose_variation(rng)
        spots = dict(SPOTS)
        swap = int(rng.integers(3))  # RLBench: 0 swaps with tomato2, 1 keeps, 2 swaps with tomato1
        if swap != 1:
            other = "tomato2" if swap == 0 else "tomato1"
            spots[RUBBISH], spots[other] = spots[other], spots[RUBBISH]
        def draw() -> TaskFrame | None:
            self.frame = frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            sim.set_body_pose(BIN, table_point(frame, BIN_XY, 0.0), frame.quat)
            sim.set_free_pose(RUBBISH, table_point(frame, spots[RUBBISH], RUBBISH_BOTTOM + 0.001),
                              yaw_quat(frame.yaw + RUBBISH_YAW))
            for name in TOMATOES:
                sim.set_free_pose(name, table_point(frame, spots[name], TOMATO_RADII[2] + 0.001), frame.quat)
            sim.forward()
            on_table = [frame.point((*xy, 0.0)) for xy in (*spots.values(), BIN_XY)]
            if all(in_reach(p) for p in on_table) and reachable(sim, self._waypoints(sim)):
                return frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(0)

    def _drop_point(self) -> np.ndarray:
        """Where the rubbish's centre is let go: over the bin's centre, above its rim."""
        return table_point(self.frame, BIN_XY, BIN_HEIGHT + DROP_ABOVE_RIM)

    def _lift(self, sim: Simulation) -> float:
        """How far to lift the grasped paper so it clears the rim on its way to the drop point."""
        return self._drop_point()[2] + HOVER - sim.body_pos(RUBBISH)[2]

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        quat = gripper_down_quat(self._grasp_yaw(sim))
        grasp = sim.body_pos(RUBBISH) + (0.0, 0.0, GRASP_ABOVE_CENTRE)
        drop = self._drop_point() + (0.0, 0.0, GRASP_ABOVE_CENTRE)
        return [(grasp + (0, 0, 0.1), quat), (grasp, quat), (grasp + (0, 0, self._lift(sim)), quat),
                (drop + (0, 0, HOVER), quat), (drop, quat)]

    def _grasp_yaw(self, sim: Simulation) -> float:
        """Fingers closing across the wad's width (its local y), near the arm's natural yaw."""
        return grasp_yaw(self.arm, quat_yaw(sim.body_quat(RUBBISH)), symmetry=math.pi)

    def in_bin(self, sim: Simulation) -> bool:
        """Whether the paper's centre is inside the bin, below its rim."""
        local = self.frame.local(sim.body_pos(RUBBISH)) - (*BIN_XY, 0.0)
        inner = np.array(BIN_HALF) - WALL
        return bool(np.all(np.abs(local[:2]) < inner) and WALL < local[2] < BIN_HEIGHT)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(rubbish_in_bin=self.in_bin(sim))

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        yaw = self._grasp_yaw(sim)
        grasp = sim.body_pos(RUBBISH) + (0.0, 0.0, GRASP_ABOVE_CENTRE)
        yield from grasp_from_above(motion, self.arm, grasp, yaw, self._lift(sim), close_to=CLOSE_TO,
                                    lift_steps=LIFT_STEPS)
        yield from place_held(sim, motion, self.arm, RUBBISH, self._drop_point(), yaw, HOVER, carry_steps=CARRY_STEPS)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if sim.is_grasped(self.arm, RUBBISH) and sim.body_pos(RUBBISH)[2] > TABLE_TOP_Z + 0.04:
            return self.state_from_spec(sim, self._drop_point(), "place")
        return self.state_from_spec(sim, sim.body_pos(RUBBISH), "grasp")
