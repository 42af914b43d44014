"""sweep_to_dustpan: take the broom from its stand and sweep the dirt into the dustpan.

Description:
    A broom leans against a tall stand; five small cubes of dirt lie on the table between it
    and a dustpan. The Panda grips the broom's stick, lifts it off the stand, sets its head down
    behind the dirt and sweeps the dirt into the dustpan (RLBench ``sweep_to_dustpan``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
Success:
    RLBench's five ``DetectedCondition(dirt_i, success)``: every dirt cube overlaps the success
    sensor, a 0.25 x 0.15 m box 0.05 m tall on the table in front of the dustpan's back wall
    (read here as: each cube's centre within the box grown by the cube's half size).
Starting state:
    Geometry from RLBench's ``sweep_to_dustpan.ttm`` (task-base frame): stand 0.10 x 0.10 x 0.50
    m at (-0.175, 0.376); broom stick 0.0112 m square and 0.60 m long, leaning 24 degrees
    toward the stand, on a head 0.2625 x 0.0375 x 0.0375 m lying on the table at (-0.171,
    0.096) (0.076 kg and 0.369 kg); dirt cubes 0.01 m at (0.05, -0.05), (0.025, 0), (0, -0.05),
    (0.05, 0), (0, -0.075); dustpan 0.28 x 0.22 m centred at (0, -0.326) with its 0.6 m handle;
    success box at (0, -0.30). As in RLBench the dirt is not sampled: only the task base is
    placed, here with x 0.15..0.35, y -0.1..0.1 and a yaw in [-2 pi/3, pi/3], half of RLBench's
    full turn: with any yaw the expert failed 18 of 200 episodes, nearly all with the yaw in
    (pi/3, 2 pi/3) or (-5 pi/6, -2 pi/3), where the 0.85 m layout runs across the table's
    depth with the stand near the arm (116 of 117 inside our range). Placements whose grasp and
    sweep waypoints the arm cannot reach without touching a prop are drawn again (RLBench's
    validation).
    Deviations: the stand is fixed (RLBench flags it dynamic, 5 kg); the dustpan, which RLBench
    makes non-respondable, is visual only here too, so swept dirt slides over its floor; the
    dirt weighs 5 g (RLBench's 0.5 mg is too light for a stable contact solve).
Variations:
    1 (as in RLBench).
Episode end:
    Success, or 400 control steps (20 s at 20 Hz; the expert needed at most 213 on seeds 0-49).
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
from vlapro_bench.sim.geometry import gripper_quat, nearest_symmetric_yaw
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame

X_RANGE = (0.15, 0.35)
Y_RANGE = (-0.1, 0.1)
YAW_BOUNDS = (-2 * math.pi / 3, math.pi / 3)
#: Stand (fixed) and broom, task-base frame.
STAND_CENTRE, STAND_HALF = (-0.175, 0.376, 0.25), (0.05, 0.05, 0.25)
HEAD_HALF = (0.13125, 0.01875, 0.01875)
HEAD_CENTRE = (-0.1708, 0.0958)
HEAD_MASS, STICK_MASS = 0.369, 0.076
STICK_HALF_WIDTH, STICK_LENGTH = 0.0056, 0.60
#: The stick rises from the back of the head's top face, leaning toward the stand.
STICK_FOOT = (0.0, 0.016, HEAD_HALF[2])
STICK_LEAN = math.radians(24.0)
DIRT = ((0.05, -0.05), (0.025, 0.0), (0.0, -0.05), (0.05, 0.0), (0.0, -0.075))
DIRT_HALF = 0.005
DIRT_MASS = 0.005
#: Dirt slides rather than tips when the broom's face pushes it (its contacts take this
#: friction, not the table's 1.0, through a higher geom priority): with 1.5 the cubes rolled
#: over and slipped under the head.
DIRT_FRICTION = (0.4, 0.005, 0.0001)
#: Contact time constant (s) of the dirt and the broom's stick, mixed in at weight STIFF_SOLMIX
#: against the other geom's default 0.02 s. With soft contacts the held broom crept round in
#: the fingers under its head's weight (2 degrees on the way over, then out of the grasp once
#: the sweep dragged the head); 0.004 s is twice the physics step, as stiff as MuJoCo advises.
STIFF_SOLREF = (0.004, 1.0)
STIFF_SOLMIX = 100.0
#: Success sensor (task-base frame): centre of its footprint, half sizes, height.
SENSOR_CENTRE, SENSOR_HALF, SENSOR_HEIGHT = (0.0, -0.30), (0.125, 0.075), 0.05
SENSOR_BOTTOM = -0.002
#: Expert. Grasp: the stick's centre line at GRASP_HEIGHT (RLBench's waypoint1 height), the
#: gripper pitched GRASP_PITCH from straight down toward the stand (RLBench's 20 degrees), so
#: the hand stays clear of the stick above the grasp. Sweep: the head's centre goes from
#: SWEEP_START to SWEEP_END (base y, at the dirt's x) in SWEEP_STEPS, its lowest corner HOVER
#: above the table (a scraping head drags the broom round in the grasp; a slow sweep keeps the
#: arm's tracking error, which the 0.3 m stick turns into millimetres at the head, small).
GRASP_HEIGHT = 0.325
GRASP_PITCH = math.radians(20.0)
PRE_GRASP = 0.08
LIFT = (0.0, -0.08, 0.05)
SWEEP_X = 0.025
SWEEP_START, SWEEP_END = 0.06, -0.28
HOVER = 0.003
SWEEP_STEPS = 90
ABOVE = 0.06
WOOD = (0.72, 0.56, 0.36, 1.0)
BRISTLES = (0.25, 0.2, 0.15, 1.0)
STAND_RGBA = (0.17, 0.28, 0.33, 1.0)
DIRT_RGBA = (0.27, 0.14, 0.14, 1.0)
DUSTPAN_RGBA = (0.15, 0.15, 0.16, 1.0)
HANDLE_RGBA = (0.38, 0.38, 0.4, 1.0)


def dirt_name(i: int) -> str:
    return f"dirt{i}"


def stick_direction() -> np.ndarray:
    """Unit vector up the stick, in the broom's (and, at rest, the base's) frame."""
    return np.array([0.0, math.sin(STICK_LEAN), math.cos(STICK_LEAN)])


@register_task
class SweepToDustpan(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="sweep_to_dustpan",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("sweep", "broom", "tilted", "handle"),
        description="Take the broom from its stand and sweep the dirt into the dustpan.",
    )
    instructions = {
        "seen": (
            "sweep dirt to dustpan",
            "sweep the dirt up",
            "use the broom to brush the dirt into the dustpan",
            "clean up the dirt",
            "pick up the brush and clean up the table",
            "grasping the broom by its handle, clear way the dirt from the table",
            "leave the table clean",
        ),
        "unseen": (
            "brush the crumbs on the table into the pan with the broom",
            "tidy the debris away into the scoop using the brush",
        ),
    }
    variation_count = 1
    tracked_bodies = ("broom", "dirt0", "dirt1", "dirt2")

    def build_scene(self, scene: SceneBuilder) -> None:
        stand = scene.body("broom_holder", pos=(0.0, 0.4, 1.0))
        scene.box(stand, "broom_holder", STAND_HALF, STAND_RGBA, friction=(0.8, 0.005, 0.0001))
        broom = scene.body("broom", pos=(0.0, 0.2, 1.0), free=True)
        scene.box(broom, "broom_head", HEAD_HALF, BRISTLES, mass=HEAD_MASS)
        stick_centre = np.array(STICK_FOOT) + STICK_LENGTH / 2 * stick_direction()
        tilt = (math.cos(-STICK_LEAN / 2), math.sin(-STICK_LEAN / 2), 0.0, 0.0)
        stick = scene.box(broom, "broom_stick", (STICK_HALF_WIDTH, STICK_HALF_WIDTH, STICK_LENGTH / 2), WOOD,
                          pos=stick_centre, quat=tilt, mass=STICK_MASS)
        stick.solref, stick.solmix = list(STIFF_SOLREF), STIFF_SOLMIX
        for i in range(len(DIRT)):
            body = scene.body(dirt_name(i), pos=(0.1 * i, 0.6, 1.0), free=True)
            geom = scene.box(body, dirt_name(i), (DIRT_HALF,) * 3, DIRT_RGBA, mass=DIRT_MASS, friction=DIRT_FRICTION)
            geom.priority = 1
            geom.solref, geom.solmix = list(STIFF_SOLREF), STIFF_SOLMIX
        self._build_dustpan(scene)

    def _build_dustpan(self, scene: SceneBuilder) -> None:
        """RLBench's dustpan is non-respondable: a visual floor, walls and upright handle."""
        pan = scene.body("dustpan", pos=(0.0, -0.4, 1.0))
        back = -0.435
        for name, pos, half in (
            ("dustpan_floor", (0.0, -0.326, 0.001), (0.138, 0.109, 0.001)),
            ("dustpan_back", (0.0, back, 0.045), (0.138, 0.002, 0.045)),
            ("dustpan_left", (-0.138, -0.326, 0.03), (0.002, 0.109, 0.03)),
            ("dustpan_right", (0.138, -0.326, 0.03), (0.002, 0.109, 0.03)),
        ):
            scene.box(pan, name, half, DUSTPAN_RGBA, pos=pos, collide=False)
        scene.cylinder(pan, "dustpan_handle", 0.01, 0.3, HANDLE_RGBA, pos=(0.0095, -0.355, 0.385), collide=False)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.choose_variation(rng)
        def draw() -> TaskFrame | None:
            self.frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            self._place(sim)
            if reachable(sim, self._waypoints(sim), ignore=["broom"]):
                return self.frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(0)

    def _place(self, sim: Simulation) -> None:
        frame = self.frame
        sim.set_body_pose("broom_holder", frame.point(STAND_CENTRE), frame.quat)
        self._place_dustpans(sim)
        head = frame.point((*HEAD_CENTRE, HEAD_HALF[2] + 0.0005))
        sim.set_free_pose("broom", head, frame.quat)
        for i, (x, y) in enumerate(DIRT):
            sim.set_free_pose(dirt_name(i), frame.point((x, y, DIRT_HALF + 0.0005)), frame.quat)
        sim.forward()

    def _place_dustpans(self, sim: Simulation) -> None:
        sim.set_body_pose("dustpan", self.frame.pos, self.frame.quat)

    def _sweep_span(self) -> tuple[float, float]:
        """Base-frame y of the head's centre at the sweep's start and end."""
        return SWEEP_START, SWEEP_END

    def _sensor_box(self) -> tuple[tuple[float, float], tuple[float, float], float, float]:
        """The success sensor (task-base frame): footprint centre, half sizes, bottom, height."""
        return SENSOR_CENTRE, SENSOR_HALF, SENSOR_BOTTOM, SENSOR_HEIGHT

    # -- geometry ------------------------------------------------------------------------------
    def _grasp_quat(self, sim: Simulation) -> np.ndarray:
        """Gripper pitched GRASP_PITCH from straight down toward the stand (base +y), fingers
        closing across the stick (base x, or -x: whichever is nearer the start pose's yaw)."""
        approach = self._approach()
        across = self.frame.direction((1.0, 0.0, 0.0))
        yaw = math.atan2(across[1], across[0])
        if abs(nearest_symmetric_yaw(yaw, sim.robot.natural_yaw[self.arm]) - yaw) > 1e-9:
            across = -across
        return gripper_quat(approach, across)

    def _approach(self) -> np.ndarray:
        """Direction the fingertips point in at the grasp (world)."""
        return self.frame.direction((0.0, math.sin(GRASP_PITCH), -math.cos(GRASP_PITCH)))

    def _grasp_point(self, sim: Simulation) -> np.ndarray:
        """World point on the stick's centre line at GRASP_HEIGHT above the table."""
        broom_mat = sim.body_mat("broom")
        foot = sim.body_pos("broom") + broom_mat @ np.array(STICK_FOOT)
        up = broom_mat @ stick_direction()
        return foot + (TABLE_TOP_Z + GRASP_HEIGHT - foot[2]) / up[2] * up

    def _sweep_head(self, y: float, centre_above_bottom: float = HEAD_HALF[2]) -> np.ndarray:
        """World position of the head's centre at base (SWEEP_X, y) when its lowest corner,
        ``centre_above_bottom`` below the centre, is HOVER above the table."""
        return self.frame.point((SWEEP_X, y, centre_above_bottom + HOVER))

    def _head_drop(self, sim: Simulation) -> float:
        """How far the head's lowest corner is below its centre now. The broom sits in the hand
        a degree or so off level; over the head's 0.26 m length that is millimetres, and a
        scraping end drags the broom round in the grasp."""
        corners = np.array([(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) * HEAD_HALF
        return float(-np.min((sim.body_mat("broom") @ corners.T)[2]))

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        """Pre-grasp, grasp, lifted, above the sweep start, sweep start and end (TCP poses),
        with the broom held as it stands (head 0.30 m below and 0.14 m in front of the grasp)."""
        quat = self._grasp_quat(sim)
        grasp = self._grasp_point(sim)
        head_from_tcp = sim.body_pos("broom") - grasp
        sweep_start, sweep_end = self._sweep_span()
        start = self._sweep_head(sweep_start) - head_from_tcp
        end = self._sweep_head(sweep_end) - head_from_tcp
        lifted = grasp + self.frame.direction(LIFT)
        return [(grasp - PRE_GRASP * self._approach(), quat), (grasp, quat), (lifted, quat),
                (start + (0.0, 0.0, ABOVE), quat), (start, quat), (end, quat)]

    # -- hooks ---------------------------------------------------------------------------------
    def _in_sensor(self, sim: Simulation, i: int) -> bool:
        centre, half, bottom, height = self._sensor_box()
        local = self.frame.local(sim.body_pos(dirt_name(i)))
        offset = np.abs(local[:2] - centre)
        return bool(np.all(offset < np.array(half) + DIRT_HALF)
                    and bottom - DIRT_HALF < local[2] < bottom + height + DIRT_HALF)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(**{f"dirt_{i}_in_dustpan": self._in_sensor(sim, i) for i in range(len(DIRT))})

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        robot = motion.robot
        quat = self._grasp_quat(sim)
        grasp = self._grasp_point(sim)
        yield from motion.move(self.arm, grasp - PRE_GRASP * self._approach(), quat, steps=35,
                               gripper=robot.gripper_open)
        yield from motion.line(self.arm, grasp, quat, steps=15, segments=3)
        yield from motion.gripper(self.arm, robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        yield from motion.line(self.arm, grasp + self.frame.direction(LIFT), quat, steps=20, segments=4)
        yield from motion.wait(4)
        # Aim the head, not the hand: measure where the head hangs from the hand now.
        head_from_tcp = sim.body_pos("broom") - sim.tcp_pos(self.arm)
        sweep_start, sweep_end = self._sweep_span()
        start = self._sweep_head(sweep_start) - head_from_tcp
        yield from motion.move(self.arm, start + (0.0, 0.0, ABOVE), quat, steps=35)
        yield from motion.wait(3)
        head_from_tcp = sim.body_pos("broom") - sim.tcp_pos(self.arm)
        drop = self._head_drop(sim)
        start = self._sweep_head(sweep_start, drop) - head_from_tcp
        yield from motion.line(self.arm, start, quat, steps=15, segments=3)
        end = self._sweep_head(sweep_end, drop) - head_from_tcp
        yield from motion.line(self.arm, end, quat, steps=SWEEP_STEPS, segments=10)
        yield from motion.wait(8)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if sim.is_grasped(self.arm, "broom"):
            target = self.frame.point((*self._sensor_box()[0], 0.0))
            return self.state_from_spec(sim, target)
        return self.state_from_spec(sim, self._grasp_point(sim), "grasp_broom")
