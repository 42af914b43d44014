"""put_money_in_safe: put the stack of bank notes on the named shelf of the open safe.

Description:
    A steel safe with three shelves (bottom, middle, top) stands on the table, its door swung
    open; a banded stack of bank notes lies on the table in front of it. The Panda picks the
    stack up by its rear end from above, turns it to point into the safe, slides it onto the
    named shelf and lets go (RLBench ``put_money_in_safe``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
Success:
    The stack overlaps the named shelf's success volume (the shelf's inside from 1 cm behind
    the front face to the back wall, across its width, from its floor to 4 cm above it: an exact
    box-overlap test), no part of the robot touches it, and it is at rest (below 5 cm/s).
    **Fidelity:** RLBench: ``DetectedCondition(dollar_stack, success_detector<i>)`` and
    ``NothingGrasped``; ours: the sensor volumes are our own (the model's sensors are not in the
    reference data), any robot contact counts as a hold (RLBench's gripper holds by attaching,
    ours by friction), and "at rest" is added so a stack still sliding across a shelf or
    falling past it does not count.
Starting state:
    The task base (the safe's bottom centre) is placed with x 0.33..0.45, y -0.20..0.20 and a
    yaw in a quarter turn: RLBench's bounds span [0, pi/2], but its model's zero heading is not
    in the reference data, so we centre the quarter turn on the safe facing the robot
    ([-pi/4, pi/4]). The stack's centre is drawn 9 to 19 cm in front of the safe's face and
    0 to 25 cm to the side away from the door, with a yaw in a quarter turn about the safe's
    axis (RLBench's ``SpawnBoundary.sample`` rotation bounds, centred the same way). As RLBench
    does, placements are drawn again when the stack leaves the table area in front of the robot
    or the grasp and insertion waypoints have no collision-free IK solution.
Geometry:
    RLBench's safe and money models are not in the reference data; sizes are ours, a small
    home safe within the Panda's reach: outside 0.28 deep x 0.32 wide x 0.40 tall, 15 mm steel
    walls, a 3 cm plinth, three 11.2 cm tall shelves (floors 0.03, 0.152 and 0.274 m above the
    table), a 0.32 m door opened 140 degrees about its hinge (on the safe's left seen from the
    front) with a dial and a handle. The stack is 0.156 x 0.062 m (a bank note) and 3 cm thick,
    0.1 kg, with a paper band round its middle (visual only). A top-down hand cannot enter an
    11 cm shelf, so the stack goes in front first, held 1.7 cm from its rear end, and is left
    8.9 cm deep on the shelf with its centre of mass 1.1 cm inside the face (it stays there).
Variations:
    3: the shelf (bottom, middle, top), as RLBench's index.
Episode end:
    Success, or 500 control steps (25 s at 20 Hz; the expert needs at most 271 on seeds 0-49
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
from vlapro_bench.sim.franka import TABLE_TOP_Z
from vlapro_bench.sim.geometry import gripper_quat, mat_to_quat, quat_to_mat, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._pick_and_carry import boxes_overlap
from ._prop_area import in_prop_area

SHELVES = ("bottom", "middle", "top")
YAW_BOUNDS = (-math.pi / 4, math.pi / 4)
X_RANGE = (0.33, 0.45)
Y_RANGE = (-0.20, 0.20)
SAFE = "safe"
MONEY = "dollar_stack"
#: The safe in the task-base frame (origin at its bottom centre, opening toward -x): outer half
#: extents, wall thickness, the front face's x, and each shelf's floor height.
SAFE_HALF = (0.14, 0.16, 0.20)
WALL = 0.015
PLINTH = 0.03
SHELF_THICKNESS = 0.01
FRONT_X = -SAFE_HALF[0]
SHELF_FLOOR = {"bottom": 0.03, "middle": 0.152, "top": 0.274}
#: The door: hinged at the front corner on +y, 0.32 m wide, opened this far.
DOOR_OPEN = math.radians(140)
DOOR_THICKNESS = 0.025
#: Success volumes: the shelf's inside from 1 cm behind the front face to the back wall, from
#: its floor to SENSOR_HEIGHT above it.
SENSOR_HEIGHT = 0.04
#: At rest: the stack's speed (m/s) below this.
REST_SPEED = 0.05
#: The stack: half extents (length along its x, width, thickness), mass, and where it is drawn
#: (base frame: x and y ranges of its centre, yaw from the safe's axis).
MONEY_HALF = (0.078, 0.031, 0.015)
MONEY_MASS = 0.1
#: Sliding, torsional and rolling friction of the stack, and its contacts' solref: the hand
#: holds it by one end, so the pinch carries its weight's torque; with the suite's torsional
#: friction (0.01 m) and soft contacts it drooped and turned in the fingers while carried (4 of
#: 30 seeds dropped it).
MONEY_FRICTION = (1.5, 0.05, 0.0002)
MONEY_SOLREF = (0.004, 1.0)
MONEY_X = (-0.33, -0.23)
MONEY_Y = (-0.25, 0.0)
MONEY_YAW = (-math.pi / 4, math.pi / 4)
#: Grasp: top-down, the TCP this far from the stack's rear end along it (the finger pads are
#: 2.2 cm across), at half its thickness.
GRASP_FROM_REAR = 0.017
GRASP_HEIGHT = MONEY_HALF[2]
#: Insertion: the stack's front end this far in front of the safe before going in, the stack
#: this high above the shelf floor while it goes in, and the TCP this far in front of the front
#: face at the end: the hand (3.2 cm either side of the TCP along the stack) stays outside the
#: safe. The stack then lies 8.9 cm deep on the shelf, its centre of mass 1.1 cm inside the face.
PRE_INSERT = 0.06
SLIDE_HEIGHT = 0.012
TCP_OUTSIDE = 0.05
LIFT = 0.10
#: The hand comes down onto the stack from this high above the table (clear of the 0.40 m safe).
HIGH = 0.50
#: After letting go the hand goes this far up and this far back.
RETREAT = 0.08
STEEL = (0.30, 0.32, 0.35, 1.0)
STEEL_DARK = (0.18, 0.19, 0.21, 1.0)
NOTE_GREEN = (0.47, 0.62, 0.44, 1.0)
BAND = (0.86, 0.80, 0.62, 1.0)
BRASS = (0.78, 0.64, 0.30, 1.0)


def _build_safe(scene: SceneBuilder) -> None:
    """The safe's body: plinth, walls, roof, shelves and the open door, fixed, placed at reset."""
    hx, hy, hz = SAFE_HALF
    safe = scene.body(SAFE, pos=(0.35, 0.0, TABLE_TOP_Z))
    half_wall = WALL / 2
    parts = (
        ("plinth", (0.0, 0.0, PLINTH / 2), (hx, hy, PLINTH / 2)),
        ("roof", (0.0, 0.0, 2 * hz - half_wall), (hx, hy, half_wall)),
        ("back", (hx - half_wall, 0.0, hz), (half_wall, hy, hz)),
        ("left", (0.0, hy - half_wall, hz), (hx, half_wall, hz)),
        ("right", (0.0, -hy + half_wall, hz), (hx, half_wall, hz)),
    )
    for name, pos, half in parts:
        scene.box(safe, f"{SAFE}_{name}", half, STEEL, pos=pos, friction=(0.6, 0.005, 0.0001))
    inner_y = hy - WALL
    for shelf in ("middle", "top"):
        z = SHELF_FLOOR[shelf] - SHELF_THICKNESS / 2
        scene.box(safe, f"{SAFE}_shelf_{shelf}", (hx - WALL / 2, inner_y, SHELF_THICKNESS / 2), STEEL_DARK,
                  pos=(-WALL / 2, 0.0, z), friction=(0.6, 0.005, 0.0001))
    # The door, swung open about its hinge at the front corner on +y.
    hinge = np.array([FRONT_X - DOOR_THICKNESS / 2, hy])
    along = np.array([-math.sin(DOOR_OPEN), -math.cos(DOOR_OPEN)])  # from the hinge to the free edge
    centre = hinge + along * hy
    door_yaw = math.atan2(along[1], along[0]) + math.pi / 2  # the door's local x across its thickness
    quat = yaw_quat(door_yaw)
    scene.box(safe, f"{SAFE}_door", (DOOR_THICKNESS / 2, hy, hz), STEEL, pos=(*centre, hz), quat=quat)
    outward = np.array([math.cos(door_yaw), math.sin(door_yaw)])  # the door's outer face
    dial = centre + outward * (DOOR_THICKNESS / 2 + 0.008)
    scene.cylinder(safe, f"{SAFE}_dial", 0.035, 0.008, STEEL_DARK, pos=(*dial, hz + 0.05),
                   quat=_axis_quat(outward), collide=False)
    handle = centre + outward * (DOOR_THICKNESS / 2 + 0.02) - along * 0.02
    scene.box(safe, f"{SAFE}_handle", (0.02, 0.012, 0.05), BRASS, pos=(*handle, hz - 0.06), quat=quat,
              collide=False)


def _axis_quat(direction: np.ndarray) -> np.ndarray:
    """Rotation taking z to a horizontal ``direction`` (a cylinder lying along it)."""
    z = np.array([direction[0], direction[1], 0.0]) / np.linalg.norm(direction[:2])
    x = np.array([0.0, 0.0, 1.0])
    return mat_to_quat(np.column_stack([x, np.cross(z, x), z]))


def _build_money(scene: SceneBuilder) -> None:
    body = scene.body(MONEY, pos=(0.2, 0.0, TABLE_TOP_Z + MONEY_HALF[2]), free=True)
    notes = scene.box(body, MONEY, MONEY_HALF, NOTE_GREEN, mass=MONEY_MASS, friction=MONEY_FRICTION)
    notes.solref = list(MONEY_SOLREF)
    scene.box(body, f"{MONEY}_band", (0.012, MONEY_HALF[1] + 0.0005, MONEY_HALF[2] + 0.0005), BAND,
              collide=False)


@register_task
class PutMoneyInSafe(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="put_money_in_safe",
        max_episode_steps=500,
        procedure=ProceduralAnnotation("pick_place", "cuboid", "downward", "container_inside"),
        description="Put the stack of bank notes on the named shelf of the open safe.",
    )
    instructions = {
        "seen": (
            "put the money away in the safe on the {shelf} shelf",
            "leave the money on the {shelf} shelf of the safe",
            "place the stack of bank notes on the {shelf} shelf of the safe",
            "store the cash on the safe's {shelf} shelf",
            "slide the bundle of notes onto the {shelf} shelf inside the safe",
        ),
        "unseen": (
            "the banknotes go in the strongbox: use its {shelf} level",
            "lock up the bills by setting them in the {shelf} compartment of the vault",
        ),
    }
    variation_count = len(SHELVES)
    tracked_bodies = (MONEY, SAFE)

    def build_scene(self, scene: SceneBuilder) -> None:
        _build_safe(scene)
        _build_money(scene)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        index = self.choose_variation(rng)
        self.shelf = SHELVES[index]

        def draw() -> TaskFrame | None:
            frame = sample_frame(rng, YAW_BOUNDS, x_range=X_RANGE, y_range=Y_RANGE)
            centre = np.array([rng.uniform(*MONEY_X), rng.uniform(*MONEY_Y), MONEY_HALF[2] + 0.0005])
            yaw = rng.uniform(*MONEY_YAW)
            self.frame = frame
            sim.set_body_pose(SAFE, frame.pos, frame.quat)
            sim.set_free_pose(MONEY, frame.point(centre), yaw_quat(frame.yaw + yaw))
            sim.forward()
            corners = [frame.point((centre[0] + sx * MONEY_HALF[0] * math.cos(yaw) - sy * MONEY_HALF[1] * math.sin(yaw),
                                    centre[1] + sx * MONEY_HALF[0] * math.sin(yaw) + sy * MONEY_HALF[1] * math.cos(yaw),
                                    0.0)) for sx in (-1, 1) for sy in (-1, 1)]
            if in_prop_area(corners) and reachable(sim, self._waypoints(sim), ignore=[MONEY]):
                return frame
            return None

        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(index)

    def variation_placeholders(self, index: int) -> dict[str, str]:
        return {"shelf": SHELVES[index]}

    # -- geometry -------------------------------------------------------------------------------
    @property
    def _inward(self) -> np.ndarray:
        """Into the safe, in the world."""
        return self.frame.direction((1.0, 0.0, 0.0))

    def _money_axis(self, sim: Simulation) -> np.ndarray:
        """The stack's long axis in the world, the end pointing into the safe's side forward."""
        axis = sim.body_mat(MONEY)[:, 0].copy()
        axis[2] = 0.0
        axis /= np.linalg.norm(axis)
        return axis if axis @ self._inward >= 0 else -axis

    @staticmethod
    def _hand_quat(heading: np.ndarray) -> np.ndarray:
        """Pointing down, the fingers closing across the horizontal ``heading`` (the finger axis
        on the heading's right, as at the start pose when the heading is away from the robot)."""
        return gripper_quat((0.0, 0.0, -1.0), (heading[1], -heading[0], 0.0))

    def _grasp_tcp(self, centre: np.ndarray, axis: np.ndarray) -> np.ndarray:
        """TCP at the stack's rear end (``centre``: its centre, ``axis``: toward its front)."""
        point = centre - axis * (MONEY_HALF[0] - GRASP_FROM_REAR)
        point[2] = centre[2] - MONEY_HALF[2] + GRASP_HEIGHT
        return point

    def _money_goal(self, depth: float, height: float) -> np.ndarray:
        """World centre of the stack on the named shelf, its front end ``depth`` past the front
        face, its underside ``height`` above the shelf floor."""
        local = (FRONT_X + depth - MONEY_HALF[0], 0.0, SHELF_FLOOR[self.shelf] + height + MONEY_HALF[2])
        return self.frame.point(local)

    @property
    def _insert_depth(self) -> float:
        """How far the stack's front end goes in with the TCP TCP_OUTSIDE in front of the face."""
        return 2 * MONEY_HALF[0] - GRASP_FROM_REAR - TCP_OUTSIDE

    def _insert_tcps(self) -> list[np.ndarray]:
        """TCP positions holding the stack (nominal grasp): above the pre-insert point, at it,
        in, and down on the shelf."""
        quat_mat = quat_to_mat(self._hand_quat(self._inward[:2]))
        offset = quat_mat @ self._nominal_offset()

        def tcp(money: np.ndarray) -> np.ndarray:
            return money - offset

        pre = tcp(self._money_goal(-PRE_INSERT, SLIDE_HEIGHT))
        return [pre + (0, 0, 0.04), pre, tcp(self._money_goal(self._insert_depth, SLIDE_HEIGHT)),
                tcp(self._money_goal(self._insert_depth, 0.002))]

    def _nominal_offset(self) -> np.ndarray:
        """The stack's centre in the TCP frame for the designed grasp."""
        heading = np.array([1.0, 0.0])
        mat = quat_to_mat(self._hand_quat(heading))
        centre = np.array([0.0, 0.0, MONEY_HALF[2]])
        tcp = self._grasp_tcp(centre, np.array([1.0, 0.0, 0.0]))
        return mat.T @ (centre - tcp)

    def _retreat_tcp(self) -> np.ndarray:
        """After letting go: straight up and back out from the safe."""
        return self._insert_tcps()[-1] + (0.0, 0.0, RETREAT) - self._inward * RETREAT

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        axis = self._money_axis(sim)
        grasp = self._grasp_tcp(sim.body_pos(MONEY), axis)
        pick_quat = self._hand_quat(axis[:2])
        insert_quat = self._hand_quat(self._inward[:2])
        high = np.array([*grasp[:2], self.frame.pos[2] + HIGH])
        return [(high, pick_quat), (grasp + (0, 0, LIFT), pick_quat), (grasp, pick_quat),
                (grasp + (0, 0, LIFT), pick_quat), (grasp + (0, 0, LIFT), insert_quat),
                *[(p, insert_quat) for p in self._insert_tcps()],
                (self._retreat_tcp(), insert_quat)]

    # -- episode --------------------------------------------------------------------------------
    def _sensor_hit(self, sim: Simulation, shelf: str) -> bool:
        inner_x = (FRONT_X + 0.01, SAFE_HALF[0] - WALL)
        centre = self.frame.point(((inner_x[0] + inner_x[1]) / 2, 0.0, SHELF_FLOOR[shelf] + SENSOR_HEIGHT / 2))
        half = ((inner_x[1] - inner_x[0]) / 2, SAFE_HALF[1] - WALL, SENSOR_HEIGHT / 2)
        return boxes_overlap(centre, self.frame.rotation, half, sim.body_pos(MONEY), sim.body_mat(MONEY), MONEY_HALF)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        released = not sim.touches_robot(MONEY) and sim.body_speed(MONEY) < REST_SPEED
        return all_of(money_on_shelf=self._sensor_hit(sim, self.shelf), money_released_at_rest=released)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        arm, robot = self.arm, motion.robot
        axis = self._money_axis(sim)
        grasp = self._grasp_tcp(sim.body_pos(MONEY), axis)
        pick_quat = self._hand_quat(axis[:2])
        high = np.array([*grasp[:2], self.frame.pos[2] + HIGH])
        yield from motion.move(arm, high, pick_quat, steps=30, gripper=robot.gripper_open)
        yield from motion.line(arm, grasp + (0, 0, LIFT), pick_quat, steps=16, segments=2)
        yield from motion.line(arm, grasp, pick_quat, steps=30, segments=5)
        yield from motion.wait(4)
        yield from motion.gripper(arm, robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        yield from motion.line(arm, grasp + (0, 0, LIFT), pick_quat, steps=24, segments=2)
        # Turn the stack to point into the safe where it is (slowly: a fast turn twists it in the
        # fingers), measure where it sits in the hand, and aim the insertion with it.
        insert_quat = self._hand_quat(self._inward[:2])
        yield from motion.move(arm, grasp + (0, 0, LIFT), insert_quat, steps=30)
        yield from motion.wait(3)
        held = sim.tcp_mat(arm).T @ (sim.body_pos(MONEY) - sim.tcp_pos(arm))
        offset = quat_to_mat(insert_quat) @ (held - self._nominal_offset())
        above, pre, inside, down = (p - offset for p in self._insert_tcps())
        yield from motion.move(arm, above, insert_quat, steps=50)
        yield from motion.line(arm, pre, insert_quat, steps=12, segments=2)
        yield from motion.line(arm, inside, insert_quat, steps=36, segments=5)
        yield from motion.line(arm, down, insert_quat, steps=8, segments=1)
        yield from motion.gripper(arm, robot.gripper_open, steps=8)
        yield from motion.wait(3)
        yield from motion.line(arm, self._retreat_tcp() - offset, insert_quat, steps=12, segments=1)

    def trace(self, sim: Simulation) -> str:
        local = self.frame.local(sim.body_pos(MONEY))
        return f"{self.shelf} money(base)={local.round(3)}"

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        """Stages: grasp the stack (at its rear end), then place it (its centre on the shelf),
        which stays the stage once it lies there."""
        if sim.is_grasped(self.arm, MONEY) or self._sensor_hit(sim, self.shelf):
            return self.state_from_spec(sim, self._money_goal(self._insert_depth, 0.0), "place_money")
        return self.state_from_spec(sim, self._grasp_tcp(sim.body_pos(MONEY), self._money_axis(sim)), "grasp_money")
