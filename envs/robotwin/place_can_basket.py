"""place_can_basket: one arm puts a can into a basket, the other arm lifts the basket.

Description:
    A drink can stands on one side of the table, behind and beside an open basket with a loop
    handle that stands near the middle, long from front to back, its handle arching from left
    to right over its centre. The arm on the can's side picks the can up, sets it into the
    basket on the can's side of the handle (the back half), lets go and returns home;
    meanwhile the other arm reaches for the handle, grips the top of its arch, and lifts the
    basket with the can inside, pulling it a little towards its own side (RoboTwin 2.0
    ``place_can_basket``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the can, then the basket.
Success:
    The basket and the can have both risen more than 2 cm from where they started, the basket
    is upright (its vertical axis within 60 degrees of vertical), the can's origin is within
    15 cm of the basket's (summed over x, y and z), the can touches the basket and not the
    table, and the basket is held in a gripper (both fingers of one arm touch it).
    Fidelity: upstream checks the same two 2 cm rises, the same upright test (dot product
    above 0.5), the same 15 cm summed distance and the same two contacts. We add that a gripper
    holds the basket, so a basket knocked into the air for an instant, with the can still in
    it, is not counted.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): the acting arm is left or right
    with equal odds; the basket's centre at x = 0.02 on the other arm's side of the middle,
    y in [0.42, 0.45], at a fixed heading (upstream's basket pose is fixed too; ours is long
    from front to back with the handle across, so each arm keeps its natural wrist turn);
    the can at |x| in [0.2, 0.25] on the acting arm's side, y in [0.5, 0.6], at any heading
    (it is round). As upstream, the can goes to the basket spot nearer to it, 6 cm from the
    basket's centre on either side of the handle.
    Props are our own rigid models built from primitives: the basket (upstream's
    ``110_basket``, two models of a woven basket with a loop handle) is 21 x 14 cm inside with
    5 cm walls and a handle whose top is 15 cm above its floor, 200 g (upstream sets 500 g);
    the can (upstream's ``071_can``, six models) is 5 cm across and 9.5 cm tall, 30 g
    (upstream sets 10 g). Can and basket colours are drawn per episode.
Episode end:
    Success, or 700 control steps (28 s at 25 Hz; the expert needs at most 234 on seeds 0-49
    and 100000-100049). Upstream's evaluation limit is 700 policy actions.
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
from vlapro_bench.sim.objects.household import COLOURS, HOME, SURFACE_FRICTION, TABLE_BODY, can, catch_floor
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    body_yaw_in_world,
    equivalent_yaws,
    finger_yaw_now,
    first_feasible,
    grasp_prop,
    hand_offset,
    pick_colour,
    placement_state,
    round_inertia,
    set_on_table,
)
from vlapro_bench.sim.skills import NATURAL_YAW
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask
from ._prop_words import HUES

CAN, BASKET = "can", "basket"
OTHER = {"left": "right", "right": "left"}
#: Basket: inner half-size, wall height and thickness, floor thickness, height of the handle's
#: top bar above the floor's bottom, and the bar's half-width (m).
INNER_HALF, WALL_HEIGHT, WALL, FLOOR = (0.105, 0.07), 0.05, 0.006, 0.005
HANDLE_TOP, BAR_HALF = 0.15, 0.008
#: Where the can goes: on the acting arm's side of the handle, this far from the basket's centre.
SPOT_X = 0.06
CAN_RADIUS, CAN_HEIGHT = 0.025, 0.095
CAN_COLOURS = ("red", "blue", "green", "silver", "white", "yellow")
BASKET_COLOURS = {
    "brown": (0.55, 0.36, 0.2, 1), "tan": (0.8, 0.65, 0.42, 1), "white": (0.9, 0.9, 0.87, 1),
    "grey": (0.5, 0.52, 0.55, 1),
}
#: Held-out words for the basket colours (unseen descriptions only).
BASKET_NEW = {"brown": "chestnut", "tan": "straw-coloured", "white": "ivory", "grey": "slate"}
#: Upstream's thresholds: rises of basket and can, upright dot product, summed distance.
RISE, UPRIGHT, NEAR = 0.02, 0.5, 0.15
#: Upstream's placement ranges in our frame (upstream y + 0.5).
BASKET_X, BASKET_Y, CAN_X, CAN_Y = 0.02, (0.42, 0.45), (0.2, 0.25), (0.5, 0.6)
#: Height of the can's bottom above the basket floor when the fingers open (upstream's 2 cm).
CLEARANCE = 0.02
#: The basket arm's lift and its pull towards its own side (upstream's 5 cm and 2 cm).
BASKET_LIFT, BASKET_PULL = 0.05, 0.02
#: The basket's heading: long along y, its handle arching left to right over its centre.
BASKET_YAW = math.pi / 2


def handle_basket(scene: SceneBuilder, name: str) -> list[str]:
    """An open basket, long along local x, with a loop handle arching along local y over its
    centre: floor, four walls, two posts on the long walls' middles and a top bar. Origin at the
    centre of the floor's bottom. Returns its geoms (they take the per-episode colour)."""
    body = scene.body(name, pos=HOME, free=True)
    ix, iy = INNER_HALF
    colour = BASKET_COLOURS["brown"]
    kw = {"friction": SURFACE_FRICTION}
    geoms = [scene.box(body, f"{name}_floor", (ix + WALL, iy + WALL, FLOOR / 2), colour, pos=(0, 0, FLOOR / 2),
                       mass=0.08, **kw).name]
    h = WALL_HEIGHT / 2
    for side, pos, half in (("n", (0, iy + WALL / 2, FLOOR + h), (ix + WALL, WALL / 2, h)),
                            ("s", (0, -iy - WALL / 2, FLOOR + h), (ix + WALL, WALL / 2, h)),
                            ("e", (ix + WALL / 2, 0, FLOOR + h), (WALL / 2, iy, h)),
                            ("w", (-ix - WALL / 2, 0, FLOOR + h), (WALL / 2, iy, h))):
        geoms.append(scene.box(body, f"{name}_wall_{side}", half, colour, pos=pos, mass=0.025, **kw).name)
    rim = FLOOR + WALL_HEIGHT
    post = (HANDLE_TOP - rim) / 2
    for sign, side in ((1, "n"), (-1, "s")):
        geoms.append(scene.box(body, f"{name}_post_{side}", (BAR_HALF, WALL / 2, post), colour,
                               pos=(0, sign * (iy + WALL / 2), rim + post), mass=0.005, **kw).name)
    geoms.append(scene.box(body, f"{name}_bar", (BAR_HALF, iy + WALL, 0.006), colour, pos=(0, 0, HANDLE_TOP),
                           mass=0.01).name)
    return geoms


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and phrases.

    ``{A}`` is the can and ``{B}`` the basket, each named from ``descriptions`` per episode;
    ``{a}`` is the arm that moves the can. Unseen templates use verbs and phrasing no seen
    template uses.
    """
    put = ("Put", "Place", "Drop", "Set")
    into = ("in the {B}", "into the {B}", "inside the {B}")
    then = ("then lift the {B}", "then pick up the {B}", "and lift the {B} with the other arm",
            "and raise the {B} by its handle")
    seen = [f"{v} the {{A}} {t}, {n}." for (v, t), n in zip(product(put, into), then * 3, strict=True)]
    seen = [s.replace(", and", " and") for s in seen]
    seen += [f"{v} the {{A}} {t} with the {{a}} arm, then lift the {{B}}." for v, t in product(put, into[:2])]
    lift = ("Lift", "Pick up", "Raise")
    inside = ("in it", "inside", "in it, holding the handle")
    seen += [f"{v} the {{B}} with the {{A}} {w}." for v, w in product(lift, inside)]
    seen += [f"{v} the {{B}} by the handle once the {{A}} is {w}." for v, w in product(lift, ("in it", "inside it"))]
    seen += [
        "Put the {A} in the {B} and lift the {B} up.",
        "Use the {a} arm to put the {A} in the {B}, and the other arm to lift the {B}.",
        "Place the {A} inside the {B}, then grab the {B} handle and lift it.",
        "With the {a} arm drop the {A} into the {B}; with the other arm pick the {B} up.",
        "Pick up the {A}, put it in the {B}, and lift the {B} off the table.",
        "Get the {A} into the {B} and then raise the {B}.",
        "The {A} goes into the {B}; then the {B} is lifted by its handle.",
        "Move the {A} into the {B} and pick the {B} up with the can inside.",
        "Grab the {A} with the {a} gripper, put it in the {B}, then lift the {B} with the other gripper.",
        "First put the {A} in the {B}, then lift the {B} by its handle.",
        "Put the {A} in the {B} with one arm and lift the {B} with the other.",
        "Drop the {A} in the {B}, then take the {B} by the handle and raise it.",
        "Load the {B} with the {A} and lift it.",
        "Put the {A} in the {B}, then lift it with the other arm.",
        "Place the {A} into the {B} and pick the {B} up by its handle.",
        "Lift the {B} by its handle after the {A} is in it.",
        "Put the {A} into the {B}; the other arm then lifts the {B}.",
        "Drop the {A} into the {B} and then lift the {B} off the table.",
        "Set the {A} inside the {B}, then lift the {B} with its handle.",
    ]
    unseen = (
        "Stow the {A} in the {B}, then hoist the {B} aloft by its loop.",
        "Your {a} hand deposits the {A} within the {B}; your spare hand then carries the {B} upward.",
        "Tuck the {A} into the {B} before elevating the {B}.",
        "Stash the {A} inside the {B} and heft the {B} clear of the tabletop.",
        "Have the {A} end up in the {B} while the {B} dangles from a gripper.",
        "Pack the {A} away in the {B}, then haul the {B} up by its arch.",
        "Slip the {A} into the {B}; afterwards the opposite hand hoists the {B}.",
        "Transfer the {A} to the {B} and bring the {B} up off the surface.",
        "Deposit the {A} in the {B}, after which the {B} gets carried upward.",
        "Fill the {B} with the {A}, then heave the {B} upward.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


@register_task
class PlaceCanBasket(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="place_can_basket",
        max_episode_steps=700,
        procedure=ProceduralAnnotation("pick_place", "cylinder", "downward", "container_inside"),
        description="Put the can into the basket with one arm, then lift the basket with the other.",
    )
    instructions = _templates()
    descriptions = {
        "A": {
            "seen": ("can", "{colour} can", "drink can", "{colour} drink can", "soda can"),
            "unseen": ("{colour_new} tin", "beverage tin", "{colour_new} canned beverage"),
        },
        "B": {
            "seen": ("basket", "{finish} basket", "handled basket", "{finish} handled basket"),
            "unseen": ("{finish_new} hamper", "carry tote", "{finish_new} wicker carrier"),
        },
    }
    tracked_bodies = (CAN, BASKET)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.can = can(scene, CAN, radius=CAN_RADIUS, height=CAN_HEIGHT, mass=0.03)
        self.basket_geoms = handle_basket(scene, BASKET)
        catch_floor(scene)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, [self.can])
        self.arm = "left" if rng.uniform() < 0.5 else "right"
        self.basket_arm = OTHER[self.arm]
        side = -1.0 if self.arm == "left" else 1.0
        basket = (-side * BASKET_X, rng.uniform(*BASKET_Y), 0.001)
        sim.set_free_pose(BASKET, basket, yaw_quat(BASKET_YAW))
        can_xy = (side * rng.uniform(*CAN_X), rng.uniform(*CAN_Y))
        set_on_table(sim, self.can, can_xy, rng.uniform(-math.pi, math.pi))
        sim.forward()
        # The spot on the can's side of the handle (upstream takes the functional point nearest
        # the hand holding the can).
        spots = [self._spot(sim, sign) for sign in (1.0, -1.0)]
        self.spot_sign = 1.0 if np.linalg.norm(spots[0][:2] - can_xy) < np.linalg.norm(spots[1][:2] - can_xy) else -1.0
        self.start = {CAN: float(sim.body_pos(CAN)[2]), BASKET: float(sim.body_pos(BASKET)[2])}
        colour = pick_colour(rng, CAN_COLOURS)
        sim.set_rgba(self.can.colour_geoms, COLOURS[colour])
        finish = pick_colour(rng, tuple(BASKET_COLOURS))
        sim.set_rgba(self.basket_geoms, BASKET_COLOURS[finish])
        return {"A": f"{colour} can", "B": f"{finish} basket", "a": self.arm, "colour": colour,
                "colour_new": HUES[colour], "finish": finish, "finish_new": BASKET_NEW[finish]}

    def _spot(self, sim: Simulation, sign: float | None = None) -> np.ndarray:
        """World point on the basket floor where the can goes: on the can's side of the handle
        (``sign`` picks the side along the basket's length)."""
        sign = self.spot_sign if sign is None else sign
        return sim.body_pos(BASKET) + sim.body_mat(BASKET) @ np.array([sign * SPOT_X, 0.0, FLOOR])

    def _bar(self, sim: Simulation) -> np.ndarray:
        """World centre of the handle's top bar."""
        return sim.body_pos(BASKET) + sim.body_mat(BASKET) @ np.array([0.0, 0.0, HANDLE_TOP])

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        can_pos, basket_pos = sim.body_pos(CAN), sim.body_pos(BASKET)
        return all_of(
            basket_lifted=bool(basket_pos[2] - self.start[BASKET] > RISE),
            can_lifted=bool(can_pos[2] - self.start[CAN] > RISE),
            basket_upright=bool(sim.body_mat(BASKET)[2, 2] > UPRIGHT),
            can_near_basket=bool(np.sum(np.abs(can_pos - basket_pos)) < NEAR),
            can_in_basket=sim.in_contact(CAN, BASKET) and not sim.in_contact(CAN, TABLE_BODY),
            basket_held=sim.is_grasped("left", BASKET) or sim.is_grasped("right", BASKET),
        )

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        arm, other = self.arm, self.basket_arm
        yield from grasp_prop(sim, motion, arm, self.can)
        # Into the basket on the can's side of the handle, wrist as it is (the fingers close
        # across the basket's length; the open fingers stay clear of the handle's bar).
        now = finger_yaw_now(motion, arm)
        yaws = equivalent_yaws(now, math.pi / 4, now)
        offset = hand_offset(sim, arm, self.can)
        goal = self._spot(sim) + (0, 0, CLEARANCE)
        options = []
        for yaw in yaws:
            quat = gripper_down_quat(yaw)
            tcp = goal - quat_to_mat(quat) @ offset
            options.append([(tcp + (0, 0, 0.08), quat), (tcp, quat), (tcp + (0, 0, 0.12), quat)])
        plan = first_feasible(motion, arm, options)
        (above, quat), (release, _), (up, _) = options[plan.option]
        yield from motion.move(arm, above, quat, steps=30)
        yield from motion.line(arm, release, quat, steps=16, segments=2)
        yield from motion.gripper(arm, motion.robot.gripper_open, steps=10)
        yield from motion.wait(6)
        yield from motion.line(arm, up, quat, steps=16, segments=2)
        # This arm goes home while the other comes over the handle's top bar.
        bar = self._bar(sim)
        across = body_yaw_in_world(sim, BASKET)  # the bar runs along the basket's local y
        grip_yaw = equivalent_yaws(across, math.pi, NATURAL_YAW[other])[0]
        grip = gripper_down_quat(grip_yaw)
        home = motion.robot.home_action()[motion.robot.arm_slice(arm)]
        yield from motion.move_joints({arm: home, other: motion.solve(other, bar + (0, 0, 0.08), grip)}, 35,
                                      {other: motion.robot.gripper_open})
        yield from motion.line(other, bar, grip, steps=16, segments=2)
        yield from motion.gripper(other, motion.robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        pull = BASKET_PULL if other == "right" else -BASKET_PULL
        yield from motion.line(other, bar + (pull, 0, BASKET_LIFT), grip, steps=20, segments=2)
        yield from motion.wait(8)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        inside = sim.in_contact(CAN, BASKET) and not sim.in_contact(CAN, TABLE_BODY)
        if not inside or sim.is_grasped(self.arm, CAN):
            return placement_state(sim, self.arm, self.can, self._spot(sim), False)
        if not (sim.is_grasped(self.basket_arm, BASKET)):
            return self.state_from_spec(sim, self._bar(sim), "grasp", action_type="grasp",
                                        object_geometry="handle", arm=self.basket_arm)
        lifted = sim.body_pos(BASKET)[2] - self.start[BASKET] > RISE
        return self.state_from_spec(sim, self._bar(sim) + (0, 0, BASKET_LIFT), "retreat" if lifted else "lift",
                                    action_type="lift", object_geometry="handle", arm=self.basket_arm)

