"""put_knife_on_chopping_board: slide the knife out of its block and lay it on the chopping board.

Description:
    A kitchen knife rests in a wooden knife block, its blade in a horizontal slot and its
    handle sticking out; a chopping board lies beside it. The Panda grasps the handle from
    above near the blade, slides the knife out of the slot along its length, lifts it, carries
    it over the board, turns it to lie along the board, lays it down and lets go (RLBench
    ``put_knife_on_chopping_board``, an AGNOSTOS level-1 unseen task).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the knife, the knife block and the chopping board.
Success:
    The knife lies on the board (its balance point over the board and at most 2.5 cm above the
    board's top) and no finger touches it.
    **Fidelity:** RLBench: ``ConditionSet([DetectedCondition(knife, success),
    NothingGrasped], order_matters=True)``, the knife detected by a sensor on the board and
    then released; ours: the sensor's volume is ours (the model's is not in the reference
    data), "detected" means lying on the board rather than any part passing through a volume,
    and "released" means no finger touches the knife (stricter than RLBench's attachment
    flag). The order does not need tracking: a released knife can only lie on the board if it
    was put there.
Starting state:
    The chopping board's centre is fixed 12 cm to the task base's right; the knife block (the
    knife with it) is sampled in a 16 x 6 cm boundary 14 to 20 cm to the base's left with a
    yaw in [-pi, pi] (RLBench's ``SpawnBoundary.sample`` of the block with its default
    rotation; the boundary's size is ours). The task base is placed at x 0.05..0.30, y
    -0.15..0.15 with a yaw in [-pi, pi] (RLBench's default bounds), drawn again while the
    block, the board, the grasp or the slid-out handle leaves the area the Panda reaches
    pointing down, or the grasp, slide, carry and place waypoints have no collision-free IK
    solution (RLBench's placement check).
Geometry:
    RLBench's ``put_knife_on_chopping_board.ttm`` is not in the reference data, so the sizes
    are ours: a chopping board 30 x 20 x 2 cm; a knife block 13 x 6 x 7.5 cm with a slot 3.2
    cm wide and 5 mm high whose floor is 4.8 cm above the table; a knife 22 cm long, a
    steel blade 12 x 2.5 cm, 2 mm thick (40 g), and a handle 10 x 2.4 x 1.6 cm (50 g), so
    its balance point is at the bolster and a grasp just behind it holds the knife level.
Variations:
    1 (RLBench has one).
Episode end:
    Success, or 450 control steps (22.5 s at 20 Hz; the expert needs at most 260 on seeds 0-49 and
    100000-100049).
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.franka import TABLE_TOP_Z
from vlapro_bench.sim.geometry import gripper_down_quat, quat_to_mat, quat_yaw, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import grasp_yaw
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._pick_and_carry import Rect, grasp_from_above, in_reach, place_held, table_point

KNIFE = "knife"
BLOCK = "knife_block"
BOARD = "chopping_board"
#: The board: centre (task-base x, y), half extents, thickness.
BOARD_XY = (0.0, -0.12)
BOARD_HALF = (0.15, 0.10)
BOARD_THICKNESS = 0.02
BOARD_RGBA = (0.82, 0.66, 0.42, 1.0)
#: Where the knife block's centre is sampled (RLBench's ``boundary``; its size is ours).
BLOCK_BOUNDARY = Rect((0.0, 0.17), (0.16, 0.06))
#: The block: half extents (x along the slot), slot floor height, slot height and half width.
BLOCK_HALF = (0.065, 0.03, 0.0375)
SLOT_FLOOR = 0.048
SLOT_HEIGHT = 0.005
SLOT_HALF_WIDTH = 0.016
BLOCK_RGBA = (0.45, 0.28, 0.15, 1.0)
#: The knife, in its own frame: origin at the bolster, +x along the blade, z up.
BLADE_HALF = (0.06, 0.0125, 0.001)
BLADE_MASS = 0.04
HANDLE_HALF = (0.05, 0.012, 0.008)
HANDLE_MASS = 0.05
STEEL = (0.78, 0.8, 0.83, 1.0)
HANDLE_RGBA = (0.08, 0.08, 0.09, 1.0)
#: The bolster sits this far outside the block's mouth.
BOLSTER_OUT = 0.003
#: The knife's centre height in the slot: the blade lies on the slot floor.
KNIFE_Z = SLOT_FLOOR + BLADE_HALF[2]
YAW_BOUNDS = (-math.pi, math.pi)
X_RANGE = (0.05, 0.30)
Y_RANGE = (-0.15, 0.15)
#: Grasp: on the handle this far behind the bolster, the TCP this far above the knife's axis.
GRASP_BEHIND = 0.022
GRASP_ABOVE = 0.003
#: Finger opening the gripper is driven to on the 2.4 cm handle (a moderate squeeze).
CLOSE_TO = 0.005
#: How far the knife is slid out (the blade is 11.7 cm deep in the slot) and then lifted.
SLIDE = 0.15
SLIDE_STEPS = 50
#: If the grasp crept and the blade's tip is still in the slot, slide on by this much (at most twice).
SLIDE_MORE = 0.03
LIFT = 0.10
LIFT_STEPS = 24
CARRY_STEPS = 50
HOVER = 0.06
#: The knife is let go with its handle's bottom this far above the board.
RELEASE_GAP = 0.006
#: Lying on the board: the balance point at most this high above the board's top.
ON_BOARD_HEIGHT = 0.025


@register_task
class PutKnifeOnChoppingBoard(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="put_knife_on_chopping_board",
        max_episode_steps=450,
        procedure=ProceduralAnnotation("pick_place", "knife", "downward", "pad_centre"),
        description="Slide the knife out of its block and lay it on the chopping board.",
    )
    instructions = {
        "seen": (
            "put the knife on the chopping board",
            "pull the knife out of the knife block and lay it on the chopping board",
            "place the knife onto the chopping board",
            "pick up the knife and leave it lying on the chopping board",
            "take the knife from its holder and move it to the chopping board",
        ),
        "unseen": (
            "draw the blade from the wooden block and rest it across the cutting board",
            "get the kitchen knife out and set it down flat where you would cut food",
        ),
    }
    variation_count = 1
    tracked_bodies = (KNIFE, BLOCK, BOARD)

    def build_scene(self, scene: SceneBuilder) -> None:
        board = scene.body(BOARD, pos=(0.25, -0.3, TABLE_TOP_Z))
        scene.box(board, f"{BOARD}_top", (*BOARD_HALF, BOARD_THICKNESS / 2), BOARD_RGBA,
                  pos=(0.0, 0.0, BOARD_THICKNESS / 2))
        block = scene.body(BLOCK, pos=(0.25, 0.3, TABLE_TOP_Z))
        hx, hy, hz = BLOCK_HALF
        ceiling = SLOT_FLOOR + SLOT_HEIGHT
        scene.box(block, f"{BLOCK}_lower", (hx, hy, SLOT_FLOOR / 2), BLOCK_RGBA, pos=(0.0, 0.0, SLOT_FLOOR / 2))
        top_half = (2 * hz - ceiling) / 2
        scene.box(block, f"{BLOCK}_upper", (hx, hy, top_half), BLOCK_RGBA, pos=(0.0, 0.0, ceiling + top_half))
        side = (hy - SLOT_HALF_WIDTH) / 2
        for sign, name in ((1, "left"), (-1, "right")):
            scene.box(block, f"{BLOCK}_{name}", (hx, side, SLOT_HEIGHT / 2), BLOCK_RGBA,
                      pos=(0.0, sign * (SLOT_HALF_WIDTH + side), SLOT_FLOOR + SLOT_HEIGHT / 2))
        scene.box(block, f"{BLOCK}_back", (0.0025, SLOT_HALF_WIDTH, SLOT_HEIGHT / 2), BLOCK_RGBA,
                  pos=(hx - 0.0025, 0.0, SLOT_FLOOR + SLOT_HEIGHT / 2))
        scene.box(block, f"{BLOCK}_mouth", (0.0004, SLOT_HALF_WIDTH, SLOT_HEIGHT / 2), (0.1, 0.06, 0.03, 1.0),
                  pos=(-hx - 0.0004, 0.0, SLOT_FLOOR + SLOT_HEIGHT / 2), collide=False)
        knife = scene.body(KNIFE, pos=(0.25, 0.5, 1.0), free=True)
        scene.box(knife, f"{KNIFE}_blade", BLADE_HALF, STEEL, pos=(BLADE_HALF[0], 0.0, 0.0), mass=BLADE_MASS)
        scene.box(knife, f"{KNIFE}_handle", HANDLE_HALF, HANDLE_RGBA, pos=(-HANDLE_HALF[0], 0.0, 0.0),
                  mass=HANDLE_MASS)
        scene.box(knife, f"{KNIFE}_bolster", (0.004, 0.0125, 0.0085), STEEL, pos=(0.0, 0.0, 0.0), collide=False)
        for i, x in enumerate((-0.075, -0.045, -0.015)):
            scene.cylinder(knife, f"{KNIFE}_rivet{i}", 0.0025, 0.0082, STEEL, pos=(x, 0.0, 0.0), collide=False)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.choose_variation(rng)

        def draw() -> TaskFrame | None:
            self.frame = frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            block_xy = BLOCK_BOUNDARY.sample(rng, 0.0)
            block_yaw = frame.yaw + rng.uniform(-math.pi, math.pi)
            sim.set_body_pose(BOARD, table_point(frame, BOARD_XY, 0.0), frame.quat)
            sim.set_body_pose(BLOCK, table_point(frame, block_xy, 0.0), yaw_quat(block_yaw))
            axis = np.array([math.cos(block_yaw), math.sin(block_yaw), 0.0])
            bolster = table_point(frame, block_xy, KNIFE_Z) - axis * (BLOCK_HALF[0] + BOLSTER_OUT)
            sim.set_free_pose(KNIFE, bolster, yaw_quat(block_yaw))
            sim.forward()
            grasp = self._grasp_point(sim)
            spots = [table_point(frame, block_xy, 0.0), table_point(frame, BOARD_XY, 0.0), grasp,
                     grasp - axis * SLIDE]
            if all(in_reach(p) for p in spots) and reachable(sim, self._waypoints(sim)):
                return frame
            return None

        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(0)

    def _axis(self, sim: Simulation) -> np.ndarray:
        """The knife's blade direction (world)."""
        return quat_to_mat(sim.body_quat(KNIFE))[:, 0]

    def _grasp_point(self, sim: Simulation) -> np.ndarray:
        """The TCP's grasp point: on the handle just behind the bolster, a little above its axis."""
        return sim.body_pos(KNIFE) - self._axis(sim) * GRASP_BEHIND + (0.0, 0.0, GRASP_ABOVE)

    def _grasp_yaw(self, sim: Simulation) -> float:
        """Fingers closing across the handle, near the arm's natural yaw."""
        return grasp_yaw(self.arm, quat_yaw(sim.body_quat(KNIFE)), symmetry=math.pi)

    def _place_yaw(self) -> float:
        """The finger yaw that lays the knife along the board's length."""
        return grasp_yaw(self.arm, self.frame.yaw, symmetry=math.pi)

    def _place_point(self) -> np.ndarray:
        """Where the knife's bolster is let go: over the board's centre, just above it."""
        return table_point(self.frame, BOARD_XY, BOARD_THICKNESS + HANDLE_HALF[2] + RELEASE_GAP)

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        grasp_quat = gripper_down_quat(self._grasp_yaw(sim))
        place_quat = gripper_down_quat(self._place_yaw())
        grasp = self._grasp_point(sim)
        out = grasp - self._axis(sim) * SLIDE
        place = self._place_point() + (0.0, 0.0, GRASP_ABOVE)
        return [(grasp + (0, 0, 0.1), grasp_quat), (grasp, grasp_quat), (out, grasp_quat),
                (out + (0, 0, LIFT), grasp_quat), (place + (0, 0, HOVER), place_quat), (place, place_quat)]

    def on_board(self, sim: Simulation) -> bool:
        """The knife's balance point (its bolster) over the board and close above its top."""
        local = self.frame.local(sim.body_pos(KNIFE)) - (*BOARD_XY, 0.0)
        return bool(np.all(np.abs(local[:2]) < BOARD_HALF) and 0.0 < local[2] - BOARD_THICKNESS < ON_BOARD_HEIGHT)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(knife_on_board=self.on_board(sim), knife_released=not sim.gripper_touches(self.arm, KNIFE))

    def _in_block(self, sim: Simulation) -> bool:
        """Whether part of the blade is still inside the block's slot."""
        block = sim.body_pos(BLOCK)
        tip = sim.body_pos(KNIFE) + self._axis(sim) * 2 * BLADE_HALF[0]
        return bool(np.linalg.norm((tip - block)[:2]) < BLOCK_HALF[0] + 0.005)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        yaw = self._grasp_yaw(sim)
        quat = gripper_down_quat(yaw)
        grasp = self._grasp_point(sim)
        out = grasp - self._axis(sim) * SLIDE
        yield from grasp_from_above(motion, self.arm, grasp, yaw, 0.0, close_to=CLOSE_TO)
        yield from motion.line(self.arm, out, quat, steps=SLIDE_STEPS, segments=2)
        for _ in range(2):
            if not self._in_block(sim):
                break
            out = out - self._axis(sim) * SLIDE_MORE
            yield from motion.line(self.arm, out, quat, steps=10, segments=1)
        yield from motion.line(self.arm, out + (0.0, 0.0, LIFT), quat, steps=LIFT_STEPS, segments=2)
        yield from place_held(sim, motion, self.arm, KNIFE, self._place_point(), self._place_yaw(), HOVER,
                              carry_steps=CARRY_STEPS)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if not sim.is_grasped(self.arm, KNIFE):
            return self.state_from_spec(sim, self._grasp_point(sim), "grasp")
        if self._in_block(sim):
            axis = sim.body_mat(BLOCK)[:, 0]
            out = sim.body_pos(BLOCK) - axis * (BLOCK_HALF[0] + BOLSTER_OUT + SLIDE) + (0.0, 0.0, KNIFE_Z)
            return self.state_from_spec(sim, out, "slide_out", action_type="pull_out")
        return self.state_from_spec(sim, self._place_point(), "place")
