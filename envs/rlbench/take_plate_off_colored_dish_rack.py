"""take_plate_off_colored_dish_rack: take the plate out of the named-colour part of the dish rack
and leave it on the table.

Description:
    A dish rack stands on the table with three sections of spokes, black, red and purple along
    its length; a plate stands upright between the middle spokes of one section. The Panda
    grasps the plate's top rim from above, lifts it clear of the spokes, carries it beside the
    rack, lowers it leaning 26 degrees until its edge nearly touches the table and lets go, so
    that it falls over and lies flat (RLBench ``take_plate_off_colored_dish_rack``, an AGNOSTOS level-2 unseen
    task).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the plate and the rack.
Success:
    The plate is out of the rack's volume (no point of the plate inside the box over the rack's
    tray up to its spoke tops), it lies on the table (its centre in a 3 cm layer over the table
    top, within 0.45 m of the rack's centre: a plate lying flat, not one standing or leaning),
    no finger touches it, and it has come to rest (slower than 5 cm/s).
    **Fidelity:** RLBench: ``DetectedCondition(plate, success_source, negated=True)``,
    ``DetectedCondition(plate, success_target)`` and ``NothingGrasped``; ours: the two sensors'
    volumes are ours (the model is not in the reference data): the source is the rack's box,
    the target the layer over the table around it, so the plate must have left the rack and be
    down on the table, as RLBench's pair of sensors asks; "nothing grasped" means no finger
    touches the plate (stricter than RLBench's attachment flag: the hand must have let go), and
    the plate must be at rest, so a plate still falling through the layer does not count.
Starting state:
    The rack stands at the task base's origin, lengthwise along the base's x; the plate stands
    in the middle slot of the named section (RLBench moves the plate to that section's
    ``success_pos`` and samples nothing else). The task base is placed at x 0.05..0.30, y
    -0.15..0.15 with a yaw in [-pi, pi] (RLBench's default bounds), drawn again while a corner
    of the rack leaves the table area in front of the robot (``_prop_area``), the plate or the
    spot it is put down leaves the area the Panda reaches pointing down, or the grasp, lift,
    carry and release waypoints have no collision-free IK solution (RLBench's placement check).
Geometry:
    RLBench's ``take_plate_off_colored_dish_rack.ttm`` is not in the reference data, so the
    sizes are ours, those of a kitchen dish rack: a 36 x 16 cm tray 1.2 cm thick with 3.5 cm
    raised edges along its long sides, three 12 cm
    sections, each with four rows of 11 cm spokes (8 mm across) standing on coloured rails on
    both sides of the tray, 5 cm from its centre line, leaving three 1.6 cm slots; a 0.25 kg
    white plate 18 cm across and 1.2 cm thick (a flat disc: the dish's shallow well is drawn,
    not modelled). Simplified: the plate collides as a regular octagon inscribed in the drawn
    disc (four invisible boxes), because a thin cylinder landing flat sank through the table;
    it stands in its slot on an octagon edge, its drawn rim 7 mm down in the tray.
Variations:
    3: the section holding the plate, black, red or purple (RLBench's order).
Episode end:
    Success, or 300 control steps (15 s at 20 Hz; the expert needs at most 183 on seeds 0-49
    and 100000-100049).
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.franka import BASE_POS as PANDA_BASE
from vlapro_bench.sim.franka import TABLE_TOP_Z
from vlapro_bench.sim.geometry import gripper_down_quat, mat_to_quat, quat_to_mat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import grasp_yaw, release_upward
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, rgba, sample_frame
from ._pick_and_carry import in_reach, table_point
from ._prop_area import in_prop_area

RACK = "dish_rack"
PLATE = "plate"
#: RLBench's section colours, in its variation order.
OPTIONS = ("black", "red", "purple")
#: The tray: half extents; sections along x, their centres.
TRAY_HALF = (0.18, 0.08, 0.006)
SECTION = 0.12
SECTION_X = (-SECTION, 0.0, SECTION)
#: Spoke rows of a section (x offsets from its centre), their y, radius and height above the tray.
SPOKE_ROWS = (-0.036, -0.012, 0.012, 0.036)
SPOKE_Y = 0.05
SPOKE_RADIUS = 0.004
SPOKE_HEIGHT = 0.11
#: Raised edges along the tray's long sides (thickness, height): a plate nudged in its own plane
#: stops against them instead of sliding off the tray.
EDGE = (0.006, 0.035)
TRAY_RGBA = (0.7, 0.72, 0.74, 1.0)
#: The plate: radius, half thickness, mass.
PLATE_RADIUS = 0.09
PLATE_HALF = 0.006
PLATE_MASS = 0.25
PLATE_RGBA = (0.97, 0.97, 0.95, 1.0)
#: The plate's centre when it stands in a slot on an octagon edge, above the table.
PLATE_APOTHEM = PLATE_RADIUS * math.cos(math.pi / 8)
PLATE_STAND_Z = 2 * TRAY_HALF[2] + PLATE_APOTHEM + 0.0005
#: The rack's volume (RLBench's ``success_source``): the tray's footprint up to the spoke tops.
SOURCE_TOP = 2 * TRAY_HALF[2] + SPOKE_HEIGHT
#: The table layer of ``success_target``: plate centre at most this high, this near the rack.
TARGET_LAYER = 0.03
TARGET_RADIUS = 0.45
#: The plate counts as put down once it moves slower than this (m/s): not while still falling.
REST_SPEED = 0.05
#: Where the plate is put down: beside the rack, this far from its centre line (base y).
PUT_Y = 0.22
#: The TCP closes level with the plate's top: the fingertips reach 2.5 cm down its rim.
GRASP_BELOW_TOP = 0.0
#: The TCP rises this far with the plate (its bottom clears the spokes by 6 cm), and lets go
#: with the plate's bottom edge this high over the table.
LIFT = 0.17
RELEASE_GAP = 0.01
#: The hand leans this far about the base's y while it puts the plate down, so that the plate
#: falls flat to one side when let go (upright on its rim it would stay balanced).
TILT = 0.45
LIFT_STEPS = 30
CARRY_STEPS = 40
YAW_BOUNDS = (-math.pi, math.pi)
X_RANGE = (0.05, 0.30)
Y_RANGE = (-0.15, 0.15)


def _axis_quat(yaw: float) -> np.ndarray:
    """The plate standing with its faces across the rack: its axis (local z) along base x."""
    # yaw about world z, then a quarter turn about y (z -> x).
    c, s = math.cos(yaw / 2), math.sin(yaw / 2)
    q = math.sqrt(0.5)
    return np.array([c * q, -s * q, c * q, s * q])


@register_task
class TakePlateOffColoredDishRack(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="take_plate_off_colored_dish_rack",
        max_episode_steps=300,
        procedure=ProceduralAnnotation("pick_place", "disc", "downward", "table_side"),
        description="Take the plate out of the named-colour part of the dish rack and leave it on the table.",
    )
    instructions = {
        "seen": (
            "take the plate off the {color} part of the rack",
            "remove the dish from the {color} section of the rack",
            "find the plate standing between the {color} spokes and put it down on the table",
            "grasp the plate in the {color} part of the dish rack, lift it out and leave it on the table",
            "move the plate from the {color} rack section onto the table",
            "lift the plate out of the {color} part of the rack and let it fall onto the table from high up",
        ),
        "unseen": (
            "pull the platter out from among the {color} prongs and let it rest flat on the tabletop",
            "get the crockery out of the {color}-spoked slot and set it down flat on the worktop",
        ),
    }
    variation_count = len(OPTIONS)
    tracked_bodies = (PLATE, RACK)
    #: The side of the rack (base y sign, +1 or -1) the expert puts the plate down on, set per layout.
    put_side: float

    def build_scene(self, scene: SceneBuilder) -> None:
        rack = scene.body(RACK, pos=(0.25, 0.0, TABLE_TOP_Z))
        scene.box(rack, f"{RACK}_tray", TRAY_HALF, TRAY_RGBA, pos=(0, 0, TRAY_HALF[2]))
        for side, sign in (("l", 1), ("r", -1)):
            scene.box(rack, f"{RACK}_edge_{side}", (TRAY_HALF[0], EDGE[0] / 2, EDGE[1] / 2), TRAY_RGBA,
                      pos=(0, sign * (TRAY_HALF[1] - EDGE[0] / 2), 2 * TRAY_HALF[2] + EDGE[1] / 2))
        for s, centre in enumerate(SECTION_X):
            for r, dx in enumerate(SPOKE_ROWS):
                for side, y in (("l", SPOKE_Y), ("r", -SPOKE_Y)):
                    scene.capsule(rack, f"{RACK}_spoke{s}{r}{side}", SPOKE_RADIUS, SPOKE_HEIGHT / 2 - SPOKE_RADIUS,
                                  rgba(OPTIONS[s]), pos=(centre + dx, y, 2 * TRAY_HALF[2] + SPOKE_HEIGHT / 2))
            for side, y in (("l", SPOKE_Y), ("r", -SPOKE_Y)):
                scene.box(rack, f"{RACK}_rail{s}{side}", (SECTION / 2 - 0.006, 0.008, 0.004), rgba(OPTIONS[s]),
                          pos=(centre, y, 2 * TRAY_HALF[2] + 0.004), collide=False)
        plate = scene.body(PLATE, pos=(0.25, 0.3, 1.0), free=True)
        # Drawn as a disc; collides as a regular octagon of four invisible boxes (each box's two
        # short sides are opposite octagon edges): a thin cylinder landing flat sank through the
        # table (cylinder-box contacts are found iteratively), boxes on boxes do not.
        scene.cylinder(plate, PLATE, PLATE_RADIUS, PLATE_HALF, PLATE_RGBA, collide=False)
        half = (PLATE_RADIUS * math.cos(math.pi / 8), PLATE_RADIUS * math.sin(math.pi / 8), PLATE_HALF)
        for k in range(4):
            turn = (math.cos(math.pi / 8 * k), 0.0, 0.0, math.sin(math.pi / 8 * k))
            # Only box 0 touches a flat support (tray or table): the others are 0.5 mm smaller,
            # which halves the resting contacts.
            size = half if k == 0 else (half[0] - 0.0005, half[1] - 0.0005, half[2] - 0.0005)
            scene.box(plate, f"{PLATE}_collision{k}", size, PLATE_RGBA, quat=turn, mass=PLATE_MASS / 4, group=3)
        for sign in (1, -1):
            scene.cylinder(plate, f"{PLATE}_well{'ab'[sign < 0]}", PLATE_RADIUS * 0.62, 0.0004,
                           (0.9, 0.9, 0.88, 1.0), pos=(0, 0, sign * (PLATE_HALF + 0.0004)), collide=False)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        index = self.choose_variation(rng)

        def draw() -> TaskFrame | None:
            self.frame = frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            sim.set_body_pose(RACK, frame.pos, frame.quat)
            sim.set_free_pose(PLATE, frame.point((SECTION_X[index], 0.0, PLATE_STAND_Z)), _axis_quat(frame.yaw))
            sim.forward()
            corners = [frame.point((sx * TRAY_HALF[0], sy * TRAY_HALF[1], 0.0)) for sx in (1, -1) for sy in (1, -1)]
            if not in_prop_area(corners):
                return None
            self.put_side = self._put_side(index)
            spots = [frame.point((SECTION_X[index], 0.0, 0.0)), self._put_point(index)]
            if all(in_reach(p) for p in spots) and reachable(sim, self._waypoints(sim), ignore=[PLATE]):
                return frame
            return None

        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(index)

    def variation_placeholders(self, index: int) -> dict[str, str]:
        return {"color": OPTIONS[index]}

    def _put_side(self, index: int) -> float:
        """The side of the rack (base y sign) nearer the arm's base: the plate is put down there."""
        near = [math.dist(self.frame.point((SECTION_X[index], sign * PUT_Y, 0.0))[:2], PANDA_BASE[:2])
                for sign in (1.0, -1.0)]
        return 1.0 if near[0] <= near[1] else -1.0

    def _put_point(self, index: int) -> np.ndarray:
        """The table point under the plate's centre where it is let go."""
        return table_point(self.frame, (SECTION_X[index], self.put_side * PUT_Y), 0.0)

    def _yaw(self) -> float:
        """Fingers closing across the plate's faces (along base x), near the arm's natural yaw."""
        return grasp_yaw(self.arm, self.frame.yaw - math.pi / 2, symmetry=math.pi)

    def _grasp_point(self, sim: Simulation) -> np.ndarray:
        return sim.body_pos(PLATE) + (0.0, 0.0, PLATE_APOTHEM - GRASP_BELOW_TOP)

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        quat = gripper_down_quat(self._yaw())
        grasp = self._grasp_point(sim)
        tilted = self._tilted_quat()
        release = self._put_point(self.variation) + (0.0, 0.0, RELEASE_GAP + 2 * PLATE_RADIUS * math.cos(TILT))
        return [(grasp + (0, 0, 0.1), quat), (grasp, quat), (grasp + (0, 0, LIFT), quat),
                (release + (0, 0, 0.08), tilted), (release, tilted)]

    def plate_points(self, sim: Simulation) -> np.ndarray:
        """World points of the plate's disc (centre, two rings and the rim) for the sensor tests."""
        local = [(0.0, 0.0)]
        for radius, count in ((PLATE_RADIUS / 2, 8), (PLATE_RADIUS, 16)):
            local += [(radius * math.cos(a), radius * math.sin(a))
                      for a in np.linspace(0, 2 * math.pi, count, endpoint=False)]
        points = np.array([(x, y, z) for x, y in local for z in (-PLATE_HALF, PLATE_HALF)])
        return sim.body_pos(PLATE) + points @ sim.body_mat(PLATE).T

    def in_rack(self, sim: Simulation) -> bool:
        """RLBench's ``success_source``: a point of the plate inside the rack's box."""
        local = (self.plate_points(sim) - self.frame.pos) @ self.frame.rotation
        inside = (np.abs(local[:, 0]) <= TRAY_HALF[0]) & (np.abs(local[:, 1]) <= TRAY_HALF[1]) & (
            local[:, 2] <= SOURCE_TOP)
        return bool(inside.any())

    def on_table(self, sim: Simulation) -> bool:
        """RLBench's ``success_target``: the plate's centre in the layer over the table near the rack."""
        local = self.frame.local(sim.body_pos(PLATE))
        return bool(local[2] < TARGET_LAYER and math.hypot(local[0], local[1]) < TARGET_RADIUS)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(plate_out_of_rack=not self.in_rack(sim), plate_on_table=self.on_table(sim),
                      plate_released=not sim.gripper_touches(self.arm, PLATE),
                      plate_at_rest=sim.body_speed(PLATE) < REST_SPEED)

    def _tilted_quat(self) -> np.ndarray:
        """The hand turned ``TILT`` about the base's y: the held plate leans toward base +x."""
        u = self.frame.direction((0.0, 1.0, 0.0))
        c, s = math.cos(TILT), math.sin(TILT)
        cross = np.array([[0.0, -u[2], u[1]], [u[2], 0.0, -u[0]], [-u[1], u[0], 0.0]])
        turn = c * np.eye(3) + s * cross + (1 - c) * np.outer(u, u)
        return mat_to_quat(turn @ quat_to_mat(gripper_down_quat(self._yaw())))

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        (above, quat), (grasp, _), (lifted, _), (over, _), _ = self._waypoints(sim)
        tilted = self._tilted_quat()
        yield from motion.move(self.arm, above, quat, steps=30, gripper=motion.robot.gripper_open)
        yield from motion.line(self.arm, grasp, quat, steps=20, segments=2)
        yield from motion.gripper(self.arm, motion.robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        yield from motion.line(self.arm, lifted, quat, steps=LIFT_STEPS, segments=2)
        yield from motion.move(self.arm, over, tilted, steps=CARRY_STEPS)
        yield from motion.wait(4)
        # Aim the descent by the plate's lowest point (it may have slid in the fingers).
        normal = sim.body_mat(PLATE)[:, 2]
        lowest = sim.body_pos(PLATE)[2] - PLATE_RADIUS * math.sqrt(max(0.0, 1 - normal[2] ** 2)) - PLATE_HALF * abs(
            normal[2])
        release = sim.tcp_pos(self.arm) - (0.0, 0.0, lowest - TABLE_TOP_Z - RELEASE_GAP)
        yield from motion.line(self.arm, release, tilted, steps=16, segments=2)
        yield from release_upward(motion, self.arm, release, tilted, 0.10)
        yield from motion.wait(20)

    def trace(self, sim: Simulation) -> str:
        local = self.frame.local(sim.body_pos(PLATE))
        return f"plate={local.round(3)} in_rack={self.in_rack(sim)} grasped={sim.is_grasped(self.arm, PLATE)}"

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if sim.is_grasped(self.arm, PLATE) and not self.in_rack(sim):
            return self.state_from_spec(sim, self._put_point(self.variation), "place")
        return self.state_from_spec(sim, self._grasp_point(sim), "grasp")
