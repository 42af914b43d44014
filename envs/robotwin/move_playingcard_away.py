"""move_playingcard_away: pick up a pack of playing cards and move it out towards its side edge.

Description:
    A flat pack of playing cards (a deck in its card box, lying on its wide face) sits near
    the middle of the table, a little left or right of centre. The arm on the pack's side picks
    it up from above, carries it outward, away from the middle of the table, and puts it down
    past 23 cm from the centre line (RoboTwin 2.0 ``move_playingcard_away``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the pack.
Success:
    During the episode a gripper has held the pack at least 3 cm above the table; now the
    pack's centre is more than 0.23 m from the table's centre line (|x| > 0.23), the pack lies
    on the table on one of its faces (one of its axes within 0.1 rad of vertical), no part of
    the robot touches it while it is at rest, and both grippers are open (gripper value above
    0.8, 1 being fully open).
    Fidelity: upstream checks the same |x| > 0.23 of the pack's origin and the same open
    grippers (its gripper value above 0.8). We also ask that the robot has let go (nothing of it
    touches the pack) and the pack is at rest, so a pack still sliding or pinned under an open
    gripper is not counted; that it touches the table (a pack knocked off the table's side edge
    passes |x| > 0.23 on its way down); and that it lies on a face, since a box tipped onto an
    edge or a corner is toppling even at the moment its speed is low. ``carried_by_gripper``
    is stricter than upstream's check, which accepts the pack however it got there: upstream's
    instruction says to pick the pack up and move it, and without this condition a random
    policy whose arms swept the light pack outward scored 7 of seeds 0-49 (so turn_switch
    asks that a gripper, not a swinging link, flipped the rocker).
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): pack centre at x in [-0.1, 0.1]
    with |x| >= 0.05, y in [0.3, 0.55], any heading. Upstream picks one of three card-box meshes
    (``081_playingcards``: blue, red and black boxes, rigid); ours is one rigid box of a
    bridge-size deck (9 x 5.8 x 1.8 cm, 60 g) with a card-back panel on top, in one of five
    colours. The fingers (6.9 cm open) close across its 5.8 cm width.
Episode end:
    Success, or 400 control steps (16 s at 25 Hz; the expert needs at most 135 on seeds 0-49
    and 100000-100049). Upstream's evaluation limit is 400 policy actions.
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
from vlapro_bench.sim.geometry import quat_to_mat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import HOME, TABLE_BODY, GraspableProp
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    equivalent_yaws,
    finger_yaw_now,
    grasp_prop,
    pick_colour,
    place_prop,
    placement_state,
    released_at_rest,
    round_inertia,
    set_on_table,
)
from vlapro_bench.sim.robot import ARMS
from vlapro_bench.sim.skills import arm_for
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask

PACK = "card_pack"
#: Half-extents of the card box (m): a bridge-size deck lying on its wide face.
PACK_HALF = (0.045, 0.029, 0.009)
PACK_COLOURS = {
    "blue": (0.14, 0.3, 0.72, 1), "red": (0.78, 0.13, 0.13, 1), "black": (0.1, 0.1, 0.11, 1),
    "green": (0.12, 0.48, 0.26, 1), "purple": (0.42, 0.2, 0.58, 1),
}
#: Held-out colour words for unseen descriptions.
HUES = {"blue": "navy", "red": "crimson", "black": "jet", "green": "forest", "purple": "plum"}
#: Upstream's edge: the pack's centre must end farther than this from the centre line (m).
EDGE_X = 0.23
#: Upstream's spawn ranges in our frame: |x| in [0.05, 0.1], y in [0.3, 0.55].
PACK_X, PACK_Y = (0.05, 0.1), (0.3, 0.55)
#: Where the expert puts the pack down, from the centre line (upstream moves it 0.3 m outward,
#: to |x| in [0.35, 0.4]; our arm bases stand at |x| = 0.47, so ours stops a little short).
PUT_X = 0.33
#: A box at rest on the flat table lies on one of its faces: one of its axes is vertical (here
#: within 0.1 rad). Tipped further, it is balanced on an edge or a corner, i.e. toppling.
FACE_DOWN_COS = math.cos(0.1)
#: Upstream's "gripper open": its gripper value (1 = open) above 0.8.
OPEN = 0.8
#: Height of the pack's underside above the table that counts as picked up (m).
CARRIED_HEIGHT = 0.03


def card_pack(scene: SceneBuilder, name: str) -> GraspableProp:
    """A closed box of playing cards, its origin under the middle of its bottom face: the box,
    a card-back panel on the top face and a white flap line at one end (visual only)."""
    body = scene.body(name, pos=HOME, free=True)
    hx, hy, hz = PACK_HALF
    scene.box(body, f"{name}_box", PACK_HALF, PACK_COLOURS["blue"], pos=(0, 0, hz), mass=0.06)
    scene.box(body, f"{name}_back", (hx - 0.006, hy - 0.005, 0.0004), (0.93, 0.92, 0.88, 1),
              pos=(0, 0, 2 * hz + 0.0002), collide=False)
    scene.box(body, f"{name}_motif", (hx - 0.012, hy - 0.011, 0.0004), PACK_COLOURS["blue"],
              pos=(0, 0, 2 * hz + 0.0005), collide=False)
    scene.box(body, f"{name}_flap", (0.0008, hy - 0.002, hz - 0.002), (0.93, 0.92, 0.88, 1),
              pos=(hx - 0.012, 0, 2 * hz + 0.0002), collide=False)
    return GraspableProp(name, "playing_cards", "pack of playing cards", "thin_slab",
                         (f"{name}_box", f"{name}_motif"), grasp_z=2 * hz + 0.008, height=2 * hz,
                         radius=math.hypot(hx, hy), colours=tuple(PACK_COLOURS))


#: Instruction set 1's descriptions of the pack (``{A}``); unseen ones share no word with seen ones.
DESCRIPTIONS = {
    "A": {
        "seen": ("{colour} pack of cards", "pack of playing cards", "{colour} card box", "deck of cards",
                 "{colour} box of playing cards", "card deck"),
        "unseen": ("{hue} bridge carton", "boxed {hue} poker set", "carton holding a poker set"),
    },
}


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and "outward" phrases.

    ``{A}`` is the pack (set 0: its colour and name; later sets draw it from
    :data:`DESCRIPTIONS`), ``{a}`` the arm and ``{s}`` the side it goes to (left or right).
    """
    move = ("Move", "Shift", "Slide", "Carry", "Take", "Bring")
    away = ("away from the middle of the table", "out to the {s} edge of the table", "further outward",
            "out towards the {s} side", "off to the {s}")
    put = ("Pick up", "Lift", "Grab", "Grasp")
    then = ("and move it outward", "and set it down further out", "and put it near the {s} edge",
            "and carry it away from the centre")
    seen = [f"{v} the {{A}} {t}." for v, t in product(move, away)]
    seen += [f"{v} the {{A}} {t}." for v, t in product(put, then)]
    seen += [f"Use the {{a}} arm to {v.lower()} the {{A}} {t}." for v, t in zip(move, away + away, strict=False)]
    seen += [
        "With the {a} arm, pick up the {A} and move it outward.",
        "Move the {A} away from the centre with the {a} gripper.",
        "Get the {A} out of the middle of the table.",
        "Clear the {A} away to the {s} side of the table.",
        "Pick the {A} up and put it down further to the {s}.",
        "Push the {A} further out by carrying it to the {s}.",
        "Take the {A} and place it farther outward.",
        "Grab the {A} with the {a} hand and move it away.",
        "Move the {A} outward, away from the robot's middle.",
        "Relocate the {A} to the {s} edge of the table.",
    ]
    unseen = (
        "Banish the {A} to the {s} fringe of the tabletop.",
        "Whisk the {A} over toward the {s} rim.",
        "Let your {a} claw ferry the {A} clear of the centre.",
        "Evict the {A} from the middle, sending it {s}ward.",
        "Hoist the {A} and park it by the {s} border.",
        "Scoot the {A} outboard with your {a} hand.",
        "Clear the centre: the {A} belongs at the {s} periphery.",
        "Snatch the {A} and deposit it near the {s} boundary.",
        "Ferry the {A} toward the outer {s} margin.",
        "Nudge the {A} far from the midline by lifting it across.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


@register_task
class MovePlayingcardAway(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="move_playingcard_away",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("pick_place", "thin_slab", "downward", "table_side"),
        description="Pick up the pack of playing cards and move it outward, away from the table's middle.",
    )
    instructions = _templates()
    descriptions = DESCRIPTIONS
    tracked_bodies = (PACK,)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.pack = card_pack(scene, PACK)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, [self.pack])
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        xy = (side * rng.uniform(*PACK_X), rng.uniform(*PACK_Y))
        set_on_table(sim, self.pack, xy, rng.uniform(-math.pi, math.pi))
        colour = pick_colour(rng, tuple(PACK_COLOURS))
        sim.set_rgba(self.pack.colour_geoms, PACK_COLOURS[colour])
        self.arm = arm_for(xy[0])
        # Straight outward from where the pack lies (the expert's put-down point).
        self.goal = np.array([math.copysign(PUT_X, xy[0]), xy[1], 0.0])
        self.carried = False  # set by check_success once a gripper lifts the pack
        return {"A": f"{colour} pack of playing cards", "a": self.arm, "s": self.arm, "colour": colour,
                "hue": HUES[colour]}

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        body = self.pack.body
        # Latched once a gripper holds the pack clear of the table (random arms that swept the
        # pack outward scored 7 of seeds 0-49 without it).
        if not self.carried and sim.body_pos(body)[2] > CARRIED_HEIGHT:
            self.carried = any(sim.is_grasped(arm, body) for arm in ARMS)
        return all_of(
            carried_by_gripper=self.carried,
            pack_past_edge=bool(abs(sim.body_pos(body)[0]) > EDGE_X),
            pack_on_table=sim.in_contact(body, TABLE_BODY),
            pack_on_a_face=bool(np.max(np.abs(quat_to_mat(sim.body_quat(body))[2])) > FACE_DOWN_COS),
            released_at_rest=released_at_rest(sim, body),
            grippers_open=all(sim.gripper_opening(arm) > OPEN for arm in ARMS),
        )

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        goal = self.goal
        yield from grasp_prop(sim, motion, self.arm, self.pack, lift=0.05)
        now = finger_yaw_now(motion, self.arm)
        yaws = equivalent_yaws(now, math.pi, now)
        yield from place_prop(sim, motion, self.arm, self.pack, goal + (0, 0, 0.003), yaws, hover=0.04)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        placed = bool(self.check_success(sim)["pack_past_edge"])
        return placement_state(sim, self.arm, self.pack, self.goal, placed)
