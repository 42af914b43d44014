"""place_fan: set a small desk fan on a coloured mat, its face turned towards the robot.

Description:
    A small desk fan stands on the table at a random heading, and a thin square coloured mat
    (10 x 10 cm) lies beside it on the same side of the table. The arm on the fan's side picks
    the fan up by its base, behind the head, turns it so its round head faces the robot (-y) and
    sets it down on the mat's centre (RoboTwin 2.0 ``place_fan``). The expert turns the fan in
    steps of at most 45 degrees while carrying it, since the turn can be up to half a turn.
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the fan, then the mat.
Success:
    The fan's origin (middle of its base, on the bottom) is within 4 cm of the mat's centre in
    x, y and height, the fan stands upright with its face within 0.1416 rad (8.1 degrees) of
    -y (towards the robot), and no part of the robot touches it while it is at rest.
    Fidelity: upstream checks the same 4 cm box per axis and that each component of the fan's
    quaternion (sign fixed so w >= 0) is within 0.05 of the target (0.707, 0.707, 0, 0), its
    upright pose facing the robot. For a fan turned about the vertical by d from the target the
    components are 0.707 (cos(d/2), cos(d/2), sin(d/2), sin(d/2)), so the binding test is
    0.707 |sin(d/2)| < 0.05, i.e. |d| < 2 asin(0.05 sqrt(2)) = 0.1416 rad, one way round only:
    our rule, plus an explicit upright check for the tilt the quaternion test also bounds.
    Upstream then asks for both grippers open; we ask instead that the robot has let go
    (nothing of it touches the fan) and the fan is at rest, so a fan still rocking or sliding
    on the mat is not counted.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): fan at x in [-0.1, 0.1],
    y in [0.35, 0.45], any heading; the mat on the fan's side at |x| in [0.15, 0.25],
    y in [0.35, 0.45]. Our additions: the fan's footprint stays off the mat (grown by 1 cm),
    and fan and mat lie within 0.47 m of the acting arm's base. Mat colour from eight of
    upstream's 23; fan colour from five.
    The fan is our own rigid model: a flat base (16 x 5 cm, 3.5 cm tall), a short post at its
    front, and a round head (9 cm across, 3 cm deep) with a grille and a hub on its face, 14.5 cm
    tall, 120 g); the fingers (6.9 cm opening) close across the
    5 cm base at its middle, 4.7 cm behind the head. Upstream's ``099_fan`` meshes (models 4 and
    5) are rigid too and weigh 10 g. The mat is upstream's 10 x 10 cm box, 2 mm thick like
    upstream's.
Episode end:
    Success, or 400 control steps (16 s at 25 Hz; the expert needs at most 223 on seeds 0-49
    and 100000-100049). Upstream's evaluation limit is 400 policy actions.
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
from vlapro_bench.sim.geometry import gripper_down_quat, quat_to_mat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import HOME, GraspableProp
from vlapro_bench.sim.objects.primitives import pad
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    body_yaw_in_world,
    carry_turning,
    equivalent_yaws,
    first_feasible,
    footprint_near_rect,
    go_to_plan_start,
    grasp_options,
    grasp_prop,
    pick_colour,
    place_prop,
    placement_state,
    plan_chain,
    released_at_rest,
    round_inertia,
    set_on_table,
)
from vlapro_bench.sim.robot import ARMS
from vlapro_bench.sim.skills import NATURAL_YAW, arm_for, reach
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask

MAT = "fan_mat"
#: Mat half-size (m): upstream's 5 x 5 cm half-extents, 1 mm half-thickness.
MAT_HALF = (0.05, 0.05, 0.001)
#: Eight of upstream's mat colours.
MAT_COLOURS = {
    "red": (1.0, 0.0, 0.0, 1), "green": (0.0, 0.8, 0.0, 1), "blue": (0.0, 0.2, 1.0, 1),
    "yellow": (1.0, 0.9, 0.0, 1), "cyan": (0.0, 0.9, 0.9, 1), "magenta": (0.9, 0.0, 0.9, 1),
    "orange": (1.0, 0.5, 0.0, 1), "purple": (0.5, 0.0, 0.5, 1),
}
FAN_COLOURS = {
    "white": (0.92, 0.92, 0.9, 1), "black": (0.12, 0.12, 0.13, 1), "blue": (0.2, 0.35, 0.75, 1),
    "grey": (0.55, 0.55, 0.57, 1), "mint": (0.55, 0.85, 0.7, 1),
}
#: Base half-length (along the facing direction, local x) and half-width (m).
BASE_HALF = (0.08, 0.025)
#: Head radius (m) and the head's centre along local x (its front faces +x).
HEAD_RADIUS, HEAD_X = 0.045, 0.062
#: Upstream's thresholds: origin offset per axis (m) and heading error (rad, see Success).
XYZ_TOLERANCE = 0.04
YAW_TOLERANCE = 2 * math.asin(0.05 * math.sqrt(2))
#: Heading the fan's face must point along: towards the robot (-y).
TARGET_YAW = -math.pi / 2
#: Largest horizontal distance from the arm's base to the fan or the mat.
REACH = 0.47


def desk_fan(scene: SceneBuilder, name: str) -> GraspableProp:
    """A rigid desk fan facing local +x, its origin under the middle of its base.

    A flat base (16 x 5 x 3.5 cm), a short post on its front end, and a round head (a 9 cm
    disc, 3 cm deep) on the post with a darker grille and a hub on its face. The head sits over
    the front end of the base only, so the fingers close across the base's 5 cm width at its
    middle, clear of the head.
    """
    body = scene.body(name, pos=HOME, free=True)
    colour = FAN_COLOURS["white"]
    dark = (0.2, 0.2, 0.22, 1)
    axis_x = (math.cos(math.pi / 4), 0, math.sin(math.pi / 4), 0)  # cylinder axis along local x
    scene.box(body, f"{name}_base", (BASE_HALF[0], BASE_HALF[1], 0.0175), colour, pos=(0, 0, 0.0175), mass=0.1)
    scene.cylinder(body, f"{name}_post", 0.008, 0.02, colour, pos=(HEAD_X, 0, 0.05), mass=0.003)
    head_z = 0.035 + 0.02 + HEAD_RADIUS
    scene.cylinder(body, f"{name}_head", HEAD_RADIUS, 0.015, colour, pos=(HEAD_X, 0, head_z), quat=axis_x,
                   mass=0.012)
    scene.cylinder(body, f"{name}_grille", HEAD_RADIUS - 0.006, 0.002, dark, pos=(HEAD_X + 0.015, 0, head_z),
                   quat=axis_x, mass=0.002)
    scene.cylinder(body, f"{name}_hub", 0.012, 0.004, colour, pos=(HEAD_X + 0.017, 0, head_z), quat=axis_x,
                   mass=0.002)
    return GraspableProp(name, "fan", "fan", "fan", (f"{name}_base", f"{name}_post", f"{name}_head", f"{name}_hub"),
                         grasp_z=0.025, height=head_z + HEAD_RADIUS, radius=math.hypot(*BASE_HALF),
                         colours=tuple(FAN_COLOURS))


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs, target phrases and ways of saying
    which way the fan must face (upstream's instructions all say it must face the robot).

    ``{A}`` is the fan and ``{B}`` the mat, each named from ``descriptions`` per episode;
    ``{a}`` is the arm. Unseen templates use verbs and phrasing no seen template uses.
    """
    carry = ("Move", "Carry", "Bring", "Transfer", "Shift", "Take")
    to = ("onto the {B}", "to the {B}", "over to the {B}", "across to the {B}")
    put = ("Put", "Place", "Set", "Stand")
    on = ("on the {B}", "onto the {B}", "down on the {B}", "on top of the {B}")
    facing = ("facing the robot", "turned towards the robot", "with its front towards the robot",
              "so that it faces the robot", "its face pointing at the robot")
    seen = [f"{v} the {{A}} {t}, {facing[k % len(facing)]}." for k, (v, t) in enumerate(product(carry, to))]
    seen += [f"{v} the {{A}} {t}, {facing[(k + 2) % len(facing)]}." for k, (v, t) in enumerate(product(put, on))]
    with_arm = [*zip(carry, to[1:] + to, strict=False), *zip(put, on[::-1], strict=True)]
    seen += [f"{v} the {{A}} {t} with the {{a}} arm, {facing[(k + 1) % len(facing)]}."
             for k, (v, t) in enumerate(with_arm)]
    seen += [
        "Pick up the {A} and stand it on the {B} facing the robot.",
        "Grab the {A} and put it down on the {B}, turned towards the robot.",
        "Use the {a} arm to put the {A} on the {B} facing the robot.",
        "Use the {a} gripper to move the {A} onto the {B} so that it faces the robot.",
        "With the {a} arm, lift the {A} and set it on the {B} facing the robot.",
        "Lift the {A} and lower it onto the {B}, its front towards the robot.",
        "Put the {A} on the {B} so that it faces the robot.",
        "Place the {A} on the {B}, blowing towards the robot.",
        "Turn the {A} towards the robot and set it on the {B}.",
        "The {A} goes on the {B}, facing the robot.",
        "Get the {A} onto the {B} and make it face the robot.",
        "Have the {a} arm carry the {A} to the {B} and turn it to face the robot.",
        "Grasp the {A} by its base with the {a} hand and put it on the {B} facing the robot.",
        "Pick up the {A} and center it on the {B}, facing the robot.",
        "Place the {A} in the middle of the {B} with its front towards the robot.",
        "Move the {A} from the table onto the {B}, turned to face the robot.",
        "Set the {A} down on the {B} using the {a} arm, facing the robot.",
        "Grab the {A} by the base and place it on the {B} facing the robot.",
    ]
    unseen = (
        "Park the {A} squarely on the {B}, aimed at the robot.",
        "Let the {a} hand ferry the {A} across to the {B} and aim it at the robot.",
        "Deposit the {A} neatly at the heart of the {B}, grille toward the robot.",
        "Tidy up: the {A} belongs on the {B}, aimed at the robot.",
        "Rest the {A} on the {B} so its breeze reaches the robot.",
        "Scoop up the {A} and settle it on the {B}, blades toward the robot.",
        "Relay the {A} to the {B} with your {a} hand, its grille aimed your way.",
        "Station the {A} atop the {B}, grille pointed your way.",
        "Hoist the {A} and park it on the {B} so the airflow hits the robot.",
        "Leave the {A} on the {B}, ready to cool whoever sits in front.",
        "Snatch the {A} and plant it dead centre on the {B}, its blades toward the robot.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


@register_task
class PlaceFan(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="place_fan",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("pick_place", "fan", "downward", "pad_centre"),
        description="Place the desk fan on the coloured mat, facing the robot.",
    )
    instructions = _templates()
    descriptions = {
        "A": {
            "seen": ("{colour} fan", "fan", "{colour} desk fan", "small {colour} fan", "desk fan"),
            "unseen": ("{colour} tabletop ventilator", "little {colour} air circulator", "{colour} cooling gadget"),
        },
        "B": {
            "seen": ("{mat} mat", "mat", "{mat} pad", "{mat} square mat"),
            "unseen": ("{mat} coaster", "{mat} patch", "flat {mat} tile"),
        },
    }
    tracked_bodies = ("fan", MAT)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.fan = desk_fan(scene, "fan")
        pad(scene, MAT, half=MAT_HALF)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, [self.fan])

        def draw() -> tuple[np.ndarray, float, np.ndarray] | None:
            fan_xy = np.array([rng.uniform(-0.1, 0.1), rng.uniform(0.35, 0.45)])
            yaw = rng.uniform(-math.pi, math.pi)
            side = 1.0 if fan_xy[0] > 0 else -1.0
            mat_xy = np.array([side * rng.uniform(0.15, 0.25), rng.uniform(0.35, 0.45)])
            arm = arm_for(fan_xy[0])
            if (
                not self._over_mat(fan_xy, yaw, mat_xy)
                and reach(arm, fan_xy) < REACH
                and reach(arm, mat_xy) < REACH
            ):
                return fan_xy, yaw, mat_xy
            return None

        fan_xy, yaw, mat_xy = self.draw_layout(draw)
        set_on_table(sim, self.fan, (float(fan_xy[0]), float(fan_xy[1])), yaw)
        sim.set_body_pose(MAT, (mat_xy[0], mat_xy[1], MAT_HALF[2]))
        colour = pick_colour(rng, tuple(FAN_COLOURS))
        sim.set_rgba(self.fan.colour_geoms, FAN_COLOURS[colour])
        mat_colour = list(MAT_COLOURS)[int(rng.integers(len(MAT_COLOURS)))]
        sim.set_rgba([MAT], MAT_COLOURS[mat_colour])
        self.arm = arm_for(fan_xy[0])
        return {"A": f"{colour} fan", "B": f"{mat_colour} mat", "colour": colour, "mat": mat_colour, "a": self.arm}

    @staticmethod
    def _over_mat(fan_xy: np.ndarray, yaw: float, mat_xy: np.ndarray) -> bool:
        """Whether any point along the fan's base comes within its half-width plus 1 cm of the
        mat, so an episode never starts with the fan on or against the mat."""
        return footprint_near_rect(fan_xy, yaw, BASE_HALF[0], BASE_HALF[1], mat_xy, MAT_HALF, margin=0.01)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        body = self.fan.body
        offset = np.abs(sim.body_pos(body) - sim.body_pos(MAT))
        error = math.remainder(body_yaw_in_world(sim, body) - TARGET_YAW, 2 * math.pi)
        upright = quat_to_mat(sim.body_quat(body))[2, 2] > 0.9
        return all_of(
            fan_on_mat=bool(np.all(offset < XYZ_TOLERANCE)),
            facing_the_robot=bool(upright and abs(error) < YAW_TOLERANCE),
            released_at_rest=released_at_rest(sim, body),
        )

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        # Of the two finger yaws across the base, take the first whose grasp and whose placement
        # (face towards the robot, so the finger yaw turns with the fan) the IK can follow in
        # turn from the commanded joints; nearest-natural yaw first.
        # The plan starts 8 cm above the usual approach pose and the hand goes there first: a
        # straight or joint move to the usual approach could sweep the fingers through the head.
        yaws, chains = grasp_options(sim, self.arm, self.fan)
        chains = [[(chain[0][0] + (0, 0, 0.08), chain[0][1]), *chain] for chain in chains]
        turn = TARGET_YAW - body_yaw_in_world(sim, self.fan.body)
        order = sorted(range(len(yaws)),
                       key=lambda i: abs(math.remainder(yaws[i] + turn - NATURAL_YAW[self.arm], 2 * math.pi)))
        goal = sim.body_pos(MAT) + (0, 0, MAT_HALF[2] + 0.003)
        current = motion.action[7 * ARMS.index(self.arm): 7 * ARMS.index(self.arm) + 6].copy()
        chosen = [i for i in order if self._pair_feasible(motion, chains[i], yaws[i] + turn, goal, current)]
        plan = first_feasible(motion, self.arm, [chains[i] for i in chosen + order])
        option = (chosen + order)[plan.option]
        yield from go_to_plan_start(motion, self.arm, plan)
        yield from motion.move(self.arm, chains[option][0][0], chains[option][0][1], steps=30)
        yield from grasp_prop(sim, motion, self.arm, self.fan, yaw=yaws[option])
        # Aim the finger yaw so the fan, as it now sits in the hand, ends up facing the robot.
        finger = sim.tcp_mat(self.arm)[:, 1]
        finger_yaw = math.atan2(finger[1], finger[0])
        in_hand = body_yaw_in_world(sim, self.fan.body) - finger_yaw
        place_yaw = TARGET_YAW - in_hand
        yield from self._carry_turning(sim, motion, finger_yaw, place_yaw, goal)
        finger = sim.tcp_mat(self.arm)[:, 1]
        place_yaws = equivalent_yaws(place_yaw, 2 * math.pi, math.atan2(finger[1], finger[0]))
        yield from place_prop(sim, motion, self.arm, self.fan, goal, place_yaws)

    def _carry_turning(self, sim: Simulation, motion: Motion, start_yaw: float, end_yaw: float,
                       goal: np.ndarray) -> Iterator[np.ndarray]:
        """Carry the fan towards the mat while turning the fingers (:func:`carry_turning`)."""
        end = goal + (0, 0, self.fan.grasp_z + 0.07)
        yield from carry_turning(motion, self.arm, end, start_yaw, end_yaw, min_steps=12)

    def _pair_feasible(self, motion: Motion, grasp: Sequence[tuple[np.ndarray, np.ndarray]], place_yaw: float,
                       goal: np.ndarray, current: np.ndarray) -> bool:
        """Whether the IK follows the grasp chain and then the nominal placement chain (hover,
        release, retreat, as :func:`place_prop` builds it) from the commanded joints."""
        joints = plan_chain(motion, self.arm, grasp, current)
        if joints is None:
            return False
        quat = gripper_down_quat(place_yaw)
        tcp = goal - quat_to_mat(quat) @ np.array([self.fan.grasp_z, 0.0, 0.0])
        place = [(tcp + (0, 0, 0.07), quat), (tcp, quat), (tcp + (0, 0, 0.08), quat)]
        return plan_chain(motion, self.arm, place, joints[-1]) is not None

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        placed = bool(self.check_success(sim)["fan_on_mat"])
        return placement_state(sim, self.arm, self.fan, sim.body_pos(MAT) + (0, 0, MAT_HALF[2]), placed)
