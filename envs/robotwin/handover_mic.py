"""handover_mic: one arm picks up a standing microphone and hands it to the other arm.

Description:
    A handheld microphone stands upright on its handle on one side of the table. The arm on that
    side grasps the handle low down (gripper tilted down 30 degrees), lifts the microphone and
    holds it up in the middle of the table; the other arm takes it by the head from above; the
    first arm lets go and backs off, and the second arm draws the microphone over to its own side
    (RoboTwin 2.0 ``handover_mic``: the arm on the microphone's side always gives, as upstream).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the microphone.
Success:
    The receiving arm holds the microphone (both of its fingers touch it), the giving arm's
    fingers no longer touch it, the centre of the microphone's head is on the receiving arm's
    side of the table's middle (x = 0) and at least 18 cm above the table, and the microphone
    touches nothing of the table.
    Fidelity: upstream asks that the receiving gripper is closed, the giving gripper open, the
    microphone's functional point on the receiver's side of x = 0 and above z = 0.92, 18 cm
    above its table top (0.74), with any gripper in contact with the microphone. We ask for the
    same side and height of the head's centre (our choice of the functional point), and instead
    of gripper openings for the receiver's two fingers on it and the giver's off it, so a
    closed but empty receiving gripper beside a microphone still in the giver's hand does not
    count; ``clear_of_table`` is our addition (the microphone is carried, not propped on the
    table).
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): the microphone at x in [-0.2, 0.2]
    with |x| >= 0.15, y in [0.45, 0.5], standing upright; its heading does not matter (it is
    round). Upstream draws one of three microphone meshes (``018_microphone`` models 0, 4, 5);
    ours is one rigid model built from cylinders and a sphere, 19 cm tall: a 3 cm handle, a
    collar, and a 4.8 cm head with a rounded top, in one of three colour schemes after those
    three models. The handover point is upstream's: the head held at (0, 0.45), 24 cm above the
    table.
Episode end:
    Success, or 600 control steps (24 s at 25 Hz; the expert needs at most 191 on seeds 0-49).
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
from vlapro_bench.sim.geometry import gripper_down_quat, gripper_tilted_quat, nearest_symmetric_yaw, quat_to_mat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import HOME, TABLE_BODY
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import ARM_BASE, NATURAL_YAW, arm_for
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask

MIC = "microphone"
#: Handle radius and length, collar radius and height, head radius, height of the head's
#: cylindrical part (m); the rounded top is a sphere of the head's radius.
HANDLE_RADIUS, HANDLE_LENGTH, COLLAR_RADIUS, COLLAR_HEIGHT = 0.015, 0.125, 0.019, 0.01
HEAD_RADIUS, HEAD_HEIGHT = 0.024, 0.03
#: The head's centre above the microphone's base: the point upstream's height rule is about.
HEAD_CENTRE = HANDLE_LENGTH + COLLAR_HEIGHT + HEAD_HEIGHT / 2
#: Colour schemes after upstream's three models: name -> (handle, head).
STYLES = {
    "teal": ((0.1, 0.55, 0.55, 1), (0.92, 0.92, 0.9, 1)),
    "navy": ((0.55, 0.56, 0.6, 1), (0.1, 0.14, 0.38, 1)),
    "black": ((0.92, 0.92, 0.9, 1), (0.1, 0.1, 0.11, 1)),
}
HEAD_WORDS = {"teal": "white", "navy": "dark blue", "black": "black"}
#: Upstream's ranges in our frame (upstream y + 0.5): |x| in [0.15, 0.2], y in [0.45, 0.5].
MIC_X, MIC_Y = (0.15, 0.2), (0.45, 0.5)
#: Upstream's height rule: the head above z = 0.92, 18 cm above its table top (0.74).
HEAD_MIN_Z = 0.18
#: Upstream's handover point for the head, in our frame (upstream (0, -0.05, 0.98)).
HANDOVER_HEAD = np.array([0.0, 0.45, 0.24])
#: The giver's TCP height above the microphone's base and its downward tilt (as handover_block).
GIVE_AT, GIVE_PITCH = 0.04, math.radians(30)
#: The taker's TCP: on the head's cylindrical part, which the fingers close across.
TAKE_AT = HANDLE_LENGTH + COLLAR_HEIGHT + HEAD_HEIGHT / 2
#: After the giver lets go, the taker draws the microphone this far to its side (upstream 5 cm)
#: and this far up.
DRAW_ASIDE, DRAW_UP = 0.06, 0.03
OTHER = {"left": "right", "right": "left"}

#: Instruction set 1's descriptions: ``{A}`` the microphone (``{colour}`` its scheme, ``{head}``
#: its head's colour). Unseen descriptions use no word a seen one uses.
DESCRIPTIONS = {
    "A": {"seen": ("{colour} microphone", "handheld {colour} microphone", "microphone with a {head} head",
                   "{colour} microphone with a round top"),
          "unseen": ("{colour} karaoke mic", "{colour} vocal mic", "singer's mic, {head} grille")},
}


def microphone(scene: SceneBuilder, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A rigid handheld microphone standing on its handle, origin at the centre of its base.

    Returns the handle's and the head's geoms (the handle takes the scheme's first colour, the
    head and its rounded top the second).
    """
    body = scene.body(name, pos=HOME, free=True)
    handle, head = STYLES["teal"]
    scene.cylinder(body, f"{name}_handle", HANDLE_RADIUS, HANDLE_LENGTH / 2, handle, pos=(0, 0, HANDLE_LENGTH / 2),
                   mass=0.06)
    scene.cylinder(body, f"{name}_collar", COLLAR_RADIUS, COLLAR_HEIGHT / 2, handle,
                   pos=(0, 0, HANDLE_LENGTH + COLLAR_HEIGHT / 2), mass=0.005)
    scene.cylinder(body, f"{name}_head", HEAD_RADIUS, HEAD_HEIGHT / 2, head, pos=(0, 0, HEAD_CENTRE), mass=0.015)
    scene.sphere(body, f"{name}_top", HEAD_RADIUS, head, pos=(0, 0, HEAD_CENTRE + HEAD_HEIGHT / 2), mass=0.01)
    return (f"{name}_handle", f"{name}_collar"), (f"{name}_head", f"{name}_top")


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and hand-over phrases.

    ``{A}`` is the microphone, ``{a}`` the arm that picks it up and ``{b}`` the one that takes it
    (set 0 fills ``{A}`` with the plain name; later sets draw it from :data:`DESCRIPTIONS`).
    """
    pick = ("Pick up", "Grab", "Grasp", "Take", "Lift")
    give = (" and hand it to the {b} arm", " and pass it to the other arm", " and give it to the {b} gripper",
            ", then hand it over to the {b} hand")
    seen = [f"{p} the {{A}}{g}." for p, g in product(pick, give)]
    hand = ("Hand", "Pass", "Transfer", "Give")
    route = ("from the {a} arm to the {b} arm", "over to the {b} arm", "to the other gripper")
    seen += [f"{h} the {{A}} {r}." for h, r in product(hand, route)]
    seen += [
        "Use the {a} arm to pick up the {A} and pass it to the {b} arm.",
        "With the {a} gripper, lift the {A} and hand it across to the {b} gripper.",
        "The {a} arm grabs the {A}; the {b} arm takes it over.",
        "Pick the {A} up with one arm and give it to the other.",
        "Grasp the {A} with the {a} hand, then let the {b} hand take it.",
        "Lift the {A} and pass it to the opposite arm.",
        "Move the {A} from one gripper to the other.",
        "Hand the {A} across so the {b} arm ends up holding it.",
        "Let the {b} arm take the {A} from the {a} arm.",
        "Pick up the {A} and swap it into the other hand.",
        "Get the {A} into the {b} gripper by way of the {a} gripper.",
        "Grab the {A} with the {a} arm and pass it over.",
        "Hold up the {A} with the {a} arm so the {b} arm can take it.",
        "Take the {A} off the table and hand it to the other arm.",
        "Pass the {A} between the two grippers.",
        "Pick up the {A}, then give it to the {b} arm to hold.",
        "The {b} arm should end up with the {A}, handed over by the {a} arm.",
        "Lift the {A} with one gripper and hand it to the second one.",
        "Hand over the {A} from left to right or right to left, starting with the {a} arm.",
        "Use both arms: pick up the {A} and pass it across.",
    ]
    unseen = (
        "Relay the {A} from your {a} fist into your {b} fist.",
        "Scoop up the {A} and offer it to your {b} hand mid-air.",
        "Swap the {A} between your hands, {a} first.",
        "Let the {a} hand fetch the {A}; the {b} hand receives it.",
        "Ferry the {A} across via a mid-air exchange.",
        "Snatch the {A} up and surrender it to your {b} hand.",
        "Deliver the {A} into your {b} hand after collecting it with your {a} one.",
        "Exchange the {A} between your grippers in the air.",
        "Fetch the {A}, then entrust it to your {b} hand.",
        "Have your {b} hand receive the {A} once your {a} hand raises it.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


def _heading(arm: str, point: np.ndarray) -> float:
    """Yaw of the horizontal line from ``arm``'s base out to ``point``."""
    d = np.asarray(point)[:2] - ARM_BASE[arm][:2]
    return math.atan2(d[1], d[0])


@register_task
class HandoverMic(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="handover_mic",
        max_episode_steps=600,
        procedure=ProceduralAnnotation("handover", "cylinder", "tilted", "handle"),
        description="Pick up the microphone with one arm and hand it over to the other arm.",
    )
    instructions = _templates()
    descriptions = DESCRIPTIONS
    tracked_bodies = (MIC,)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.handle_geoms, self.head_geoms = microphone(scene, MIC)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        xy = (side * rng.uniform(*MIC_X), rng.uniform(*MIC_Y))
        sim.set_free_pose(MIC, (xy[0], xy[1], 0.0005))
        colour = list(STYLES)[int(rng.integers(len(STYLES)))]
        sim.set_rgba(self.handle_geoms, STYLES[colour][0])
        sim.set_rgba(self.head_geoms, STYLES[colour][1])
        self.arm = self.giver = arm_for(xy[0])
        self.taker = OTHER[self.giver]
        return {"A": f"{colour} microphone", "colour": colour, "head": HEAD_WORDS[colour], "a": self.giver,
                "b": self.taker}

    def _head(self, sim: Simulation) -> np.ndarray:
        return sim.body_pos(MIC) + sim.body_mat(MIC)[:, 2] * HEAD_CENTRE

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        head = self._head(sim)
        side = 1.0 if self.taker == "right" else -1.0
        return all_of(
            receiver_holds=sim.is_grasped(self.taker, MIC),
            giver_let_go=not sim.gripper_touches(self.giver, MIC),
            on_receiver_side=bool(side * head[0] > 0.0),
            head_raised=bool(head[2] > HEAD_MIN_Z),
            clear_of_table=not sim.in_contact(MIC, TABLE_BODY),
        )

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        giver, taker = self.giver, self.taker
        open_, closed = motion.robot.gripper_open, motion.robot.gripper_closed
        base = sim.body_pos(MIC)
        grip = base + (0, 0, GIVE_AT)
        quat = gripper_tilted_quat(_heading(giver, grip) + math.pi / 2, GIVE_PITCH)
        approach = quat_to_mat(quat)[:, 0]
        # From above and behind the handle, so the open fingers pass outside the head.
        yield from motion.move(giver, grip - 0.08 * approach + (0, 0, 0.12), quat, steps=30, gripper=open_)
        yield from motion.line(giver, grip - 0.08 * approach, quat, steps=14, segments=2)
        yield from motion.line(giver, grip, quat, steps=18, segments=2)
        yield from motion.gripper(giver, closed, steps=10)
        yield from motion.wait(4)
        yield from motion.line(giver, grip + (0, 0, 0.06), quat, steps=14, segments=2)
        # The giver holds the head at upstream's handover point; the taker hovers above it, its
        # fingers across the head.
        hand = HANDOVER_HEAD - (0, 0, HEAD_CENTRE - GIVE_AT)
        give = gripper_tilted_quat(_heading(giver, hand) + math.pi / 2, GIVE_PITCH)
        take_yaw = nearest_symmetric_yaw(_heading(taker, hand) + math.pi / 2, NATURAL_YAW[taker], math.pi)
        down = gripper_down_quat(take_yaw)
        above = HANDOVER_HEAD + (0, 0, TAKE_AT - HEAD_CENTRE + 0.07)
        via = (grip + hand) / 2 + (0, 0, 0.05)
        yield from motion.move_both({giver: (via, give), taker: (above, down)}, 25, {taker: open_})
        yield from motion.move_both({giver: (hand, give), taker: (above, down)}, 25)
        yield from motion.wait(6)
        # The taker comes down on the head where it actually is, closes; the giver lets go.
        head = sim.body_pos(MIC) + sim.body_mat(MIC)[:, 2] * TAKE_AT
        yield from motion.line(taker, head, down, steps=16, segments=2)
        yield from motion.gripper(taker, closed, steps=10)
        yield from motion.wait(4)
        yield from motion.gripper(giver, open_, steps=10)
        yield from motion.wait(4)
        back = hand - 0.1 * quat_to_mat(give)[:, 0] + (0, 0, 0.02)
        side = 1.0 if taker == "right" else -1.0
        yield from motion.move_both({giver: (back, give), taker: (head + (side * DRAW_ASIDE, 0, DRAW_UP), down)}, 20)
        yield from motion.wait(10)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        head = self._head(sim)
        if sim.is_grasped(self.taker, MIC) and not sim.gripper_touches(self.giver, MIC):
            side = 1.0 if self.taker == "right" else -1.0
            target = HANDOVER_HEAD + (side * DRAW_ASIDE, 0, DRAW_UP)
            return self.state_from_spec(sim, target, "hold", action_type="handover", arm=self.taker)
        if sim.is_grasped(self.giver, MIC) or sim.body_pos(MIC)[2] > 0.02:
            return self.state_from_spec(sim, head + (0, 0, TAKE_AT - HEAD_CENTRE), "handover", arm=self.taker)
        return self.state_from_spec(sim, sim.body_pos(MIC) + (0, 0, GIVE_AT), "grasp", action_type="grasp",
                                    arm=self.giver)
