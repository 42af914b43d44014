"""move_can_pot: stand a can on the table beside a cooking pot.

Description:
    A cooking pot with two side handles stands in the middle of the table, and a sauce can stands
    upright off to its left or right, a little nearer the far edge. The arm on the can's side
    picks the can up, pulls it back, and sets it down upright on the table next to the pot, on
    the can's side of it (RoboTwin 2.0 ``move_can_pot``). The can goes beside the pot, not into it.
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the can, then the pot.
Success:
    The can stands on the acting arm's side of the pot, its centre less than 0.2 m from the pot's
    centre along x and less than 3.5 cm from it along y; its axis is within 15 degrees of
    vertical; its base is no more than 1 mm above the height the pot started at (so it stands
    on the table, not in or on the pot); no part of the robot touches it while it is at rest;
    and the pot still stands upright on the table, at rest.
    Fidelity: upstream checks the same side, 0.2 m / 3.5 cm bands and 1 mm height, and asks for
    each of the can's two tilt angles (roll and pitch about its upright pose) to be within 15
    degrees, then for both grippers open. We bound the can's total tilt by 15 degrees (a little
    stricter where both angles are large), and ask that the robot has let go (nothing of it
    touches the can) and the can is at rest instead of open grippers, so a can still toppling
    or sliding past the pot is not counted. ``pot_standing`` is our addition: the pot is free,
    and without it a random arm that flung the pot into the air beside the can scored a
    success on 6 of seeds 0-49. A pot shoved along the table to the can still counts, as
    upstream (success is judged against the pot's current position).
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): the pot at (0, 0.5) turned by up to
    22.5 degrees either way about the vertical; the can at x in [-0.3, 0.3] with |x| >= 0.2,
    y in [0.55, 0.65], at least 0.3 m from the pot's centre (so in practice |x| >= 0.26), at any
    heading (it is round; upstream turns it by up to 45 degrees). The pot is free, as upstream's
    (an articulation with a loose root link): an arm that bumps it moves it, and success is
    judged against where it then stands.
    The can is :func:`~vlapro_bench.sim.objects.household.can` sized like a squat sauce tin
    (5.2 cm across, 7.5 cm tall; upstream's ``105_sauce-can``, five models), its label colour
    from six. The pot is our own model (upstream's ``060_kitchenpot``, seven models): a 15 cm
    wide, 8.5 cm tall steel pot with a thick base, a hollow wall and two loop handles reaching
    11.5 cm from its centre; its finish from four.
Episode end:
    Success, or 400 control steps (16 s at 25 Hz; the expert needs at most 135 on seeds 0-49).
    Upstream's evaluation limit is 400 policy actions.
Version history:
    v0: first version (split v1).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from itertools import product

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.geometry import quat_to_mat, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import COLOURS, REST_SPEED, can, pot_shell
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    equivalent_yaws,
    finger_yaw_now,
    grasp_prop,
    place_prop,
    placement_state,
    released_at_rest,
    round_inertia,
    set_on_table,
)
from vlapro_bench.sim.skills import arm_for
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask

POT = "pot"
#: Pot: outer radius, height, wall and base thickness (m), wall staves, handle reach from the centre.
POT_RADIUS, POT_HEIGHT, POT_WALL, POT_BASE, POT_STAVES, HANDLE_REACH = 0.075, 0.085, 0.004, 0.006, 20, 0.115
POT_FINISHES = {
    "steel": (0.7, 0.72, 0.75, 1), "black": (0.15, 0.15, 0.16, 1),
    "red": (0.7, 0.15, 0.12, 1), "copper": (0.72, 0.45, 0.26, 1),
}
CAN_COLOURS = ("red", "green", "blue", "yellow", "orange", "white")
CAN_RADIUS, CAN_HEIGHT, CAN_MASS = 0.026, 0.075, 0.08
#: Upstream's thresholds: band along x (m, on the arm's side), along y (m), tilt (rad), height (m).
X_BAND, Y_BAND, TILT_LIMIT, HEIGHT_MARGIN = 0.2, 0.035, math.radians(15), 0.001
#: Our addition: the pot still stands on the table (its base at most this high, m), upright and at rest.
POT_LIFT = 0.005
#: Upstream's ranges in our frame: pot yaw, can |x| and y, least can-pot distance; the placement
#: offset along x from the pot's centre, as upstream's expert target.
POT_YAW, CAN_X, CAN_Y, MIN_GAP, BESIDE = math.pi / 8, (0.2, 0.3), (0.55, 0.65), 0.3, 0.18


def _tilt(sim: Simulation, body: str) -> float:
    """Angle (rad) between a body's z axis and the vertical."""
    return math.acos(float(np.clip(quat_to_mat(sim.body_quat(body))[2, 2], -1.0, 1.0)))


def kitchen_pot(scene: SceneBuilder, name: str) -> tuple[str, ...]:
    """A free two-handled cooking pot with its origin at the centre of its bottom face.

    A thick base disc, a hollow wall of flat staves (so it is really open), a rolled rim and two
    loop handles along its local x axis. Heavy enough (0.9 kg) that a light touch does not
    shove it. Returns the geoms that take the finish colour.
    """
    body = scene.body(name, pos=(0, 0.5, 0), free=True)
    colour = POT_FINISHES["steel"]
    geoms = pot_shell(scene, body, name, colour, radius=POT_RADIUS, height=POT_HEIGHT, wall=POT_WALL, base=POT_BASE,
                      staves=POT_STAVES, base_mass=0.4, stave_mass=0.015)
    handle_z = POT_HEIGHT - 0.018
    for side in (1, -1):
        span = HANDLE_REACH - POT_RADIUS
        for dy in (0.025, -0.025):  # the loop's two arms, out from the wall
            geoms.append(scene.box(body, f"{name}_handle{side:+d}{dy:+.3f}", (span / 2, 0.004, 0.005), colour,
                                   pos=(side * (POT_RADIUS + span / 2), dy, handle_z), mass=0.01).name)
        geoms.append(scene.box(body, f"{name}_grip{side:+d}", (0.005, 0.029, 0.005), colour,
                               pos=(side * (HANDLE_REACH - 0.005), 0, handle_z), mass=0.01).name)
    return tuple(geoms)


#: Instruction set 1's descriptions: ``{A}`` the can (``{colour}`` its label), ``{B}`` the pot.
#: Unseen descriptions use no word a seen one uses.
DESCRIPTIONS = {
    "A": {"seen": ("{colour} can", "{colour} sauce can", "can of sauce", "{colour} tin can"),
          "unseen": ("{colour} canister", "{colour} cylindrical container", "{colour} food canister")},
    "B": {"seen": ("pot", "cooking pot", "kitchen pot", "{finish} pot"),
          "unseen": ("saucepan", "{finish} stockpot", "two-handled casserole")},
}


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and "beside" phrases.

    ``{A}`` is the can, ``{B}`` the pot, ``{a}`` the arm (set 0 fills ``{A}`` and ``{B}`` with
    the episode's plain names; later sets draw them from :data:`DESCRIPTIONS`).
    """
    carry = ("Move", "Carry", "Bring", "Take", "Shift", "Transfer")
    beside = ("next to the {B}", "beside the {B}", "over to the side of the {B}", "to the {B}'s side")
    put = ("Put", "Place", "Set", "Stand")
    near = ("down next to the {B}", "beside the {B}", "on the table by the {B}", "upright alongside the {B}")
    seen = [f"{v} the {{A}} {t}." for v, t in product(carry, beside)]
    seen += [f"{v} the {{A}} {t}." for v, t in product(put, near)]
    with_arm = [*zip(carry, beside[1:] + beside, strict=False), *zip(put, near[::-1], strict=True)]
    seen += [f"{v} the {{A}} {t} with the {{a}} arm." for v, t in with_arm]
    seen += [
        "Pick up the {A} and put it next to the {B}.",
        "Grab the {A} and set it down beside the {B}.",
        "Use the {a} arm to move the {A} next to the {B}.",
        "Use the {a} gripper to place the {A} beside the {B}.",
        "With the {a} arm, lift the {A} and stand it by the {B}.",
        "Lift the {A} and lower it onto the table next to the {B}.",
        "Put the {A} beside the {B}, not inside it.",
        "The {A} goes next to the {B}.",
        "Get the {A} over beside the {B}.",
        "Have the {a} arm carry the {A} to the {B}.",
        "Grasp the {A} with the {a} hand and set it by the {B}.",
        "Move the {A} so that it stands right next to the {B}.",
        "Place the {A} on the table at the side of the {B}.",
        "Set the {A} down next to the {B} using the {a} arm.",
        "Pick the {A} up and keep it upright next to the {B}.",
    ]
    unseen = (
        "Park the {A} alongside the {B}.",
        "Let the {a} hand ferry the {A} over to the flank of the {B}.",
        "Deposit the {A} so that it neighbours the {B}.",
        "Tidy the counter: the {A} belongs adjacent to the {B}.",
        "Hoist the {A} and settle it at the {B}'s flank.",
        "Relay the {A} to a spot adjoining the {B} with your {a} hand.",
        "Station the {A} at the {B}'s elbow, still standing.",
        "Scoop up the {A} and leave it propped up near the {B}, never in it.",
        "Slide the {A} across so it keeps the {B} company.",
        "Plant the {A} snugly adjacent to the {B}.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


@register_task
class MoveCanPot(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="move_can_pot",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("pick_place", "cylinder", "downward", "beside_object"),
        description="Move the can next to the pot.",
    )
    instructions = _templates()
    descriptions = DESCRIPTIONS
    tracked_bodies = ("can", POT)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.can = can(scene, "can", radius=CAN_RADIUS, height=CAN_HEIGHT, mass=CAN_MASS)
        self.pot_geoms = kitchen_pot(scene, POT)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, [self.can])
        pot_xy = np.array([0.0, 0.5])

        def draw() -> np.ndarray | None:
            xy = np.array([rng.uniform(-CAN_X[1], CAN_X[1]), rng.uniform(*CAN_Y)])
            # Upstream's rejection rule; every kept point is well within the acting arm's reach.
            if abs(xy[0]) >= CAN_X[0] and np.linalg.norm(xy - pot_xy) >= MIN_GAP:
                return xy
            return None

        can_xy = self.draw_layout(draw)
        sim.set_free_pose(POT, (pot_xy[0], pot_xy[1], 0.0), yaw_quat(rng.uniform(-POT_YAW, POT_YAW)))
        set_on_table(sim, self.can, (float(can_xy[0]), float(can_xy[1])), rng.uniform(-math.pi, math.pi))
        colour = CAN_COLOURS[int(rng.integers(len(CAN_COLOURS)))]
        sim.set_rgba(self.can.colour_geoms, COLOURS[colour])
        finish = list(POT_FINISHES)[int(rng.integers(len(POT_FINISHES)))]
        sim.set_rgba(self.pot_geoms, POT_FINISHES[finish])
        self.arm = arm_for(can_xy[0])
        self.pot_z = 0.0
        return {"A": f"{colour} can", "B": "pot", "colour": colour, "finish": finish, "a": self.arm}

    def _side(self) -> float:
        """+1 if the can belongs on the pot's +x side (right arm), -1 for the left arm."""
        return 1.0 if self.arm == "right" else -1.0

    def _goal(self, sim: Simulation) -> np.ndarray:
        """Where the can's base centre goes: beside the pot along x on the arm's side, as upstream."""
        return sim.body_pos(POT) * (1, 1, 0) + (self._side() * BESIDE, 0, 0)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        offset = sim.body_pos(self.can.body) - sim.body_pos(POT)
        along = self._side() * offset[0]
        pot_pos = sim.body_pos(POT)
        return all_of(
            on_arm_side_of_pot=bool(0.0 < along < X_BAND),
            level_with_pot=bool(abs(offset[1]) < Y_BAND),
            upright=bool(_tilt(sim, self.can.body) < TILT_LIMIT),
            on_table=bool(sim.body_pos(self.can.body)[2] <= self.pot_z + HEIGHT_MARGIN),
            released_at_rest=released_at_rest(sim, self.can.body),
            pot_standing=bool(pot_pos[2] < POT_LIFT and _tilt(sim, POT) < TILT_LIMIT
                              and sim.body_speed(POT) < REST_SPEED),
        )

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        yield from grasp_prop(sim, motion, self.arm, self.can)
        # A round can goes down at any heading: keep the wrist as it is, or the nearest the IK can follow.
        now = finger_yaw_now(motion, self.arm)
        yaws = equivalent_yaws(now, math.pi / 8, now)
        yield from place_prop(sim, motion, self.arm, self.can, self._goal(sim) + (0, 0, 0.003), yaws)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        done = self.check_success(sim)
        placed = bool(done["on_arm_side_of_pot"] and done["level_with_pot"] and done["on_table"])
        return placement_state(sim, self.arm, self.can, self._goal(sim), placed)
