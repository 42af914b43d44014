"""dump_bin_bigbin: the left arm empties a small desk bin full of balls into a big bin.

Description:
    A small desk bin holding five small balls stands on the table near the robot, and a big
    bin stands on the table's left end. The left arm takes the small bin by its front wall,
    lifts it over the big bin and tips it (its mouth turned 45 degrees past horizontal) until
    the balls roll out, shaking it three times.
    When the small bin stands on the right half of the table, the right arm first takes it and
    sets it down in the middle of the table, where the left arm takes it over, as upstream
    (RoboTwin 2.0 ``dump_bin_bigbin``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the small bin, the big bin, then two of the balls.
Success:
    The small bin's origin (the centre of its bottom) is more than 0.259 m above the table and
    every ball lies inside the big bin (over its floor, below its rim) at rest.
    Fidelity: upstream asks that the desk bin's origin is above z = 1.0, 0.259 m above the
    table top it stands on (0.741), and that every ball is between 0.13 and 0.25 m above the
    floor, i.e. inside its big bin, which stands on the floor beside the table. Our arms stand
    at the table's two ends, so the floor beside the table is under the left arm's base; our
    big bin stands on the table's left end instead, and "inside" is its inner box. We keep the
    0.259 m lift and ask the balls to be at rest, so a ball still bouncing is not counted.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): the small bin at x in [-0.2, 0.2]
    with |x| >= 0.05, y in [0.3, 0.45], turned by up to 21 degrees (pi / 8.5) either way; the
    five balls (1.6 cm across, as upstream's five spheres) inside it, within 1.5 cm of its
    centre. The big bin is fixed at (-0.29, 0.72). The small bin is our own model (upstream's
    ``063_tabletrashbin``, six models): an open square bin 10.4 cm across and 10 cm tall, its
    colour one of five; the big bin (upstream's ``011_dustbin``) is an open box 20 cm across
    and 12 cm tall with a 2 cm floor. The number and size of the balls are upstream's; ours
    weigh 2 g each (upstream's 0.1 g; we kept to a mass the contact solver is used to) and have
    a little rolling friction, so they come to rest on a floor. Their colour is one of four.
Episode end:
    Success, or 600 control steps (24 s at 25 Hz; the expert needs at most 375 on seeds 0-49).
    Upstream's evaluation limit is 600 policy actions.
Version history:
    v0: first version (splits zw7 and all50).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from itertools import product

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.geometry import (
    gripper_down_quat,
    gripper_tilted_quat,
    nearest_symmetric_yaw,
    quat_to_mat,
    yaw_quat,
)
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import COLOURS, REST_SPEED, SURFACE_FRICTION, catch_floor
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import NATURAL_YAW
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask

SMALL, BIG = "desk_bin", "big_bin"
BALLS = tuple(f"ball{i}" for i in range(5))
#: Small bin: inner half-width, wall thickness, height (m); big bin: inner half-width, wall
#: height, and its fixed centre.
SMALL_HALF, SMALL_WALL, SMALL_HEIGHT, FLOOR = 0.044, 0.008, 0.10, 0.004
BIG_HALF, BIG_HEIGHT, BIG_XY = 0.10, 0.12, (-0.29, 0.72)
#: The big bin's floor is thick, so a ball falling fast cannot pass through it in one step.
BIG_FLOOR = 0.02
BALL_RADIUS, BALL_MASS = 0.008, 0.002
#: Rolling friction of the balls (m): about 1.2 m/s^2 of braking on a level floor.
BALL_ROLLING_FRICTION = 0.001
#: Upstream's lift rule: the desk bin's origin 0.259 m above the table (z > 1.0 over 0.741).
LIFT_MIN = 0.259
#: Upstream's ranges in our frame (upstream y + 0.5) and its turn about the vertical.
SMALL_X, SMALL_Y, MIN_ABS_X, TURN = (-0.2, 0.2), (0.3, 0.45), 0.05, math.pi / 8.5
#: Where the right arm sets the bin down for the left arm (upstream's middle pose).
MIDDLE = (0.0, 0.4)
BIN_COLOURS = {
    "grey": (0.5, 0.52, 0.55, 1), "black": (0.14, 0.14, 0.15, 1), "white": (0.9, 0.9, 0.88, 1),
    "blue": (0.2, 0.38, 0.78, 1), "green": (0.25, 0.6, 0.35, 1),
}
BIN_HUES = {"grey": "slate", "black": "ebony", "white": "ivory", "blue": "cobalt", "green": "emerald"}
BALL_COLOURS = ("red", "yellow", "orange", "pink")
BIG_COLOUR = (0.35, 0.42, 0.36, 1)
#: Expert: TCP below the small bin's rim when gripping its wall; the pour's tilt of the gripper
#: above horizontal (the bin's mouth then faces 30 degrees below horizontal, back toward the
#: arm); where the bin's mouth is held, above the big bin's rim and toward the arm from its centre.
GRIP_BELOW_RIM, POUR_PITCH, MOUTH_ABOVE_RIM, MOUTH_BACK = 0.055, -math.pi / 4, 0.13, 0.03
#: Expert: the tilt is split into this many waypoints of this many control steps each.
TILT_WAYPOINTS, TILT_STEPS = 6, 6
#: Expert: how far along the front wall, from its middle, the pouring arm grips it (m).
GRIP_ALONG = 0.02
#: Expert: each of the three shakes tips the bin this much further (rad) and back.
SHAKE = 0.3


def open_bin(scene: SceneBuilder, name: str, half: float, height: float, wall: float, floor: float, free: bool,
             rgba: Sequence[float], mass: float = 0.05) -> tuple[str, ...]:
    """A square open bin (floor and four walls as separate boxes, so it is really hollow), its
    origin at the centre of its bottom face. Returns its geoms."""
    body = scene.body(name, pos=(0.0, 0.5, 0.0) if free else (BIG_XY[0], BIG_XY[1], 0.0), free=free)
    h = (height - floor) / 2
    z = floor + h
    outer = half + wall
    parts = [("floor", (outer, outer, floor / 2), (0, 0, floor / 2)),
             ("wall_n", (outer, wall / 2, h), (0, half + wall / 2, z)),
             ("wall_s", (outer, wall / 2, h), (0, -half - wall / 2, z)),
             ("wall_e", (wall / 2, half, h), (half + wall / 2, 0, z)),
             ("wall_w", (wall / 2, half, h), (-half - wall / 2, 0, z))]
    kw = {"mass": mass / 5} if free else {}
    return tuple(scene.box(body, f"{name}_{tag}", size, tuple(rgba), pos=pos, friction=SURFACE_FRICTION, **kw).name
                 for tag, size, pos in parts)


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and phrases.

    ``{A}`` is the small bin (drawn from ``descriptions`` per episode).
    """
    verbs = ("Empty", "Dump", "Pour out", "Tip out")
    what = ("the balls in the {A}", "the {A}", "the {A} and its balls")
    where = ("into the big bin", "into the large bin", "over the big bin")
    seen = [f"{v} {w} {t}." for v, (w, t) in product(verbs, zip(what, where, strict=True))]
    seen += [f"{v} {w} {t} with the left arm." for v, (w, t) in product(verbs, zip(what, where[::-1], strict=True))]
    seen += [f"Pick up the {{A}} and {v.lower()} it {t}." for v, t in product(verbs[:2], where)]
    seen += [
        "Grab the {A} and pour its balls into the big bin.",
        "Lift the {A} with the left arm and empty it into the big bin.",
        "Use the left arm to dump the {A} into the big bin.",
        "Pick up the {A}, hold it over the big bin and tip the balls out.",
        "Pour the balls from the {A} into the big bin.",
        "Tip the {A} over the big bin so the balls fall in.",
        "Move the {A} above the big bin and empty it.",
        "Shake the balls out of the {A} into the big bin.",
        "Hand the {A} to the left arm if needed, then dump it into the big bin.",
        "Get the balls from the {A} into the big bin.",
        "Lift the {A} and turn it over above the big bin.",
        "Take the {A} and pour everything in it into the large bin.",
        "Dump the contents of the {A} into the big bin.",
        "Empty the {A}: pour its balls into the big bin.",
        "With the left gripper, pick up the {A} and empty it into the big bin.",
        "Hold the {A} over the large bin and shake the balls out.",
        "Put the balls of the {A} into the big bin by pouring.",
        "Raise the {A} above the big bin and tilt it to empty it.",
        "Carry the {A} to the big bin and dump the balls.",
        "Pick the {A} up and tip it over the large bin.",
        "Use the left arm to empty the {A} into the large bin.",
        "Turn the {A} upside down over the big bin.",
        "Pour what is in the {A} into the big bin.",
        "Transfer the balls from the {A} to the big bin.",
        "Grab the {A}, lift it over the big bin and pour out the balls.",
    ]
    unseen = (
        "Decant the {A} into the oversized receptacle.",
        "Unload every marble from the {A} into the tall receptacle.",
        "Upend the {A} above the roomy receptacle.",
        "Hoist the {A} and let its marbles tumble into the receptacle.",
        "Invert the {A} so its marbles drop into the oversized receptacle.",
        "Jiggle the marbles out of the {A} and into the receptacle.",
        "Clear the {A} by tipping its marbles into the roomy receptacle.",
        "Have your left hand upend the {A} over the receptacle.",
        "Send the marbles in the {A} tumbling into the tall receptacle.",
        "Spill the {A}'s marbles into the oversized receptacle.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


def _reachable(motion: Motion, arm: str, pos: np.ndarray, quat: np.ndarray) -> bool:
    """Whether :meth:`Motion.solve` finds the pose (from the commanded joints or the ready pose)."""
    for seed in (motion.action, motion.robot.home_action()):
        if motion.ik.solve(arm, pos, quat, seed[motion.robot.arm_slice(arm)]).converged:
            return True
    return False


@register_task
class DumpBinBigbin(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="dump_bin_bigbin",
        max_episode_steps=600,
        procedure=ProceduralAnnotation("pour", "container", "tilted", "rim"),
        description="Hand the small bin to the left arm if needed and pour its balls into the big bin.",
    )
    instructions = _templates()
    descriptions = {
        "A": {"seen": ("small bin", "{colour} small bin", "desk bin", "{colour} desk bin"),
              "unseen": ("wastebasket", "{hue} wastebasket", "{hue} tabletop trash can")},
    }
    tracked_bodies = (SMALL, BIG, BALLS[0], BALLS[4])

    def build_scene(self, scene: SceneBuilder) -> None:
        self.small_geoms = open_bin(scene, SMALL, SMALL_HALF, SMALL_HEIGHT, SMALL_WALL, FLOOR, True,
                                    BIN_COLOURS["grey"])
        open_bin(scene, BIG, BIG_HALF, BIG_HEIGHT, 0.008, BIG_FLOOR, False, BIG_COLOUR)
        for i, ball in enumerate(BALLS):
            body = scene.body(ball, pos=(0.3 + 0.03 * i, 0.8, BALL_RADIUS), free=True)
            geom = scene.sphere(body, ball, BALL_RADIUS, COLOURS["red"], mass=BALL_MASS)
            # Some rolling resistance, so a ball that lands on a floor comes to rest.
            geom.condim = 6
            geom.friction = [1.0, 0.005, BALL_ROLLING_FRICTION]
        catch_floor(scene)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        def draw() -> tuple[float, float] | None:
            x = rng.uniform(*SMALL_X)
            return (x, rng.uniform(*SMALL_Y)) if abs(x) >= MIN_ABS_X else None

        x, y = self.draw_layout(draw)
        yaw = rng.uniform(-TURN, TURN)
        sim.set_free_pose(SMALL, (x, y, 0.001), yaw_quat(yaw))
        # Four balls on the floor around the centre and one on top of them, each nudged a little.
        spots = [(0.011, 0.011, 0), (-0.011, 0.011, 0), (0.011, -0.011, 0), (-0.011, -0.011, 0), (0, 0, 0.013)]
        rot = quat_to_mat(yaw_quat(yaw))
        for ball, (dx, dy, dz) in zip(BALLS, spots, strict=True):
            local = np.array([dx, dy, 0.0]) + np.append(rng.uniform(-0.003, 0.003, 2), 0.0)
            pos = np.array([x, y, FLOOR + BALL_RADIUS + 0.002 + dz]) + rot @ local
            sim.set_free_pose(ball, pos)
        colour = list(BIN_COLOURS)[int(rng.integers(len(BIN_COLOURS)))]
        sim.set_rgba(self.small_geoms, BIN_COLOURS[colour])
        ball_colour = BALL_COLOURS[int(rng.integers(len(BALL_COLOURS)))]
        sim.set_rgba(list(BALLS), COLOURS[ball_colour])
        self.arm = "left"
        self.first = "left" if x < 0 else "right"
        return {"A": f"{colour} small bin", "colour": colour, "hue": BIN_HUES[colour]}

    def _ball_in_big_bin(self, sim: Simulation, ball: str) -> bool:
        p = sim.body_pos(ball) - sim.body_pos(BIG)
        return bool(abs(p[0]) < BIG_HALF and abs(p[1]) < BIG_HALF and BIG_FLOOR < p[2] < BIG_HEIGHT)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(
            small_bin_lifted=bool(sim.body_pos(SMALL)[2] > LIFT_MIN),
            balls_in_big_bin=all(self._ball_in_big_bin(sim, b) for b in BALLS),
            balls_at_rest=all(sim.body_speed(b) < REST_SPEED for b in BALLS),
        )

    # -- expert -----------------------------------------------------------------------------
    def _grip(self, sim: Simulation, arm: str) -> tuple[np.ndarray, float]:
        """TCP position on the small bin's front wall (the one facing -y) and the finger yaw
        across that wall (nearest the arm's natural yaw)."""
        mat = sim.body_mat(SMALL)
        # The wall whose outward normal points most toward -y.
        normals = [mat[:, 0], -mat[:, 0], mat[:, 1], -mat[:, 1]]
        front = min(normals, key=lambda n: n[1])
        pos = sim.body_pos(SMALL) + front * (SMALL_HALF + SMALL_WALL / 2) + (0, 0, SMALL_HEIGHT - GRIP_BELOW_RIM)
        finger = nearest_symmetric_yaw(math.atan2(front[1], front[0]), NATURAL_YAW[arm], math.pi)
        if arm == "left":
            # Off the wall's middle, toward the side that is uphill when the bin is tipped, so
            # the finger inside the bin leaves the balls a clear way out along the low wall.
            pos = pos + GRIP_ALONG * np.array([math.sin(finger), -math.cos(finger), 0.0])
        return pos, finger

    def _grasp(self, sim: Simulation, motion: Motion, arm: str, lift: float) -> Iterator[np.ndarray]:
        pos, finger = self._grip(sim, arm)
        quat = gripper_down_quat(finger)
        yield from motion.move(arm, pos + (0, 0, 0.08), quat, steps=30, gripper=motion.robot.gripper_open)
        yield from motion.line(arm, pos, quat, steps=20, segments=2)
        yield from motion.gripper(arm, motion.robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        yield from motion.line(arm, pos + (0, 0, lift), quat, steps=20, segments=2)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        if self.first == "right":
            # The right arm brings the bin to the middle of the table and lets go.
            yield from self._grasp(sim, motion, "right", 0.08)
            offset = sim.body_pos(SMALL) - motion.tcp_target_pose("right")[0]
            _, quat = motion.tcp_target_pose("right")
            goal = np.array([MIDDLE[0], MIDDLE[1], 0.006]) - offset
            yield from motion.move("right", goal + (0, 0, 0.06), quat, steps=35)
            yield from motion.line("right", goal, quat, steps=16, segments=2)
            yield from motion.gripper("right", motion.robot.gripper_open, steps=10)
            yield from motion.wait(6)
            yield from motion.line("right", goal + (0, 0, 0.1), quat, steps=14, segments=2)
            pos, finger = self._grip(sim, "left")
            above = motion.solve("left", pos + (0, 0, 0.08), gripper_down_quat(finger))
            home = motion.robot.home_action()
            yield from motion.move_joints({"right": home[motion.robot.arm_slice("right")], "left": above}, 35,
                                          {"left": motion.robot.gripper_open})
        yield from self._grasp(sim, motion, "left", 0.08)
        # Carry the bin over the big bin, mouth up, then tip it: the gripper turns from pointing
        # down to pointing 45 degrees above horizontal, so the mouth faces down and back. The
        # fingers hold the wall at the bin's centre of mass, so the tipped bin does not swing
        # round between them.
        tcp, quat = motion.tcp_target_pose("left")
        mouth_in_hand = quat_to_mat(quat).T @ (sim.body_pos(SMALL) + sim.body_mat(SMALL) @ (0, 0, SMALL_HEIGHT) - tcp)
        mouth = sim.body_pos(BIG) + (MOUTH_BACK, 0.0, BIG_HEIGHT + MOUTH_ABOVE_RIM)

        def holding_mouth(pitch: float) -> tuple[np.ndarray, np.ndarray]:
            """TCP pose at a gripper pitch that keeps the bin's mouth at ``mouth``."""
            quat = gripper_tilted_quat(math.pi / 2, pitch)
            return mouth - quat_to_mat(quat) @ mouth_in_hand, quat

        carry, upright = holding_mouth(math.pi / 2)
        yield from motion.move("left", carry + (0, 0, 0.06), upright, steps=40)
        # Tip through intermediate pitches, so each IK answer is seeded by the one before and
        # the wrist turns smoothly; then shake three times, as upstream.
        for pitch in np.linspace(math.pi / 2, POUR_PITCH, TILT_WAYPOINTS + 1)[1:]:
            yield from motion.move("left", *holding_mouth(float(pitch)), steps=TILT_STEPS)
        # Each shake tips the bin further and back; where the arm cannot tip it further, it
        # jerks the bin up and back instead.
        tip, pour = holding_mouth(POUR_PITCH)
        shake = holding_mouth(POUR_PITCH - SHAKE)
        if not _reachable(motion, "left", *shake):
            shake = (tip + (0, 0.015, 0.02), pour)
        for _ in range(3):
            yield from motion.move("left", *shake, steps=6)
            yield from motion.move("left", tip, pour, steps=6)
        yield from motion.wait(40)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if sim.is_grasped("left", SMALL):
            return self.state_from_spec(sim, sim.body_pos(BIG) + (0, 0, BIG_HEIGHT), "pour", arm="left")
        at_middle = np.linalg.norm(sim.body_pos(SMALL)[:2] - MIDDLE) < 0.03
        if self.first == "right" and not at_middle:
            if sim.is_grasped("right", SMALL):
                return self.state_from_spec(sim, np.array([MIDDLE[0], MIDDLE[1], 0.0]), "handover",
                                            action_type="handover", arm="right")
            pos, _ = self._grip(sim, "right")
            return self.state_from_spec(sim, pos, "grasp", action_type="grasp", arm="right")
        pos, _ = self._grip(sim, "left")
        return self.state_from_spec(sim, pos, "grasp", action_type="grasp", arm="left")
