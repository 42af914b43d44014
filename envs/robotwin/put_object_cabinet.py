"""put_object_cabinet: one arm pulls a cabinet's drawer open and holds it, the other puts an object in.

Description:
    A small cabinet stands at the back of the table, its single drawer (a real slide joint) at
    the bottom, facing the robot. A small object (one of ten desk and household kinds) lies on
    one side of the table. The arm on the object's side picks it up and lifts it while the other
    arm comes over the drawer's pull on its own side and pinches it from above; that arm pulls
    the drawer 16 cm open (four 4 cm pulls, as upstream) and keeps holding it while the first arm
    lowers the object into the open drawer and lets go (RoboTwin 2.0 ``put_object_cabinet``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the episode's object, the cabinet and the drawer.
Success:
    The object's footprint centre is within 5 cm (in x and in y) of the drawer's drop point,
    which moves with the drawer (the middle of the tray part that is out of the cabinet when the
    drawer is 16 cm open); its bottom is between 0.7 and 12 cm above where it started; it lies
    in the tray (between its walls, at most 1.5 cm above its floor, touching the drawer and not
    the table); and no part of the robot touches it while it is at rest.
    Fidelity: upstream checks the same 5 cm box around the cabinet's functional point, the same
    0.7-12 cm rise of the object's origin and that the placing arm's gripper is open. We ask
    instead of the open gripper that the robot has let go and the object is at rest in the tray,
    so an object still falling or sliding, or one left lying on the shut drawer's pulls or rim,
    is not counted. The drawer arm keeps holding the drawer, as upstream's expert does.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): the cabinet's centre at x in
    [-0.05, 0.05], y = 0.655, facing the robot, drawer shut; the object at |x| in [0.2, 0.32],
    y in [0.3, 0.4] (either side), turned by up to 60 degrees either way from lying with its
    long side along x. The side decides the arms, as upstream: the object's arm places, the other
    pulls. Our cabinet is built from boxes (28 x 24 x 24 cm: a shut cupboard over one drawer
    26 cm wide and 21 cm deep whose floor is 2.2 cm above the table, with two 6 cm vertical bar
    pulls 3.5 cm proud of its face, 8.5 cm either side of its middle; the slide joint is damped
    and has dry friction, so the drawer stays where it is left). Upstream's cabinet
    (``036_cabinet``) is an articulated mesh with one fixed layout and no published sizes.
    Upstream's objects are meshes (mouse, stapler, toy car, Rubik's cube, bread, phone, playing
    cards, tea box, coffee box, soap); ours are the same ten kinds built from primitives, sized
    like the real ones except the box of playing cards (7.4 x 5 cm instead of about 9 x 6.4, so
    the 6.5 cm gripper spans it). Object colour from a palette per kind, cabinet finish from
    four.
Episode end:
    Success, or 700 control steps (28 s at 25 Hz; the expert needs at most 271 on seeds 0-49
    and 100000-100049). Upstream's evaluation limit is 700 policy actions.
Version history:
    v0: first version (splits zw7 and all50).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from itertools import product

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.geometry import gripper_down_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import (
    COLOURS,
    PARKING_XS,
    PARKING_Z,
    TABLE_BODY,
    GraspableProp,
    bread,
    catch_floor,
    parking_shelf,
    phone,
    rubiks_cube,
    tea_box,
    toy_car,
)
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    body_yaw_in_world,
    equivalent_yaws,
    grasp_prop,
    pick_colour,
    place_prop,
    released_at_rest,
    round_inertia,
    set_on_table,
)
from vlapro_bench.sim.skills import NATURAL_YAW, move_along
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask
from .move_stapler_pad import STAPLER_COLOURS, closed_stapler
from .place_object_scale import MOUSE_COLOURS, computer_mouse

RGBA = tuple[float, float, float, float]
CABINET, DRAWER, SLIDE, DROP_SITE = "cabinet", "cabinet_drawer", "cabinet_drawer_slide", "cabinet_drop_point"
#: Cabinet outer size (m): width (x), depth (y), height; panel thickness.
WIDTH, DEPTH, HEIGHT, PANEL = 0.28, 0.24, 0.24, 0.01
#: Drawer: tray half-width, depth, floor top above the table, wall top, face top and thickness.
TRAY_HALF_WIDTH, TRAY_DEPTH, FLOOR_TOP, WALL_TOP = 0.13, 0.21, 0.022, 0.085
FACE_TOP, FACE_THICKNESS = 0.11, 0.012
#: Vertical bar pulls: half-size (x, y, z), how far their centres stand off the face, centre
#: height, and their distance either side of the drawer's middle.
BAR_HALF, BAR_PROUD, BAR_Z, PULL_X = (0.012, 0.008, 0.03), 0.035, 0.062, 0.085
#: Slide range, viscous damping (N s/m) and dry friction (N): the drawer stays where it is left.
SLIDE_RANGE, SLIDE_DAMPING, SLIDE_FRICTION = (0.0, 0.2), 15.0, 2.0
#: Upstream pulls the drawer 4 x 4 cm; the drop point is the middle of the tray's part that is
#: then out of the cabinet.
PULL = 0.16
DROP_Y = -DEPTH / 2 + FACE_THICKNESS / 2 + PULL / 2  # in the drawer frame
#: Upstream's thresholds: 5 cm in x and in y from the drop point; the origin's rise (m).
XY_TOLERANCE, RISE_RANGE = 0.05, (0.007, 0.12)
#: Upstream's ranges in our frame.
CABINET_X, CABINET_Y = (-0.05, 0.05), 0.655
OBJECT_ABS_X, OBJECT_Y, OBJECT_TURN = (0.2, 0.32), (0.3, 0.4), math.pi / 3
#: The drawer arm pinches its pull from above, fingers closing along x, this far outwards of the
#: bar's centre (so the 6 cm wide finger plates and the housing stay clear of the face) and this
#: high above it (the fingertips reach 2.4 cm below the TCP).
PINCH_OUT, PINCH_UP = 0.01, 0.012
CABINET_FINISHES: dict[str, RGBA] = {
    "wooden": (0.6, 0.43, 0.26, 1), "light wood": (0.82, 0.68, 0.48, 1), "grey": (0.52, 0.53, 0.56, 1),
    "white": (0.9, 0.9, 0.88, 1),
}
DRAWER_FINISHES: dict[str, RGBA] = {
    "wooden": (0.72, 0.54, 0.34, 1), "light wood": (0.9, 0.78, 0.58, 1), "grey": (0.68, 0.69, 0.72, 1),
    "white": (0.97, 0.97, 0.95, 1),
}
METAL = (0.25, 0.25, 0.27, 1)
KINDS = ("mouse", "stapler", "toy_car", "rubiks_cube", "bread", "phone", "playing_cards", "tea_box", "coffee_box",
         "soap")
BOX_COLOURS: dict[str, RGBA] = {k: COLOURS[k] for k in ("red", "green", "blue", "yellow", "orange", "purple")}
PALETTES: dict[str, Mapping[str, Sequence[float]]] = {
    "mouse": MOUSE_COLOURS,
    "stapler": STAPLER_COLOURS,
    "toy_car": BOX_COLOURS,
    "rubiks_cube": {"": COLOURS["black"]},
    "bread": {"golden": (0.86, 0.6, 0.28, 1), "brown": (0.6, 0.36, 0.18, 1), "pale": (0.93, 0.8, 0.58, 1)},
    "phone": {k: COLOURS[k] for k in ("black", "white", "blue", "pink", "silver")},
    "playing_cards": {k: COLOURS[k] for k in ("red", "blue", "black", "green")},
    "tea_box": BOX_COLOURS,
    "coffee_box": {"brown": (0.45, 0.28, 0.16, 1), "black": COLOURS["black"], "red": COLOURS["red"],
                   "gold": (0.85, 0.68, 0.25, 1)},
    "soap": {"pink": COLOURS["pink"], "white": COLOURS["white"], "green": (0.55, 0.8, 0.55, 1),
             "lavender": (0.72, 0.6, 0.85, 1)},
}
#: Seen and unseen descriptions per kind (``{c}`` is its colour); no unseen one reuses a seen word.
OBJECT_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mouse": (("{c} mouse", "{c} computer mouse", "{c} mouse with a scroll wheel"),
              ("palm-sized {c} pointer", "cordless {c} PC pointer", "{c} clicking gadget")),
    "stapler": (("{c} stapler", "{c} office stapler", "closed {c} stapler"),
                ("{c} paper fastener", "shut {c} stapling tool", "{c} desk binder")),
    "toy_car": (("{c} toy car", "small {c} car", "{c} toy vehicle"),
                ("miniature {c} automobile", "{c} plaything auto", "tiny {c} model racer")),
    "rubiks_cube": (("Rubik's cube", "puzzle cube", "colourful cube"),
                    ("twisty brain-teaser", "six-sided twisting game", "scrambled magic block")),
    "bread": (("{c} bread", "loaf of {c} bread", "{c} bread roll"),
              ("{c} baked bun", "crusty {c} baguette piece", "{c} bakery morsel")),
    "phone": (("{c} phone", "{c} smartphone", "{c} mobile phone"),
              ("{c} handset", "slim {c} cellular device", "{c} pocket handheld")),
    "playing_cards": (("box of {c} playing cards", "{c} card deck", "{c} deck of cards"),
                      ("{c} poker pack", "{c} carton holding a game set", "{c} bridge pack")),
    "tea_box": (("{c} tea box", "small {c} tea box", "{c} box of tea"),
                ("{c} teabag carton", "{c} chai packet", "little {c} infusion container")),
    "coffee_box": (("{c} coffee box", "tall {c} coffee box", "{c} box of coffee"),
                   ("{c} espresso carton", "{c} java package", "upright {c} bean container")),
    "soap": (("{c} soap", "{c} bar of soap", "{c} soap bar"),
             ("{c} cleansing cake", "scented {c} wash block", "{c} hand-washing brick")),
}


def _card_box(scene: SceneBuilder, name: str, pos: Sequence[float]) -> GraspableProp:
    """A box of playing cards lying flat, with a white band (visual) round its middle."""
    half = (0.037, 0.025, 0.0095)
    body = scene.body(name, pos=pos, free=True)
    scene.box(body, f"{name}_shell", half, COLOURS["red"], pos=(0, 0, half[2]), mass=0.03)
    scene.box(body, f"{name}_band", (half[0] * 0.3, half[1] + 0.0005, half[2] + 0.0005), COLOURS["white"],
              pos=(0, 0, half[2]), collide=False)
    return GraspableProp(name, "playing_cards", "playing cards", "thin_slab", (f"{name}_shell",),
                         grasp_z=2 * half[2] + 0.012, height=2 * half[2], radius=math.hypot(half[0], half[1]))


def _coffee_box(scene: SceneBuilder, name: str, pos: Sequence[float]) -> GraspableProp:
    """A tall coffee carton standing upright, with a cream label (visual)."""
    half = (0.028, 0.022, 0.04)
    body = scene.body(name, pos=pos, free=True)
    scene.box(body, f"{name}_shell", half, (0.45, 0.28, 0.16, 1), pos=(0, 0, half[2]), mass=0.06)
    scene.box(body, f"{name}_label", (half[0] + 0.0005, half[1] * 0.7, half[2] * 0.35), (0.95, 0.9, 0.78, 1),
              pos=(0, 0, half[2] * 1.1), collide=False)
    return GraspableProp(name, "coffee_box", "coffee box", "cuboid", (f"{name}_shell",), grasp_z=2 * half[2] - 0.018,
                         height=2 * half[2], radius=math.hypot(half[0], half[1]))


def _soap(scene: SceneBuilder, name: str, pos: Sequence[float]) -> GraspableProp:
    """A bar of soap: a low box with rounded ends (two capsules along its length's ends)."""
    half = (0.036, 0.024, 0.012)
    body = scene.body(name, pos=pos, free=True)
    scene.box(body, f"{name}_bar", (half[0] - 0.006, half[1], half[2]), COLOURS["pink"], pos=(0, 0, half[2]),
              mass=0.05)
    for i, x in enumerate((-1, 1)):
        scene.capsule(body, f"{name}_end{i}", half[2], half[1] - half[2], COLOURS["pink"],
                      pos=(x * (half[0] - half[2]), 0, half[2]),
                      quat=(math.cos(math.pi / 4), math.sin(math.pi / 4), 0, 0), mass=0.005)
    return GraspableProp(name, "soap", "soap", "cuboid", (f"{name}_bar", f"{name}_end0", f"{name}_end1"),
                         grasp_z=2 * half[2] + 0.008, height=2 * half[2], radius=math.hypot(half[0], half[1]))


def _parking(slot: int) -> tuple[float, float, float]:
    """Parking spot under the table for object ``slot`` (two rows: the shelf holds ten)."""
    return (PARKING_XS[slot % len(PARKING_XS)], 0.41 + 0.09 * (slot // len(PARKING_XS)), PARKING_Z + 0.001)


def cabinet(scene: SceneBuilder) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A fixed cabinet with one drawer at the bottom, facing -y; its origin is on the table under
    the footprint's centre. The drawer body coincides with the cabinet's frame when shut and
    slides out along -y (joint value = opening). Returns the carcass and drawer geoms (colour)."""
    root = scene.body(CABINET, pos=(0.0, CABINET_Y, 0.0))
    hw, hd, t = WIDTH / 2, DEPTH / 2, PANEL / 2
    finish, front = CABINET_FINISHES["wooden"], DRAWER_FINISHES["wooden"]
    friction = (0.8, 0.005, 0.0001)
    carcass = []
    # Above the drawer: a shelf over its opening, and a closed cupboard front up to the top.
    shelf_z = FACE_TOP + 0.004
    for part, half, pos in (
        ("bottom", (hw, hd, t), (0, 0, t)),
        ("top", (hw, hd, t), (0, 0, HEIGHT - t)),
        ("left", (t, hd, HEIGHT / 2), (-hw + t, 0, HEIGHT / 2)),
        ("right", (t, hd, HEIGHT / 2), (hw - t, 0, HEIGHT / 2)),
        ("back", (hw, t, HEIGHT / 2), (0, hd - t, HEIGHT / 2)),
        ("shelf", (hw - PANEL, hd - PANEL, t), (0, 0, shelf_z + t)),
        ("door", (hw - PANEL, t, (HEIGHT - shelf_z) / 2 - PANEL / 2), (0, -hd + t, (HEIGHT + shelf_z) / 2)),
    ):
        scene.box(root, f"{CABINET}_{part}", half, finish, pos=pos, friction=friction, mass=0.5)
        carcass.append(f"{CABINET}_{part}")
    scene.cylinder(root, f"{CABINET}_knob", 0.008, 0.008, METAL, pos=(0.08, -hd - 0.008, (HEIGHT + shelf_z) / 2),
                   quat=(math.cos(math.pi / 4), math.sin(math.pi / 4), 0, 0), collide=False)
    drawer = scene.body(DRAWER, pos=(0.0, 0.0, 0.0), parent=root)
    scene.exclude(CABINET, DRAWER)
    scene.slide(drawer, SLIDE, axis=(0, -1, 0), range_=SLIDE_RANGE, damping=SLIDE_DAMPING,
                frictionloss=SLIDE_FRICTION)
    face_y = -hd + FACE_THICKNESS / 2
    floor_z = FLOOR_TOP - 0.004
    back_y = face_y + TRAY_DEPTH
    wall_h = (WALL_TOP - PANEL) / 2
    parts = []
    for part, half, pos in (
        ("face", (hw - 0.004, FACE_THICKNESS / 2, (FACE_TOP - PANEL) / 2), (0, face_y, (FACE_TOP + PANEL) / 2)),
        ("floor", (TRAY_HALF_WIDTH, TRAY_DEPTH / 2, 0.004), (0, face_y + TRAY_DEPTH / 2, floor_z)),
        ("back", (TRAY_HALF_WIDTH, 0.005, wall_h), (0, back_y, PANEL + wall_h)),
        ("left", (0.005, TRAY_DEPTH / 2, wall_h), (-TRAY_HALF_WIDTH + 0.005, face_y + TRAY_DEPTH / 2, PANEL + wall_h)),
        ("right", (0.005, TRAY_DEPTH / 2, wall_h), (TRAY_HALF_WIDTH - 0.005, face_y + TRAY_DEPTH / 2, PANEL + wall_h)),
    ):
        scene.box(drawer, f"{DRAWER}_{part}", half, front, pos=pos, friction=friction, mass=0.15)
        parts.append(f"{DRAWER}_{part}")
    # Two vertical bar pulls on standoffs, one towards each end: each arm pinches the one on its side.
    for i, x in enumerate((-PULL_X, PULL_X)):
        scene.box(drawer, f"{DRAWER}_pull{i}", BAR_HALF, METAL, pos=(x, -hd - BAR_PROUD, BAR_Z),
                  friction=(1.2, 0.005, 0.0001), mass=0.02)
        post = (BAR_PROUD - BAR_HALF[1]) / 2
        for j, dz in enumerate((-1, 1)):
            scene.box(drawer, f"{DRAWER}_post{i}{j}", (0.006, post, 0.005), METAL,
                      pos=(x, -hd - post, BAR_Z + dz * (BAR_HALF[2] - 0.006)), mass=0.003)
    scene.site(drawer, DROP_SITE, pos=(0.0, DROP_Y, FLOOR_TOP))
    return tuple(carcass), tuple(parts)


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and phrases.

    ``{A}`` is the object and ``{B}`` the cabinet, each named from ``descriptions`` per episode;
    ``{a}`` is the arm that opens the drawer. Unseen templates use verbs and phrasing no seen
    template uses.
    """
    opens = ("Open", "Pull open", "Slide open", "Pull out")
    drawers = ("the drawer of the {B}", "the {B}'s drawer")
    puts = ("put the {A} inside", "place the {A} in it", "set the {A} inside it", "drop the {A} into it")
    seen = [f"{o} {d} and {p}." for o, d, p in product(opens, drawers, puts)]
    seen += [f"{o} {d} with the {{a}} arm and let the other arm {p}." for o, d, p in
             zip(opens, drawers * 2, puts, strict=True)]
    seen += [f"Use the {{a}} arm to {o.lower()} {d}, then the other arm to {p}." for o, d, p in
             zip(opens, drawers[::-1] * 2, puts[::-1], strict=True)]
    seen += [
        "Put the {A} into the drawer of the {B}.",
        "Place the {A} in the {B}'s drawer after opening it.",
        "Store the {A} in the drawer of the {B}.",
        "Get the {A} into the {B}'s drawer.",
        "Move the {A} from the table into the drawer of the {B}.",
        "The {A} goes in the {B}'s drawer: open it and put it there.",
        "Hold the drawer of the {B} open with one arm and put the {A} in with the other.",
        "With the {a} arm, pull the {B}'s drawer out; the other arm puts the {A} inside.",
        "Have the {a} arm open the drawer of the {B} and another arm place the {A} in it.",
        "Pick up the {A} and put it in the {B}'s drawer once it is open.",
        "Pull the drawer of the {B} open and store the {A} there.",
        "Open the {B}'s drawer, then put the {A} in it and let go.",
        "Grab the handle of the {B}'s drawer, pull it out and place the {A} inside.",
        "Put away the {A} in the drawer of the {B}.",
    ]
    unseen = (
        "Tug the {B}'s compartment outward and tuck the {A} within.",
        "Let your {a} hand draw out the {B}'s compartment while your other hand stows the {A}.",
        "Stash the {A} away in the {B}, drawing its compartment out first.",
        "Yank out the {B}'s compartment and deposit the {A} there.",
        "Draw the {B}'s compartment toward you, then tuck the {A} into it.",
        "Haul out the sliding compartment of the {B} and stow the {A}.",
        "Your {a} hand hauls the {B}'s compartment out; the other hand tucks the {A} in.",
        "Make room: draw out the {B}'s compartment and stash the {A}.",
        "Deposit the {A} within the {B}'s sliding compartment, hauling it out beforehand.",
        "Stow the {A} by tugging out the {B}'s compartment and dropping it within.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


def top_down_joints(motion: Motion, arm: str, pos: np.ndarray, yaws: Sequence[float]) -> tuple[np.ndarray, float]:
    """Joints that point ``arm``'s gripper down at ``pos`` with one of the finger ``yaws``.

    The yaw nearest the arm's natural one is tried first. The IK is seeded from the natural
    top-down pose there with the last (wrist) joint turned by the difference, so it stays on the
    branch with the forearm unrolled and the wrist inside its range; from the ready pose it can
    fail, or flip the forearm over and sweep the hand across the scene, for yaws a quarter turn
    from natural. Failing that, a plain solve (which raises ``PlanningError`` if it fails too).
    """
    home = motion.robot.home_action()[motion.robot.arm_slice(arm)]
    natural = motion.ik.solve(arm, pos, gripper_down_quat(NATURAL_YAW[arm]), home).qpos
    for yaw in sorted(yaws, key=lambda y: abs(math.remainder(y - NATURAL_YAW[arm], 2 * math.pi))):
        delta = math.remainder(yaw - NATURAL_YAW[arm], 2 * math.pi)
        for turn in (delta, -delta, delta - math.copysign(2 * math.pi, delta)):
            seed = natural.copy()
            seed[-1] += turn
            result = motion.ik.solve(arm, pos, gripper_down_quat(yaw), seed)
            if result.converged and abs(result.qpos[3]) < 1.0 and abs(result.qpos[-1]) < math.pi - 0.05:
                return result.qpos, yaw
    return motion.solve(arm, pos, gripper_down_quat(yaws[0])), yaws[0]


@register_task
class PutObjectCabinet(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="put_object_cabinet",
        max_episode_steps=700,
        procedure=ProceduralAnnotation("pick_place", "cuboid", "downward", "container_inside"),
        description="Pull the cabinet's drawer open with one arm, hold it, and put the object in with the other.",
    )
    instructions = _templates()
    descriptions = {
        "A": {"seen": ("{o1}", "{o2}", "{o3}"), "unseen": ("{u1}", "{u2}", "{u3}")},
        "B": {
            "seen": ("{f} cabinet", "cabinet", "{f} storage cabinet", "small {f} cabinet"),
            "unseen": ("{f} chest", "{f} bureau", "low {f} dresser"),
        },
    }
    #: The object slot is filled per episode with the chosen kind's body.
    tracked_bodies = ("object_mouse", CABINET, DRAWER)

    def build_scene(self, scene: SceneBuilder) -> None:
        builders = {
            "mouse": computer_mouse, "toy_car": toy_car, "rubiks_cube": rubiks_cube, "bread": bread, "phone": phone,
            "playing_cards": _card_box, "tea_box": tea_box, "coffee_box": _coffee_box, "soap": _soap,
        }
        self.props: dict[str, GraspableProp] = {}
        for i, kind in enumerate(KINDS):
            if kind == "stapler":
                self.props[kind] = closed_stapler(scene, "object_stapler")
            else:
                self.props[kind] = builders[kind](scene, f"object_{kind}", pos=_parking(i))
        self.carcass, self.drawer_geoms = cabinet(scene)
        parking_shelf(scene)
        catch_floor(scene)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        kind = KINDS[int(rng.integers(len(KINDS)))]
        self.obj = self.props[kind]
        round_inertia(sim, self.props.values())
        for i, k in enumerate(KINDS):
            if k != kind:
                sim.set_free_pose(self.props[k].body, _parking(i))
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        obj_xy = (side * rng.uniform(*OBJECT_ABS_X), rng.uniform(*OBJECT_Y))
        # Upstream turns the object by up to 60 degrees about its up axis from its base pose;
        # ours lies with its long side along x in its base pose.
        yaw = rng.uniform(-OBJECT_TURN, OBJECT_TURN)
        set_on_table(sim, self.obj, obj_xy, yaw)
        cab_x = rng.uniform(*CABINET_X)
        sim.set_body_pose(CABINET, (cab_x, CABINET_Y, 0.0))
        sim.set_joint_qpos(SLIDE, 0.0)
        palette = PALETTES[kind]
        colour = pick_colour(rng, tuple(palette))
        sim.set_rgba(self.obj.colour_geoms, palette[colour])
        finish = pick_colour(rng, tuple(CABINET_FINISHES))
        sim.set_rgba(self.carcass, CABINET_FINISHES[finish])
        sim.set_rgba(self.drawer_geoms, DRAWER_FINISHES[finish])
        sim.forward()
        self.start_z = float(sim.body_pos(self.obj.body)[2])
        self.tracked_bodies = (self.obj.body, CABINET, DRAWER)
        self.arm = "right" if side > 0 else "left"
        self.drawer_arm = "left" if side > 0 else "right"
        seen, unseen = OBJECT_WORDS[kind]

        def words(options: Sequence[str]) -> list[str]:
            return [" ".join(o.format(c=colour).split()) for o in options]

        o, u = words(seen), words(unseen)
        return {"A": o[0], "B": f"{finish} cabinet", "a": self.drawer_arm, "f": finish,
                "o1": o[0], "o2": o[1], "o3": o[2], "u1": u[0], "u2": u[1], "u3": u[2]}

    def drop_point(self, sim: Simulation) -> np.ndarray:
        """Upstream's functional point: the middle of the drawer's floor in front of the cabinet
        when the drawer is 16 cm open (it moves with the drawer)."""
        return sim.site_pos(DROP_SITE)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        body = self.obj.body
        pos = sim.body_pos(body)
        offset = np.abs(pos[:2] - self.drop_point(sim)[:2])
        rise = pos[2] - self.start_z
        return all_of(
            object_at_drop_point=bool(np.all(offset < XY_TOLERANCE)),
            object_raised_into_drawer=bool(RISE_RANGE[0] < rise < RISE_RANGE[1]),
            object_in_drawer=self._in_tray(sim, pos) and sim.in_contact(body, DRAWER)
            and not sim.in_contact(body, TABLE_BODY),
            object_released_at_rest=released_at_rest(sim, body),
        )

    def _in_tray(self, sim: Simulation, pos: np.ndarray) -> bool:
        """Whether a point is over the tray's floor, between its walls, and at most 1.5 cm above
        the floor (an object lying in the drawer, not on its rim or its pulls)."""
        local = sim.body_mat(DRAWER).T @ (pos - sim.body_pos(DRAWER))
        face_inner, back = -DEPTH / 2 + FACE_THICKNESS, -DEPTH / 2 + FACE_THICKNESS / 2 + TRAY_DEPTH
        return bool(abs(local[0]) < TRAY_HALF_WIDTH - 0.01 and face_inner < local[1] < back
                    and abs(local[2] - FLOOR_TOP) < 0.015)

    # -- expert -----------------------------------------------------------------------------
    def _pinch(self, sim: Simulation, opening: float) -> np.ndarray:
        """TCP position of the top-down pinch on the bar for a drawer opening."""
        toward = -1.0 if self.drawer_arm == "left" else 1.0
        local = np.array([toward * PULL_X, -DEPTH / 2 - BAR_PROUD - PINCH_OUT - opening, BAR_Z + PINCH_UP])
        return sim.body_pos(CABINET) + local

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        arm, other = self.arm, self.drawer_arm
        robot = motion.robot
        pinch = self._pinch(sim, sim.joint_qpos(SLIDE))
        # Fingers close along x, across the pull: a quarter turn of the wrist from the arm's
        # natural yaw, solved so the hand does not sweep across the cabinet's top.
        above = pinch + (0, -0.08, 0.12)
        joints, bar_yaw = top_down_joints(motion, other, above, (0.0, math.pi))
        bar_quat = gripper_down_quat(bar_yaw)
        yield from motion.move_joints({other: joints}, 30, {other: robot.gripper_open})
        yield from grasp_prop(sim, motion, arm, self.obj, lift=0.15)
        yield from motion.line(other, pinch + (0, 0, 0.06), bar_quat, steps=14, segments=2)
        yield from motion.line(other, pinch, bar_quat, steps=14, segments=2)
        yield from motion.gripper(other, robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        for _ in range(4):  # four 4 cm pulls, as upstream
            yield from move_along(motion, other, (0, -1, 0), PULL / 4, steps=14, segments=2)
        yield from motion.wait(4)
        # The object goes in with its long side across the drawer (along x).
        finger = sim.tcp_mat(arm)[:, 1]
        finger_yaw = math.atan2(finger[1], finger[0])
        in_hand = body_yaw_in_world(sim, self.obj.body) - finger_yaw
        yaws = equivalent_yaws(-in_hand, math.pi, finger_yaw)
        goal = self.drop_point(sim) + (0, 0, 0.004)
        yield from place_prop(sim, motion, arm, self.obj, goal, yaws, hover=0.1, retreat=0.1)
        yield from motion.wait(6)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        opening, pos = sim.joint_qpos(SLIDE), sim.body_pos(self.obj.body)
        held = sim.is_grasped(self.arm, self.obj.body)
        shut = opening < PULL - 0.02
        if shut and not held and pos[2] < self.start_z + 0.02:
            return self.state_from_spec(sim, pos + (0, 0, self.obj.grasp_z), "grasp", action_type="grasp")
        if shut:
            return self.state_from_spec(sim, self._pinch(sim, PULL), "pull", action_type="pull_open",
                                        object_geometry="drawer", arm=self.drawer_arm)
        if held:
            return self.state_from_spec(sim, self.drop_point(sim), "place", action_type="place")
        return self.state_from_spec(sim, self.drop_point(sim), "retreat", action_type="place")
