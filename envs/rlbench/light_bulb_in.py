"""light_bulb_in: take the bulb out of the holder of the named colour and screw it into the lamp.

Description:
    A lamp with an empty socket on top stands on the table beside two bulb holders, each holding
    a light bulb upright; the holders have two different colours. The Panda grasps the bulb in
    the holder of the named colour by its glass, lifts it out slowly (a fast lift lets the
    bulb creep along the finger pads), lowers its screw base into the lamp's socket, gives it
    a quarter turn clockwise seen from above (about the bulb's axis, wherever the grasp holds
    it) and lets go; the bulb lights up (RLBench ``light_bulb_in``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the lamp, the named bulb, its holder and the other bulb.
    The bulb's glass turns bright yellow while the bulb is in the socket (RLBench's ``step``
    colours it yellow once its ``success`` sensor detects the bulb), so a camera sees the lamp
    lit; ``check_success``, which runs after every step, sets the colour.
Success:
    RLBench's ``DetectedCondition(bulb, success)`` and ``NothingGrasped``: the named bulb's screw
    base reaches the bottom of the socket (the centre of its underside at most 1.6 cm, the
    socket's inner radius, from the socket's axis and at most 1 cm above the socket's floor:
    the volume of our ``success`` sensor) and no finger touches the bulb.
    **Fidelity:** RLBench: ``DetectedCondition(bulb_phys, success)`` with the proximity sensor in
    the lamp's socket, plus ``NothingGrasped``; ours: the same two conditions, the sensor a
    1 cm deep disc at the bottom of our socket (RLBench's lamp model is not in the reference
    data). RLBench's gripper holds by attaching, ours by friction, so "nothing grasped" is "no
    finger touches the bulb". As in RLBench, the screw turn is not checked: the expert's screw-in
    is simplified to an insertion plus a quarter turn (our socket has no thread). RLBench leaves
    the glass yellow once lit; ours is lit while the bulb is in the socket.
Starting state:
    The task base is placed with x 0.15..0.35, y -0.15..0.15 and a yaw in [-pi, pi] (RLBench's
    default bounds: the task sets none). The lamp stands at (0, -0.12) of the base; the two
    holders are drawn in a 0.30 x 0.14 m spawn plane centred at (0, 0.08), wholly inside it and
    at least 1 cm apart (``SpawnBoundary.sample(min_distance=0.01)``), each with its bulb.
    Placements are drawn again when a prop leaves the table area in front of the robot
    (``_prop_area``) or the grasp, insertion and turn waypoints have no collision-free IK solution
    (RLBench's placement check).
Geometry:
    RLBench's ``light_bulb_in.ttm`` is not in the reference data; sizes are ours, those of a
    desk lamp and a small bulb: the lamp a 0.12 m round foot, a stem and a socket whose floor is
    0.10 m above the table (a tube of eight staves, 1.6 cm inner radius, 2.2 cm deep); the bulb
    a 2.4 cm screw base, 2.5 cm tall, under a 4.4 cm wide, 6 cm tall rounded glass (0.03 kg);
    each holder a 6 cm round foot with a tube like the socket, 3 cm tall.
Variations:
    20: the named holder's colour ``COLORS[i]`` (the target is holder ``i % 2``, as RLBench
    picks it); the other holder gets another colour drawn at random.
Episode end:
    Success, or 400 control steps (20 s at 20 Hz; the expert needs at most 230 on seeds 0-49
    and 232 on 100000-100049).
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
from vlapro_bench.sim.geometry import gripper_down_quat, quat_to_mat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import COLOR_NAMES, RLBenchTask, TaskFrame, reachable, rgba, sample_frame, spawn_points
from ._pick_and_carry import place_held
from ._prop_area import in_prop_area

X_RANGE = (0.15, 0.35)
Y_RANGE = (-0.15, 0.15)
YAW_BOUNDS = (-math.pi, math.pi)
LAMP = "lamp"
LAMP_AT = (0.0, -0.12)
LAMP_FOOT = (0.06, 0.0075)
LAMP_STEM_RADIUS = 0.012
#: The socket: floor height above the table, inner radius, wall thickness, depth.
SOCKET_FLOOR = 0.10
SOCKET_INNER = 0.016
WALL = 0.004
SOCKET_DEPTH = 0.022
LAMP_RGBA = (0.2, 0.2, 0.22, 1.0)
SOCKET_RGBA = (0.72, 0.6, 0.35, 1.0)
HOLDERS = ("bulb_holder0", "bulb_holder1")
BULBS = ("light_bulb0", "light_bulb1")
HOLDER_FOOT = (0.03, 0.005)
HOLDER_TUBE = 0.03
HOLDER_RGBA = (0.7, 0.7, 0.7, 1.0)  # recoloured each episode
HOLDER_MIN_DISTANCE = 0.01
SPAWN_CENTRE = np.array([0.0, 0.08])
SPAWN_HALF = np.array([0.15, 0.07])
#: The bulb (its frame at the bottom centre of the screw base): screw base radius and half
#: height; glass: a capsule of this radius and half length, on top of the base.
SCREW_RADIUS, SCREW_HALF = 0.012, 0.0125
GLASS_RADIUS, GLASS_HALF = 0.022, 0.008
GLASS_CENTRE = 2 * SCREW_HALF + GLASS_RADIUS + GLASS_HALF - 0.004
BULB_MASS = 0.03
GLASS_OFF = (0.93, 0.93, 0.9, 1.0)
GLASS_LIT = (1.0, 1.0, 0.0, 1.0)
SCREW_RGBA = (0.6, 0.6, 0.62, 1.0)
#: Success sensor: the bottom centre of the screw base at most this far above the socket's floor.
SENSOR_DEPTH = 0.01
#: The bulb is let go with its base this far above the socket's floor after the turn.
SEAT_GAP = 0.003
#: The quarter turn in the socket: clockwise seen from above, in eight steps.
SCREW_TURN = -math.pi / 2
SCREW_SEGMENTS = 8
APPROACH = 0.10
LIFT = 0.12
HOVER = 0.05
RETREAT = 0.08


def tube(scene: SceneBuilder, body, name: str, inner: float, bottom: float, height: float, rgba) -> None:
    """A round tube of eight staves around the body's z axis, from ``bottom`` up ``height``."""
    for k in range(8):
        angle = k * math.pi / 4
        centre = (inner + WALL / 2) * np.array([math.cos(angle), math.sin(angle)])
        quat = (math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2))
        scene.box(body, f"{name}_stave{k}", (WALL / 2, inner * math.tan(math.pi / 8) + WALL / 2, height / 2), rgba,
                  pos=(centre[0], centre[1], bottom + height / 2), quat=quat)


@register_task
class LightBulbIn(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="light_bulb_in",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("pick_place", "bulb", "downward", "socket"),
        description="Take the bulb out of the holder of the named colour and screw it into the lamp.",
    )
    instructions = {
        "seen": (
            "screw in the {color} light bulb",
            "screw the light bulb from the {color} holder into the lamp",
            "pick up the bulb from the {color} stand, hold it just above the lamp and screw it down clockwise",
            "put the light bulb from the {color} casing into the lamp",
            "take the bulb out of the {color} holder and fit it into the lamp",
        ),
        "unseen": (
            "install the globe resting within that {color} cup inside a fixture's socket",
            "move a {color}-cased lightbulb onto its fixture, twisting until secure",
        ),
    }
    variation_count = len(COLOR_NAMES)
    tracked_bodies = (LAMP, BULBS[0], HOLDERS[0], BULBS[1])
    #: The named bulb and its holder (set with the layout).
    bulb: str
    holder: str

    def build_scene(self, scene: SceneBuilder) -> None:
        lamp = scene.body(LAMP, pos=(0.25, -0.12, TABLE_TOP_Z))
        scene.cylinder(lamp, f"{LAMP}_foot", LAMP_FOOT[0], LAMP_FOOT[1], LAMP_RGBA, pos=(0, 0, LAMP_FOOT[1]))
        stem_half = (SOCKET_FLOOR - 2 * LAMP_FOOT[1]) / 2
        scene.cylinder(lamp, f"{LAMP}_stem", LAMP_STEM_RADIUS, stem_half, LAMP_RGBA,
                       pos=(0, 0, 2 * LAMP_FOOT[1] + stem_half))
        scene.cylinder(lamp, f"{LAMP}_floor", SOCKET_INNER + WALL, 0.003, SOCKET_RGBA, pos=(0, 0, SOCKET_FLOOR - 0.003))
        tube(scene, lamp, f"{LAMP}_socket", SOCKET_INNER, SOCKET_FLOOR, SOCKET_DEPTH, SOCKET_RGBA)
        for k, (holder, bulb) in enumerate(zip(HOLDERS, BULBS, strict=True)):
            body = scene.body(holder, pos=(0.25 + 0.1 * k, 0.1, TABLE_TOP_Z))
            scene.cylinder(body, f"{holder}_foot", HOLDER_FOOT[0], HOLDER_FOOT[1], pos=(0, 0, HOLDER_FOOT[1]))
            tube(scene, body, holder, SOCKET_INNER, 2 * HOLDER_FOOT[1], HOLDER_TUBE - 2 * HOLDER_FOOT[1], HOLDER_RGBA)
            bulb_body = scene.body(bulb, pos=(0.25 + 0.1 * k, 0.1, TABLE_TOP_Z + 2 * HOLDER_FOOT[1]), free=True)
            scene.cylinder(bulb_body, f"{bulb}_screw", SCREW_RADIUS, SCREW_HALF, SCREW_RGBA, pos=(0, 0, SCREW_HALF),
                           mass=BULB_MASS / 3)
            scene.capsule(bulb_body, f"{bulb}_glass", GLASS_RADIUS, GLASS_HALF, GLASS_OFF, pos=(0, 0, GLASS_CENTRE),
                          mass=2 * BULB_MASS / 3)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        index = self.choose_variation(rng)
        target = index % 2
        self.bulb, self.holder = BULBS[target], HOLDERS[target]
        self.tracked_bodies = (LAMP, self.bulb, self.holder, BULBS[1 - target])
        distractor = int(rng.choice([i for i in range(len(COLOR_NAMES)) if i != index]))
        low, high = SPAWN_CENTRE - SPAWN_HALF + HOLDER_FOOT[0], SPAWN_CENTRE + SPAWN_HALF - HOLDER_FOOT[0]
        def draw() -> TaskFrame | None:
            self.frame = frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            sim.set_body_pose(LAMP, frame.point((*LAMP_AT, 0.0)), frame.quat)
            spots = spawn_points(rng, 2, low, high, 2 * HOLDER_FOOT[0] + HOLDER_MIN_DISTANCE)
            points = [frame.point((*spot, 0.0)) for spot in spots]
            for holder, bulb, point in zip(HOLDERS, BULBS, points, strict=True):
                sim.set_body_pose(holder, point, frame.quat)
                sim.set_free_pose(bulb, point + (0.0, 0.0, 2 * HOLDER_FOOT[1] + 0.001), frame.quat)
            sim.forward()
            if not in_prop_area([*points, sim.body_pos(LAMP)], margin=LAMP_FOOT[0]):
                return None
            if reachable(sim, self._waypoints(sim), ignore=[self.bulb]):
                return frame
            return None
        self.frame = self.draw_layout(draw)
        sim.set_rgba([f"{self.holder}_foot", *(f"{self.holder}_stave{k}" for k in range(8))], rgba(COLOR_NAMES[index]))
        other = HOLDERS[1 - target]
        sim.set_rgba([f"{other}_foot", *(f"{other}_stave{k}" for k in range(8))], rgba(COLOR_NAMES[distractor]))
        return self.variation_placeholders(index)

    def variation_placeholders(self, index: int) -> dict[str, str]:
        return {"color": COLOR_NAMES[index]}

    # -- geometry ---------------------------------------------------------------------------
    def _socket_floor(self, sim: Simulation) -> np.ndarray:
        return sim.body_pos(LAMP) + (0.0, 0.0, SOCKET_FLOOR)

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        """TCP poses: above the glass, at it, lifted, above the socket, in it, the turn in steps."""
        natural = sim.robot.natural_yaw[self.arm]
        quat = gripper_down_quat(natural)
        grasp = sim.body_pos(self.bulb) + (0.0, 0.0, GLASS_CENTRE)
        seated = self._socket_floor(sim) + (0.0, 0.0, SEAT_GAP + GLASS_CENTRE)
        lifted = grasp + (0.0, 0.0, LIFT)
        screw = [(seated, gripper_down_quat(natural + SCREW_TURN * k / SCREW_SEGMENTS))
                 for k in range(1, SCREW_SEGMENTS + 1)]
        return [(grasp + (0, 0, APPROACH), quat), (grasp, quat), (lifted, quat), (seated + (0, 0, HOVER), quat),
                (seated, quat), *screw]

    # -- success ----------------------------------------------------------------------------
    def _in_socket(self, sim: Simulation) -> bool:
        """The bulb's bottom centre inside the sensor disc at the bottom of the socket."""
        offset = sim.body_pos(self.bulb) - self._socket_floor(sim)
        return bool(np.hypot(offset[0], offset[1]) <= SOCKET_INNER and -0.002 <= offset[2] <= SENSOR_DEPTH)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        lit = self._in_socket(sim)
        sim.set_rgba([f"{self.bulb}_glass"], GLASS_LIT if lit else GLASS_OFF)  # the lamp lights up
        return all_of(bulb_in_socket=lit, bulb_released=not sim.gripper_touches(self.arm, self.bulb))

    # -- expert -----------------------------------------------------------------------------
    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        (above, quat), (grasp, _), (lifted, _), _, _, *screw = self._waypoints(sim)
        yield from motion.move(self.arm, above, quat, steps=30, gripper=motion.robot.gripper_open)
        yield from motion.line(self.arm, grasp, quat, steps=20, segments=2)
        yield from motion.gripper(self.arm, motion.robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        yield from motion.line(self.arm, lifted, quat, steps=40, segments=2)
        goal = self._socket_floor(sim) + (0.0, 0.0, SEAT_GAP)
        natural = sim.robot.natural_yaw[self.arm]
        yield from place_held(sim, motion, self.arm, self.bulb, goal, natural, HOVER, release=False, carry_steps=40)
        # Turn about the bulb's axis, not the TCP's: the grasp may hold the bulb a little off
        # centre, and a turn about the TCP would swing the screw base into the socket's wall.
        seated, _ = motion.tcp_target_pose(self.arm)
        axis = self._socket_floor(sim)
        offset = seated - sim.body_pos(self.bulb)
        pos = seated
        for k, (_, turned) in enumerate(screw, start=1):
            angle = SCREW_TURN * k / SCREW_SEGMENTS
            c, s = math.cos(angle), math.sin(angle)
            pos = np.array([axis[0] + c * offset[0] - s * offset[1], axis[1] + s * offset[0] + c * offset[1],
                            seated[2]])
            yield from motion.move(self.arm, pos, turned, steps=6)
        yield from motion.gripper(self.arm, motion.robot.gripper_open, steps=10)
        yield from motion.wait(4)
        yield from motion.line(self.arm, pos + (0, 0, RETREAT), screw[-1][1], steps=14, segments=2)

    def trace(self, sim: Simulation) -> str:
        offset = sim.body_pos(self.bulb) - self._socket_floor(sim)
        tilt = math.degrees(math.acos(min(1.0, abs(quat_to_mat(sim.body_quat(self.bulb))[2, 2]))))
        return f"bulb-socket={offset.round(3)} tilt={tilt:.0f} touched={sim.gripper_touches(self.arm, self.bulb)}"

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if sim.is_grasped(self.arm, self.bulb):
            return self.state_from_spec(sim, self._socket_floor(sim), "insert_bulb")
        return self.state_from_spec(sim, sim.body_pos(self.bulb) + (0.0, 0.0, GLASS_CENTRE), "grasp_bulb")
