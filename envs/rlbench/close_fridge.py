"""close_fridge: push the open top door of a fridge shut.

Description:
    A small two-door fridge stands on the table, its front toward the robot. The lower door is
    shut; the upper (freezer) door, hinged on the fridge's left edge, stands wide open toward
    the robot. The Panda closes its gripper into a post, comes down beside the open door's outer
    face and sweeps it round the hinge until it shuts (RLBench ``close_fridge``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
Success:
    The upper door has turned more than 30 degrees toward closed from where the episode started
    it.
    **Fidelity:** RLBench: ``JointCondition(top_joint, 30 degrees)``, the door hinge more than
    30 degrees from its start angle, either way; ours: the same threshold, counted toward closed
    only. Our door starts at most 25 degrees from its 105-degree stop, so opening it further can
    never reach 30 degrees and the two readings agree.
Starting state:
    Upper door open by 80 to 100 degrees (RLBench's model has one fixed opening; we vary it a
    little). The task base (the fridge's bottom centre) is placed with x 0.47..0.60,
    y -0.25..0.05 and a yaw in [-pi/4, pi/4] (RLBench's rotation bounds); the open door sticks
    out toward the robot from the fridge's left (+y) edge, so the base stays right of and away
    from the arm; layouts where the open door touches the arm's start pose are drawn again.
    Placements whose push waypoints have no collision-free IK solution are drawn again, as
    RLBench does.
Geometry:
    RLBench's ``close_fridge.ttm`` is not in the reference data, so the fridge is ours, a
    compact bar fridge the Panda can reach over: 0.34 m wide, 0.32 m deep, 0.62 m tall,
    white. The lower 0.32 m is a closed compartment (its door fixed, with a bar handle); the
    upper compartment (0.30 m tall, hollow, light grey inside with a wire shelf) has a 0.34 x
    0.29 x 0.03 m door hinged on a vertical axis at its front-left edge, with a vertical bar
    handle near its free edge and a grey gasket on its inner face. The hinge is damped
    (25 N m s/rad) with 2 N m of dry friction: a steady push swings the door, a passing knock
    barely moves it, and it stays where it is left.
Variations:
    1 (as in RLBench).
Episode end:
    Success, or 150 control steps (7.5 s at 20 Hz; the expert needed at most 116 on seeds 0-49
    and 100000-100049). The open door sticks out toward the arm and a 30-degree turn is little,
    so the limit is about 1.3x the expert's longest episode, not 2x: a random arm that drifts
    onto the fridge and drags the door round shuts it too: ``vlapro-bench baselines`` (seeds
    0-49) counted 3/50 random successes at a 170-step limit and 2/50 at 150. Replaying the
    evaluator's random streams, those arms shut the door at steps 116 to 170; requiring the
    door to be left alone at the end did not help (most were no longer touching it).
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.geometry import gripper_down_quat, nearest_symmetric_yaw, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame

YAW_BOUNDS = (-math.pi / 4, math.pi / 4)
X_RANGE = (0.47, 0.60)
#: The open door sticks out toward the robot from the fridge's left (+y) edge: with the base
#: further left it would reach over the arm's own base.
Y_RANGE = (-0.25, 0.05)
#: Fridge, in its own frame (front face toward local -y, origin at the bottom centre).
WIDTH, DEPTH, HEIGHT = 0.34, 0.32, 0.62
WALL = 0.015
#: The lower compartment's top; the upper door spans DOOR_Z.
LOWER_TOP = 0.32
DOOR_Z = (0.325, 0.615)
DOOR_THICKNESS = 0.03
MAX_ANGLE = math.radians(105)
START_ANGLES = (math.radians(80), math.radians(100))
TURNED = math.radians(30)
#: Hinge damping (N m s/rad) and dry friction (N m).
DOOR_DAMPING, DOOR_FRICTION = 25.0, 2.0
SMOOTH = (0.2, 0.005, 0.0001)
HOUSING_FRICTION = (1.0, 0.005, 0.0001)
#: Handle bars: 1.2 cm square, 3 cm proud of the door, near its free edge.
HANDLE_ALONG, HANDLE_STANDOFF, HANDLE_HALF = WIDTH - 0.035, 0.03, 0.006
#: Push point: 15 cm from the hinge along the door, the closed fingers' side 2 cm outside the
#: door's outer face, the TCP 9.5 cm above the door's bottom edge.
PUSH_ALONG = 0.15
POST_HALF = 0.02
PUSH_Z = 0.42
#: Sweep a little past closed so the door meets its stop, in steps of at most 7.5 degrees.
SWEEP_END = math.radians(-2)
SWEEP_STEP = math.radians(7.5)
#: The approach: 4 cm outside the door, 24 cm above the push height (over the door's top edge).
GAP = 0.04
RISE = 0.24
WHITE = (0.93, 0.93, 0.95, 1.0)
INSIDE = (0.78, 0.8, 0.82, 1.0)
GASKET = (0.45, 0.46, 0.48, 1.0)
METAL = (0.62, 0.63, 0.66, 1.0)


@register_task
class CloseFridge(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="close_fridge",
        max_episode_steps=150,
        procedure=ProceduralAnnotation("push", "hinged_door", "downward", "side_face"),
        description="Push the open fridge door shut.",
    )
    instructions = {
        "seen": (
            "close the fridge",
            "shut the fridge door",
            "push the fridge's door closed",
            "close the door of the fridge",
            "swing the fridge's upper door back until it shuts",
        ),
        "unseen": (
            "the refrigerator was left open: fix that",
            "swing the open freezer door back against the cabinet",
        ),
    }
    variation_count = 1
    tracked_bodies = ("fridge", "fridge_door")
    #: The door angle the episode starts at (drawn with the layout).
    start_angle: float

    def build_scene(self, scene: SceneBuilder) -> None:
        root = scene.body("fridge", pos=(0.3, 0.0, 0.752))
        hw, hd, t = WIDTH / 2, DEPTH / 2, WALL / 2
        upper_mid, upper_half = (LOWER_TOP + HEIGHT) / 2, (HEIGHT - LOWER_TOP) / 2
        scene.box(root, "fridge_lower", (hw, hd, LOWER_TOP / 2), WHITE, pos=(0, 0, LOWER_TOP / 2),
                  friction=HOUSING_FRICTION, mass=2.0)
        for part, half, pos in (
            ("left", (t, hd, upper_half), (-hw + t, 0, upper_mid)),
            ("right", (t, hd, upper_half), (hw - t, 0, upper_mid)),
            ("back", (hw, t, upper_half), (0, hd - t, upper_mid)),
            ("top", (hw, hd, t), (0, 0, HEIGHT - t)),
        ):
            scene.box(root, f"fridge_{part}", half, WHITE, pos=pos, friction=HOUSING_FRICTION, mass=0.3)
        # The inside (visual): grey lining, a wire shelf.
        inner = (hw - WALL, hd - WALL, upper_half - WALL)
        scene.box(root, "fridge_lining", (inner[0], 0.001, inner[2]), INSIDE, pos=(0, hd - WALL - 0.001, upper_mid),
                  collide=False)
        scene.box(root, "fridge_floor", (inner[0], inner[1], 0.001), INSIDE, pos=(0, 0, LOWER_TOP + 0.001),
                  collide=False)
        scene.box(root, "fridge_shelf", (inner[0], inner[1] * 0.9, 0.003), METAL, pos=(0, 0.01, upper_mid),
                  collide=False)
        # An invisible (group 3) solid filling the cavity: a flailing arm cannot punch through the
        # thin walls and shove the door open from inside.
        scene.box(root, "fridge_solid", (inner[0], inner[1] - 0.002, inner[2]), INSIDE,
                  pos=(0, 0.002, upper_mid), friction=HOUSING_FRICTION, mass=0.05, group=3)
        # The lower compartment's door: fixed, flush with the upper door, with its own handle.
        front = -hd - DOOR_THICKNESS / 2
        scene.box(root, "fridge_lower_door", (hw, DOOR_THICKNESS / 2, (LOWER_TOP - 0.015) / 2), WHITE,
                  pos=(0, front, (LOWER_TOP + 0.005) / 2), friction=SMOOTH, mass=0.3)
        self._handle(scene, root, "fridge_lower_handle", (-hw + HANDLE_ALONG, -hd - DOOR_THICKNESS, 0.23))

        door = scene.body("fridge_door", pos=(-hw, -hd - DOOR_THICKNESS, 0.0), parent=root)
        scene.exclude("fridge", "fridge_door")
        joint = scene.hinge(door, "fridge_door_hinge", axis=(0, 0, -1), range_=(0.0, MAX_ANGLE),
                            damping=DOOR_DAMPING, frictionloss=DOOR_FRICTION)
        joint.armature = 0.01
        joint.solref_limit = [0.005, 1.0]  # a hard stop: a blow on the shut door must not bounce it open
        dz, dh = (DOOR_Z[0] + DOOR_Z[1]) / 2, (DOOR_Z[1] - DOOR_Z[0]) / 2
        panel = scene.box(door, "fridge_door_panel", (hw, DOOR_THICKNESS / 2, dh), WHITE,
                          pos=(hw, DOOR_THICKNESS / 2, dz), friction=SMOOTH, mass=0.8)
        panel.priority = 1  # the door's own (low) friction decides its contacts
        scene.box(door, "fridge_gasket", (hw - 0.012, 0.001, dh - 0.012), GASKET,
                  pos=(hw, DOOR_THICKNESS + 0.001, dz), collide=False)
        self._handle(scene, door, "fridge_door_handle", (HANDLE_ALONG, 0.0, DOOR_Z[0] + 0.12))

    @staticmethod
    def _handle(scene: SceneBuilder, body, name: str, at: tuple[float, float, float]) -> None:
        """A vertical bar 12 cm long on two standoffs, ``at`` the bar's centre on the door face."""
        x, y, z = at
        scene.box(body, name, (HANDLE_HALF, HANDLE_HALF, 0.06), METAL, pos=(x, y - HANDLE_STANDOFF, z),
                  friction=SMOOTH, mass=0.02)
        for i, dz in enumerate((-0.05, 0.05)):
            scene.box(body, f"{name}_post{i}", (0.004, HANDLE_STANDOFF / 2, 0.004), METAL,
                      pos=(x, y - HANDLE_STANDOFF / 2, z + dz), friction=SMOOTH, mass=0.005)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        index = self.choose_variation(rng)
        def draw() -> TaskFrame | None:
            self.frame = sample_frame(rng, YAW_BOUNDS, x_range=X_RANGE, y_range=Y_RANGE)
            self.start_angle = rng.uniform(*START_ANGLES)
            sim.set_body_pose("fridge", self.frame.pos, yaw_quat(self._prop_yaw))
            sim.set_joint_qpos("fridge_door_hinge", self.start_angle)
            sim.forward()
            robot = sim.robot
            home = robot.home_action()[robot.arm_slice(self.arm)]
            if sim.arm_collides(self.arm, home):
                return None  # the open door would knock the arm's start pose
            if reachable(sim, self._waypoints(sim, self.start_angle), ignore=["fridge_door"]):
                return self.frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(index)

    # -- geometry -------------------------------------------------------------------------------
    @property
    def _prop_yaw(self) -> float:
        """The fridge's front faces its local -y; the task base's front (toward the robot) is -x."""
        return self.frame.yaw - math.pi / 2

    def _door_point(self, angle: float, along: float, out: float, z: float) -> np.ndarray:
        """World point ``along`` the door from the hinge, ``out`` from its outer face (along the
        outward normal), ``z`` above the fridge's bottom, for a door angle."""
        hinge = np.array([-WIDTH / 2, -DEPTH / 2 - DOOR_THICKNESS, 0.0])
        local = hinge + (along * math.cos(angle) - out * math.sin(angle),
                         -along * math.sin(angle) - out * math.cos(angle), z)
        c, s = math.cos(self._prop_yaw), math.sin(self._prop_yaw)
        return self.frame.pos + np.array([c * local[0] - s * local[1], s * local[0] + c * local[1], local[2]])

    def _push_point(self, angle: float, gap: float = 0.0) -> np.ndarray:
        """TCP position beside the door's outer face for a door angle."""
        return self._door_point(angle, PUSH_ALONG, POST_HALF + gap, PUSH_Z)

    def _finger_yaw(self, angle: float, natural_yaw: float) -> float:
        """The door's heading for a door angle, turned by a half turn if that is nearer the arm's
        natural yaw at the episode's start angle (the same turn all along the sweep)."""
        start = self._prop_yaw - self.start_angle
        return self._prop_yaw - angle + nearest_symmetric_yaw(start, natural_yaw) - start

    def _quat(self, angle: float, natural_yaw: float) -> np.ndarray:
        """Top-down, fingers closed along the door, so the hand stays beside it, not over it."""
        return gripper_down_quat(self._finger_yaw(angle, natural_yaw))

    def _above(self, start: float, natural_yaw: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """Above the push start, the fingers turning from the start pose's yaw to the door's in
        turns of at most 45 degrees (the IK is local: it does not converge on one big turn)."""
        pos = self._push_point(start, GAP) + (0, 0, RISE)
        door_yaw = self._finger_yaw(start, natural_yaw)
        count = max(1, math.ceil(abs(door_yaw - natural_yaw) / math.radians(45)))
        return [(pos, gripper_down_quat(natural_yaw + (door_yaw - natural_yaw) * k / count)) for k in range(count + 1)]

    def _waypoints(self, sim: Simulation, start: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """TCP poses: above the push start (turning), beside the door, and along the sweep."""
        natural = sim.robot.natural_yaw[self.arm]
        sweep = [(self._push_point(a), self._quat(a, natural)) for a in np.linspace(start, 0.0, 5)]
        return [*self._above(start, natural), (self._push_point(start, GAP), self._quat(start, natural)), *sweep]

    def _angle(self, sim: Simulation) -> float:
        return sim.joint_qpos("fridge_door_hinge")

    # -- episode --------------------------------------------------------------------------------
    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(door_turned_shut=self.start_angle - self._angle(sim) > TURNED)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        start, natural = self._angle(sim), motion.robot.natural_yaw[self.arm]
        (pos, quat), *turns = self._above(start, natural)
        yield from motion.move(self.arm, pos, quat, steps=36 - 4 * len(turns), gripper=motion.robot.gripper_closed)
        for pos, quat in turns:
            yield from motion.move(self.arm, pos, quat, steps=4)
        yield from motion.line(self.arm, self._push_point(start, GAP), self._quat(start, natural), steps=20, segments=4)
        yield from motion.line(self.arm, self._push_point(start), self._quat(start, natural), steps=6, segments=1)
        count = max(1, math.ceil((start - SWEEP_END) / SWEEP_STEP))
        for angle in np.linspace(start, SWEEP_END, count + 1)[1:]:
            yield from motion.move(self.arm, self._push_point(angle), self._quat(angle, natural), steps=6)
        yield from motion.wait(5)

    def trace(self, sim: Simulation) -> str:
        return f"start={math.degrees(self.start_angle):.0f} now={math.degrees(self._angle(sim)):.0f}"

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        angle = self._angle(sim)
        stage = "push_door" if sim.touches_robot("fridge_door") else "reach_door"
        return self.state_from_spec(sim, self._push_point(angle, -POST_HALF), stage)
