"""beat_the_buzz: carry the wand's ring along the wire, without touching it, to the far end.

Description:
    A buzz-wire game stands on the table: a straight metal wire between two posts, its two ends
    sheathed in plastic, and a wand whose ring goes round the wire. The wand starts upright in a
    small stand at the left end. The Panda grasps the wand's handle from above, lifts the ring
    off its stand, carries it along the wire to the stand at the right end without the ring
    touching the metal, sets it down and lets go (RLBench ``beat_the_buzz``, an AGNOSTOS level-2
    unseen task). Touching the metal lights the buzzer's lamp red, and the episode can no
    longer succeed.
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the wand and the wire.
Success:
    RLBench's success conditions, ``DetectedCondition(wand, right_sensor)`` and
    ``NothingGrasped``, and its fail condition, ``DetectedCondition(wand, middle_sensor)``:
    the ring's centre is in the right end's zone (over the plastic sheath, within 3 cm of the
    wire's axis), neither finger touches the wand, and the wand has not come near the metal part
    of the wire since the episode started (a contact, or a gap under 2 mm, at any control step;
    the lamp shows it).
    **Fidelity:** RLBench: the wand detected by the right sensor with nothing grasped, and the
    episode failed as soon as the middle sensor (a thin volume round the metal middle of the
    wire) detects the wand; ours: the same three tests, the middle sensor as a 2 mm skin round
    the metal (a MuJoCo contact margin, so it reports before the ring presses on the wire). Our
    environment ends episodes on success or the step limit only, so the failure is latched
    instead: after a touch the episode runs on but cannot succeed, which counts it as RLBench does.
Starting state:
    The task base (the middle of the game's foot) is placed with x 0.15..0.40, y -0.2..0.2 and
    any yaw (RLBench's default rotation bounds, [-pi, pi]), drawn again while the grasp, the
    carry and the set-down waypoints have no collision-free IK solution (RLBench's placement
    check). With the yaw, the left end can be anywhere round the foot.
Geometry:
    RLBench's ``beat_the_buzz.ttm`` is not in the reference data, so the game is ours, a tabletop
    toy: a straight wire 0.16 m above the table along the foot's y axis, 0.36 m between its
    posts, metal (6 mm thick) over its middle 0.20 m and sheathed (12 mm thick) over 8 cm at each
    end; two stands 27 cm apart hold the wand under the wire's ends. The wand (60 g): a ring of
    4.4 cm inner diameter, 6 mm thick (it collides as 12 capsules and is drawn as one torus
    mesh), a small flat foot under the ring to stand on (on the ring's thin edge alone it
    toppled sideways within seconds), a 7 cm shaft up from the ring and a 6 cm handle 2.2 cm
    thick. The wire is straight (RLBench's wire shape is not in the reference data); the task
    stays a guarded transport: the ring has 1.9 cm of clearance round the metal, less than a
    held wand drifts over a careless carry.
Variations:
    1 (RLBench has one).
Episode end:
    Success, or 400 control steps (20 s at 20 Hz; the expert's longest episode on seeds 0-49
    and 100000-100049 took 205).
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
from vlapro_bench.sim.geometry import gripper_down_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import release_upward
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._torus import HIDDEN_GROUP, drawn_torus

WAND = "wand"
WIRE = "wire"
GAME = "buzz_game"
LAMP = "buzz_lamp"
#: The wire: height of its axis above the table, where the metal ends and the posts stand (y).
WIRE_Z = 0.16
METAL_RADIUS = 0.003
METAL_HALF = 0.10
SHEATH_RADIUS = 0.006
POST_Y = 0.18
#: Where the wand stands at the start (-) and must end (+) on the base's y axis.
STAND_Y = 0.135
#: The ring: 12 capsules whose axes lie RING_APOTHEM from its centre, RING_TUBE thick.
RING_SEGMENTS = 12
RING_APOTHEM = 0.025
RING_TUBE = 0.003
#: The shaft up from the ring and the handle on it (heights above the ring's centre).
SHAFT_TOP = 0.095
HANDLE_CENTRE = 0.12
HANDLE_RADIUS = 0.011
HANDLE_HALF = 0.03
#: A small flat foot under the ring lets the wand stand upright on a stand (on the ring's thin
#: edge alone it topples sideways within a second or two).
FOOT_HALF = (0.01, 0.015, 0.002)
FOOT_Z = -(RING_APOTHEM + RING_TUBE + FOOT_HALF[2])
#: The stands' tops: under the foot with the ring's centre on the wire's axis.
STAND_TOP = WIRE_Z + FOOT_Z - FOOT_HALF[2]
#: The middle sensor: contacts within this distance of the metal count as touches.
SENSOR_SKIN = 0.002
#: The right sensor: the ring's centre over the right sheath, within this of the wire's axis.
ZONE_RADIUS = 0.03
YAW_BOUNDS = (-math.pi, math.pi)
X_RANGE = (0.15, 0.40)
Y_RANGE = (-0.2, 0.2)
#: The wand is carried this far up (ring centre above the wire's axis), its foot clear of the stands.
LIFT = 0.006
#: Fingers driven to this opening (m per finger) on the 2.2 cm handle: a moderate squeeze.
CLOSE_TO = 0.005
#: The carry along the wire, in this many re-aimed straight moves of CARRY_STEPS each.
CARRY_MOVES = 6
CARRY_STEPS = 14
LAMP_OFF = (0.35, 0.08, 0.08, 1.0)
LAMP_ON = (1.0, 0.15, 0.1, 1.0)
METAL_RGBA = (0.78, 0.78, 0.8, 1.0)
SHEATH_RGBA = (0.1, 0.1, 0.12, 1.0)


@register_task
class BeatTheBuzz(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="beat_the_buzz",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("pick_place", "ring_wand", "downward", "handle"),
        description="Carry the wand's ring along the wire to the far end without touching it.",
    )
    instructions = {
        "seen": (
            "beat the buzz",
            "slide the ring along the wire without letting them touch",
            "move the ring along the metal wire, keeping it off the wire",
            "take the ring from one end of the wire to the other without touching it",
            "carry the ring to the far end of the wire, keeping a gap between ring and wire",
        ),
        "unseen": (
            "guide the loop over the whole length of the rod and never let it make contact",
            "play the steady-hand game: get the hoop to the opposite side without a buzz",
        ),
    }
    variation_count = 1
    tracked_bodies = (WAND, GAME)

    def build_scene(self, scene: SceneBuilder) -> None:
        game = scene.body(GAME, pos=(0.25, -0.3, TABLE_TOP_Z))
        scene.box(game, f"{GAME}_foot", (0.05, POST_Y + 0.02, 0.005), (0.85, 0.8, 0.3, 1.0), pos=(0.02, 0.0, 0.005))
        for side in (-1, 1):
            post_half = (WIRE_Z + SHEATH_RADIUS) / 2
            scene.cylinder(game, f"{GAME}_post{side}", 0.008, post_half, SHEATH_RGBA,
                           pos=(0.0, side * POST_Y, post_half))
            sheath_half = (POST_Y - METAL_HALF) / 2
            scene.capsule(game, f"{GAME}_sheath{side}", SHEATH_RADIUS, sheath_half, SHEATH_RGBA,
                          pos=(0.0, side * (METAL_HALF + sheath_half), WIRE_Z), quat=_Y_AXIS)
            scene.box(game, f"{GAME}_stand{side}", (0.016, 0.022, STAND_TOP / 2), (0.3, 0.3, 0.32, 1.0),
                      pos=(0.0, side * STAND_Y, STAND_TOP / 2))
        scene.box(game, f"{GAME}_buzzer", (0.02, 0.03, 0.015), (0.85, 0.8, 0.3, 1.0), pos=(0.05, 0.0, 0.025))
        scene.sphere(game, LAMP, 0.011, LAMP_OFF, pos=(0.05, 0.0, 0.045), collide=False)
        wire = scene.body(WIRE, pos=(0.25, -0.3, TABLE_TOP_Z + WIRE_Z))
        metal = scene.capsule(wire, WIRE, METAL_RADIUS, METAL_HALF, METAL_RGBA, quat=_Y_AXIS)
        # Contacts listed within SENSOR_SKIN of the metal but without force: the middle sensor.
        metal.margin = SENSOR_SKIN
        metal.gap = SENSOR_SKIN
        wand = scene.body(WAND, pos=(0.25, 0.3, 1.0), free=True)
        half_length = RING_APOTHEM * math.tan(math.pi / RING_SEGMENTS)
        for i in range(RING_SEGMENTS):
            angle = -math.pi / 2 + 2 * math.pi * i / RING_SEGMENTS  # segment 0 flat at the bottom
            pos = (RING_APOTHEM * math.cos(angle), 0.0, RING_APOTHEM * math.sin(angle))
            # The capsule's axis (local z) along the ring's tangent in the x-z plane.
            scene.capsule(wand, f"{WAND}_ring{i}", RING_TUBE, half_length, METAL_RGBA, pos=pos, quat=_about_y(-angle),
                          mass=0.002, group=HIDDEN_GROUP)
        drawn_torus(scene, wand, f"{WAND}_ring", RING_APOTHEM, RING_TUBE, METAL_RGBA, quat=_Y_AXIS)
        scene.box(wand, f"{WAND}_foot", FOOT_HALF, METAL_RGBA, pos=(0.0, 0.0, FOOT_Z), mass=0.005)
        shaft_half = (SHAFT_TOP - RING_APOTHEM) / 2
        scene.capsule(wand, f"{WAND}_shaft", 0.004, shaft_half, METAL_RGBA, pos=(0.0, 0.0, RING_APOTHEM + shaft_half),
                      mass=0.006)
        scene.cylinder(wand, f"{WAND}_handle", HANDLE_RADIUS, HANDLE_HALF, (0.1, 0.25, 0.75, 1.0),
                       pos=(0.0, 0.0, HANDLE_CENTRE), mass=0.025)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.choose_variation(rng)

        def draw() -> TaskFrame | None:
            self.frame = frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            sim.set_body_pose(GAME, frame.pos, frame.quat)
            sim.set_body_pose(WIRE, frame.point((0.0, 0.0, WIRE_Z)), frame.quat)
            sim.set_free_pose(WAND, self._ring_goal(-1, 0.0005), frame.quat)
            sim.forward()
            return frame if reachable(sim, self._waypoints(sim)) else None

        self.frame = self.draw_layout(draw)
        self.touched = False
        return self.variation_placeholders(0)

    def _ring_goal(self, side: int, above: float = 0.0) -> np.ndarray:
        """World position of the ring's centre on the wire's axis over stand ``side`` (-1 start,
        +1 finish), raised by ``above``."""
        return self.frame.point((0.0, side * STAND_Y, WIRE_Z + above))

    def _handle(self, sim: Simulation) -> np.ndarray:
        """World position of the handle's centre."""
        return sim.body_pos(WAND) + sim.body_mat(WAND) @ np.array([0.0, 0.0, HANDLE_CENTRE])

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        quat = gripper_down_quat(self.frame.yaw)
        handle = np.array([0.0, 0.0, HANDLE_CENTRE])
        start, end = self._ring_goal(-1) + handle, self._ring_goal(1) + handle
        lift = np.array([0.0, 0.0, LIFT])
        return [(start + (0, 0, 0.1), quat), (start, quat), (start + lift, quat), ((start + end) / 2 + lift, quat),
                (end + lift, quat), (end, quat), (end + (0, 0, 0.06), quat)]

    def _update_touch(self, sim: Simulation) -> bool:
        """Latch the middle sensor: True once the wand has come within the skin of the metal."""
        if not self.touched and sim.in_contact(WAND, WIRE):
            self.touched = True
            sim.set_rgba([LAMP], LAMP_ON)
        return self.touched

    def at_far_end(self, sim: Simulation) -> bool:
        """Whether the ring's centre is in the right end's zone, over the sheath."""
        local = self.frame.local(sim.body_pos(WAND)) - (0.0, 0.0, WIRE_Z)
        return bool(METAL_HALF < local[1] < POST_Y and math.hypot(local[0], local[2]) < ZONE_RADIUS)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        touched = self._update_touch(sim)
        return all_of(wand_at_far_end=self.at_far_end(sim), nothing_grasped=not sim.gripper_touches(self.arm, WAND),
                      wire_not_touched=not touched)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        quat = gripper_down_quat(self.frame.yaw)
        handle = self._handle(sim)
        yield from motion.move(self.arm, handle + (0.0, 0.0, 0.1), quat, steps=30, gripper=motion.robot.gripper_open)
        yield from motion.line(self.arm, handle, quat, steps=20, segments=2)
        yield from motion.gripper(self.arm, CLOSE_TO, steps=10)
        yield from motion.wait(4)
        # Every move aims the ring (not the TCP) at its next point: the held wand creeps in the
        # fingers as the hand moves, so its offset from the TCP is measured again before each.
        start, end = self._ring_goal(-1, LIFT), self._ring_goal(1, LIFT)
        points = [start] + [start + (end - start) * k / CARRY_MOVES for k in range(1, CARRY_MOVES + 1)]
        for point in points:
            tcp_goal = point + (np.asarray(motion.tcp_target_pose(self.arm)[0]) - sim.body_pos(WAND))
            yield from motion.line(self.arm, tcp_goal, quat, steps=CARRY_STEPS, segments=1)
        yield from motion.wait(3)
        tcp_goal = self._ring_goal(1, 0.001) + (sim.tcp_pos(self.arm) - sim.body_pos(WAND))
        yield from motion.line(self.arm, tcp_goal, quat, steps=10, segments=1)
        yield from release_upward(motion, self.arm, tcp_goal, quat, 0.06)
        yield from motion.wait(4)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if sim.is_grasped(self.arm, WAND) and self.frame.local(sim.body_pos(WAND))[2] > WIRE_Z + LIFT / 2:
            return self.state_from_spec(sim, self._ring_goal(1), "place")
        return self.state_from_spec(sim, self._handle(sim), "grasp")


def _about_y(angle: float) -> tuple[float, float, float, float]:
    """Quaternion of a turn by ``angle`` about y."""
    return (math.cos(angle / 2), 0.0, math.sin(angle / 2), 0.0)


#: A capsule's axis (local z) turned onto y: a quarter turn about x.
_Y_AXIS = (math.cos(math.pi / 4), -math.sin(math.pi / 4), 0.0, 0.0)
