"""put_bottles_dustbin: drop three bottles into a dustbin at the table's left edge.

Description:
    Three upright bottles of different shapes stand across the far half of the table, and an
    open dustbin stands at the table's left edge, beside the left arm. Bottles on the left are
    picked up by the left arm, carried over the bin and dropped in; a bottle on the right is
    picked up by the right arm low on its body, brought to the middle of the table and handed
    over to the left arm, which takes it with a tilted gripper low on its body and drops it in
    the bin. The bottles go left side first, nearest first, as upstream orders them (RoboTwin
    2.0 ``put_bottles_dustbin``). Upstream's right arm also grips high and its left arm low
    at the hand-over, in the middle of the table.
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the three bottles, then the bin.
Success:
    Every bottle's base centre is inside the bin's walls and below its rim, and all three
    bottles are at rest.
    Fidelity: upstream's bin stands on the floor beside a table shifted 0.3 m to the right,
    and it asks that each bottle's origin is within (0.221, 0.325) m in x and y of the bin's
    position and between z = 0.2 and 0.7, under its table top: inside the bin. Our arms stand
    on the table's sides, so a floor bin past the table's edge would be behind the left arm's
    base; ours stands on the table at its left edge (the far-left corner, out of the
    bottles' way), and we ask for the same meaning with our bin's inner walls and rim. Upstream
    can count a bottle while it falls through the bin's region; we also ask that the bottles
    are at rest (a bottle that would bounce back out is not counted).
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): bottles at x in [-0.25, 0.3] with
    |x| >= 0.05, y in [0.53, 0.73], at least 13 cm apart, upright and unturned. The bin is
    fixed at (-0.42, 0.75): 23.6 cm square outside, 12 cm tall, in one of three colours.
    Upstream draws three fixed ``114_bottle`` meshes; ours are pick_diverse_bottles' round
    (17 cm), slim (21 cm) and flat-sided (16 cm) bottles, each in one of six colours (all
    three differ). Which bottle stands where is drawn per episode.
Episode end:
    Success, or 1700 control steps (68 s at 25 Hz; the expert needs at most 1007 on seeds 0-49
    and 100000-100049). Upstream's evaluation limit is 1700 policy actions.
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
from vlapro_bench.sim.geometry import gripper_down_quat, gripper_tilted_quat, quat_to_mat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import REST_SPEED, GraspableProp, fixed_open_box
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import grasp_prop, hand_offset, pick_colour, round_inertia, set_on_table
from vlapro_bench.sim.skills import ARM_BASE, NATURAL_YAW
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask
from .pick_diverse_bottles import BOTTLE_COLOURS, SHAPES, bottle

BIN = "dustbin"
KINDS = ("round", "slim", "flat")
#: Where the bin stands (our frame), its inner half-size, wall thickness, height and base (m).
BIN_XY = (-0.42, 0.75)
BIN_INNER, BIN_WALL, BIN_HEIGHT, BIN_BASE = (0.11, 0.11), 0.008, 0.12, 0.008
BIN_COLOURS = {"black": (0.12, 0.12, 0.13, 1), "grey": (0.5, 0.52, 0.55, 1), "green": (0.2, 0.45, 0.25, 1)}
#: Upstream's ranges in our frame: x, the middle band it keeps clear, y and the spacing (m).
BOTTLE_X, MIDDLE, BOTTLE_Y, SPACING = (-0.25, 0.3), 0.05, (0.53, 0.73), 0.13
#: Where the expert drops each bottle in turn (offsets from the bin's centre) and how far the
#: bottle's base clears the rim when it lets go (m).
DROP_SPOTS = ((-0.035, -0.035), (0.04, 0.0), (-0.025, 0.045))
DROP_CLEARANCE = 0.03
#: Height of a carried bottle's base on its way to the bin: over the tallest standing bottle.
TRANSIT_BASE = 0.24
#: The expert's lift after a grasp (upstream's 0.1 m).
EXPERT_LIFT = 0.1
#: The left arm's tilted grasp on a handed-over bottle's lower part: TCP height above its base
#: and the gripper's downward tilt; where the bottle's base is when it is handed over.
TAKE_AT, TAKE_PITCH = 0.035, math.radians(30)
HANDOVER = np.array([0.0, 0.5, 0.06])


def dustbin(scene: SceneBuilder, name: str) -> tuple[str, ...]:
    """The fixed open bin: a base and four walls; its origin on the table at its centre."""
    return fixed_open_box(scene, name, BIN_XY, BIN_INNER, BIN_WALL, BIN_HEIGHT, BIN_BASE, BIN_COLOURS["black"])


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and phrases.

    ``{A}``, ``{B}`` and ``{C}`` are the bottles (left to right) and ``{D}`` the bin, each named
    from ``descriptions`` per episode. Unseen templates use verbs and phrasing no seen one uses.
    """
    put = ("Put", "Drop", "Throw", "Place", "Move", "Toss")
    into = ("into the {D}", "in the {D} on the left", "into the {D} at the left edge of the table")
    seen = [f"{v} the {{A}}, the {{B}} and the {{C}} {i}." for v, i in product(put, into)]
    seen += [f"{v} the {{A}}, the {{B}} and the {{C}} {i} one by one." for v, i in product(put, into[:2])]
    seen += [
        "Pick up the {A}, the {B} and the {C} and drop them into the {D}.",
        "Clear the table: the {A}, the {B} and the {C} go into the {D}.",
        "Use the arms to throw the {A}, the {B} and the {C} away in the {D}.",
        "Grab each bottle in turn, the {A}, the {B} and the {C}, and put it in the {D}.",
        "Get the {A}, the {B} and the {C} into the {D}.",
        "Throw away the {A}, the {B} and the {C}: they belong in the {D}.",
        "Put all three bottles, the {A}, the {B} and the {C}, into the {D}.",
        "One at a time, drop the {A}, the {B} and the {C} into the {D}.",
        "Move the {A}, then the {B}, then the {C} into the {D}.",
        "Take the {A}, the {B} and the {C} off the table and drop them in the {D}.",
        "Hand the bottles on the right to the left arm and drop all of them in the {D}.",
        "Put the {A} in the {D}, then the {B}, then the {C}.",
        "Dispose of the {A}, the {B} and the {C} in the {D}.",
        "Collect the {A}, the {B} and the {C} and throw them into the {D}.",
        "Pick up every bottle, the {A}, the {B} and the {C}, and drop it into the {D}.",
        "Transfer the {A}, the {B} and the {C} into the {D} beside the left arm.",
        "The {A}, the {B} and the {C} are trash: put them in the {D}.",
        "Pass the bottles on the right side over to the left arm, then drop them all in the {D}.",
        "Drop every bottle on the table into the {D}: the {A}, the {B} and the {C}.",
        "Use both arms to get the {A}, the {B} and the {C} into the {D}.",
        "Lift the {A}, the {B} and the {C} one after the other and let them fall into the {D}.",
        "Put the three bottles in the {D} at the left of the table.",
    ]
    unseen = (
        "Bin the {A}, the {B} and the {C} in the {D}, one after another.",
        "Chuck the {A}, the {B} and the {C} into the {D} over by the port-side rim.",
        "Discard the {A}, the {B} and the {C} inside the {D}.",
        "Scrap the {A}, the {B} and the {C}: deposit each in the {D}.",
        "Sweep the {A}, the {B} and the {C} off the tabletop and into the {D}.",
        "Dump the {A}, the {B} and the {C} in the {D} sequentially.",
        "Relay the rightmost flasks leftward and deposit all of them, the {A}, the {B} and the {C}, in the {D}.",
        "Junk the {A}, the {B} and the {C} by letting each fall into the {D}.",
        "Rid the workspace of the {A}, the {B} and the {C}, stowing them in the {D}.",
        "Lob the {A}, the {B} and the {C} into the {D}, a single flask at a time.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


def _bottle_words(letter: str) -> dict[str, tuple[str, ...]]:
    key = letter.lower()
    return {
        "seen": (f"{{c{key}}} {{s{key}}}", f"{{s{key}}}", f"{{c{key}}} bottle"),
        "unseen": (f"{{c{key}}} {{u{key}}}", f"{{u{key}}}", f"{{c{key}}} drinks vessel"),
    }


@register_task
class PutBottlesDustbin(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="put_bottles_dustbin",
        max_episode_steps=1700,
        procedure=ProceduralAnnotation("pick_place", "cylinder", "downward", "container_inside"),
        description="Put the three bottles into the dustbin at the table's left edge, handing right-side ones over.",
    )
    instructions = _templates()
    descriptions = {
        **{letter: _bottle_words(letter) for letter in "ABC"},
        "D": {
            "seen": ("{bin} dustbin", "dustbin", "{bin} trash bin", "{bin} bin"),
            "unseen": ("{bin} rubbish receptacle", "garbage can", "{bin} waste basket"),
        },
    }

    tracked_bodies = (*(f"{k}_bottle" for k in KINDS), BIN)

    def build_scene(self, scene: SceneBuilder) -> None:
        # Compiled apart on the near edge of the table (where MuJoCo's reset after a blow-up
        # returns them: not in the bin).
        self.bottles: dict[str, GraspableProp] = {
            k: bottle(scene, f"{k}_bottle", SHAPES[k], (0.1 * i - 0.1, 0.2, 0)) for i, k in enumerate(KINDS)
        }
        self.bin_geoms = dustbin(scene, BIN)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, self.bottles.values())

        def draw() -> list[np.ndarray] | None:
            spots: list[np.ndarray] = []
            for _ in KINDS:
                xy = np.array([rng.uniform(*BOTTLE_X), rng.uniform(*BOTTLE_Y)])
                if abs(xy[0]) < MIDDLE or any(np.linalg.norm(xy - s) < SPACING for s in spots):
                    return None
                spots.append(xy)
            return spots

        spots = self.draw_layout(draw)
        order = rng.permutation(len(KINDS))
        colours: list[str] = []
        placed: list[tuple[float, str, str]] = []
        for kind, i in zip(KINDS, order, strict=True):
            prop = self.bottles[kind]
            xy = spots[int(i)]
            set_on_table(sim, prop, (float(xy[0]), float(xy[1])), 0.0)
            colours.append(pick_colour(rng, tuple(BOTTLE_COLOURS), exclude=colours))
            sim.set_rgba(prop.colour_geoms, BOTTLE_COLOURS[colours[-1]])
            placed.append((float(xy[0]), kind, colours[-1]))
        bin_colour = pick_colour(rng, tuple(BIN_COLOURS))
        sim.set_rgba(self.bin_geoms, BIN_COLOURS[bin_colour])
        self.arm = "left"
        values = {"bin": bin_colour, "D": f"{bin_colour} dustbin"}
        for letter, (_, kind, colour) in zip("abc", sorted(placed), strict=True):  # named left to right
            values.update({f"c{letter}": colour, f"s{letter}": SHAPES[kind].noun, f"u{letter}": SHAPES[kind].other,
                           letter.upper(): f"{colour} {SHAPES[kind].noun}"})
        return values

    def _in_bin(self, sim: Simulation, prop: GraspableProp) -> bool:
        offset = sim.body_pos(prop.body) - sim.body_pos(BIN)
        inside = abs(offset[0]) < BIN_INNER[0] and abs(offset[1]) < BIN_INNER[1]
        return bool(inside and -0.005 < offset[2] < BIN_HEIGHT)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        inside = {f"{kind}_bottle_in_bin": self._in_bin(sim, prop) for kind, prop in self.bottles.items()}
        rest = all(sim.body_speed(prop.body) < REST_SPEED for prop in self.bottles.values())
        return all_of(**inside, bottles_at_rest=rest)

    # -- expert -----------------------------------------------------------------------------
    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        # Upstream's order: left-side bottles first, then right-side ones, each by y.
        order = sorted(self.bottles.values(), key=lambda p: (sim.body_pos(p.body)[0] > 0, sim.body_pos(p.body)[1]))
        for spot, prop in zip(DROP_SPOTS, order, strict=True):
            handed = bool(sim.body_pos(prop.body)[0] > 0)
            if handed:
                yield from self._hand_over(sim, motion, prop)
            else:
                yield from grasp_prop(sim, motion, "left", prop, lift=EXPERT_LIFT)
            yield from self._drop(sim, motion, prop, np.asarray(spot), handed)
        yield from motion.wait(10)

    def _drop(self, sim: Simulation, motion: Motion, prop: GraspableProp, spot: np.ndarray,
              tilted: bool) -> Iterator[np.ndarray]:
        """Carry the bottle the left arm holds (from above, or ``tilted`` after a hand-over; the
        gripper only turns about the vertical, so the bottle stays upright) over a spot in the
        bin, high enough that its base clears the rim, let go, and back up."""
        goal = np.array([BIN_XY[0] + spot[0], BIN_XY[1] + spot[1], BIN_HEIGHT + DROP_CLEARANCE])
        if tilted:
            quat = gripper_tilted_quat(_heading("left", goal) + math.pi / 2, TAKE_PITCH)
        else:
            quat = gripper_down_quat(NATURAL_YAW["left"])
        offset = hand_offset(sim, "left", prop)
        tcp = goal - quat_to_mat(quat) @ offset
        start, held = motion.tcp_target_pose("left")
        # Lift first, so the carried bottle's base clears the standing bottles on the way (as high
        # as the arm reaches over the bottle's spot and over the bin, up to TRANSIT_BASE).
        above_base = sim.tcp_pos("left")[2] - sim.body_pos(prop.body)[2]
        low = max(start[2], tcp[2]) + 0.03
        high = low
        current = motion.action[motion.robot.arm_slice("left")]
        for z in np.arange(max(low, TRANSIT_BASE + above_base), low, -0.02):
            if all(motion.ik.solve("left", np.array([p[0], p[1], z]), q, current).converged
                   for p, q in ((start, held), (tcp, quat))):
                high = float(z)
                break
        yield from motion.move("left", (start[0], start[1], high), held, steps=16)
        yield from motion.move("left", (tcp[0], tcp[1], high), quat, steps=45 if tilted else 30)
        yield from motion.line("left", tcp, quat, steps=10, segments=2)
        yield from motion.gripper("left", motion.robot.gripper_open, steps=8)
        yield from motion.wait(8)
        # Back out along the fingers before rising, so they do not drag the bottle up.
        back = tcp - 0.06 * quat_to_mat(quat)[:, 0]
        yield from motion.line("left", back, quat, steps=10, segments=2)
        yield from motion.line("left", back + (0, 0, 0.05), quat, steps=8, segments=1)
        # Back to the ready pose, high over the table, so the next approach cannot sweep
        # through a standing bottle.
        yield from motion.home("left", steps=30)

    def _hand_over(self, sim: Simulation, motion: Motion, prop: GraspableProp) -> Iterator[np.ndarray]:
        """The right arm picks the bottle from above and brings it to the middle of the table;
        the left arm takes it low on its body with a tilted gripper, and the right arm lets go
        and goes home."""
        yield from grasp_prop(sim, motion, "right", prop, lift=EXPERT_LIFT)
        right_quat = gripper_down_quat(NATURAL_YAW["right"])
        tcp = HANDOVER - quat_to_mat(right_quat) @ hand_offset(sim, "right", prop)
        start, _ = motion.tcp_target_pose("right")
        take = gripper_tilted_quat(_heading("left", HANDOVER) + math.pi / 2, TAKE_PITCH)
        approach = quat_to_mat(take)[:, 0]
        grip = HANDOVER + (0, 0, TAKE_AT)
        open_ = motion.robot.gripper_open
        yield from motion.move_both({"right": ((start + tcp) / 2 + (0, 0, 0.03), right_quat),
                                     "left": (grip - 0.12 * approach + (0, 0, 0.05), take)}, 25, {"left": open_})
        yield from motion.move_both({"right": (tcp, right_quat), "left": (grip - 0.1 * approach, take)}, 25)
        yield from motion.wait(6)
        # The left arm comes in on the bottle's lower part where it actually is.
        grip = sim.body_pos(prop.body) + (0, 0, TAKE_AT)
        yield from motion.line("left", grip, take, steps=20, segments=2)
        yield from motion.gripper("left", motion.robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        yield from motion.gripper("right", open_, steps=10)
        yield from motion.wait(4)
        yield from motion.line("right", tcp + (0, 0, 0.08), right_quat, steps=12, segments=2)
        yield from motion.home("right", steps=20)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        for arm in ("left", "right"):
            for prop in self.bottles.values():
                if sim.is_grasped(arm, prop.body):
                    stage = "handover" if arm == "right" else "place"
                    target = HANDOVER if arm == "right" else np.array([*BIN_XY, BIN_HEIGHT])
                    return self.state_from_spec(sim, target, stage, action_type=stage, arm=arm)
        for prop in self.bottles.values():
            if not self._in_bin(sim, prop):
                pos = sim.body_pos(prop.body)
                arm = "left" if pos[0] < 0 else "right"
                return self.state_from_spec(sim, pos + (0, 0, prop.grasp_z), "grasp", action_type="grasp", arm=arm)
        return self.state_from_spec(sim, np.array([*BIN_XY, BIN_HEIGHT]), "retreat", action_type="place")


def _heading(arm: str, point: np.ndarray) -> float:
    """Yaw of the horizontal line from ``arm``'s base out to ``point``."""
    d = np.asarray(point)[:2] - ARM_BASE[arm][:2]
    return math.atan2(d[1], d[0])
