"""scoop_with_spatula: grasp the spatula by its handle, slide its blade under the cube and lift it.

Description:
    A spatula lies on the table, its flat steel blade on the table top and its handle rising
    behind it; a cube sits on the table in front of the blade. The Panda grips the handle from
    above, pushes the blade along the table under the cube and lifts the cube up on the blade
    (RLBench ``scoop_with_spatula``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the spatula and the cube.
Success:
    RLBench's two conditions: ``GraspedCondition(gripper, spatula)`` (both fingers touch the
    spatula) and ``DetectedCondition(cube, success)``, read here as the cube's centre inside a
    sensor volume that rides on the blade: the blade's footprint (its front lip included), from
    its top face up to 0.05 m above it; and, for the lift, the cube's centre at least 0.05 m
    above the table (its underside 0.03 m up).
    **Fidelity:** RLBench: ``DetectedCondition(Cuboid, success)`` and ``GraspedCondition(gripper,
    spatula)``, the proximity sensor's volume stored in the binary ``scoop_with_spatula.ttm``,
    which we cannot read; ours: the sensor is a box over the blade that moves with it, plus the
    lift height, so a cube only pushed onto a blade still lying on the table does not count.
    The simplified bevel and heel (Geometry) change how the cube gets onto the blade, not what
    the check asks: the cube carried on the blade of the spatula held in the hand, lifted as
    every instruction says.
Starting state:
    The task base gets a yaw in [-pi, pi] (RLBench's default bounds) and a position x 0.10..0.30,
    y -0.15..0.15. In the base frame the blade's centre is at the origin, its tip toward +x; the
    cube is drawn in a 0.04 x 0.03 m area centred 0.115 m in front of the blade's centre, with a
    yaw within +-0.3 rad (its spawn area is in the unreadable ``.ttm``; the lateral spread is
    kept within the blade's width). Placements whose grasp, scoop and lift waypoints the arm
    cannot reach without touching a prop are drawn again (RLBench's validation).
Geometry:
    ``scoop_with_spatula.ttm`` is a binary scene this project cannot read and
    ``rlbench_geometry.json`` holds nothing for it, so the props are sized like a kitchen turner
    and a toy block: blade 0.08 x 0.08 x 0.002 m (0.08 kg), handle 0.18 x 0.018 x 0.014 m
    (0.015 kg) rising 15 degrees from the blade's back edge, cube 0.04 m (0.03 kg).
    Simplifications: (1) a real blade is ground to a thin bevel at its front edge; MuJoCo
    primitives have no wedge, so the front edge carries an 8 mm lip, a thin box tilted 17
    degrees whose top face runs from 0.3 mm below the table up to the blade's top face. It
    collides with the cube only (not with the table), so it acts as the bevel that lifts the
    cube's leading edge onto the blade. (2) The blade is smooth: the cube meets it with friction
    0.06 (the table's stays 1.0), so the blade slips under the cube instead of dragging it along
    by its back half. (3) The blade's back edge is turned up into an 8 mm heel across its width
    (as the bent neck of a turner), which the cube rests against once the blade is tipped up.
Variations:
    1 (as in RLBench).
Episode end:
    Success, or 300 control steps (15 s at 20 Hz; the expert needed at most 193 on seeds 0-49).
    The expert grips the handle, slides the blade 5 mm past the cube's centre, tips the blade up
    9 degrees about its back edge so the cube slides back against the heel, and lifts 0.12 m.
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
from vlapro_bench.sim.geometry import gripper_down_quat, mat_to_quat, nearest_symmetric_yaw, quat_to_mat, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame

SPATULA, CUBE = "spatula", "cube"
YAW_BOUNDS = (-math.pi, math.pi)
X_RANGE = (0.10, 0.30)
Y_RANGE = (-0.15, 0.15)
#: Blade (spatula frame: origin at the blade's centre on the table, tip toward +x).
BLADE_HALF = (0.04, 0.04, 0.001)
BLADE_MASS = 0.08
BLADE_FRICTION = (0.06, 0.005, 0.0001)
#: The bevel lip: half length, half thickness and tilt; its top face rises from below the table
#: at the front to the blade's top face at LIP_BACK (x), just past the blade's front edge.
LIP_HALF_LENGTH, LIP_HALF_THICKNESS = 0.004, 0.0008
LIP_TILT = math.radians(17.0)
LIP_BACK = BLADE_HALF[0] + 0.0005
#: Front end of the blade with its lip (spatula-frame x).
BLADE_TIP = LIP_BACK + 2 * LIP_HALF_LENGTH * math.cos(LIP_TILT)
#: Collision bits: the lip meets the cube (bit 2) but not the table (bit 1).
LIP_BIT, CUBE_BITS = 2, 3
#: The blade's back edge is turned up into a heel, full width, that a cube sliding back meets.
HEEL_HALF = (0.002, BLADE_HALF[1], 0.004)
#: Handle: from just behind the blade's back edge, rising HANDLE_RISE back (-x) and up.
HANDLE_HALF = (0.09, 0.009, 0.007)
HANDLE_RISE = math.radians(15.0)
HANDLE_MASS = 0.015
HANDLE_FRONT_X = -BLADE_HALF[0] + 0.004
HANDLE_FRONT_CLEARANCE = 0.0015
#: Where the hand grips the handle: this far along it from its front end.
GRIP_ALONG = 0.13
#: Cube.
CUBE_HALF = 0.02
CUBE_MASS = 0.03
CUBE_AHEAD = 0.115
CUBE_AREA_HALF = (0.02, 0.015)
CUBE_YAW = 0.3
#: Success sensor on the blade: height above the blade's top; the cube's centre must be this
#: far above the table.
SENSOR_HEIGHT = 0.05
LIFTED = 0.05
#: Expert: pre-grasp height, the blade pressed PRESS below its resting height while it slides,
#: the blade's centre taken this far past the cube's centre, the scoop's steps, the tip-up tilt about
#: the blade's back edge (with a small rise, in segments, then a wait for the cube to slide back)
#: and the lift.
PRE_GRASP = 0.08
PRESS = 0.0015
OVERSHOOT = 0.005
SCOOP_STEPS = 70
TILT = math.radians(9.0)
TILT_LIFT = 0.002
TILT_STEPS = 24
TILT_SEGMENTS = 4
TILT_WAIT = 12
LIFT = 0.12
LIFT_STEPS = 40
STEEL = (0.72, 0.74, 0.78, 1.0)
HANDLE_RGBA = (0.12, 0.12, 0.13, 1.0)
CUBE_RGBA = (0.85, 0.2, 0.15, 1.0)


def _turn(across: np.ndarray, angle: float) -> np.ndarray:
    """Rotation by ``angle`` about the world axis ``across`` (the blade's y axis), in the sense
    that raises the blade's tip (+x)."""
    axis = across / np.linalg.norm(across)
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + math.sin(-angle) * k + (1.0 - math.cos(-angle)) * (k @ k)


def _handle_axis() -> np.ndarray:
    """Unit vector from the handle's front end toward its back end (spatula frame)."""
    return np.array([-math.cos(HANDLE_RISE), 0.0, math.sin(HANDLE_RISE)])


def _handle_front() -> np.ndarray:
    """Centre of the handle's front end face (spatula frame), its lower edge just above the table."""
    normal = np.array([math.sin(HANDLE_RISE), 0.0, math.cos(HANDLE_RISE)])
    bottom = np.array([HANDLE_FRONT_X, 0.0, HANDLE_FRONT_CLEARANCE])
    return bottom + HANDLE_HALF[2] * normal


def grip_point_local() -> np.ndarray:
    """The point of the handle's centre line the hand grips (spatula frame)."""
    return _handle_front() + GRIP_ALONG * _handle_axis()


@register_task
class ScoopWithSpatula(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="scoop_with_spatula",
        max_episode_steps=300,
        procedure=ProceduralAnnotation("scoop", "spatula", "downward", "handle"),
        description="Grasp the spatula's handle, slide its blade under the cube and lift the cube on it.",
    )
    instructions = {
        "seen": (
            "scoop up the cube and lift it with the spatula",
            "scoop the block up with the spatula and raise it",
            "take the spatula and scoop up the cube, then lift it",
            "use the spatula to scoop the block and lift it",
            "pick up the cube using the spatula",
            "lift the block off the table with the spatula",
        ),
        "unseen": (
            "slip the turner's blade beneath the little box and hoist it",
            "holding the flipper by its grip, get the brick onto its blade and raise it up",
        ),
    }
    variation_count = 1
    tracked_bodies = (SPATULA, CUBE)

    def build_scene(self, scene: SceneBuilder) -> None:
        spatula = scene.body(SPATULA, pos=(0.0, 0.3, 1.0), free=True)
        blade = scene.box(spatula, "spatula_blade", BLADE_HALF, STEEL, pos=(0.0, 0.0, BLADE_HALF[2]),
                          mass=BLADE_MASS, friction=BLADE_FRICTION)
        blade.priority = 1
        c, s = math.cos(LIP_TILT), math.sin(LIP_TILT)
        h, half = LIP_HALF_THICKNESS, LIP_HALF_LENGTH
        # Top face's back end at (LIP_BACK, blade top): centre = that point - h * up + half * along.
        centre = (LIP_BACK - h * s + half * c, 0.0, 2 * BLADE_HALF[2] - h * c - half * s)
        lip = scene.box(spatula, "spatula_lip", (half, BLADE_HALF[1], h), STEEL, pos=centre,
                        quat=(math.cos(LIP_TILT / 2), 0.0, math.sin(LIP_TILT / 2), 0.0), mass=0.002,
                        friction=BLADE_FRICTION)
        lip.contype, lip.conaffinity, lip.priority = LIP_BIT, LIP_BIT, 1
        scene.box(spatula, "spatula_heel", HEEL_HALF, STEEL, mass=0.004, friction=BLADE_FRICTION,
                  pos=(-BLADE_HALF[0] + HEEL_HALF[0], 0.0, 2 * BLADE_HALF[2] + HEEL_HALF[2]))
        handle_centre = _handle_front() + HANDLE_HALF[0] * _handle_axis()
        scene.box(spatula, "spatula_handle", HANDLE_HALF, HANDLE_RGBA, pos=handle_centre,
                  quat=(math.cos(HANDLE_RISE / 2), 0.0, math.sin(HANDLE_RISE / 2), 0.0), mass=HANDLE_MASS)
        cube = scene.body(CUBE, pos=(0.2, 0.3, 1.0), free=True)
        geom = scene.box(cube, CUBE, (CUBE_HALF,) * 3, CUBE_RGBA, mass=CUBE_MASS)
        geom.contype, geom.conaffinity = CUBE_BITS, CUBE_BITS

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.choose_variation(rng)
        def draw() -> TaskFrame | None:
            self.frame = frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            sim.set_free_pose(SPATULA, frame.point((0.0, 0.0, 0.0005)), frame.quat)
            offset = rng.uniform(-np.array(CUBE_AREA_HALF), CUBE_AREA_HALF)
            cube = frame.point((CUBE_AHEAD + offset[0], offset[1], CUBE_HALF + 0.0005))
            sim.set_free_pose(CUBE, cube, yaw_quat(frame.yaw + rng.uniform(-CUBE_YAW, CUBE_YAW)))
            sim.forward()
            if reachable(sim, self._waypoints(sim), ignore=[SPATULA, CUBE]):
                return frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(0)

    # -- geometry ------------------------------------------------------------------------------
    def _grasp_quat(self, sim: Simulation) -> np.ndarray:
        """Gripper pointing down, fingers closing across the handle (the spatula's y axis)."""
        across = sim.body_mat(SPATULA)[:, 1]
        yaw = math.atan2(across[1], across[0])
        return gripper_down_quat(nearest_symmetric_yaw(yaw, sim.robot.natural_yaw[self.arm]))

    def _grip_point(self, sim: Simulation) -> np.ndarray:
        return sim.body_pos(SPATULA) + sim.body_mat(SPATULA) @ grip_point_local()

    def _scoop_distance(self, sim: Simulation) -> float:
        """How far the blade must slide along its tip direction to bring its centre under the
        cube's centre (plus OVERSHOOT)."""
        forward = sim.body_mat(SPATULA)[:, 0]
        return float(np.dot(sim.body_pos(CUBE) - sim.body_pos(SPATULA), forward)) + OVERSHOOT

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        """Pre-grasp, grasp, scoop end and lifted with the blade tipped up (TCP poses)."""
        quat = self._grasp_quat(sim)
        grasp = self._grip_point(sim)
        forward = sim.body_mat(SPATULA)[:, 0]
        end = grasp + self._scoop_distance(sim) * forward
        tilted = mat_to_quat(_turn(sim.body_mat(SPATULA)[:, 1], TILT) @ quat_to_mat(quat))
        return [(grasp + (0.0, 0.0, PRE_GRASP), quat), (grasp, quat), (end, quat), (end + (0.0, 0.0, LIFT), tilted)]

    def _cube_on_blade(self, sim: Simulation) -> bool:
        """The cube's centre inside the sensor volume over the blade."""
        local = sim.body_mat(SPATULA).T @ (sim.body_pos(CUBE) - sim.body_pos(SPATULA))
        top = 2 * BLADE_HALF[2]
        return bool(-BLADE_HALF[0] < local[0] < BLADE_TIP and abs(local[1]) < BLADE_HALF[1]
                    and top < local[2] < top + SENSOR_HEIGHT)

    # -- hooks ---------------------------------------------------------------------------------
    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(
            spatula_grasped=sim.is_grasped(self.arm, SPATULA),
            cube_on_blade=self._cube_on_blade(sim),
            cube_lifted=bool(sim.body_pos(CUBE)[2] > TABLE_TOP_Z + LIFTED),
        )

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        robot = motion.robot
        quat = self._grasp_quat(sim)
        grasp = self._grip_point(sim)
        yield from motion.move(self.arm, grasp + (0.0, 0.0, PRE_GRASP), quat, steps=35, gripper=robot.gripper_open)
        yield from motion.line(self.arm, grasp, quat, steps=15, segments=3)
        yield from motion.gripper(self.arm, robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        # Slide from where the hand now holds the spatula, pressing the blade onto the table.
        forward = sim.body_mat(SPATULA)[:, 0]
        forward = forward - forward[2] * np.array([0.0, 0.0, 1.0])
        forward /= np.linalg.norm(forward)
        start, _ = motion.tcp_target_pose(self.arm)
        end = start + self._scoop_distance(sim) * forward - (0.0, 0.0, PRESS)
        yield from motion.line(self.arm, end, quat, steps=SCOOP_STEPS, segments=10)
        yield from motion.wait(3)
        # Tip the blade up TILT about its back edge (which stays on the table), so the cube,
        # which ends a scoop near the front edge, slides back against the heel; then lift.
        across = sim.body_mat(SPATULA)[:, 1]
        pivot = sim.body_pos(SPATULA) + sim.body_mat(SPATULA) @ np.array([-BLADE_HALF[0], 0.0, 0.0])
        tcp, _ = motion.tcp_target_pose(self.arm)
        for k in range(1, TILT_SEGMENTS + 1):
            angle = TILT * k / TILT_SEGMENTS
            turn = _turn(across, angle)
            target = pivot + turn @ (tcp - pivot) + (0.0, 0.0, TILT_LIFT * k / TILT_SEGMENTS)
            yield from motion.move(self.arm, target, mat_to_quat(turn @ quat_to_mat(quat)),
                                   steps=TILT_STEPS // TILT_SEGMENTS)
        yield from motion.wait(TILT_WAIT)
        tilted = mat_to_quat(_turn(across, TILT) @ quat_to_mat(quat))
        top, _ = motion.tcp_target_pose(self.arm)
        yield from motion.line(self.arm, top + (0.0, 0.0, LIFT), tilted, steps=LIFT_STEPS, segments=5)
        yield from motion.wait(6)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if not sim.is_grasped(self.arm, SPATULA):
            return self.state_from_spec(sim, self._grip_point(sim), "grasp_spatula")
        if not self._cube_on_blade(sim):
            return self.state_from_spec(sim, sim.body_pos(CUBE), "scoop")
        return self.state_from_spec(sim, sim.body_pos(CUBE) + (0.0, 0.0, LIFT), "lift")
