"""place_cans_plasticbox: both arms pick up a can each and put them into a plastic box.

Description:
    An open plastic storage box stands in the middle of the table, near the robot, with a
    drink can on its left and another on its right. Both arms grasp their cans at the same
    time and lift them; the left arm lowers its can into the left half of the box and lets
    go, then goes back to its ready pose while the right arm puts its can into the right half
    (RoboTwin 2.0 ``place_cans_plasticbox``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the left can, the right can, then the box.
Success:
    Each can's centre is within 4 cm (horizontally) of one of the box's two spots (the centres
    of its left and right halves), one can per spot, and no part of the robot touches either
    can while both are at rest.
    Fidelity: upstream checks that each can is within 4 cm of the nearer of the box's two
    functional points, then asks for both grippers open. We ask for one can per spot (two cans
    near one spot can only be stacked) and, instead of open grippers, that the robot has let go
    of both cans and they are at rest, so a can still falling into the box is not counted.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): the box at x = 0, y in [0.35, 0.40],
    square to the table; the left can at x in [-0.25, -0.15], y in [0.35, 0.43], the right can
    at x in [0.15, 0.25], y in the same range, each at a random heading (they are round).
    The box is our own model (upstream's ``062_plasticbox``, two models, light blue and blue):
    an open box 22 x 15 cm outside and 7 cm deep, with its spots 5 cm either side of its centre;
    free and light (50 g, as upstream's), so a can that hits it can shove it, and success is
    judged against where it then stands. The cans are drink cans, 4.8 cm across and 9 cm tall
    (upstream's ``071_can``, six models), in two different colours of seven; the box's colour
    is one of five.
Episode end:
    Success, or 800 control steps (32 s at 25 Hz; the expert needs at most 213 on seeds 0-49).
    Upstream's evaluation limit is 800 policy actions.
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
from vlapro_bench.sim.geometry import gripper_down_quat, quat_to_mat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import COLOURS, BasketProp, basket, can, catch_floor
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    hand_offset,
    pick_colour,
    placement_state,
    released_at_rest,
    round_inertia,
    set_on_table,
)
from vlapro_bench.sim.skills import NATURAL_YAW
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask
from ._prop_words import prop_descriptions, prop_words

BOX = "plasticbox"
CANS = {"left": "can_left", "right": "can_right"}
#: Can radius and height (m).
CAN_RADIUS, CAN_HEIGHT = 0.024, 0.09
#: Box inner half-size, wall height and thickness (m).
BOX_INNER, BOX_DEPTH, BOX_WALL = (0.1, 0.065), 0.065, 0.005
#: The spots along the box's x axis: -0.05 is the left arm's, +0.05 the right arm's.
SPOT_X = {"left": -0.05, "right": 0.05}
#: Upstream's threshold: a can's centre within this distance (xy) of a spot.
SPOT_TOLERANCE = 0.04
#: Upstream's ranges in our frame (upstream y + 0.5).
BOX_Y, CAN_X, CAN_Y = (0.35, 0.40), (0.15, 0.25), (0.35, 0.43)
CAN_COLOURS = ("red", "green", "blue", "yellow", "orange", "white", "silver")
BOX_COLOURS = {
    "blue": (0.15, 0.35, 0.8, 1), "light blue": (0.55, 0.75, 0.95, 1), "white": (0.9, 0.9, 0.9, 1),
    "grey": (0.55, 0.56, 0.6, 1), "green": (0.3, 0.65, 0.4, 1),
}
#: Held-out colour words for the box (unseen descriptions only).
BOX_HUES = {"blue": "cobalt", "light blue": "sky-tinted", "white": "ivory", "grey": "slate", "green": "emerald"}
#: Expert: how high both cans are lifted, and where a can's bottom is when the fingers open.
LIFT, CLEARANCE = 0.14, 0.008


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and phrases.

    ``{A}`` is the left can, ``{C}`` the right can, ``{B}`` the box (each drawn from
    ``descriptions`` per episode).
    """
    verbs = ("Put", "Place", "Move", "Transfer", "Drop", "Set")
    into = ("into the {B}", "in the {B}", "inside the {B}")
    arms = ("", " using both arms", " with the two grippers")
    seen = [f"{v} the {{A}} and the {{C}} {i}{a}." for v, (i, a) in product(verbs, zip(into, arms, strict=True))]
    seen += [f"{v} the {{A}} and the {{C}} {i}{a}." for v, (i, a) in
             product(verbs[:4], zip(into, arms[::-1], strict=True))]
    firsts = ("Pick up the {A}", "Grab the {A}", "Lift the {A}")
    thens = (", put it in the {B}, then do the same with the {C}.",
             " and place it inside the {B}, then move the {C} there too.",
             ", drop it into the {B} and repeat with the {C}.")
    seen += [f"{f}{t}" for f, t in product(firsts, thens)]
    seen += [
        "Use both arms to put the {A} and the {C} into the {B}.",
        "With both arms, place the {A} and the {C} in the {B}.",
        "Left arm takes the {A}, right arm takes the {C}; put both in the {B}.",
        "Grab the {A} with the left arm and the {C} with the right arm, then put them in the {B}.",
        "Pick up both cans at once and place them in the {B}.",
        "Put both cans into the {B}, one with each arm.",
        "First put the {A} into the {B}, then the {C}.",
        "Place the {A} in the left half of the {B} and the {C} in the right half.",
        "Move the {A} and then the {C} into the {B}.",
        "Pick the {A} and the {C} up with both grippers and set them in the {B}.",
        "Lift the {A} and the {C} together, then put them inside the {B}.",
        "The {A} and the {C} go into the {B}.",
        "Get the {A} and the {C} into the {B}.",
        "Use the left gripper for the {A} and the right gripper for the {C}, placing both in the {B}.",
        "Put the two cans in the {B}: the {A} first, then the {C}.",
        "Drop the {A} into the {B}, then drop the {C} in beside it.",
    ]
    unseen = (
        "Stow the {A} and the {C} away in the {B}.",
        "Pack the {A} and the {C} into the {B}, a hand for each.",
        "Load the {B} with the {A} and the {C}.",
        "Deposit the {A}, followed by the {C}, within the {B}.",
        "Tidy up: the {A} and the {C} belong in the {B}.",
        "Let each hand ferry its own tin over to the {B}: the {A}, then the {C}.",
        "Snatch up the {A} and the {C} simultaneously and bin them in the {B}.",
        "Fill the {B} with the {A} and the {C}, side by side.",
        "Clear the tabletop by tucking the {A} and the {C} into the {B}.",
        "Your two hands should each grab a tin, the {A} and the {C}, and lower them into the {B}.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


@register_task
class PlaceCansPlasticbox(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="place_cans_plasticbox",
        max_episode_steps=800,
        procedure=ProceduralAnnotation("pick_place", "cylinder", "downward", "container_inside"),
        description="Put the two cans into the plastic box, one with each arm.",
    )
    instructions = _templates()
    descriptions = {
        "A": prop_descriptions("A"),
        "C": prop_descriptions("C"),
        "B": {
            "seen": ("plastic box", "{box} plastic box", "storage box", "{box} storage box"),
            "unseen": ("tote", "{box_new} tote", "{box_new} lidless crate"),
        },
    }
    tracked_bodies = (CANS["left"], CANS["right"], BOX)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.cans = {arm: can(scene, body, radius=CAN_RADIUS, height=CAN_HEIGHT, pos=(0.4 * side, 0.8, 0.0))
                     for (arm, body), side in zip(CANS.items(), (-1, 1), strict=True)}
        self.box: BasketProp = basket(scene, BOX, inner_half=BOX_INNER, wall_height=BOX_DEPTH, wall=BOX_WALL,
                                      mass=0.05)
        catch_floor(scene)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, self.cans.values())
        sim.set_free_pose(BOX, (0.0, rng.uniform(*BOX_Y), 0.001))
        values: dict[str, str] = {}
        taken: list[str] = []
        for prop, key, side in zip(self.cans.values(), ("A", "C"), (-1, 1), strict=True):
            xy = (side * rng.uniform(*CAN_X), rng.uniform(*CAN_Y))
            set_on_table(sim, prop, xy, rng.uniform(-math.pi, math.pi))
            colour = pick_colour(rng, CAN_COLOURS, exclude=taken)
            taken.append(colour)
            sim.set_rgba(prop.colour_geoms, COLOURS[colour])
            values |= {key: prop.describe(colour), **prop_words(key, prop, colour)}
        box = pick_colour(rng, tuple(BOX_COLOURS))
        sim.set_rgba(self.box.geoms, BOX_COLOURS[box])
        self.arm = "left"
        return {**values, "B": f"{box} plastic box", "box": box, "box_new": BOX_HUES[box]}

    def _spot(self, sim: Simulation, arm: str) -> np.ndarray:
        """World position of a spot on the box floor (the left or right half's centre)."""
        return sim.body_pos(BOX) + sim.body_mat(BOX) @ (SPOT_X[arm], 0.0, self.box.floor_top)

    def _at_spot(self, sim: Simulation, body: str, arm: str) -> bool:
        return bool(np.linalg.norm(sim.body_pos(body)[:2] - self._spot(sim, arm)[:2]) < SPOT_TOLERANCE)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        a, c = CANS["left"], CANS["right"]
        straight = self._at_spot(sim, a, "left") and self._at_spot(sim, c, "right")
        crossed = self._at_spot(sim, a, "right") and self._at_spot(sim, c, "left")
        return all_of(
            cans_at_spots=straight or crossed,
            left_can_released_at_rest=released_at_rest(sim, a),
            right_can_released_at_rest=released_at_rest(sim, c),
        )

    # -- expert -----------------------------------------------------------------------------
    def _both(self, motion: Motion, targets: dict[str, np.ndarray], steps: int, segments: int = 1,
              grippers: dict[str, float] | None = None) -> Iterator[np.ndarray]:
        """Both TCPs to ``targets`` (pointing down at their natural yaw) along straight lines."""
        starts = {arm: motion.tcp_target_pose(arm)[0] for arm in targets}
        for k in range(1, segments + 1):
            poses = {arm: (starts[arm] + (targets[arm] - starts[arm]) * k / segments,
                           gripper_down_quat(NATURAL_YAW[arm])) for arm in targets}
            yield from motion.move_both(poses, max(1, steps // segments), grippers if k == 1 else None)

    def _place(self, sim: Simulation, motion: Motion, arm: str, home_other: bool) -> Iterator[np.ndarray]:
        """Carry ``arm``'s can over its spot, lower it in, let go, back up (the other arm going home)."""
        prop = self.cans[arm]
        quat = gripper_down_quat(NATURAL_YAW[arm])
        goal = self._spot(sim, arm) + (0, 0, CLEARANCE)
        tcp = goal - quat_to_mat(quat) @ hand_offset(sim, arm, prop)
        above = {arm: motion.solve(arm, tcp + (0, 0, 0.07), quat)}
        if home_other:
            other = "left" if arm == "right" else "right"
            above[other] = motion.robot.home_action()[motion.robot.arm_slice(other)]
        yield from motion.move_joints(above, 30)
        yield from motion.line(arm, tcp, quat, steps=16, segments=2)
        yield from motion.gripper(arm, motion.robot.gripper_open, steps=10)
        yield from motion.wait(4)
        yield from motion.line(arm, tcp + (0, 0, 0.08), quat, steps=14, segments=2)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        grasp = {arm: sim.body_pos(p.body) + (0, 0, p.grasp_z) for arm, p in self.cans.items()}
        opened = {arm: motion.robot.gripper_open for arm in grasp}
        closed = {arm: motion.robot.gripper_closed for arm in grasp}
        # Both arms grasp their cans and lift them together, as upstream's play_once.
        yield from self._both(motion, {a: p + (0, 0, 0.1) for a, p in grasp.items()}, 30, grippers=opened)
        yield from self._both(motion, grasp, 20, segments=2)
        yield from motion.grippers(closed, steps=10)
        yield from motion.wait(4)
        yield from self._both(motion, {a: p + (0, 0, LIFT) for a, p in grasp.items()}, 20, segments=2)
        yield from self._place(sim, motion, "left", home_other=False)
        yield from self._place(sim, motion, "right", home_other=True)
        yield from motion.home("right", steps=25)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        arm = "left" if not self._at_spot(sim, CANS["left"], "left") or sim.is_grasped("left", CANS["left"]) \
            else "right"
        prop = self.cans[arm]
        placed = self._at_spot(sim, prop.body, arm)
        return placement_state(sim, arm, prop, self._spot(sim, arm), placed)
