"""place_object_basket: one arm puts a small object into a basket, the other lifts the basket.

Description:
    A basket with a loop handle stands near the middle of the table and a toy car or a pack of
    playing cards lies off to one side. The arm on the object's side picks the object up and
    lowers it into the basket's half on that side, lets go and goes back to its ready pose; the
    other arm takes the basket by its handle, lifts it and draws it a little toward its own
    side (RoboTwin 2.0 ``place_object_basket``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the object, then the basket.
Success:
    The basket is more than 2 cm above where it started and upright within 60 degrees; the
    object is more than 2 cm above where it started, touches the basket and not the table, its
    origin is within 15 cm of the basket's (summed over x, y and z), and no part of the robot
    touches it.
    Fidelity: upstream checks the same 2 cm lifts, 60 degree tilt, 15 cm summed offset and the
    same two contacts. ``object_released`` is our addition (upstream's expert lets go before
    the other arm lifts, and its check does not look at the grippers), so an object carried
    up in the hand beside a lifted basket is not counted.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): the acting arm (left or right) with
    equal odds; the object on its side at |x| in [0.2, 0.25], y in [0.4, 0.6], its length along
    x turned by up to 30 degrees either way; the basket's centre at x = 0.02 toward the other
    arm, y in [0.42, 0.45], square to the table.
    The basket is our own model (upstream's ``110_basket``, two models: a woven one with a
    loop handle and a plastic one with an arched grip): an open box 24 x 17 cm outside and 7 cm
    deep with a loop handle across its middle whose square bar is 16 cm above the table. It
    weighs 0.15 kg, not upstream's 0.5 kg: the ViperX fingers on the 1.2 cm bar let a 0.5 kg
    basket slip out. The object is a toy car (6.4 x 3.4 x 4 cm; upstream's ``057_toycar``, six
    models) or a pack of playing cards lying flat (8.4 x 5.6 x 2 cm; upstream's
    ``081_playingcards``, three models), each 10 g as upstream's, the kind with equal odds as
    upstream; colours from palettes.
Episode end:
    Success, or 700 control steps (28 s at 25 Hz; the expert needs at most 238 on seeds 0-49).
    Upstream's evaluation limit is 700 policy actions.
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
from vlapro_bench.sim.geometry import gripper_down_quat
from vlapro_bench.sim.motion import Motion, PlanningError
from vlapro_bench.sim.objects.household import (
    COLOURS,
    SURFACE_FRICTION,
    TABLE_BODY,
    GraspableProp,
    catch_floor,
    park,
    parking_shelf,
    parking_spot,
    toy_car,
)
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    equivalent_yaws,
    finger_yaw_now,
    grasp_prop,
    pick_colour,
    place_prop,
    placement_state,
    round_inertia,
    set_on_table,
    touches_robot,
)
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask
from ._prop_words import HUES

BASKET = "basket"
OTHER = {"left": "right", "right": "left"}
#: Basket inner half-size, wall height and thickness; the handle bar's height above the
#: basket's origin and its half-width (m).
INNER, DEPTH, WALL, FLOOR = (0.11, 0.075), 0.07, 0.005, 0.004
BAR_Z, BAR_HALF = 0.16, 0.006
#: Where the object goes: this far from the basket's centre along x, on the acting arm's side.
DROP_X = 0.06
BASKET_FINISHES = {
    "brown": (0.55, 0.38, 0.2, 1), "yellow": (0.93, 0.78, 0.2, 1), "wicker": (0.76, 0.62, 0.4, 1),
    "red": (0.75, 0.2, 0.18, 1), "green": (0.3, 0.58, 0.32, 1),
}
BASKET_HUES = {"brown": "chestnut", "yellow": "golden", "wicker": "straw-hued", "red": "scarlet",
               "green": "emerald"}
HANDLE_COLOUR = (0.12, 0.12, 0.13, 1)
CARD_COLOURS = ("red", "blue", "black", "green")
CAR_COLOURS = ("red", "blue", "yellow", "orange", "purple", "green")
#: Per object kind: its noun, a second seen name, and two held-out names (unseen only).
KIND_WORDS = {
    "toy_car": ("toy car", "model car", "miniature vehicle", "pocket-sized automobile"),
    "playing_cards": ("pack of playing cards", "card box", "poker deck", "carton of bridge deck"),
}
#: Upstream's thresholds: lifts (m), the basket's tilt (cosine) and the summed offset (m).
LIFT_MIN, UPRIGHT_COS, OFFSET_MAX = 0.02, 0.5, 0.15
#: Upstream's ranges in our frame (upstream y + 0.5).
OBJECT_X, OBJECT_Y, BASKET_X, BASKET_Y, OBJECT_TURN = (0.2, 0.25), (0.4, 0.6), 0.02, (0.42, 0.45), math.pi / 6
#: Expert: how high the object is lifted after the grasp, the object's bottom above the basket
#: floor when the fingers open, and the basket's lift and outward draw (upstream's 5 and 5 cm).
CARRY_LIFT, CLEARANCE, BASKET_LIFT, BASKET_DRAW = 0.15, 0.01, 0.05, 0.05
#: Expert: height above the handle's bar where the lifting arm starts its descent.
HANDLE_APPROACH = 0.06


def handle_basket(scene: SceneBuilder, name: str) -> tuple[str, ...]:
    """An open basket with a loop handle across its middle: floor, four walls, two posts on the
    long walls and a square bar between them (square so a grip on it does not roll). The origin
    is the centre of its bottom face. Returns the geoms that take the finish colour."""
    body = scene.body(name, pos=(0.0, 0.5, 0.0), free=True)
    ix, iy = INNER
    h = DEPTH / 2
    geoms = [scene.box(body, f"{name}_floor", (ix + WALL, iy + WALL, FLOOR / 2), friction=SURFACE_FRICTION,
                       pos=(0, 0, FLOOR / 2), mass=0.05).name]
    for tag, half, pos in (("n", (ix + 2 * WALL, WALL / 2, h), (0, iy + WALL / 2, FLOOR + h)),
                           ("s", (ix + 2 * WALL, WALL / 2, h), (0, -iy - WALL / 2, FLOOR + h)),
                           ("e", (WALL / 2, iy, h), (ix + WALL / 2, 0, FLOOR + h)),
                           ("w", (WALL / 2, iy, h), (-ix - WALL / 2, 0, FLOOR + h))):
        geoms.append(scene.box(body, f"{name}_wall_{tag}", half, friction=SURFACE_FRICTION, pos=pos, mass=0.02).name)
    post_half = (BAR_Z + BAR_HALF - FLOOR - DEPTH) / 2
    for tag, sign in (("n", 1), ("s", -1)):
        scene.box(body, f"{name}_post_{tag}", (BAR_HALF, WALL / 2, post_half), HANDLE_COLOUR,
                  pos=(0, sign * (iy + WALL / 2), FLOOR + DEPTH + post_half), mass=0.01)
    scene.box(body, f"{name}_bar", (BAR_HALF, iy + WALL, BAR_HALF), HANDLE_COLOUR, pos=(0, 0, BAR_Z), mass=0.01,
              friction=(1.5, 0.005, 0.0001))
    return tuple(geoms)


def playing_cards(scene: SceneBuilder, name: str, pos: Sequence[float]) -> GraspableProp:
    """A pack of playing cards lying flat (8.4 x 5.6 x 2 cm) with a white label (visual only)."""
    body = scene.body(name, pos=pos, free=True)
    scene.box(body, f"{name}_pack", (0.042, 0.028, 0.01), COLOURS["red"], pos=(0, 0, 0.01), mass=0.01)
    scene.box(body, f"{name}_label", (0.03, 0.018, 0.0004), COLOURS["white"], pos=(0, 0, 0.0204), collide=False)
    return GraspableProp(name, "playing_cards", "pack of playing cards", "cuboid", (f"{name}_pack",),
                         grasp_z=0.016, height=0.02, radius=0.05, colours=CARD_COLOURS)


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and phrases.

    ``{A}`` is the object, ``{B}`` the basket (each drawn from ``descriptions``), ``{a}`` the
    arm that places the object and ``{b}`` the arm that lifts the basket.
    """
    puts = ("Put the {A} in the {B}", "Place the {A} into the {B}", "Drop the {A} inside the {B}",
            "Use the {a} arm to put the {A} in the {B}", "Grab the {A} with the {a} gripper, put it in the {B}")
    thens = (", then lift the {B} with the {b} arm.", ", then pick up the {B} by its handle.",
             " and raise the {B} using the {b} gripper.", ", then move the {B} slightly away.",
             " and have the {b} arm lift the {B}.")
    seen = [f"{p}{t}" for p, t in product(puts, thens)]
    seen += [
        "Use the {a} arm to drop the {A} into the {B} and the {b} arm to lift it.",
        "Pick up the {A}, put it in the {B}, then lift the {B}.",
        "Grab the {A}, place it in the {B} and pick up the {B}.",
        "The {a} arm puts the {A} in the {B}; the {b} arm lifts the {B}.",
        "Place the {A} in the {B}, then grab the {B} handle and lift it.",
        "Put the {A} into the {B} and raise the {B} off the table.",
        "Lift the {A} with the {a} arm, drop it in the {B}, then lift the {B} with the {b} arm.",
        "Move the {A} into the {B}, then pick the {B} up.",
        "Put the {A} in the {B} and carry the {B} a little to the {b} side.",
        "First place the {A} in the {B}, then lift the {B} by the handle.",
        "Pick the {A} up and put it in the {B}; then lift the {B} slightly.",
        "Grab the {A} and drop it into the {B}, then move the {B} away.",
        "Take the {A} with the {a} gripper and put it in the {B}, then take the {B} with the {b} gripper.",
        "Drop the {A} in the {B} and pick up the {B} with the other arm.",
        "Place the {A} inside the {B} and then lift the {B} up.",
        "Put the {A} in the {B}; use the other arm to lift the {B} by its handle.",
        "Grab the {A}, put it into the {B}, and raise the {B}.",
        "Place the {A} in the {B}, then shift the {B} to the {b} side.",
        "Move the {A} into the {B} with the {a} arm and lift the {B} with the {b} arm.",
        "Get the {A} into the {B}, then pick up the {B}.",
        "Lift the {A}, place it in the {B}, then lift the {B} by the handle.",
        "Use one arm to put the {A} in the {B} and the other arm to lift the {B}.",
        "Put the {A} in the {B} with the {a} gripper, then hold the {B} up with the {b} gripper.",
        "Pick up the {A}, drop it in the {B}, and move the {B} slightly away.",
        "Place the {A} in the {B} and take the {B} by its handle.",
        "The {A} goes in the {B}, then the {B} is lifted.",
    ]
    unseen = (
        "Stow the {A} in the {B}, then hoist the {B} aloft by its loop.",
        "Load the {A} into the {B} and let your {b} hand heft the {B}.",
        "Tuck the {A} away in the {B}; afterwards, clutch the loop and raise it.",
        "Deposit the {A} within the {B} before elevating the {B}.",
        "Your {a} hand packs the {A} into the {B}, your {b} hand then hauls the {B} upward.",
        "Pop the {A} into the {B} and carry the {B} off a bit.",
        "Nestle the {A} inside the {B}, then swing the {B} up by its loop.",
        "Pack the {A} in the {B} and heft the {B} clear of the tabletop.",
        "Slip the {A} into the {B}; next, hoist the {B} using its loop.",
        "Bin the {A} in the {B}, then elevate the {B} with your free hand.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


@register_task
class PlaceObjectBasket(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="place_object_basket",
        max_episode_steps=700,
        procedure=ProceduralAnnotation("pick_place", "cuboid", "downward", "container_inside"),
        description="Put the object into the basket with one arm, then lift the basket with the other.",
    )
    instructions = _templates()
    descriptions = {
        "A": {"seen": ("{obj}", "{obj_noun}", "{obj_alt}", "{obj_alt_col}"),
              "unseen": ("{obj_new}", "{obj_new_col}", "{obj_new2}")},
        "B": {"seen": ("basket", "{finish} basket", "basket with a handle", "{finish} basket with a handle"),
              "unseen": ("hamper", "{finish_new} hamper", "{finish_new} carrier tote")},
    }
    #: The object slot is filled per episode with the chosen kind's body.
    tracked_bodies = ("toy_car", BASKET)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.objects = {"toy_car": toy_car(scene, "toy_car", mass=0.01, pos=parking_spot(0)),
                        "playing_cards": playing_cards(scene, "playing_cards", pos=parking_spot(1))}
        self.basket_geoms = handle_basket(scene, BASKET)
        parking_shelf(scene)
        catch_floor(scene)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.arm = "left" if rng.uniform() < 0.5 else "right"
        self.taker = OTHER[self.arm]
        side = -1.0 if self.arm == "left" else 1.0
        kind = ("toy_car", "playing_cards")[int(rng.integers(2))]
        self.object = self.objects[kind]
        round_inertia(sim, self.objects.values())
        park(sim, list(self.objects.values()), active=[self.object.body])
        self.tracked_bodies = (self.object.body, BASKET)
        basket_xy = (-side * BASKET_X, rng.uniform(*BASKET_Y))
        sim.set_free_pose(BASKET, (basket_xy[0], basket_xy[1], 0.001))
        object_xy = (side * rng.uniform(*OBJECT_X), rng.uniform(*OBJECT_Y))
        set_on_table(sim, self.object, object_xy, rng.uniform(-OBJECT_TURN, OBJECT_TURN))
        colour = pick_colour(rng, self.object.colours)
        sim.set_rgba(self.object.colour_geoms, COLOURS[colour])
        finish = pick_colour(rng, tuple(BASKET_FINISHES))
        sim.set_rgba(self.basket_geoms, BASKET_FINISHES[finish])
        noun, alt, new, new2 = KIND_WORDS[kind]
        self.start_z = {self.object.body: 0.001, BASKET: 0.001}
        return {"A": f"{colour} {noun}", "B": f"{finish} basket", "a": self.arm, "b": self.taker,
                "obj": f"{colour} {noun}", "obj_noun": noun, "obj_alt": alt, "obj_alt_col": f"{colour} {alt}",
                "obj_new": new, "obj_new_col": f"{HUES[colour]} {new}", "obj_new2": new2,
                "finish": finish, "finish_new": BASKET_HUES[finish]}

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        body = self.object.body
        obj, bas = sim.body_pos(body), sim.body_pos(BASKET)
        return all_of(
            basket_lifted=bool(bas[2] - self.start_z[BASKET] > LIFT_MIN),
            basket_upright=bool(sim.body_mat(BASKET)[2, 2] > UPRIGHT_COS),
            object_lifted=bool(obj[2] - self.start_z[body] > LIFT_MIN),
            object_near_basket=bool(np.sum(np.abs(obj - bas)) < OFFSET_MAX),
            object_on_basket=sim.in_contact(body, BASKET) and not sim.in_contact(body, TABLE_BODY),
            object_released=not touches_robot(sim, body),
        )

    # -- expert -----------------------------------------------------------------------------
    def _drop_point(self, sim: Simulation) -> np.ndarray:
        """Where the object's origin goes: the middle of the basket's half on the acting side."""
        side = -1.0 if self.arm == "left" else 1.0
        return sim.body_pos(BASKET) + sim.body_mat(BASKET) @ (side * DROP_X, 0.0, FLOOR + CLEARANCE)

    def _bar(self, sim: Simulation) -> np.ndarray:
        return sim.body_pos(BASKET) + sim.body_mat(BASKET) @ (0.0, 0.0, BAR_Z)

    def _handle_approach(self, motion: Motion, arm: str, bar: np.ndarray, yaw: float) -> tuple[np.ndarray, np.ndarray]:
        """Gripper orientation and joints above the bar, fingers across it.

        The IK is local and, from the ready pose, often misses the pose above the bar with the
        wrist turned a quarter turn; it finds the grasp pose itself, and from there the pose
        above. Of the two equivalent finger yaws, the first that works.
        """
        home = motion.robot.home_action()[motion.robot.arm_slice(arm)]
        fallback = None
        for finger in (yaw, yaw + math.pi):
            quat = gripper_down_quat(finger)
            at = motion.ik.solve(arm, bar, quat, home)
            if not at.converged:
                continue
            above = motion.ik.solve(arm, bar + (0, 0, HANDLE_APPROACH), quat, at.qpos)
            if above.converged:
                return quat, above.qpos
            fallback = fallback or (quat, at.qpos)
        if fallback is None:
            raise PlanningError(f"{arm} arm cannot reach the basket's handle")
        return fallback

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        arm, taker = self.arm, self.taker
        yield from grasp_prop(sim, motion, arm, self.object, lift=CARRY_LIFT)
        # The object's length along the basket's x (fingers across it); failing that, as held.
        along = math.atan2(sim.body_mat(BASKET)[1, 0], sim.body_mat(BASKET)[0, 0]) + math.pi / 2
        now = finger_yaw_now(motion, arm)
        yaws = [*equivalent_yaws(along, math.pi, now), now]
        yield from place_prop(sim, motion, arm, self.object, self._drop_point(sim), yaws, hover=0.08, retreat=0.1)
        # The placing arm goes home while the other comes over the handle; the fingers close
        # across the bar (it runs along the basket's y).
        bar = self._bar(sim)
        yaw = math.atan2(sim.body_mat(BASKET)[1, 0], sim.body_mat(BASKET)[0, 0])
        quat, above = self._handle_approach(motion, taker, bar, yaw)
        home = motion.robot.home_action()
        yield from motion.move_joints({arm: home[motion.robot.arm_slice(arm)], taker: above}, 35,
                                      {taker: motion.robot.gripper_open})
        yield from motion.line(taker, bar, quat, steps=20, segments=2)
        yield from motion.gripper(taker, motion.robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        out = 1.0 if taker == "right" else -1.0
        yield from motion.line(taker, bar + (out * BASKET_DRAW, 0, BASKET_LIFT), quat, steps=24, segments=3)
        yield from motion.wait(10)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        body = self.object.body
        in_basket = sim.in_contact(body, BASKET) and not sim.in_contact(body, TABLE_BODY)
        if in_basket and not sim.is_grasped(self.arm, body):
            stage = "lift" if sim.is_grasped(self.taker, BASKET) else "grasp_handle"
            action = "lift" if stage == "lift" else "grasp"
            bar = self._bar(sim)
            return self.state_from_spec(sim, bar, stage, action_type=action, object_geometry="handle",
                                        arm=self.taker)
        return placement_state(sim, self.arm, self.object, self._drop_point(sim), in_basket)
