"""put_groceries_in_cupboard: put the named grocery item on the cupboard's bottom shelf.

Description:
    Nine groceries (a crackers box, two jello boxes, a soup can, a tuna can, a spam can, a coffee
    canister, a mustard bottle and a sugar box) stand scattered on the table in front of an
    open-fronted cupboard. The Panda picks the named item from above, carries it in
    through the cupboard's open front, sets it on the bottom shelf and backs out (RLBench
    ``put_groceries_in_cupboard``, PerAct-18).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the cupboard and the first three groceries (crackers, chocolate
    jello, strawberry jello; the format holds four bodies).
Success:
    ``item_in_cupboard``: the named item's centre is inside the cupboard's compartment (above
    its bottom shelf, below its top, within the side and back walls and behind the front
    plane); ``nothing_grasped``: no grocery is between the fingers; ``at_rest``: the item
    moves slower than 2 cm/s.
    **Fidelity:** RLBench: ``DetectedCondition(item, success)`` (the item enters the proximity
    sensor on the cupboard's bottom shelf) and ``NothingGrasped``; ours: the sensor is the
    compartment's inner volume, and the at-rest condition is added (stricter than RLBench) so
    an item let go on the edge and still falling does not count.
Starting state:
    RLBench samples all nine groceries in its ``workspace`` boundary with a uniform yaw and at
    least 0.1 m apart. Ours sample them in a 0.30 x 0.64 m area in front of the cupboard (base
    frame x -0.26..0.04) with a uniform yaw, footprints 1 cm apart, off the cupboard and off a
    0.20 m lane in front of its opening (where the expert brings the item down to the shelf's
    height), and inside the area the Panda grasps from above. The named item is placed first,
    0.36 m or more from the arm's base and within 0.30 m of the table's centre line (where the
    hand comes down centred on it), and the others keep out of the hand's footprint over it
    (0.09 x 0.23 m: the open fingers and the hand need that room). The task base is placed
    with x 0.14..0.24, y -0.08..0.08 and a yaw in [-1, 1] rad (RLBench's
    ``base_rotation_bounds``); placements whose waypoints (ready, above the item, grasp, lift,
    over the lane, in, set down, out) have no collision-free IK solution are drawn again, as
    RLBench does.
Geometry:
    RLBench's groceries are YCB models and its cupboard is in the ``.ttm``, neither in the
    reference data, so the props are ours, built from primitives at the YCB objects' sizes
    (width x depth x height): crackers 16 x 6 x 21 cm, chocolate jello 8.9 x 3.5 x 11 cm,
    strawberry jello 8.5 x 2.8 x 7.3 cm, soup can 6.6 cm x 10.1 cm, spam can 10.2 x 5.1 x
    8.3 cm, mustard bottle 9.5 x 5.8 x 16 cm plus its cap, sugar box 9.2 x 4.5 x 17.5 cm. Two
    are narrower than YCB's so the Panda's 8 cm gripper closes across them: the tuna can is
    7 cm across (YCB 8.5) by 3.3 cm, and the coffee is a 7 x 13 cm canister (YCB's coffee can
    is 10.2 cm across). Each stands upright, coloured like its package with a label band, and
    is grasped from above across its narrowest side. The cupboard is white, 0.48 m wide, 0.30 m
    deep and 0.585 m tall, open toward the robot: its bottom shelf sits on a 5 cm plinth and
    the compartment above it is 0.52 m high, room for the hand and wrist over the tallest item
    (its top stays under the hand's start pose, 0.67 m above the table). Its back is open but
    for a 6 cm lip along the shelf and a rail under the top: the front camera looks at the
    robot from behind the cupboard and sees through it (with a closed back it saw nothing else).
Variations:
    9: which item (RLBench's order: crackers, chocolate jello, strawberry jello, soup, tuna,
    spam, coffee, mustard, sugar).
Episode end:
    Success, or 450 control steps (22.5 s at 20 Hz; the expert needs at most 265 on seeds 0-49).
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.franka import ARM, TABLE_TOP_Z
from vlapro_bench.sim.franka import BASE_POS as PANDA_BASE
from vlapro_bench.sim.geometry import gripper_down_quat, quat_yaw, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import grasp_yaw, release_upward
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._pick_and_carry import boxes_overlap, grasp_from_above, in_reach, table_point


@dataclass(frozen=True)
class Grocery:
    """One grocery item: its instruction name, shape (``box`` or ``can``), full size (x, y, z;
    a can's x and y are its diameter; y is the side the fingers close across), mass, colours."""

    name: str
    shape: str
    size: tuple[float, float, float]
    mass: float
    rgba: tuple[float, float, float, float]
    label: tuple[float, float, float, float]

    @property
    def body(self) -> str:
        return self.name.replace(" ", "_")


GROCERIES = (
    Grocery("crackers", "box", (0.16, 0.06, 0.21), 0.41, (0.85, 0.2, 0.1, 1.0), (0.98, 0.8, 0.1, 1.0)),
    Grocery("chocolate jello", "box", (0.089, 0.035, 0.11), 0.19, (0.4, 0.22, 0.1, 1.0), (0.1, 0.3, 0.75, 1.0)),
    Grocery("strawberry jello", "box", (0.085, 0.028, 0.073), 0.18, (0.95, 0.45, 0.6, 1.0), (0.1, 0.3, 0.75, 1.0)),
    Grocery("soup", "can", (0.066, 0.066, 0.101), 0.35, (0.8, 0.08, 0.08, 1.0), (0.95, 0.95, 0.92, 1.0)),
    Grocery("tuna", "can", (0.07, 0.07, 0.033), 0.17, (0.78, 0.78, 0.8, 1.0), (0.15, 0.35, 0.7, 1.0)),
    Grocery("spam", "box", (0.102, 0.051, 0.083), 0.37, (0.15, 0.3, 0.7, 1.0), (0.95, 0.8, 0.2, 1.0)),
    Grocery("coffee", "can", (0.07, 0.07, 0.13), 0.3, (0.1, 0.15, 0.4, 1.0), (0.45, 0.3, 0.15, 1.0)),
    Grocery("mustard", "box", (0.095, 0.058, 0.16), 0.45, (0.97, 0.82, 0.1, 1.0), (0.85, 0.15, 0.1, 1.0)),
    Grocery("sugar", "box", (0.092, 0.045, 0.175), 0.51, (0.96, 0.96, 0.92, 1.0), (0.95, 0.75, 0.15, 1.0)),
)
#: The mustard bottle's cap stands on its body (radius, height); it is not counted in its size.
MUSTARD_CAP = (0.014, 0.03)
YAW_BOUNDS = (-1.0, 1.0)
X_RANGE = (0.14, 0.24)
Y_RANGE = (-0.08, 0.08)
#: The spawn area of the groceries in the base frame, and the gap kept between footprints.
SPAWN_X = (-0.26, 0.04)
SPAWN_Y = (-0.32, 0.32)
SPAWN_GAP = 0.01
#: The named item stands at least this far from the arm's base and at most this far to the side.
TARGET_MIN_RADIUS, TARGET_MAX_Y = 0.36, 0.30
#: The footprint of the hand coming down on the named item (half extents across the fingers'
#: travel and along it; the hand is 20 cm long along the finger axis) that the other
#: groceries keep out of.
HAND_HALF = (0.045, 0.115, 0.05)
#: A lane in front of the cupboard's opening (base |y| below this) is kept free of groceries:
#: the carried item comes down in it to the shelf's height and slides in.
LANE_HALF = 0.10
CUPBOARD = "cupboard"
#: The cupboard in the base frame: the front plane's x, inner width and depth, wall thickness,
#: the bottom shelf's height above the table, the bottom compartment's height, the top's.
FRONT_X = 0.10
INNER_HALF_WIDTH, INNER_DEPTH, WALL = 0.225, 0.28, 0.015
SHELF_Z, COMPARTMENT = 0.05, 0.52
#: The back is open but for a lip along the shelf and a rail under the top, so the front
#: camera (which looks at the robot over the cupboard's back) sees through it.
BACK_LIP = 0.06
CUPBOARD_RGBA = (0.93, 0.93, 0.9, 1.0)
PLINTH_RGBA = (0.6, 0.6, 0.62, 1.0)
#: Where the item is set down: its centre this far behind the front plane, on the shelf's centre line.
SHELVE_DEPTH = 0.10
AT_REST = 0.02
#: The TCP closes this far below an item's top (but never with the fingertips below 8 mm above
#: the table), and is carried with the item's bottom this far above the shelf.
GRASP_BELOW_TOP = 0.05
FINGERTIP_CLEARANCE = 0.008
FINGERTIP_BELOW_TCP = 0.0245
CARRY_ABOVE_SHELF = 0.02
#: The hand comes to this far in front of the cupboard's front plane before sliding in; the
#: item is carried this far above the tallest other grocery on its way to the lane.
OUTSIDE = 0.14
OVER_OTHERS = 0.04
#: The hand first goes to a point in front of the cupboard's lane, this far toward the robot
#: from where it slides in and this high above the table (the start pose is 0.67 m high).
READY_BACK, READY_HEIGHT = 0.05, 0.45
LIFT_STEPS, CARRY_STEPS = 24, 45


@register_task
class PutGroceriesInCupboard(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="put_groceries_in_cupboard",
        max_episode_steps=450,
        procedure=ProceduralAnnotation("pick_place", "cuboid", "downward", "container_inside"),
        description="Put the named grocery item on the cupboard's bottom shelf.",
    )
    instructions = {
        "seen": (
            "put the {item} in the cupboard",
            "pick up the {item} and place it in the cupboard",
            "move the {item} to the bottom shelf",
            "put away the {item} in the cupboard",
            "take the {item} off the table and store it in the cupboard",
        ),
        "unseen": (
            "the {item} belongs on the lowest shelf of the cabinet: shelve it there",
            "stow the {item} inside the open cabinet",
        ),
    }
    variation_count = len(GROCERIES)
    tracked_bodies = (CUPBOARD, *(g.body for g in GROCERIES[:3]))

    def build_scene(self, scene: SceneBuilder) -> None:
        for grocery in GROCERIES:
            _build_grocery(scene, grocery)
        _build_cupboard(scene)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        index = self.choose_variation(rng)
        self.item = GROCERIES[index]
        def draw() -> TaskFrame | None:
            self.frame = frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            poses = _sample_groceries(rng, frame, self.item)
            if poses is None:
                return None
            sim.set_body_pose(CUPBOARD, table_point(frame, (0.0, 0.0), 0.0), frame.quat)
            for grocery, (xy, yaw) in zip(GROCERIES, poses, strict=True):
                sim.set_free_pose(grocery.body, table_point(frame, xy, grocery.size[2] / 2 + 0.001),
                                  yaw_quat(frame.yaw + yaw))
            sim.forward()
            if reachable(sim, self._waypoints(sim), ignore=[self.item.body]):
                return frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(index)

    def variation_placeholders(self, index: int) -> dict[str, str]:
        return {"item": GROCERIES[index].name}

    # -- geometry -------------------------------------------------------------------------------
    def _grasp_height(self) -> float:
        """TCP height above the item's bottom for the top grasp."""
        return max(self.item.size[2] - GRASP_BELOW_TOP, FINGERTIP_BELOW_TCP + FINGERTIP_CLEARANCE)

    def _grasp_point(self, sim: Simulation) -> np.ndarray:
        return sim.body_pos(self.item.body) + (0.0, 0.0, self._grasp_height() - self.item.size[2] / 2)

    def _grasp_yaw(self, sim: Simulation) -> float:
        """Fingers closing across the item's narrow side (its local y), near the natural yaw."""
        symmetry = math.pi / 2 if self.item.shape == "can" else math.pi
        return grasp_yaw(self.arm, quat_yaw(sim.body_quat(self.item.body)), symmetry=symmetry)

    def _shelf_goal(self) -> np.ndarray:
        """Where the item's centre is set down: on the bottom shelf, in from the front."""
        return table_point(self.frame, (FRONT_X + SHELVE_DEPTH, 0.0), SHELF_Z + self.item.size[2] / 2 + 0.002)

    def _carry_height(self) -> float:
        """TCP height above the table for sliding in: the item's bottom above the shelf."""
        return SHELF_Z + CARRY_ABOVE_SHELF + self._grasp_height()

    def _high_height(self) -> float:
        """TCP height above the table on the way to the lane: the item over every other one."""
        tallest = max(g.size[2] for g in GROCERIES if g is not self.item)
        return tallest + OVER_OTHERS + self._grasp_height()

    def _approach_height(self, grasp: np.ndarray) -> float:
        """How far above the grasp point the hand comes in: its fingertips over every grocery,
        so it comes straight down on the item rather than sweeping through its neighbours."""
        tallest = max(g.size[2] for g in GROCERIES)
        return TABLE_TOP_Z + tallest + OVER_OTHERS + FINGERTIP_BELOW_TCP - grasp[2]

    def _ready(self) -> np.ndarray:
        """In front of the cupboard, high: the hand goes there first from the start pose (which
        hovers over the cupboard) and then to the item, never through the cupboard's top."""
        return table_point(self.frame, (FRONT_X - OUTSIDE - READY_BACK, 0.0), READY_HEIGHT)

    def _outside(self, height: float) -> np.ndarray:
        """TCP in the lane in front of the cupboard's opening, ``height`` above the table."""
        return table_point(self.frame, (FRONT_X - OUTSIDE, 0.0), height)

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        """Ready, above the item, grasp, lift, over the lane, down the lane, inside, set down,
        back out."""
        quat = gripper_down_quat(self._grasp_yaw(sim))
        grasp = self._grasp_point(sim)
        lifted = np.array([grasp[0], grasp[1], TABLE_TOP_Z + self._high_height()])
        inside = self._shelf_goal() + (0.0, 0.0, self._grasp_height() - self.item.size[2] / 2)
        above_inside = inside + (0.0, 0.0, CARRY_ABOVE_SHELF)
        above = grasp + (0.0, 0.0, self._approach_height(grasp))
        return [(self._ready(), quat), (above, quat), (grasp + (0, 0, 0.05), quat), (grasp, quat), (lifted, quat),
                (self._outside(self._high_height()), quat),
                (self._outside(self._carry_height()), quat), (above_inside, quat), (inside, quat),
                (self._outside(self._carry_height()), quat)]

    def in_cupboard(self, sim: Simulation) -> bool:
        """Whether the item's centre is in the bottom compartment's inner volume."""
        local = self.frame.local(sim.body_pos(self.item.body))
        inside_x = FRONT_X < local[0] < FRONT_X + INNER_DEPTH
        return bool(inside_x and abs(local[1]) < INNER_HALF_WIDTH and SHELF_Z < local[2] < SHELF_Z + COMPARTMENT)

    # -- episode --------------------------------------------------------------------------------
    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(
            item_in_cupboard=self.in_cupboard(sim),
            nothing_grasped=not any(sim.is_grasped(self.arm, g.body) for g in GROCERIES),
            at_rest=sim.body_speed(self.item.body) < AT_REST,
        )

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        arm = self.arm
        yaw = self._grasp_yaw(sim)
        quat = gripper_down_quat(yaw)
        grasp = self._grasp_point(sim)
        lift = TABLE_TOP_Z + self._high_height() - grasp[2]
        yield from motion.move(arm, self._ready(), quat, steps=30, gripper=motion.robot.gripper_open)
        yield from grasp_from_above(motion, arm, grasp, yaw, lift, approach=self._approach_height(grasp),
                                    lift_steps=LIFT_STEPS)
        yield from motion.move(arm, self._outside(self._high_height()), quat, steps=CARRY_STEPS)
        yield from motion.wait(4)
        # Down the lane and in through the open front with the item's bottom above the shelf,
        # aimed so the item (not the TCP) arrives over the goal: the held item creeps in the
        # fingers (see place_held), so its offset from the TCP is measured on the way. Then down,
        # let go, and back out.
        goal = self._shelf_goal()
        entry = table_point(self.frame, (FRONT_X - OUTSIDE, 0.0), 0.0)
        entry[2] = goal[2] + CARRY_ABOVE_SHELF
        offset = sim.tcp_pos(arm) - sim.body_pos(self.item.body)
        yield from motion.line(arm, entry + offset, quat, steps=20, segments=2)
        yield from motion.wait(4)
        offset = sim.tcp_pos(arm) - sim.body_pos(self.item.body)
        yield from motion.line(arm, goal + offset + (0.0, 0.0, CARRY_ABOVE_SHELF), quat, steps=30, segments=4)
        offset = sim.tcp_pos(arm) - sim.body_pos(self.item.body)
        yield from motion.line(arm, goal + offset, quat, steps=12, segments=2)
        yield from release_upward(motion, arm, goal + offset, quat, 0.01)
        yield from motion.line(arm, self._outside(self._carry_height()), quat, steps=24, segments=3)
        yield from motion.wait(4)

    def trace(self, sim: Simulation) -> str:
        local = self.frame.local(sim.body_pos(self.item.body))
        return f"{self.item.name} item(base)={local.round(3)}"

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        """Stages: grasp the named item, then shelve it in the cupboard."""
        if sim.is_grasped(self.arm, self.item.body):
            return self.state_from_spec(sim, self._shelf_goal(), "shelve_item")
        return self.state_from_spec(sim, sim.body_pos(self.item.body), "grasp_item")


def _build_grocery(scene: SceneBuilder, grocery: Grocery) -> None:
    """A free grocery item built from primitives, its origin at its centre, with a label band."""
    body = scene.body(grocery.body, pos=(0.25, 0.4, 1.0), free=True)
    x, y, z = grocery.size
    if grocery.shape == "can":
        scene.cylinder(body, grocery.body, x / 2, z / 2, grocery.rgba, mass=grocery.mass)
        scene.cylinder(body, f"{grocery.body}_label", x / 2 + 0.0008, z / 4, grocery.label, collide=False)
        return
    scene.box(body, grocery.body, (x / 2, y / 2, z / 2), grocery.rgba, mass=grocery.mass)
    scene.box(body, f"{grocery.body}_label", (x / 4, y / 2 + 0.0008, z / 5), grocery.label, collide=False)
    if grocery.name == "mustard":
        radius, height = MUSTARD_CAP
        scene.cylinder(body, f"{grocery.body}_cap", radius, height / 2, grocery.label,
                       pos=(0.0, 0.0, z / 2 + height / 2), mass=0.01)


def _build_cupboard(scene: SceneBuilder) -> None:
    """The cupboard, its origin on the table at the task base: a plinth, the bottom shelf, side
    walls, the top, a lip and a rail at the back; open toward the robot (-x)."""
    body = scene.body(CUPBOARD, pos=(0.25, -0.3, TABLE_TOP_Z))
    cx = FRONT_X + INNER_DEPTH / 2
    outer_half_width = INNER_HALF_WIDTH + WALL
    height = SHELF_Z + COMPARTMENT + WALL
    back_x = FRONT_X + INNER_DEPTH + WALL / 2
    scene.box(body, f"{CUPBOARD}_plinth", (INNER_DEPTH / 2, outer_half_width - 0.02, (SHELF_Z - WALL) / 2),
              PLINTH_RGBA, pos=(cx + 0.01, 0.0, (SHELF_Z - WALL) / 2))
    boards = {
        "shelf": ((INNER_DEPTH / 2, outer_half_width, WALL / 2), (cx, 0.0, SHELF_Z - WALL / 2)),
        "top": ((INNER_DEPTH / 2, outer_half_width, WALL / 2), (cx, 0.0, height - WALL / 2)),
        "back_lip": ((WALL / 2, outer_half_width, BACK_LIP / 2), (back_x, 0.0, SHELF_Z + BACK_LIP / 2)),
        "back_rail": ((WALL / 2, outer_half_width, BACK_LIP / 2), (back_x, 0.0, height - BACK_LIP / 2)),
    }
    for side, sign in (("left", 1.0), ("right", -1.0)):
        boards[f"{side}_wall"] = ((INNER_DEPTH / 2, WALL / 2, (height - SHELF_Z) / 2),
                                  (cx, sign * (INNER_HALF_WIDTH + WALL / 2), (height + SHELF_Z) / 2))
    for name, (half, pos) in boards.items():
        scene.box(body, f"{CUPBOARD}_{name}", half, CUPBOARD_RGBA, pos=pos)


def _sample_groceries(
    rng: np.random.Generator, frame: TaskFrame, target: Grocery
) -> list[tuple[np.ndarray, float]] | None:
    """Base-frame (xy, yaw) of every grocery: uniform in the spawn area with a uniform yaw, the
    footprints ``SPAWN_GAP`` apart, off the cupboard's and the lane's, and inside the area the
    Panda grasps from above; the named item is placed first and the others also keep out of the footprint of the
    hand coming down on it. None if they do not fit (the caller draws the layout again)."""
    order = [target, *(g for g in GROCERIES if g is not target)]
    placed: dict[str, tuple[np.ndarray, float]] = {}
    keep_out: list[tuple[np.ndarray, np.ndarray, tuple[float, float, float]]] = [(LANE_CENTRE, np.eye(3), LANE_BOX),
                                                                  (CUPBOARD_CENTRE, np.eye(3), CUPBOARD_BOX)]
    for grocery in order:
        half = (grocery.size[0] / 2 + SPAWN_GAP / 2, grocery.size[1] / 2 + SPAWN_GAP / 2, 0.05)
        for _ in range(300):
            xy = rng.uniform((SPAWN_X[0], SPAWN_Y[0]), (SPAWN_X[1], SPAWN_Y[1]))
            yaw = float(rng.uniform(-math.pi, math.pi))
            if not in_reach(frame.point((*xy, 0.0))) or (grocery is target and not _in_grasp_reach(frame, xy)):
                continue
            centre, rot = np.array([*xy, 0.0]), _yaw_mat(yaw)
            if any(boxes_overlap(centre, rot, half, c, r, h) for c, r, h in keep_out):
                continue
            if grocery is target:
                symmetry = math.pi / 2 if grocery.shape == "can" else math.pi
                finger_yaw = grasp_yaw(ARM, frame.yaw + yaw, symmetry=symmetry) - frame.yaw
                hand = (centre, _yaw_mat(finger_yaw - math.pi / 2), HAND_HALF)
                if boxes_overlap(*hand, CUPBOARD_CENTRE, np.eye(3), tuple(h + WRIST_MARGIN for h in CUPBOARD_BOX)):
                    continue
                keep_out.append(hand)
            placed[grocery.body] = (xy, yaw)
            keep_out.append((centre, rot, half))
            break
        else:
            return None
    return [placed[g.body] for g in GROCERIES]


CUPBOARD_CENTRE = np.array([FRONT_X + INNER_DEPTH / 2 + WALL / 2, 0.0, 0.0])
CUPBOARD_BOX = (INNER_DEPTH / 2 + WALL / 2 + 0.01, INNER_HALF_WIDTH + WALL + 0.01, 0.05)
#: The hand's footprint keeps this much farther from the cupboard: the wrist above the hand is
#: wider than the fingers and must not come down on the cupboard's wall.
WRIST_MARGIN = 0.06
LANE_CENTRE = np.array([(SPAWN_X[0] + SPAWN_X[1]) / 2, 0.0, 0.0])
LANE_BOX = ((SPAWN_X[1] - SPAWN_X[0]) / 2 + 0.05, LANE_HALF, 0.05)


def _in_grasp_reach(frame: TaskFrame, xy: np.ndarray) -> bool:
    """Where the named item may stand: far enough from the arm's base and from the table's
    sides that the hand comes down centred on it (nearer, or farther out, the IK tracking is
    off by up to 2 cm, more than the 7 to 35 mm the open fingers leave beside an item)."""
    point = frame.point((*xy, 0.0))
    near = math.hypot(point[0] - PANDA_BASE[0], point[1] - PANDA_BASE[1])
    return near >= TARGET_MIN_RADIUS and abs(point[1]) <= TARGET_MAX_Y


def _yaw_mat(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
