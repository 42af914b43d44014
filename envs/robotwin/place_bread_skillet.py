"""place_bread_skillet: one arm holds a skillet up by its handle, the other puts bread into it.

Description:
    A small loaf of bread lies on one side of the table and a skillet (a frying pan with a long
    handle) on the other. Both arms grasp at once: the arm on the skillet's side takes the
    handle from above, the other arm takes the bread. Both lift; the skillet arm brings the pan
    to the middle of the table and holds it there, level, a few centimetres above the table
    (turning the handle out towards its own side); the other arm then lowers the bread into the
    pan and lets go (RoboTwin 2.0 ``place_bread_skillet``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the bread, then the skillet.
Success:
    The bread's centre is within 3.5 cm of the skillet's cooking-surface centre in x and in y,
    the cooking surface and the bread's bottom are both more than 2 cm above the table (the
    skillet is held up), and the bread lies in the skillet: it touches the skillet, not the
    table, no part of the robot touches it, and it is at rest.
    Fidelity: upstream checks the same 3.5 cm per axis between the bread and the skillet's
    functional point and that both are above table height + 2 cm (for the bread, its origin;
    ours is at the bread's bottom). Those alone also hold while the bread is still in the
    gripper above the pan, so we add that the bread has been let go and rests in the skillet.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): bread at x in [-0.28, 0.28] with
    |x| >= 0.2, y in [0.3, 0.55], turned up to 45 degrees either way from lying along x; the
    skillet on the other side at |x| in [0.15, 0.25], y in [0.3, 0.55], its handle pointing
    towards the robot turned up to 30 degrees either way (upstream's ``rotate_lim``).
    Our addition: the skillet's centre at least 20 cm from the bread's, so the pan and the loaf
    never start overlapping (upstream keeps them apart with its prohibited areas).
    Props are our own rigid models built from primitives: the skillet (upstream's
    ``106_skillet``, four models) is a pan 15 cm across and 3.5 cm deep with a 13 cm flat
    handle, 100 g; the bread (upstream's ``075_bread``, five models of small loaves) is
    ``place_bread_basket``'s loaf at 9 x 4.2 x 4 cm, 30 g. Upstream makes both lighter (10 g
    and 1 g). The handle's torsional contact friction is four times the other props' (a
    rubbery grip), so a pinch across it holds the pan level. Pan and crust colours are drawn
    per episode.
Episode end:
    Success, or 500 control steps (20 s at 25 Hz; the expert needs at most 186 on seeds 0-49
    and 188 on 100000-100049). Upstream's evaluation limit is 500 policy actions.
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
from vlapro_bench.sim.geometry import gripper_down_quat, quat_to_mat, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import (
    BREAD_COLOURS,
    HOME,
    REST_SPEED,
    SURFACE_FRICTION,
    TABLE_BODY,
    TABLE_CORNER,
    bread,
    catch_floor,
)
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    body_yaw_in_world,
    equivalent_yaws,
    first_feasible,
    grasp_options,
    hand_offset,
    pick_colour,
    placement_state,
    plan_chain,
    round_inertia,
    set_on_table,
    touches_robot,
)
from vlapro_bench.sim.robot import ARMS
from vlapro_bench.sim.skills import NATURAL_YAW, arm_for, release_upward
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask
from .place_bread_basket import CRUST_HUES

BREAD, SKILLET = "bread", "skillet"
#: Skillet: pan radius, wall height, floor and wall thickness, wall staves (m).
PAN_RADIUS, PAN_DEPTH, PAN_FLOOR, PAN_WALL, PAN_STAVES = 0.075, 0.035, 0.005, 0.004, 20
#: Handle: length, half-width, half-thickness, height of its axis (m); where the fingers grip it
#: (distance from the pan's centre).
HANDLE_LENGTH, HANDLE_HALF_WIDTH, HANDLE_HALF_THICK, HANDLE_Z = 0.13, 0.012, 0.006, 0.028
GRIP_AT = PAN_RADIUS + 0.035
PAN_FINISHES = {
    "black": ((0.12, 0.12, 0.13, 1), (0.3, 0.3, 0.32, 1)),
    "grey": ((0.35, 0.36, 0.38, 1), (0.55, 0.56, 0.58, 1)),
    "red": ((0.12, 0.12, 0.13, 1), (0.72, 0.16, 0.12, 1)),
    "blue": ((0.12, 0.12, 0.13, 1), (0.2, 0.33, 0.65, 1)),
}
#: Held-out words for the pan finishes (unseen descriptions only).
PAN_NEW = {"black": "jet", "grey": "gunmetal", "red": "crimson-rimmed", "blue": "navy-rimmed"}
HANDLE_COLOUR = (0.08, 0.07, 0.06, 1)
#: The handle's contact friction: sliding as the other props', torsional four times theirs (a
#: rubbery grip), so a pinch across the handle holds the pan level against its own weight.
HANDLE_FRICTION = (1.5, 0.04, 0.0002)
#: Upstream's thresholds: bread-to-pan distance per axis, and height above the table of both.
XY_TOLERANCE, LIFT_HEIGHT = 0.035, 0.02
#: Upstream's placement ranges in our frame (upstream y + 0.5) and turns (rad).
BREAD_X, SKILLET_X, Y_RANGE = (0.2, 0.28), (0.15, 0.25), (0.3, 0.55)
BREAD_TURN, SKILLET_TURN = math.pi / 4, math.pi / 6
MIN_GAP = 0.2
#: Where the skillet arm holds the pan for the bread, on the skillet's side of the middle:
#: pan centre (x towards the bread's side), its height above the table, and the handle's
#: heading there (out towards the skillet arm, turned 30 degrees towards the robot).
HOLD_X, HOLD_Y, HOLD_Z, HOLD_TURN = 0.02, 0.47, 0.06, math.radians(30)
#: Lift of both hands after the grasps (upstream's 0.1 m), hover and clearance for the bread.
LIFT, HOVER, CLEARANCE = 0.10, 0.07, 0.008


def skillet(scene: SceneBuilder, name: str) -> tuple[list[str], list[str]]:
    """A frying pan with its handle along local +x, origin at the centre of its bottom face:
    a floor disc, a wall of flat staves (so the pan is really hollow) and a flat handle.
    Returns the cooking-surface geoms and the outside geoms (for the two finish colours)."""
    body = scene.body(name, pos=HOME, free=True)
    inside, outside = PAN_FINISHES["black"]
    floor = scene.cylinder(body, f"{name}_floor", PAN_RADIUS, PAN_FLOOR / 2, outside, pos=(0, 0, PAN_FLOOR / 2),
                           friction=SURFACE_FRICTION, mass=0.025)
    surface = scene.cylinder(body, f"{name}_surface", PAN_RADIUS - PAN_WALL, 0.0003, inside,
                             pos=(0, 0, PAN_FLOOR + 0.0003), collide=False)
    half = (PAN_DEPTH - PAN_FLOOR) / 2
    stave = (PAN_RADIUS - PAN_WALL / 2) * math.tan(math.pi / PAN_STAVES) + 0.0005
    walls = []
    for k in range(PAN_STAVES):
        angle = 2 * math.pi * (k + 0.5) / PAN_STAVES  # no stave straight over the handle's root
        r = PAN_RADIUS - PAN_WALL / 2
        walls.append(scene.box(body, f"{name}_wall{k}", (PAN_WALL / 2, stave, half), outside,
                               pos=(r * math.cos(angle), r * math.sin(angle), PAN_FLOOR + half),
                               quat=tuple(yaw_quat(angle)), friction=SURFACE_FRICTION, mass=0.0008).name)
    scene.box(body, f"{name}_handle", (HANDLE_LENGTH / 2, HANDLE_HALF_WIDTH, HANDLE_HALF_THICK), HANDLE_COLOUR,
              pos=(PAN_RADIUS - 0.002 + HANDLE_LENGTH / 2, 0, HANDLE_Z), mass=0.01, friction=HANDLE_FRICTION)
    return [surface.name], [floor.name, *walls]


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and target phrases.

    ``{A}`` is the skillet and ``{B}`` the bread, each named from ``descriptions`` per episode;
    ``{a}`` is the arm that holds the skillet. Unseen templates use verbs and phrasing no seen
    template uses.
    """
    put = ("Put", "Place", "Drop", "Set")
    into = ("into the {A}", "in the {A}", "inside the {A}")
    holding = ("while the {a} arm holds the {A} up", "with the {A} lifted by its handle",
               "once the {a} arm has picked up the {A}")
    seen = [f"{v} the {{B}} {t} after lifting the {{A}}." for v, t in product(put, into)]
    seen += [f"{v} the {{B}} {t} {h}." for (v, t), h in zip(product(put, into), holding * 4, strict=True)]
    lift = ("Lift", "Pick up", "Raise")
    handle = ("by its handle", "by the handle with the {a} arm", "with the {a} arm")
    seen += [f"{v} the {{A}} {h} and put the {{B}} in it." for v, h in product(lift, handle)]
    seen += [f"{v} the {{A}} {h}, then place the {{B}} into it." for v, h in product(lift, handle[:2])]
    seen += [
        "Hold the {A} up with the {a} arm and put the {B} in it with the other arm.",
        "Use one arm to lift the {A} and the other to put the {B} inside.",
        "Grab the {A} by its handle and the {B} with the other gripper, then put the {B} in the {A}.",
        "With the {a} arm, pick up the {A}; with the other arm, place the {B} in it.",
        "Use both arms: lift the {A} and drop the {B} into it.",
        "Pick up the {A} and the {B}, then put the {B} into the {A}.",
        "The {B} goes into the {A}, which the {a} arm holds up.",
        "Get the {B} into the {A} while the {A} is held by its handle.",
        "Lift the {A} off the table and place the {B} in the middle of it.",
        "Have the {a} arm hold the {A} and the other arm put the {B} in it.",
        "Take the {A} by the handle, lift it, and put the {B} inside.",
        "Raise the {A} with one arm and set the {B} in it with the other.",
    ]
    unseen = (
        "Hoist the {A} by the grip and let your other hand deposit the {B} in it.",
        "Your {a} hand raises the {A}; your free hand tucks the {B} into it.",
        "Ready the {B} for toasting: elevate the {A} and lower the {B} onto its base.",
        "Suspend the {A} above the tabletop and load the {B} into it.",
        "Clutch the {A} handle, bring it up, then have your spare hand release the {B} within.",
        "Heft the {A} by its grip and stow the {B} inside it.",
        "Keep the {A} aloft with your {a} hand while the {B} is slipped into it.",
        "Transfer the {B} into the {A} after raising the {A} off the surface.",
        "Cook-ready setup: {A} up in the air, {B} resting inside.",
        "Deposit the {B} in the {A} as your {a} hand keeps the {A} elevated.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


@register_task
class PlaceBreadSkillet(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="place_bread_skillet",
        max_episode_steps=500,
        procedure=ProceduralAnnotation("pick_place", "loaf", "downward", "container_inside"),
        description="Lift the skillet by its handle with one arm and put the bread into it with the other.",
    )
    instructions = _templates()
    descriptions = {
        "A": {
            "seen": ("skillet", "{finish} skillet", "frying pan", "{finish} frying pan", "skillet with a handle"),
            "unseen": ("{finish_new} griddle", "stovetop cookware", "{finish_new} sauteuse"),
        },
        "B": {
            "seen": ("bread", "{crust} bread", "loaf", "{crust} loaf", "loaf of bread"),
            "unseen": ("bakery item", "{crust_new} bakery item", "{crust_new} baked good"),
        },
    }
    tracked_bodies = (BREAD, SKILLET)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.bread = bread(scene, BREAD, length=0.09, mass=0.03, pos=TABLE_CORNER)
        self.pan_geoms = skillet(scene, SKILLET)
        catch_floor(scene)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, [self.bread])

        def draw() -> tuple[np.ndarray, np.ndarray] | None:
            side = 1.0 if rng.uniform() < 0.5 else -1.0
            bread_xy = np.array([side * rng.uniform(*BREAD_X), rng.uniform(*Y_RANGE)])
            pan_xy = np.array([-side * rng.uniform(*SKILLET_X), rng.uniform(*Y_RANGE)])
            return (bread_xy, pan_xy) if np.linalg.norm(bread_xy - pan_xy) >= MIN_GAP else None

        bread_xy, pan_xy = self.draw_layout(draw)
        set_on_table(sim, self.bread, (float(bread_xy[0]), float(bread_xy[1])), rng.uniform(-BREAD_TURN, BREAD_TURN))
        pan_yaw = -math.pi / 2 + rng.uniform(-SKILLET_TURN, SKILLET_TURN)
        sim.set_free_pose(SKILLET, (pan_xy[0], pan_xy[1], 0.001), yaw_quat(pan_yaw))
        crust = pick_colour(rng, tuple(BREAD_COLOURS))
        sim.set_rgba(self.bread.colour_geoms, BREAD_COLOURS[crust])
        finish = pick_colour(rng, tuple(PAN_FINISHES))
        inside, outside = PAN_FINISHES[finish]
        sim.set_rgba(self.pan_geoms[0], inside)
        sim.set_rgba(self.pan_geoms[1], outside)
        self.arm = arm_for(pan_xy[0])
        self.bread_arm = arm_for(bread_xy[0])
        return {"A": f"{finish} skillet", "B": f"{crust} bread", "a": self.arm, "finish": finish,
                "finish_new": PAN_NEW[finish], "crust": crust, "crust_new": CRUST_HUES[crust]}

    def _surface(self, sim: Simulation) -> np.ndarray:
        """World centre of the skillet's cooking surface (upstream's functional point)."""
        return sim.body_pos(SKILLET) + sim.body_mat(SKILLET) @ np.array([0.0, 0.0, PAN_FLOOR])

    def _grip(self, sim: Simulation) -> np.ndarray:
        """World point on the handle's axis where the fingers close."""
        return sim.body_pos(SKILLET) + sim.body_mat(SKILLET) @ np.array([GRIP_AT, 0.0, HANDLE_Z])

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        surface = self._surface(sim)
        offset = np.abs(sim.body_pos(BREAD)[:2] - surface[:2])
        return all_of(
            bread_over_skillet=bool(np.all(offset < XY_TOLERANCE)),
            skillet_lifted=bool(surface[2] > LIFT_HEIGHT),
            bread_lifted=bool(sim.body_pos(BREAD)[2] > LIFT_HEIGHT),
            bread_released_in_skillet=bool(
                sim.in_contact(BREAD, SKILLET) and not sim.in_contact(BREAD, TABLE_BODY)
                and not touches_robot(sim, BREAD) and sim.body_speed(BREAD) < REST_SPEED
            ),
        )

    # -- expert -----------------------------------------------------------------------------
    def _handle_chains(self, sim: Simulation) -> tuple[list[float], list[list[tuple[np.ndarray, np.ndarray]]]]:
        """The two finger yaws across the handle (nearest the arm's natural yaw first) and, for
        each, its chain: above the grip, at the grip, lifted."""
        grip = self._grip(sim)
        across = body_yaw_in_world(sim, SKILLET) + math.pi / 2
        yaws = equivalent_yaws(across, math.pi, NATURAL_YAW[self.arm])[:2]
        chains = [[(grip + (0, 0, 0.1), q), (grip, q), (grip + (0, 0, LIFT), q)]
                  for q in (gripper_down_quat(y) for y in yaws)]
        return yaws, chains

    def _hold_poses(self, sim: Simulation, grasp_yaw: float, grasp_pos: np.ndarray,
                    steps: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
        """TCP poses that carry the skillet (held as at the grasp) from above its spot to the
        hold pose, turning the handle in ``steps`` equal parts to its hold heading."""
        side = 1.0 if self.arm == "right" else -1.0
        handle_now = body_yaw_in_world(sim, SKILLET)
        handle_hold = math.atan2(-math.sin(HOLD_TURN), side * math.cos(HOLD_TURN))
        turn = math.remainder(handle_hold - handle_now, 2 * math.pi)
        in_hand = sim.body_pos(SKILLET) - grasp_pos
        in_hand[2] = 0.0  # pan centre from the TCP, horizontally
        begin, end = grasp_pos + in_hand, np.array([-side * HOLD_X, HOLD_Y, 0.0])
        poses = []
        for k in range(1, steps + 1):
            f = k / steps
            tcp = begin * (1 - f) + end * f - quat_to_mat(yaw_quat(turn * f)) @ in_hand
            tcp[2] = grasp_pos[2] + LIFT * (1 - f) + HOLD_Z * f
            poses.append((tcp, gripper_down_quat(grasp_yaw + turn * f)))
        return poses

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        pan_arm, bread_arm = self.arm, self.bread_arm
        # Handle grasp: the first finger yaw whose grasp and carry to the hold pose the IK can follow.
        yaws, chains = self._handle_chains(sim)
        i = ARMS.index(pan_arm)
        current = motion.action[7 * i: 7 * i + 6].copy()
        options = [chain + self._hold_poses(sim, yaw, chain[1][0]) for yaw, chain in zip(yaws, chains, strict=True)]
        feasible = [k for k, chain in enumerate(options) if plan_chain(motion, pan_arm, chain, current) is not None]
        pick = feasible[0] if feasible else first_feasible(motion, pan_arm, chains).option
        pan_chain = options[pick]
        _, bread_chains = grasp_options(sim, bread_arm, self.bread, lift=LIFT)
        bread_chain = bread_chains[first_feasible(motion, bread_arm, bread_chains).option]
        chain = {pan_arm: pan_chain, bread_arm: bread_chain}
        # Both arms come down on their object at once, close, and lift (upstream's first two moves).
        yield from motion.move_both({a: chain[a][0] for a in chain}, 30,
                                    {a: motion.robot.gripper_open for a in chain})
        for f in (0.5, 1.0):
            yield from motion.move_both({a: (chain[a][0][0] + (chain[a][1][0] - chain[a][0][0]) * f, chain[a][1][1])
                                         for a in chain}, 10)
        yield from motion.grippers({a: motion.robot.gripper_closed for a in chain}, steps=10)
        yield from motion.wait(4)
        yield from motion.move_both({a: chain[a][2] for a in chain}, 16)
        # The skillet arm brings the pan to the hold pose, turning the handle out to its side.
        for pos, quat in pan_chain[3:]:
            yield from motion.move(pan_arm, pos, quat, steps=14)
        yield from motion.wait(6)
        # The other arm lowers the bread into the pan where it is now and lets go.
        _, quat = motion.tcp_target_pose(bread_arm)
        finger = quat_to_mat(quat)[:, 1]
        quat = gripper_down_quat(math.atan2(finger[1], finger[0]))
        # Where the pan is, if the skillet arm holds it; else where the plan meant it to be.
        side = 1.0 if pan_arm == "right" else -1.0
        planned = np.array([-side * HOLD_X, HOLD_Y, HOLD_Z + PAN_FLOOR])
        goal = (self._surface(sim) if sim.is_grasped(pan_arm, SKILLET) else planned) + (0, 0, CLEARANCE)
        tcp = goal - quat_to_mat(quat) @ hand_offset(sim, bread_arm, self.bread)
        yield from motion.move(bread_arm, tcp + (0, 0, HOVER), quat, steps=30)
        yield from motion.line(bread_arm, tcp, quat, steps=16, segments=2)
        yield from release_upward(motion, bread_arm, tcp, quat, 0.08)
        yield from motion.wait(6)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        surface = self._surface(sim)
        if not sim.is_grasped(self.arm, SKILLET) and surface[2] < LIFT_HEIGHT:
            return self.state_from_spec(sim, self._grip(sim), "grasp", action_type="grasp", object_geometry="handle")
        placed = bool(self.check_success(sim)["bread_released_in_skillet"])
        return placement_state(sim, self.bread_arm, self.bread, surface, placed)
