"""rotate_qrcode: turn a standing QR-code payment sign round so that its code faces the robot.

Description:
    A payment sign (an upright board with a printed QR code on its front, set in a flat foot)
    stands on one side of the table with its code turned away from the robot. The arm on the
    sign's side picks it up by the top edge of its board, lifts it, turns it round while
    carrying it a little towards the robot and sets it down upright with the code facing the
    robot (RoboTwin 2.0 ``rotate_qrcode``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the sign.
Success:
    The sign's orientation is within upstream's tolerance of upright with its code facing the
    robot (-y), its base is less than 9 mm above the table, both grippers are open (gripper
    value above 0.8, 1 being fully open), and no part of the robot touches it while it is at
    rest.
    Fidelity: upstream converts the sign's quaternion to the same sign (w >= 0) and asks each
    component to be within 0.05 of (0.707, 0.707, 0, 0), its upright pose facing the robot; we
    compute the quaternion upstream's model frame would have (its y axis up, its z axis out of
    the code) and apply the same test. For a turn about the vertical by d that is
    0.707 |sin(d/2)| < 0.05, i.e. |d| < 0.1414 rad (8.1 degrees); a lean is bounded alike.
    Upstream also asks for the origin below z = 0.75, 9 mm above the height the sign stands at
    (0.741), and for both grippers open (value above 0.8): the same here. Our addition: the
    robot has let go (nothing of it touches the sign) and the sign is at rest, so a sign still
    rocking on its foot or pinned between open fingers is not counted.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): sign at x in [-0.25, 0.25] with
    |x| >= 0.05, y in [0.3, 0.5], its code facing away from the robot (+y) turned by up to
    0.7 rad either way (every such spot is within 0.46 m of the acting arm's base, in reach, so
    none is redrawn). Upstream picks one of four ``070_paymentsign`` meshes (rigid); ours is one
    rigid model: a 9 x 6 cm foot, 1.2 cm thick, holding a 9 cm wide, 11 cm tall board, 1.2 cm
    thick, with a white QR panel on its front and a low brace behind; 100 g; its colour from
    five. The fingers close across the board's thickness at its top edge.
Episode end:
    Success, or 400 control steps (16 s at 25 Hz; the expert needs at most 187 on seeds 0-49 and
    100000-100049). Upstream's evaluation limit is 400 policy actions.
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
from vlapro_bench.sim.geometry import gripper_down_quat, mat_to_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import HOME, GraspableProp
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    body_yaw_in_world,
    carry_turning,
    equivalent_yaws,
    first_feasible,
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

SIGN = "qr_sign"
#: Foot half-size (depth along the code's normal, local x; width; thickness) and board
#: half-size (thickness, width, height), m.
FOOT_HALF = (0.03, 0.045, 0.006)
BOARD_HALF = (0.006, 0.045, 0.055)
#: Height of the board's top edge above the sign's origin (the middle of the foot's underside).
BOARD_TOP = 2 * FOOT_HALF[2] + 2 * BOARD_HALF[2]
SIGN_COLOURS = {
    "beige": (0.85, 0.78, 0.62, 1), "blue": (0.18, 0.36, 0.78, 1), "white": (0.93, 0.93, 0.91, 1),
    "black": (0.13, 0.13, 0.14, 1), "red": (0.78, 0.16, 0.14, 1),
}
#: Held-out colour words for unseen descriptions.
HUES = {"beige": "sand", "blue": "azure", "white": "ivory", "black": "ebony", "red": "scarlet"}
#: Upstream's target quaternion (its model upright, code towards the robot) and per-component
#: tolerance; its height rule (origin below 0.75, the sign stands at 0.741).
TARGET_QUAT = np.array([0.707, 0.707, 0.0, 0.0])
QUAT_TOLERANCE = 0.05
HEIGHT_TOLERANCE = 0.75 - 0.741
#: Our sign's axes in upstream's model frame: its x (model axis) is our y, its y (up) our z,
#: its z (out of the code) our x. Columns: upstream's model axes in our body frame.
MODEL_AXES = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
#: Upstream's "gripper open": its gripper value (1 = open) above 0.8.
OPEN = 0.8
#: Heading of the code's normal at the start (away from the robot) and at the goal (towards it).
AWAY_YAW, TARGET_YAW = math.pi / 2, -math.pi / 2
#: Upstream's turn of the starting heading either way (rad) and its spawn ranges in our frame.
YAW_LIMIT, SIGN_X, SIGN_Y = 0.7, (0.05, 0.25), (0.3, 0.5)
#: Upstream's put-down point in our frame: x = +-0.2 on the sign's side, y = 0.35.
PUT_X, PUT_Y = 0.2, 0.35
#: Largest horizontal distance from the arm's base to the sign.
REACH = 0.47
#: The expert's lift after the grasp (upstream lifts the sign 7 cm).
LIFT = 0.07


def payment_sign(scene: SceneBuilder, name: str) -> GraspableProp:
    """A QR-code payment sign with its code facing local +x and its origin under the middle of
    its foot: the foot, an upright board on the foot's middle, a low brace behind the board, and
    on the board's front a white panel with a QR-like pattern (visual only)."""
    body = scene.body(name, pos=HOME, free=True)
    colour = SIGN_COLOURS["beige"]
    fz, bz = FOOT_HALF[2], BOARD_HALF[2]
    scene.box(body, f"{name}_foot", FOOT_HALF, colour, pos=(0, 0, fz), mass=0.05)
    scene.box(body, f"{name}_board", BOARD_HALF, colour, pos=(0, 0, 2 * fz + bz), mass=0.04)
    scene.box(body, f"{name}_brace", (0.008, 0.03, 0.012), colour, pos=(-0.014, 0, 2 * fz + 0.012), mass=0.01)
    front = BOARD_HALF[0] + 0.0004
    centre_z = 2 * fz + bz + 0.006
    scene.box(body, f"{name}_panel", (0.0004, 0.034, 0.034), (0.97, 0.97, 0.97, 1), pos=(front, 0, centre_z),
              collide=False)
    dark = (0.05, 0.05, 0.06, 1)
    cell = 0.0085
    # Three finder squares in the corners, as on a real QR code, and a few data modules.
    for k, (u, v) in enumerate(((-1, 1), (1, 1), (-1, -1))):
        scene.box(body, f"{name}_finder{k}", (0.0006, 0.0085, 0.0085), dark,
                  pos=(front + 0.0002, u * 0.021, centre_z + v * 0.021), collide=False)
        scene.box(body, f"{name}_finder{k}_ring", (0.0008, 0.0045, 0.0045), (0.97, 0.97, 0.97, 1),
                  pos=(front + 0.0003, u * 0.021, centre_z + v * 0.021), collide=False)
    for k, (u, v) in enumerate(((0, 0), (1, 0), (0, -1), (2, -2), (-1, -2), (2, 1), (1, -2))):
        scene.box(body, f"{name}_module{k}", (0.0006, cell / 2, cell / 2), dark,
                  pos=(front + 0.0002, u * cell, centre_z + v * cell), collide=False)
    return GraspableProp(name, "payment_sign", "payment sign", "thin_slab",
                         (f"{name}_foot", f"{name}_board", f"{name}_brace"), grasp_z=BOARD_TOP - 0.016,
                         height=BOARD_TOP, radius=math.hypot(FOOT_HALF[0], FOOT_HALF[1]), grasp_yaw_offset=0.0,
                         colours=tuple(SIGN_COLOURS))


#: Instruction set 1's descriptions of the sign (``{A}``); unseen ones share no word with seen ones.
DESCRIPTIONS = {
    "A": {
        "seen": ("{colour} payment sign", "QR code sign", "payment sign", "{colour} QR code stand",
                 "sign with the QR code", "{colour} sign"),
        "unseen": ("{hue} checkout placard", "scan-to-pay plaque", "{hue} tabletop pay tag"),
    },
}


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and "towards the robot" phrases.

    ``{A}`` is the sign (set 0: its colour and name; later sets draw it from
    :data:`DESCRIPTIONS`), ``{a}`` the arm.
    """
    turn = ("Turn", "Rotate", "Spin", "Swivel", "Twist", "Flip round")
    facing = ("so its QR code faces the robot", "to face the robot", "until the code points at the robot",
              "so the code is towards the robot", "around to face the robot")
    pick = ("Pick up", "Lift", "Grab", "Grasp")
    then = ("and turn it to face the robot", "and set it down facing the robot",
            "and put it back with the code towards the robot", "and rotate it so the robot can see the code")
    seen = [f"{v} the {{A}} {t}." for v, t in product(turn, facing)]
    seen += [f"{v} the {{A}} {t}." for v, t in product(pick, then)]
    seen += [f"Use the {{a}} arm to {v.lower()} the {{A}} {t}." for v, t in zip(turn, facing + facing, strict=False)]
    seen += [
        "With the {a} arm, pick up the {A} and turn it to face the robot.",
        "Make the {A} face the robot.",
        "The {A} is facing away; turn it towards the robot.",
        "Turn the {A} around and stand it back on the table.",
        "Rotate the {A} half a turn so the robot sees its code.",
        "Show the QR code of the {A} to the robot by turning it.",
        "Grab the {A} with the {a} hand and turn it round.",
        "Lift the {A}, rotate it and put it down facing the robot.",
        "Reorient the {A} so that its code faces the robot.",
        "Point the QR code of the {A} at the robot.",
    ]
    unseen = (
        "Swing the {A} about until its pattern greets you.",
        "Let your {a} claw reverse the {A} so the pattern looks your way.",
        "Hoist the {A}, about-face it, and park it upright again.",
        "Give the {A} a half spin so the square pattern is toward you.",
        "Revolve the {A} till its printed matrix meets your gaze.",
        "Wheel the {A} about; its pattern should greet the viewer.",
        "About-face the {A} using your {a} gripper.",
        "Reverse the {A} so the pattern is readable from your seat.",
        "Pivot the {A} round, then leave it standing, pattern toward you.",
        "Have the {A} looking at you by pivoting it.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


@register_task
class RotateQrcode(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="rotate_qrcode",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("reorient", "thin_slab", "downward", "top_edge"),
        description="Turn the QR-code payment sign round so that its code faces the robot.",
    )
    instructions = _templates()
    descriptions = DESCRIPTIONS
    tracked_bodies = (SIGN,)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.sign = payment_sign(scene, SIGN)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, [self.sign])

        def draw() -> tuple[np.ndarray, float] | None:
            side = 1.0 if rng.uniform() < 0.5 else -1.0
            xy = np.array([side * rng.uniform(*SIGN_X), rng.uniform(*SIGN_Y)])
            yaw = AWAY_YAW + rng.uniform(-YAW_LIMIT, YAW_LIMIT)
            return (xy, yaw) if reach(arm_for(xy[0]), xy) < REACH else None

        xy, yaw = self.draw_layout(draw)
        set_on_table(sim, self.sign, (float(xy[0]), float(xy[1])), yaw)
        colour = pick_colour(rng, tuple(SIGN_COLOURS))
        sim.set_rgba(self.sign.colour_geoms, SIGN_COLOURS[colour])
        self.arm = arm_for(xy[0])
        self.goal = np.array([math.copysign(PUT_X, xy[0]), PUT_Y, 0.0])
        return {"A": f"{colour} payment sign", "a": self.arm, "colour": colour, "hue": HUES[colour]}

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        body = self.sign.body
        quat = mat_to_quat(sim.body_mat(body) @ MODEL_AXES)
        quat = -quat if quat[0] < 0 else quat
        return all_of(
            facing_the_robot=bool(np.all(np.abs(quat - TARGET_QUAT) < QUAT_TOLERANCE)),
            on_table=bool(sim.body_pos(body)[2] < HEIGHT_TOLERANCE),
            grippers_open=all(sim.gripper_opening(arm) > OPEN for arm in ARMS),
            released_at_rest=released_at_rest(sim, body),
        )

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        # Of the two finger yaws across the board, take the first whose grasp and turned
        # placement the IK can follow in turn from the commanded joints; nearest-natural first.
        yaws, chains = grasp_options(sim, self.arm, self.sign, LIFT)
        turn = TARGET_YAW - body_yaw_in_world(sim, self.sign.body)
        order = sorted(range(len(yaws)),
                       key=lambda i: abs(math.remainder(yaws[i] + turn - NATURAL_YAW[self.arm], 2 * math.pi)))
        current = motion.action[7 * ARMS.index(self.arm): 7 * ARMS.index(self.arm) + 6].copy()
        chosen = [i for i in order if self._pair_feasible(motion, chains[i], yaws[i] + turn, current)]
        plan = first_feasible(motion, self.arm, [chains[i] for i in chosen + order])
        option = (chosen + order)[plan.option]
        yield from go_to_plan_start(motion, self.arm, plan)
        yield from grasp_prop(sim, motion, self.arm, self.sign, lift=LIFT, yaw=yaws[option])
        # Aim the finger yaw so the sign, as it now sits in the hand, ends up facing the robot.
        finger = sim.tcp_mat(self.arm)[:, 1]
        finger_yaw = math.atan2(finger[1], finger[0])
        place_yaw = TARGET_YAW - (body_yaw_in_world(sim, self.sign.body) - finger_yaw)
        yield from self._carry_turning(motion, finger_yaw, place_yaw)
        finger = sim.tcp_mat(self.arm)[:, 1]
        place_yaws = equivalent_yaws(place_yaw, 2 * math.pi, math.atan2(finger[1], finger[0]))
        yield from place_prop(sim, motion, self.arm, self.sign, self.goal + (0, 0, 0.003), place_yaws, hover=0.05)

    def _carry_turning(self, motion: Motion, start_yaw: float, end_yaw: float) -> Iterator[np.ndarray]:
        """Carry the sign towards its put-down point while turning the fingers (:func:`carry_turning`)."""
        end = self.goal + (0, 0, self.sign.grasp_z + LIFT)
        yield from carry_turning(motion, self.arm, end, start_yaw, end_yaw, min_steps=10)

    def _pair_feasible(self, motion: Motion, grasp: Sequence[tuple[np.ndarray, np.ndarray]], place_yaw: float,
                       current: np.ndarray) -> bool:
        """Whether the IK follows the grasp chain and then the nominal put-down pose from the
        commanded joints."""
        joints = plan_chain(motion, self.arm, grasp, current)
        if joints is None:
            return False
        tcp = self.goal + (0, 0, self.sign.grasp_z)
        quat = gripper_down_quat(place_yaw)
        return plan_chain(motion, self.arm, [(tcp + (0, 0, 0.05), quat), (tcp, quat)], joints[-1]) is not None

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        placed = bool(self.check_success(sim)["facing_the_robot"])
        return placement_state(sim, self.arm, self.sign, self.goal, placed)
