"""place_burger_fries: both arms put a burger and a box of fries onto a tray.

Description:
    A serving tray lies in the middle of the table, a burger stands to its left and a box of
    fries to its right. Both arms grasp at once (the left arm the burger, the right arm the
    fries) and lift; the left arm sets the burger on the tray's left spot and backs up, then
    the right arm sets the fries on the tray's right spot while the left arm returns home
    (RoboTwin 2.0 ``place_burger_fries``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the burger, the fries, then the tray.
Success:
    The burger's centre is within 8 cm (horizontally) of the tray's left spot and the fries'
    centre within 8 cm of its right spot, and no part of the robot touches either while both
    are at rest.
    Fidelity: upstream checks the same two 8 cm distances between each object's functional
    point and the tray's functional points 0 (burger) and 1 (fries), then asks for both
    grippers open. We ask instead that the robot has let go of both (nothing of it touches
    them) and that both are at rest, so a burger still sliding across the tray is not counted.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): tray at x = 0, y in [0.35, 0.40],
    not turned, fixed to the table (upstream's is a static actor); burger at x in
    [-0.3, -0.25], fries at x in [0.2, 0.3], both at y in [0.35, 0.43], neither turned (the
    fries box faces the robot, as upstream's fixed pose). The tray spots are 7 cm left and
    right of the tray's centre.
    Props are our own rigid models built from primitives: the burger (6.2 cm across, 5 cm
    tall: bun halves, patty, cheese, lettuce) is narrower than upstream's ``006_hamburg``
    meshes so that the ViperX gripper (6.9 cm open) spans it; the fries are a 5.4 x 3.4 x
    8 cm box with sticks showing at the top (the sticks are not collision geometry); the tray
    (upstream's ``008_tray`` at scale 2) is 30 x 20 cm with a 1.5 cm rim. Both props weigh
    50 g, as upstream sets them. Bun, box and tray colours are drawn per episode.
Episode end:
    Success, or 500 control steps (20 s at 25 Hz; the expert needs at most 206 on seeds 0-49
    and 100000-100049). Upstream's evaluation limit is 500 policy actions.
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
from vlapro_bench.sim.objects.household import HOME, SURFACE_FRICTION, GraspableProp, catch_floor
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    first_feasible,
    grasp_options,
    hand_offset,
    pick_colour,
    placement_state,
    released_at_rest,
    round_inertia,
    set_on_table,
)
from vlapro_bench.sim.skills import release_upward
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask

BURGER, FRIES, TRAY = "burger", "fries", "tray"
#: Burger radius and height; fries box half-sizes (m).
BURGER_RADIUS, BURGER_HEIGHT = 0.031, 0.05
FRIES_HALF = (0.027, 0.017, 0.04)
#: Tray: floor half-size, floor thickness, rim height and thickness (m).
TRAY_HALF, TRAY_FLOOR, TRAY_RIM, TRAY_WALL = (0.15, 0.10), 0.006, 0.015, 0.006
#: The tray's two spots in its frame: the burger's (left) and the fries' (right).
SPOTS = {BURGER: np.array([-0.07, 0.0]), FRIES: np.array([0.07, 0.0])}
#: Upstream's threshold: horizontal distance of each object's centre from its spot.
XY_TOLERANCE = 0.08
#: Upstream's placement ranges in our frame (upstream y + 0.5).
TRAY_Y, BURGER_X, FRIES_X, FOOD_Y = (0.35, 0.40), (-0.3, -0.25), (0.2, 0.3), (0.35, 0.43)
BUN_COLOURS = {
    "golden": (0.86, 0.6, 0.28, 1), "light": (0.93, 0.78, 0.52, 1), "dark": (0.55, 0.33, 0.16, 1),
}
#: Held-out words for the bun colours (unseen descriptions only).
BUN_NEW = {"golden": "honey-coloured", "light": "pale", "dark": "deeply baked"}
BOX_COLOURS = {
    "red": (0.82, 0.1, 0.1, 1), "yellow": (0.95, 0.78, 0.1, 1), "white": (0.92, 0.92, 0.9, 1),
    "blue": (0.18, 0.35, 0.8, 1),
}
BOX_NEW = {"red": "scarlet", "yellow": "mustard", "white": "ivory", "blue": "cobalt"}
TRAY_COLOURS = {
    "beige": (0.86, 0.8, 0.66, 1), "grey": (0.55, 0.56, 0.58, 1), "white": (0.93, 0.93, 0.91, 1),
    "brown": (0.45, 0.3, 0.2, 1),
}
TRAY_NEW = {"beige": "sand-coloured", "grey": "slate", "white": "snowy", "brown": "walnut"}
#: Fries-stick colour, and where the sticks stand on the box top (x, y, height, lean).
STICK_COLOUR = (0.98, 0.82, 0.3, 1)
STICKS = ((-0.018, -0.006, 0.022, 0.15), (-0.009, 0.006, 0.028, -0.1), (0.0, -0.004, 0.025, 0.05),
          (0.009, 0.005, 0.03, 0.12), (0.018, -0.005, 0.021, -0.15), (-0.004, 0.008, 0.02, 0.0),
          (0.013, -0.009, 0.024, -0.05))
#: TCP height of the lift after the grasp and of the hover before a release (above the grasp).
LIFT, HOVER = 0.10, 0.07
#: Height of an object's bottom above the tray floor when the fingers open.
CLEARANCE = 0.006


def burger(scene: SceneBuilder, name: str) -> GraspableProp:
    """A round burger, origin under its centre: bottom bun, patty, cheese and lettuce (thin,
    visual only), and a domed top bun. The bun halves take the per-episode colour."""
    body = scene.body(name, pos=HOME, free=True)
    r = BURGER_RADIUS
    bun = BUN_COLOURS["golden"]
    scene.cylinder(body, f"{name}_bun_bottom", r - 0.001, 0.008, bun, pos=(0, 0, 0.008), mass=0.015)
    scene.cylinder(body, f"{name}_patty", r, 0.006, (0.3, 0.17, 0.1, 1), pos=(0, 0, 0.022), mass=0.015)
    scene.box(body, f"{name}_cheese", (0.027, 0.027, 0.001), (0.98, 0.75, 0.15, 1), pos=(0, 0, 0.029),
              quat=(math.cos(math.pi / 8), 0, 0, math.sin(math.pi / 8)), collide=False)
    scene.cylinder(body, f"{name}_lettuce", r + 0.001, 0.0012, (0.35, 0.7, 0.25, 1), pos=(0, 0, 0.0302),
                   collide=False)
    scene.cylinder(body, f"{name}_bun_mid", r - 0.001, 0.004, bun, pos=(0, 0, 0.0354), mass=0.008)
    scene.ellipsoid(body, f"{name}_bun_top", (r - 0.001, r - 0.001, 0.0106), bun, pos=(0, 0, 0.0394),
                    mass=0.012)
    return GraspableProp(name, "burger", "burger", "cylinder",
                         (f"{name}_bun_bottom", f"{name}_bun_mid", f"{name}_bun_top"), grasp_z=0.032,
                         height=BURGER_HEIGHT, radius=r, symmetry=math.pi / 4, colours=tuple(BUN_COLOURS))


def fries_box(scene: SceneBuilder, name: str) -> GraspableProp:
    """A box of fries along local x, origin under its centre; the sticks poking out of the top
    are visual only, so they never catch the fingers. The fingers close across its 3.4 cm depth."""
    body = scene.body(name, pos=HOME, free=True)
    hx, hy, hz = FRIES_HALF
    scene.box(body, f"{name}_box", FRIES_HALF, BOX_COLOURS["red"], pos=(0, 0, hz), mass=0.05)
    scene.box(body, f"{name}_logo", (0.01, 0.0004, 0.01), (0.98, 0.82, 0.2, 1), pos=(0, -hy - 0.0004, 0.05),
              collide=False)
    for k, (x, y, height, lean) in enumerate(STICKS):
        scene.box(body, f"{name}_stick{k}", (0.003, 0.003, height / 2), STICK_COLOUR,
                  pos=(x, y, 2 * hz + height / 2 - 0.01), quat=(math.cos(lean / 2), 0, math.sin(lean / 2), 0),
                  collide=False)
    return GraspableProp(name, "fries", "fries", "cuboid", (f"{name}_box",), grasp_z=0.06, height=2 * hz,
                         radius=math.hypot(hx, hy), colours=tuple(BOX_COLOURS))


def tray(scene: SceneBuilder, name: str) -> list[str]:
    """A flat serving tray fixed to the table, moved at reset through the model; origin at the
    centre of its bottom. Returns its geoms (they take the per-episode colour)."""
    body = scene.body(name, pos=(0, 0.375, 0))
    hx, hy = TRAY_HALF
    geoms = [scene.box(body, f"{name}_floor", (hx, hy, TRAY_FLOOR / 2), TRAY_COLOURS["beige"],
                       pos=(0, 0, TRAY_FLOOR / 2), friction=SURFACE_FRICTION).name]
    h, w = TRAY_RIM / 2, TRAY_WALL / 2
    for side, pos, half in (("n", (0, hy - w, h), (hx, w, h)), ("s", (0, -hy + w, h), (hx, w, h)),
                            ("e", (hx - w, 0, h), (w, hy - 2 * w, h)), ("w", (-hx + w, 0, h), (w, hy - 2 * w, h))):
        geoms.append(scene.box(body, f"{name}_rim_{side}", half, TRAY_COLOURS["beige"], pos=pos,
                               friction=SURFACE_FRICTION).name)
    return geoms


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and target phrases.

    ``{A}`` is the burger, ``{C}`` the fries and ``{B}`` the tray, each named from
    ``descriptions`` per episode. Unseen templates use verbs and phrasing no seen one uses.
    """
    both = ("the {A} and the {C}", "both the {A} and the {C}")
    put = ("Put", "Place", "Set", "Lay")
    on = ("on the {B}", "onto the {B}", "on top of the {B}", "down on the {B}")
    seen = [f"{v} {o} {t}." for (v, t), o in product(product(put, on), both[:1])]
    carry = ("Move", "Carry", "Bring", "Transfer")
    to = ("to the {B}", "over to the {B}", "onto the {B}")
    seen += [f"{v} {o} {t}." for v, t, o in product(carry, to, both[:1])]
    arms = ("with both arms", "using both arms", "using both grippers", "with one arm each")
    seen += [f"{v} {both[1]} {t} {a}." for v, t, a in zip(put + carry, on + to + to[:1], arms + arms, strict=True)]
    seen += [
        "Use both arms to put the {A} and the {C} on the {B}.",
        "Use both arms to move the {A} and the {C} onto the {B}.",
        "Pick up the {A} and the {C} and put them on the {B}.",
        "Grab the {A} and the {C} at the same time and set them on the {B}.",
        "Pick up the {A} with the left arm and the {C} with the right arm, then put both on the {B}.",
        "With the left arm put the {A} on the {B}; with the right arm put the {C} there too.",
        "Lift the {A} and the {C} and lower them onto the {B}.",
        "Take the {A} and the {C} and place them side by side on the {B}.",
        "Put the {A} on the left of the {B} and the {C} on its right.",
        "Both arms: the {A} and the {C} go on the {B}.",
        "Get the {A} and the {C} onto the {B}.",
        "The {A} and the {C} belong on the {B}; put them there.",
        "First put the {A} on the {B}, then the {C}.",
        "Grab the {A} with one arm and the {C} with the other and set both on the {B}.",
        "Pick up both the {A} and the {C} and put them onto the {B}.",
        "Place the {A} and the {C} next to each other on the {B}.",
        "Move the {A} and the {C} from the table onto the {B}.",
        "Lift both the {A} and the {C} and set them down on the {B}.",
    ]
    unseen = (
        "Serve the {A} and the {C} on the {B}, one hand for each.",
        "Arrange a meal on the {B}: the {A} at left, the {C} at right.",
        "Load the {B} with the {A} and the {C}.",
        "Deliver the {A} together with the {C} to the {B}.",
        "Get lunch ready by plating the {A} and the {C} on the {B}.",
        "Each hand should fetch one item, the {A} or the {C}, and leave it on the {B}.",
        "Transport the {A} plus the {C} onto the {B} in parallel.",
        "Clear the {A} and the {C} off the tabletop by parking them on the {B}.",
        "Assemble the combo: {A} and {C}, both resting on the {B}.",
        "Stage the {A} alongside the {C} upon the {B}.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


@register_task
class PlaceBurgerFries(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="place_burger_fries",
        max_episode_steps=500,
        procedure=ProceduralAnnotation("pick_place", "cylinder", "downward", "pad_centre"),
        description="Put the burger and the fries onto the tray, one with each arm.",
    )
    instructions = _templates()
    descriptions = {
        "A": {
            "seen": ("burger", "{bun} burger", "hamburger", "{bun} hamburger", "burger in a bun"),
            "unseen": ("{bun_new} cheeseburger", "beef sandwich", "round {bun_new} sandwich"),
        },
        "C": {
            "seen": ("fries", "{box} box of fries", "french fries", "{box} fries box", "fries carton"),
            "unseen": ("{box_new} chip pack", "fried potato strips", "{box_new} chip holder"),
        },
        "B": {
            "seen": ("tray", "{tray} tray", "serving tray", "{tray} serving tray"),
            "unseen": ("{tray_new} platter", "food platter", "flat {tray_new} salver"),
        },
    }
    tracked_bodies = (BURGER, FRIES, TRAY)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.burger = burger(scene, BURGER)
        self.fries = fries_box(scene, FRIES)
        self.tray_geoms = tray(scene, TRAY)
        catch_floor(scene)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, [self.burger, self.fries])
        # Every layout in these ranges is within both arms' reach and clear of the tray.
        tray_y = rng.uniform(*TRAY_Y)
        burger_xy = (rng.uniform(*BURGER_X), rng.uniform(*FOOD_Y))
        fries_xy = (rng.uniform(*FRIES_X), rng.uniform(*FOOD_Y))
        sim.set_body_pose(TRAY, (0.0, tray_y, 0.0))
        set_on_table(sim, self.burger, burger_xy, 0.0)
        set_on_table(sim, self.fries, fries_xy, 0.0)
        bun = pick_colour(rng, tuple(BUN_COLOURS))
        sim.set_rgba(self.burger.colour_geoms, BUN_COLOURS[bun])
        box = pick_colour(rng, tuple(BOX_COLOURS))
        sim.set_rgba(self.fries.colour_geoms, BOX_COLOURS[box])
        finish = pick_colour(rng, tuple(TRAY_COLOURS))
        sim.set_rgba(self.tray_geoms, TRAY_COLOURS[finish])
        self.arm = "left"
        return {"A": f"{bun} burger", "C": f"{box} box of fries", "B": f"{finish} tray",
                "bun": bun, "bun_new": BUN_NEW[bun], "box": box, "box_new": BOX_NEW[box],
                "tray": finish, "tray_new": TRAY_NEW[finish]}

    def _spot(self, sim: Simulation, body: str) -> np.ndarray:
        """World position of ``body``'s spot on the tray floor."""
        return sim.body_pos(TRAY) + np.append(SPOTS[body], TRAY_FLOOR)

    def _near_spot(self, sim: Simulation, body: str) -> bool:
        return bool(np.linalg.norm(sim.body_pos(body)[:2] - self._spot(sim, body)[:2]) < XY_TOLERANCE)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(
            burger_on_left_spot=self._near_spot(sim, BURGER),
            fries_on_right_spot=self._near_spot(sim, FRIES),
            burger_released_at_rest=released_at_rest(sim, BURGER),
            fries_released_at_rest=released_at_rest(sim, FRIES),
        )

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        # Both arms grasp at once: each takes the first top grasp its IK can follow.
        props = {"left": self.burger, "right": self.fries}
        poses: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        for arm, prop in props.items():
            _, chains = grasp_options(sim, arm, prop, lift=LIFT)
            plan = first_feasible(motion, arm, chains)
            poses[arm] = chains[plan.option]
        opening = {arm: motion.robot.gripper_open for arm in props}
        yield from motion.move_both({arm: poses[arm][0] for arm in props}, 30, opening)
        for k in (1, 2):  # straight down, in two steps
            yield from motion.move_both({arm: (poses[arm][0][0] + (poses[arm][1][0] - poses[arm][0][0]) * k / 2,
                                               poses[arm][1][1]) for arm in props}, 10)
        yield from motion.grippers({arm: motion.robot.gripper_closed for arm in props}, steps=10)
        yield from motion.wait(4)
        yield from motion.move_both({arm: poses[arm][2] for arm in props}, 16)
        # The left arm puts the burger on its spot and backs up.
        tcp, quat = self._release_pose(sim, motion, "left", self.burger)
        yield from motion.move("left", tcp + (0, 0, HOVER), quat, steps=30)
        yield from motion.line("left", tcp, quat, steps=16, segments=2)
        yield from release_upward(motion, "left", tcp, quat, 0.08)
        # The right arm carries the fries over while the left arm goes home, then puts them down.
        tcp, quat = self._release_pose(sim, motion, "right", self.fries)
        home = motion.robot.home_action()[motion.robot.arm_slice("left")]
        yield from motion.move_joints({"left": home, "right": motion.solve("right", tcp + (0, 0, HOVER), quat)}, 30)
        yield from motion.line("right", tcp, quat, steps=16, segments=2)
        yield from release_upward(motion, "right", tcp, quat, 0.08)

    def _release_pose(self, sim: Simulation, motion: Motion, arm: str,
                      prop: GraspableProp) -> tuple[np.ndarray, np.ndarray]:
        """TCP pose that puts the held prop's origin just above its spot, the wrist as it is."""
        _, quat = motion.tcp_target_pose(arm)
        finger = quat_to_mat(quat)[:, 1]
        quat = gripper_down_quat(math.atan2(finger[1], finger[0]))
        goal = self._spot(sim, prop.body) + (0, 0, CLEARANCE)
        return goal - quat_to_mat(quat) @ hand_offset(sim, arm, prop), quat

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if not (self._near_spot(sim, BURGER) and sim.body_pos(BURGER)[2] < TRAY_FLOOR + 0.01):
            return placement_state(sim, "left", self.burger, self._spot(sim, BURGER), False)
        placed = self._near_spot(sim, FRIES) and sim.body_pos(FRIES)[2] < TRAY_FLOOR + 0.01
        return placement_state(sim, "right", self.fries, self._spot(sim, FRIES), placed)
