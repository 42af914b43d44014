"""water_plants: pick up the watering can by its handle and pour water onto the potted plant.

Description:
    A green watering can stands on the table beside a potted plant. The Panda grasps the can's
    handle from above, lifts it, carries it until the spout's mouth is over the pot and tilts it
    forward, so the water runs down the spout onto the soil (RLBench ``water_plants``, an
    AGNOSTOS level-2 unseen task).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the can and the pot.
Success:
    RLBench spawns five 5 mm drops at the spout once the spout reaches a sensor above the plant
    and succeeds when all five are detected by the ``success`` sensor at the plant. Here the can
    holds real water from the start: ``WATER_COUNT`` small frictionless spheres inside its
    closed tank, which run out only through the spout, and only when the can is tilted enough
    for the spout to slope down. Success is ``watered``: at least five of them (RLBench's
    count) lie inside the pot, over its soil and below a level 3 cm above its rim.

    **Fidelity:** RLBench: ``DetectedCondition`` of all 5 spawned drops in the plant's
    ``success`` sensor (the drops appear only once the spout has reached the pour point);
    ours: the water is simulated as 20 frictionless 11 mm spheres that leave the can only by
    the spout and only when it is tipped, and 5 of them must be in the pot. The simplification
    (spheres instead of a fluid; a few more of them, since not every sphere of a short pour
    lands in the pot) keeps the meaning: water that came out of the can's spout is on the
    plant's soil, which nothing but pouring from the can over the pot can bring about.
Starting state:
    RLBench's ``water_plants.ttm`` is not in the reference data, so the geometry is ours at
    realistic sizes (see Geometry). The task base is placed at x 0.10..0.35, y -0.2..0.2 with a
    yaw in [-pi, pi] (RLBench's default bounds); the can stands 12 cm to one side of the base
    with its spout pointing along the base's x, the pot 12 cm to the other side. Placements
    whose grasp, carry and tilt waypoints have no collision-free IK solution are drawn again
    (RLBench's placement check).
Geometry:
    The can: a closed 9.8 x 7.8 x 8.8 cm tank (4 mm walls, 0.1 kg), a handle bar of 1.4 x 3 cm
    section on 4.5 cm posts across its top, and a 12 cm spout of 2.6 x 1.8 cm bore rising at
    30 degrees from the tank's front foot, with two baffles in the tank's front corners
    funnelling the water to its inlet. The fingers close on the bar's 1.4 cm width along the
    spout's direction: turning the can about the bar would have to prise the pads 3 cm apart,
    so the tilt does not twist it out (it turns a few degrees in the fingers; the expert tips
    its hand until the can itself leans 60 degrees). Water leaves once the can is tipped more
    than about 30 degrees. The water: 20 spheres of 11 mm (2 g), frictionless, on three slide
    joints each (a frictionless sphere never needs to turn, and slides have half a free
    joint's degrees of freedom); with them a physics step costs several times
    close_microwave's, which is why there are no more of them. The pot: 12 x 12 cm, 10 cm
    tall, terracotta, its soil 2.5 cm below the rim, a small plant on it (stem and leaves,
    visual only, so they do not catch the water).
Variations:
    1 (as in RLBench).
Episode end:
    Success, or 400 control steps (20 s at 20 Hz; the expert's longest episode on seeds 0-49 and
    100000-100049 took 196 steps, so the limit is about 2x).
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
from vlapro_bench.sim.geometry import gripper_down_quat, mat_to_quat, nearest_symmetric_yaw, quat_to_mat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._pick_and_carry import table_point

CAN = "watering_can"
POT = "plant_pot"
WATER_COUNT = 20
#: RLBench's WATER_NUM: how many drops must reach the plant.
WATERED = 5
YAW_BOUNDS = (-math.pi, math.pi)
X_RANGE = (0.10, 0.35)
Y_RANGE = (-0.2, 0.2)
#: Base-frame spots of the can's tank centre and of the pot's centre.
CAN_XY = (0.0, -0.12)
POT_XY = (0.0, 0.12)

# -- the can, in its own frame: x along the spout, z up, origin at the tank's bottom centre ----
WALL = 0.004
TANK_IN = (0.045, 0.035)  # inner half extents
TANK_H = 0.08  # inner height
CH_W, CH_H = 0.026, 0.018  # the spout's bore: width, height
CH_LEN = 0.12
CH_ANGLE = math.radians(30)
OPENING = 0.026  # height of the hole at the front wall's foot
POST_H = 0.045
BAR_HALF = (0.007, 0.034, 0.015)
#: Density of the can's plastic shell (kg/m^3): a 0.1 kg can.
SHELL_DENSITY = 400.0
CAN_RGBA = (0.15, 0.55, 0.3, 1.0)
WATER_RADIUS = 0.0055
WATER_MASS = 0.002
WATER_RGBA = (0.1, 0.35, 0.95, 1.0)
#: The water's slide joints are limited only so far out (m from the world origin) that the
#: limits never act.
SLIDE_RANGE = (-5.0, 5.0)

# -- the pot ----------------------------------------------------------------------------------
POT_HALF = 0.06
POT_H = 0.10
POT_WALL = 0.006
SOIL_TOP = 0.075
POT_RGBA = (0.72, 0.36, 0.2, 1.0)
SOIL_RGBA = (0.3, 0.2, 0.12, 1.0)
LEAF_RGBA = (0.2, 0.6, 0.15, 1.0)
#: Water counts as on the plant up to this far above the rim.
ABOVE_RIM = 0.03

# -- the expert -------------------------------------------------------------------------------
#: The TCP closes on the bar's centre.
LIFT = 0.12
#: Where the spout's mouth is brought: over the pot, 3 cm from its centre toward the can (off
#: the stem), this far above the rim.
MOUTH_ABOVE_RIM = 0.07
MOUTH_OFFSET = 0.0
#: The can is tipped until it leans this far; the hand turns up to HAND_TILT for it, in steps
#: of TILT_STEP (the can turns a little in the fingers under its weight).
POUR_TILT = math.radians(60)
HAND_TILT = math.radians(80)
TILT_STEP = math.radians(10)
TILT_WAYPOINTS = 4


def _spout_frame() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The spout's bore: start of its floor line, its direction and its up normal (can frame)."""
    start = np.array([TANK_IN[0], 0.0, WALL])
    direction = np.array([math.cos(CH_ANGLE), 0.0, math.sin(CH_ANGLE)])
    normal = np.array([-math.sin(CH_ANGLE), 0.0, math.cos(CH_ANGLE)])
    return start, direction, normal


def spout_mouth() -> np.ndarray:
    """Centre of the spout's mouth in the can's frame."""
    start, direction, normal = _spout_frame()
    return start + direction * CH_LEN + normal * CH_H / 2


BAR_Z = 2 * WALL + TANK_H + POST_H


def _build_can(scene: SceneBuilder) -> None:
    can = scene.body(CAN, pos=(0.25, -0.3, 1.0), free=True)
    ox, oy = TANK_IN[0] + WALL, TANK_IN[1] + WALL
    w2 = WALL / 2
    top = WALL + TANK_H
    boxes = {
        "floor": ((0.0, 0.0, w2), (ox, oy, w2)),
        "lid": ((0.0, 0.0, top + w2), (ox, oy, w2)),
        "back": ((-TANK_IN[0] - w2, 0.0, WALL + TANK_H / 2), (w2, oy, TANK_H / 2)),
        "left": ((0.0, TANK_IN[1] + w2, WALL + TANK_H / 2), (ox, w2, TANK_H / 2)),
        "right": ((0.0, -TANK_IN[1] - w2, WALL + TANK_H / 2), (ox, w2, TANK_H / 2)),
        "front": ((TANK_IN[0] + w2, 0.0, WALL + (OPENING + TANK_H) / 2), (w2, oy, (TANK_H - OPENING) / 2)),
    }
    side = (oy - CH_W / 2) / 2
    for sign, label in ((1, "front_l"), (-1, "front_r")):
        boxes[label] = ((TANK_IN[0] + w2, sign * (CH_W / 2 + side), WALL + OPENING / 2), (w2, side, OPENING / 2))
    for sign, label in ((1, "post_l"), (-1, "post_r")):
        boxes[label] = ((0.0, sign * 0.03, top + WALL + POST_H / 2), (0.005, 0.004, POST_H / 2))
    boxes["handle"] = ((0.0, 0.0, BAR_Z), BAR_HALF)
    for label, (pos, half) in boxes.items():
        scene.box(can, f"{CAN}_{label}", half, CAN_RGBA, pos=pos).density = SHELL_DENSITY
    # Two baffles at 45 degrees in the tank's front corners funnel the water to the spout's
    # inlet, so no drop is left in a corner beside it.
    reach = TANK_IN[1] - CH_W / 2
    for sign, label in ((1, "baffle_l"), (-1, "baffle_r")):
        yaw = math.atan2(sign * reach, -reach)
        centre = (TANK_IN[0] - reach / 2, sign * (CH_W / 2 + reach / 2), WALL + TANK_H / 2)
        scene.box(can, f"{CAN}_{label}", (reach * math.sqrt(0.5), w2, TANK_H / 2), CAN_RGBA, pos=centre,
                  quat=(math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))).density = SHELL_DENSITY
    start, direction, normal = _spout_frame()
    quat = (math.cos(-CH_ANGLE / 2), 0.0, math.sin(-CH_ANGLE / 2), 0.0)
    middle = start + direction * CH_LEN / 2
    plates = {
        "spout_floor": (middle - normal * w2, (CH_LEN / 2, CH_W / 2 + WALL, w2)),
        "spout_roof": (middle + normal * (CH_H + w2), (CH_LEN / 2, CH_W / 2 + WALL, w2)),
        "spout_l": (middle + normal * CH_H / 2 + (0, CH_W / 2 + w2, 0), (CH_LEN / 2, w2, CH_H / 2)),
        "spout_r": (middle + normal * CH_H / 2 - (0, CH_W / 2 + w2, 0), (CH_LEN / 2, w2, CH_H / 2)),
    }
    for label, (pos, half) in plates.items():
        scene.box(can, f"{CAN}_{label}", half, CAN_RGBA, pos=tuple(pos), quat=quat).density = SHELL_DENSITY


def _build_pot(scene: SceneBuilder) -> None:
    pot = scene.body(POT, pos=(0.25, 0.3, TABLE_TOP_Z))
    inner = POT_HALF - POT_WALL
    h2 = POT_H / 2
    for label, pos, half in (
        ("front", (inner + POT_WALL / 2, 0.0, h2), (POT_WALL / 2, POT_HALF, h2)),
        ("back", (-inner - POT_WALL / 2, 0.0, h2), (POT_WALL / 2, POT_HALF, h2)),
        ("left", (0.0, inner + POT_WALL / 2, h2), (inner, POT_WALL / 2, h2)),
        ("right", (0.0, -inner - POT_WALL / 2, h2), (inner, POT_WALL / 2, h2)),
    ):
        scene.box(pot, f"{POT}_{label}", half, POT_RGBA, pos=pos)
    scene.box(pot, f"{POT}_soil", (inner, inner, SOIL_TOP / 2), SOIL_RGBA, pos=(0.0, 0.0, SOIL_TOP / 2))
    scene.cylinder(pot, f"{POT}_stem", 0.005, 0.05, LEAF_RGBA, pos=(0.0, 0.0, SOIL_TOP + 0.05), collide=False)
    for k, angle in enumerate((0.3, 2.4, 4.4)):
        c, s = math.cos(angle), math.sin(angle)
        scene.ellipsoid(pot, f"{POT}_leaf{k}", (0.035, 0.014, 0.005), LEAF_RGBA,
                        pos=(0.025 * c, 0.025 * s, SOIL_TOP + 0.06 + 0.015 * k),
                        quat=(math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2)), collide=False)


def _water_spots() -> list[np.ndarray]:
    """Where the water spheres start, in the can's frame: one layer on the tank's floor."""
    spacing = 2 * WATER_RADIUS + 0.002
    xs = np.arange(4) * spacing - 1.5 * spacing
    ys = np.arange(5) * spacing - 2 * spacing
    return [np.array([x, y, WALL + WATER_RADIUS + 0.0005]) for x in xs for y in ys][:WATER_COUNT]


WATER_SPOTS = _water_spots()
WATER = tuple(f"water{k}" for k in range(WATER_COUNT))


def _axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix of ``angle`` about the unit ``axis`` (Rodrigues)."""
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + math.sin(angle) * k + (1.0 - math.cos(angle)) * k @ k


@register_task
class WaterPlants(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="water_plants",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("pour", "container", "tilted", "handle"),
        description="Pick up the watering can by its handle and pour water onto the plant.",
    )
    instructions = {
        "seen": (
            "water the plant",
            "lift the watering can by its handle and water the plant with it",
            "pour a little water onto the plant",
            "the plant is thirsty, give it some water",
            "tip water from the watering can into the flower pot",
            "wet the soil of the plant",
        ),
        "unseen": (
            "grab the green can and sprinkle its contents over the potted greenery",
            "hydrate the houseplant using the can beside it",
        ),
    }
    variation_count = 1
    tracked_bodies = (CAN, POT)

    def build_scene(self, scene: SceneBuilder) -> None:
        _build_can(scene)
        _build_pot(scene)
        for name in WATER:
            # Three slides instead of a free joint: a frictionless sphere never needs to turn,
            # and half the degrees of freedom halve the solver's work.
            body = scene.body(name)
            for axis, label in zip(np.eye(3), "xyz", strict=True):
                scene.slide(body, f"{name}_{label}", axis, SLIDE_RANGE, damping=0.0)
            geom = scene.sphere(body, name, WATER_RADIUS, WATER_RGBA, mass=WATER_MASS, friction=(0.0, 0.0, 0.0))
            # Frictionless, and their contact settings win over the other geom's: the spheres
            # flow like a liquid instead of rolling and jamming.
            geom.condim = 1
            geom.priority = 1

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        index = self.choose_variation(rng)
        def draw() -> TaskFrame | None:
            self.frame = frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            self._place(sim, frame)
            sim.forward()
            if reachable(sim, self._waypoints(sim)):
                return frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(index)

    def _place(self, sim: Simulation, frame: TaskFrame) -> None:
        can_pos = table_point(frame, CAN_XY, 0.0005)
        sim.set_free_pose(CAN, can_pos, frame.quat)
        sim.set_body_pose(POT, table_point(frame, POT_XY, 0.0), frame.quat)
        for name, spot in zip(WATER, WATER_SPOTS, strict=True):
            for label, value in zip("xyz", can_pos + frame.rotation @ spot, strict=True):
                sim.set_joint_qpos(f"{name}_{label}", value)

    # -- geometry of the live state -----------------------------------------------------------
    def _heading(self) -> float:
        """The spout's yaw at the start (the base's x)."""
        return self.frame.yaw

    def _finger_yaw(self, sim: Simulation) -> float:
        """Fingers closing along the spout's direction (across the bar), near the natural yaw."""
        return nearest_symmetric_yaw(self._heading(), sim.robot.natural_yaw[self.arm], math.pi)

    def _mouth_goal(self) -> np.ndarray:
        """Where the expert brings the spout's mouth: over the pot, off the stem toward the can."""
        goal = table_point(self.frame, POT_XY, POT_H + MOUTH_ABOVE_RIM)
        return goal - self.frame.direction((MOUTH_OFFSET, 0.0, 0.0))

    def _tilt_axis(self) -> np.ndarray:
        """World axis the can turns about to tip its spout down (its own y)."""
        return self.frame.direction((0.0, 1.0, 0.0))

    def _pour_poses(self, grasp_quat: np.ndarray, mouth_in_hand: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """TCP poses that keep the mouth over its goal while the can tips from upright to POUR_TILT."""
        hand = quat_to_mat(grasp_quat)
        poses = []
        for tilt in np.linspace(0.0, POUR_TILT, TILT_WAYPOINTS + 1):
            turned = _axis_rotation(self._tilt_axis(), float(tilt)) @ hand
            poses.append((self._mouth_goal() - turned @ mouth_in_hand, mat_to_quat(turned)))
        return poses

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        quat = gripper_down_quat(self._finger_yaw(sim))
        grasp = sim.body_pos(CAN) + sim.body_mat(CAN) @ (0.0, 0.0, BAR_Z)
        mouth_in_hand = quat_to_mat(quat).T @ (sim.body_mat(CAN) @ (spout_mouth() - (0.0, 0.0, BAR_Z)))
        pour = self._pour_poses(quat, mouth_in_hand)
        return [(grasp + (0, 0, 0.1), quat), (grasp, quat), (grasp + (0, 0, LIFT), quat),
                (pour[0][0] + (0, 0, 0.04), quat), *pour]

    def water_on_plant(self, sim: Simulation) -> int:
        """How many water spheres lie in the pot, over the soil and below ABOVE_RIM over the rim."""
        count = 0
        inner = POT_HALF - POT_WALL
        for name in WATER:
            local = self.frame.local(sim.body_pos(name)) - (*POT_XY, 0.0)
            if abs(local[0]) < inner and abs(local[1]) < inner and SOIL_TOP < local[2] < POT_H + ABOVE_RIM:
                count += 1
        return count

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(watered=self.water_on_plant(sim) >= WATERED)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        yaw = self._finger_yaw(sim)
        quat = gripper_down_quat(yaw)
        grasp = sim.body_pos(CAN) + sim.body_mat(CAN) @ (0.0, 0.0, BAR_Z)
        yield from motion.move(self.arm, grasp + (0.0, 0.0, 0.10), quat, steps=30, gripper=motion.robot.gripper_open)
        yield from motion.line(self.arm, grasp, quat, steps=20, segments=2)
        yield from motion.gripper(self.arm, 0.0, steps=10)
        yield from motion.wait(4)
        yield from motion.line(self.arm, grasp + (0.0, 0.0, LIFT), quat, steps=24, segments=2)
        # The mouth's offset from the TCP, as the can hangs in the hand now.
        tcp = sim.tcp_pos(self.arm)
        mouth = sim.body_pos(CAN) + sim.body_mat(CAN) @ spout_mouth()
        mouth_in_hand = quat_to_mat(quat).T @ (mouth - tcp)
        pour = self._pour_poses(quat, mouth_in_hand)
        yield from motion.move(self.arm, pour[0][0] + (0.0, 0.0, 0.04), quat, steps=45)
        yield from motion.line(self.arm, pour[0][0], quat, steps=10, segments=1)
        # Tip the hand step by step, each time aiming with the mouth's live offset from the
        # hand, until the can itself leans POUR_TILT.
        hand = quat_to_mat(quat)
        for tilt in np.arange(TILT_STEP, HAND_TILT + 1e-6, TILT_STEP):
            mouth = sim.body_pos(CAN) + sim.body_mat(CAN) @ spout_mouth()
            mouth_in_hand = sim.tcp_mat(self.arm).T @ (mouth - sim.tcp_pos(self.arm))
            turned = _axis_rotation(self._tilt_axis(), float(tilt)) @ hand
            yield from motion.move(self.arm, self._mouth_goal() - turned @ mouth_in_hand, mat_to_quat(turned), steps=10)
            if self.can_tilt(sim) >= POUR_TILT:
                break
        yield from motion.wait(40)

    def can_tilt(self, sim: Simulation) -> float:
        """How far the can leans from upright (rad)."""
        return math.acos(float(np.clip(sim.body_mat(CAN)[2, 2], -1.0, 1.0)))

    def trace(self, sim: Simulation) -> str:
        return f"water_on_plant={self.water_on_plant(sim)}"

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if sim.is_grasped(self.arm, CAN) and sim.body_pos(CAN)[2] > TABLE_TOP_Z + 0.03:
            return self.state_from_spec(sim, self._mouth_goal(), "pour")
        grasp = sim.body_pos(CAN) + sim.body_mat(CAN) @ (0.0, 0.0, BAR_Z)
        return self.state_from_spec(sim, grasp, "grasp")



