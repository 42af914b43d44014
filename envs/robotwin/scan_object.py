"""scan_object: one arm holds up a tea box, the other aims a handheld scanner at it.

Description:
    A handheld barcode scanner lies on one side of the table and a small tea box stands on the
    other. Both arms pick up their object at the same time (the scanner with the arm on its
    side, the box with the other), lift them together, and the box's arm holds the box up near
    the middle of the table while the scanner's arm points the scanner's window at the box from
    a few centimetres away (RoboTwin 2.0 ``scan_object``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the box, then the scanner.
Success:
    The scanner's beam (the line out of the middle of its window, along its pointing axis)
    passes within 2.5 cm of the box's centre along each world axis, the box's centre lies
    ahead of the window by less than 7 cm, and each arm holds its object (both fingers of the
    box's arm touch the box and both fingers of the scanner's arm the scanner).
    Fidelity: upstream projects the box's origin (its centre) onto the scanner's axis through
    the window point and asks the offset to be below 0.025 m on each axis and the distance
    along the axis to be between 0 and 0.07 m: the same here. It then asks for both grippers
    closed; we ask instead that each gripper holds its object, so closed but empty fingers
    (with the scanner lying aimed on the table) do not count.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): with equal odds the scanner on the
    left and the box on the right or the other way round; scanner at |x| in [0.05, 0.25],
    y in [0.35, 0.45], its window turned away from the robot (+y) by up to 1.2 rad either way;
    box at |x| in [0.05, 0.25] on the other side, y in [0.3, 0.5], its long side along y turned
    by up to 1.2 rad (every such spot is within 0.46 m of its arm's base, in reach, so none is
    redrawn).
    Upstream picks one of five ``024_scanner`` and six ``112_tea-box`` meshes; ours are one
    rigid scanner (a 12 x 3.6 x 3.2 cm head with the window on its front and a 2.6 cm thick
    grip, 8 cm long, slanting back from under its rear, lying on its side; 115 g), in one of four colours,
    and :func:`~vlapro_bench.sim.objects.household.tea_box` (6 x 4 x 5.2 cm) in one of five
    colours, never the scanner's. The fingers close across the scanner's head just ahead of
    the grip.
Episode end:
    Success, or 500 control steps (20 s at 25 Hz; the expert needs at most 165 on seeds 0-49 and
    100000-100049). Upstream's evaluation limit is 500 policy actions.
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
from vlapro_bench.sim.geometry import gripper_down_quat, nearest_symmetric_yaw, quat_to_mat, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import COLOURS, HOME, GraspableProp, tea_box
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    body_yaw_in_world,
    first_feasible,
    grasp_options,
    pick_colour,
    plan_chain,
    round_inertia,
    set_on_table,
)
from vlapro_bench.sim.robot import ARMS
from vlapro_bench.sim.skills import arm_for, reach
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask

SCANNER, BOX = "scanner", "tea_box"
OTHER = {"left": "right", "right": "left"}
#: Scanner head half-size (along the beam, local x; across; height), m. The origin is under the
#: grasp point, 5.5 cm behind the window: the hands then stay 10 cm apart when the window is
#: 4.5 cm from the box's centre, clear of each other's gripper housings (3.5 cm either side).
HEAD_HALF = (0.06, 0.018, 0.016)
HEAD_X = -0.005
#: The window: the middle of the head's front face (local frame) and the beam direction.
WINDOW = np.array([HEAD_X + HEAD_HALF[0], 0.0, HEAD_HALF[2]])
SCANNER_COLOURS = {
    "black": (0.1, 0.1, 0.11, 1), "grey": (0.45, 0.46, 0.48, 1), "yellow": (0.9, 0.75, 0.12, 1),
    "blue": (0.18, 0.3, 0.7, 1),
}
BOX_COLOURS = ("green", "red", "blue", "yellow", "orange")
#: Held-out colour words for unseen descriptions.
HUES = {"black": "ebony", "grey": "slate", "yellow": "golden", "blue": "cobalt", "green": "emerald",
        "red": "scarlet", "orange": "amber"}
#: Tea box half-size (m), as the household builder's default carton.
BOX_HALF = (0.03, 0.02, 0.026)
#: Upstream's thresholds: the box centre's offset from the beam per axis, and how far ahead of
#: the window it may be.
BEAM_TOLERANCE, MAX_AHEAD = 0.025, 0.07
#: Upstream's spawn ranges in our frame and turns (rad) about the starting headings.
SIDE_X, SCANNER_Y, BOX_Y, TURN = (0.05, 0.25), (0.35, 0.45), (0.3, 0.5), 1.2
#: Where the box's arm holds the box's centre: upstream's (+-0.03, -0.02, 0.95) in our frame,
#: 0.209 m above the table top (upstream's table top is at 0.741).
HOLD_X, HOLD_Y, HOLD_Z = 0.03, 0.48, 0.209
#: The expert's window-to-box-centre distance (upstream aims 5 cm back from the box's point).
AIM_DISTANCE = 0.045
#: Upstream's lift after the grasp: 13 cm up and 5 cm outward.
LIFT, OUTWARD = 0.13, 0.05
#: Largest horizontal distance from an arm's base to its object.
REACH = 0.47


def handheld_scanner(scene: SceneBuilder, name: str) -> GraspableProp:
    """A barcode scanner lying on its side, beam along local +x, origin under the grasp point:
    the head (window on its front face, a dark trim around it) and the grip, which leaves the
    head's rear at a slant towards local -y. Everything rests on the table."""
    body = scene.body(name, pos=HOME, free=True)
    colour = SCANNER_COLOURS["black"]
    hx, hy, hz = HEAD_HALF
    scene.box(body, f"{name}_head", HEAD_HALF, colour, pos=(HEAD_X, 0, hz), mass=0.08)
    scene.box(body, f"{name}_window", (0.0006, hy - 0.004, hz - 0.005), (0.55, 0.1, 0.1, 1),
              pos=(HEAD_X + hx + 0.0003, 0, hz), collide=False)
    grip_angle = -math.radians(110)  # the grip leaves the head's rear towards -y, slanting back
    grip_half = (0.04, 0.013, 0.013)
    rear = np.array([HEAD_X - hx + 0.014, -hy])
    centre = rear + grip_half[0] * np.array([math.cos(grip_angle), math.sin(grip_angle)])
    scene.box(body, f"{name}_grip", grip_half, colour, pos=(centre[0], centre[1], grip_half[2]),
              quat=tuple(yaw_quat(grip_angle)), mass=0.035)
    scene.box(body, f"{name}_trigger", (0.006, 0.004, 0.008), (0.35, 0.35, 0.37, 1),
              pos=(rear[0] + 0.018, rear[1] - 0.006, 0.013), collide=False)
    return GraspableProp(name, "scanner", "scanner", "gun", (f"{name}_head", f"{name}_grip"),
                         grasp_z=2 * hz - 0.014, height=2 * hz, radius=0.09, colours=tuple(SCANNER_COLOURS))


#: Instruction set 1's descriptions: ``{A}`` the box, ``{B}`` the scanner; unseen ones share no
#: word with seen ones.
DESCRIPTIONS = {
    "A": {
        "seen": ("{box} tea box", "tea box", "box of tea", "{box} box", "small {box} tea box"),
        "unseen": ("{box_hue} carton of infusions", "{box_hue} teabag carton", "carton of infusions"),
    },
    "B": {
        "seen": ("{scanner} scanner", "scanner", "barcode scanner", "handheld scanner", "{scanner} barcode scanner"),
        "unseen": ("{scanner_hue} code reader", "pistol-grip code reader", "{scanner_hue} label reader"),
    },
}


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from grasp phrases and scan phrases.

    ``{A}`` is the box and ``{B}`` the scanner (set 0: their colours and names; later sets draw
    them from :data:`DESCRIPTIONS`); ``{a}`` is the box's arm and ``{b}`` the scanner's.
    """
    take = ("Pick up the {B} with the {b} arm and the {A} with the {a} arm",
            "Grab the {B} and the {A}", "Hold the {A} in one hand and the {B} in the other",
            "Lift the {A} with the {a} gripper and the {B} with the {b} gripper",
            "Take the {B} in the {b} hand and the {A} in the {a} hand")
    scan = ("then scan the {A}", "then point the {B} at the {A}", "and scan the {A} with the {B}",
            "then aim the {B} at the {A}", "and hold the {B} up to the {A}", "and read the {A} with the {B}")
    seen = [f"{t}, {s}." for t, s in product(take, scan)]
    seen += [
        "Scan the {A} with the {B}.",
        "Use the {B} to scan the {A}.",
        "Scan the {A} using the {B} in the {b} hand.",
        "Hold up the {A} and scan it with the {B}.",
        "Point the {B} at the {A} while holding both.",
        "The {b} arm scans the {A} held by the {a} arm.",
        "Pick up both the {A} and the {B} and scan the {A}.",
        "With the {b} arm holding the {B}, scan the {A} in the {a} hand.",
        "Scan the barcode on the {A} with the {B}.",
        "Lift the {A} and the {B} together, then scan the {A}.",
        "Grasp the {B} and aim it at the {A} the other arm is holding.",
        "Bring the {B} close to the {A} and scan it.",
        "Use both arms: one holds the {A}, the other scans it with the {B}.",
        "Hold the {A} up with the {a} arm and scan it with the {B}.",
        "Have the {b} arm point the {B} at the {A}.",
        "Scan the {A}: the {a} arm holds it, the {b} arm holds the {B}.",
        "Get the {A} and the {B} off the table and scan the {A}.",
        "Pick up the {B} and scan the {A} with it.",
        "Grab the {A}, grab the {B}, and scan the {A}.",
        "Hold the {B} in front of the {A} to scan it.",
        "Lift the {A} with one arm and scan it with the {B} in the other.",
        "Keep hold of the {A} and bring the {B} up to it.",
    ]
    unseen = (
        "Clutch the {A} aloft while the {B} reads it.",
        "Raise the {A} in your {a} fist and let the {B} in your {b} fist read its label.",
        "Brandish the {B} toward the {A} you are hoisting.",
        "Present the {A} to the {B} and capture its code.",
        "Heft both items, then beam the {B} onto the {A}.",
        "Have your {b} hand wield the {B} against the elevated {A}.",
        "Snatch up the {A} and the {B}; register the code printed on the former.",
        "Elevate the {A} and let the {B} glance over it.",
        "Wield the {B} so its eye catches the {A}.",
        "Ring up the {A} by sweeping the {B} across it.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


@register_task
class ScanObject(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="scan_object",
        max_episode_steps=500,
        procedure=ProceduralAnnotation("dual_lift", "cuboid", "downward", "object_face"),
        description="Hold the tea box up with one arm and aim the scanner at it with the other.",
    )
    instructions = _templates()
    descriptions = DESCRIPTIONS
    tracked_bodies = (BOX, SCANNER)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.scanner = handheld_scanner(scene, SCANNER)
        self.box = tea_box(scene, BOX, half=BOX_HALF)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, [self.scanner, self.box])

        def draw() -> tuple[np.ndarray, float, np.ndarray, float] | None:
            side = 1.0 if rng.uniform() < 0.5 else -1.0
            scanner_xy = np.array([side * rng.uniform(*SIDE_X), rng.uniform(*SCANNER_Y)])
            scanner_yaw = math.pi / 2 + rng.uniform(-TURN, TURN)
            box_xy = np.array([-side * rng.uniform(*SIDE_X), rng.uniform(*BOX_Y)])
            box_yaw = math.pi / 2 + rng.uniform(-TURN, TURN)
            if reach(arm_for(scanner_xy[0]), scanner_xy) < REACH and reach(arm_for(box_xy[0]), box_xy) < REACH:
                return scanner_xy, scanner_yaw, box_xy, box_yaw
            return None

        scanner_xy, scanner_yaw, box_xy, box_yaw = self.draw_layout(draw)
        set_on_table(sim, self.scanner, (float(scanner_xy[0]), float(scanner_xy[1])), scanner_yaw)
        set_on_table(sim, self.box, (float(box_xy[0]), float(box_xy[1])), box_yaw)
        scanner_colour = pick_colour(rng, tuple(SCANNER_COLOURS))
        sim.set_rgba(self.scanner.colour_geoms, SCANNER_COLOURS[scanner_colour])
        box_colour = pick_colour(rng, BOX_COLOURS, exclude=(scanner_colour,))
        sim.set_rgba(self.box.colour_geoms, COLOURS[box_colour])
        self.scanner_arm = arm_for(scanner_xy[0])
        self.arm = OTHER[self.scanner_arm]  # the box's arm
        return {"A": f"{box_colour} tea box", "B": f"{scanner_colour} scanner", "a": self.arm,
                "b": self.scanner_arm, "box": box_colour, "box_hue": HUES[box_colour],
                "scanner": scanner_colour, "scanner_hue": HUES[scanner_colour]}

    # -- geometry ---------------------------------------------------------------------------
    def _box_centre(self, sim: Simulation) -> np.ndarray:
        return sim.body_pos(BOX) + sim.body_mat(BOX)[:, 2] * BOX_HALF[2]

    def _window(self, sim: Simulation) -> tuple[np.ndarray, np.ndarray]:
        """The window's middle and the beam's direction, in the world."""
        rot = sim.body_mat(SCANNER)
        return sim.body_pos(SCANNER) + rot @ WINDOW, rot[:, 0]

    def _hold_point(self) -> np.ndarray:
        return np.array([math.copysign(HOLD_X, 1.0 if self.arm == "right" else -1.0), HOLD_Y, HOLD_Z])

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        window, beam = self._window(sim)
        to_box = self._box_centre(sim) - window
        ahead = float(to_box @ beam)
        off_beam = to_box - ahead * beam
        return all_of(
            beam_on_box=bool(np.all(np.abs(off_beam) < BEAM_TOLERANCE)),
            box_just_ahead=0.0 < ahead < MAX_AHEAD,
            box_held=sim.is_grasped(self.arm, BOX),
            scanner_held=sim.is_grasped(self.scanner_arm, SCANNER),
        )

    # -- expert -----------------------------------------------------------------------------
    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        props = {self.scanner_arm: self.scanner, self.arm: self.box}
        # Each arm's first top-down grasp (nearest its natural yaw) the IK follows; both at once.
        quats, points = {}, {}
        for arm, prop in props.items():
            yaws, chains = grasp_options(sim, arm, prop, lift=0.0)
            chain = chains[first_feasible(motion, arm, chains).option]
            points[arm], quats[arm] = chain[1][0], chain[1][1]
        open_, closed = motion.robot.gripper_open, motion.robot.gripper_closed

        def both(offsets: dict[str, np.ndarray], steps: int, grippers: dict[str, float] | None = None):
            targets = {arm: (points[arm] + offsets[arm], quats[arm]) for arm in props}
            yield from motion.move_both(targets, steps, grippers)

        up = {arm: np.array([0.0, 0.0, 0.10]) for arm in props}
        yield from both(up, 30, {arm: open_ for arm in props})
        for dz in (0.05, 0.0):
            yield from both({arm: np.array([0.0, 0.0, dz]) for arm in props}, 10)
        yield from motion.grippers({arm: closed for arm in props}, steps=10)
        yield from motion.wait(4)
        # Lift together: 13 cm up and 5 cm outward, as upstream.
        for k in (1, 2, 3):
            lift = {arm: np.array([OUTWARD * (1 if arm == "right" else -1), 0.0, LIFT]) * k / 3 for arm in props}
            yield from both(lift, 10)
        yield from self._present(sim, motion)
        yield from self._aim(sim, motion)
        yield from motion.wait(12)

    def _present(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        """The box's arm brings the box's centre to the hold point, its fingers turned along y
        (so its gripper housing, 15 cm long along them, does not reach towards the scanner's
        hand); meanwhile the scanner's arm turns the scanner to point across the table at the
        box, and holds it back 5 cm from its aiming pose."""
        box_tcp, _ = motion.tcp_target_pose(self.arm)
        finger = sim.tcp_mat(self.arm)[:, 1]
        box_finger_yaw = math.atan2(finger[1], finger[0])
        box_quat = self._turned_quat(motion, self.arm, box_finger_yaw, nearest_symmetric_yaw(
            math.pi / 2, box_finger_yaw, math.pi))
        # The box's centre turns with the hand about the TCP's vertical.
        turn = quat_to_mat(box_quat) @ sim.tcp_mat(self.arm).T
        centre_in_world = turn @ (self._box_centre(sim) - sim.tcp_pos(self.arm))
        box_goal = self._hold_point() - centre_in_world
        window, _ = self._window(sim)
        finger = sim.tcp_mat(self.scanner_arm)[:, 1]
        finger_yaw = math.atan2(finger[1], finger[0])
        in_hand = body_yaw_in_world(sim, SCANNER) - finger_yaw
        beam_yaw = 0.0 if self.scanner_arm == "left" else math.pi
        quat = self._turned_quat(motion, self.scanner_arm, finger_yaw, beam_yaw - in_hand)
        # Where the TCP goes so the window ends up AIM_DISTANCE + 5 cm before the hold point.
        tcp, _ = motion.tcp_target_pose(self.scanner_arm)
        rot_now, rot_goal = sim.tcp_mat(self.scanner_arm), quat_to_mat(quat)
        window_in_tcp = rot_now.T @ (window - sim.tcp_pos(self.scanner_arm))
        direction = np.array([math.cos(beam_yaw), math.sin(beam_yaw), 0.0])
        window_goal = self._hold_point() - (AIM_DISTANCE + 0.05) * direction
        scanner_goal = window_goal - rot_goal @ window_in_tcp
        via = {self.arm: ((box_tcp + box_goal) / 2 + (0, 0, 0.02), box_quat),
               self.scanner_arm: ((tcp + scanner_goal) / 2 + (0, 0, 0.03), quat)}
        yield from motion.move_both(via, 25)
        yield from motion.move_both({self.arm: (box_goal, box_quat), self.scanner_arm: (scanner_goal, quat)}, 25)

    @staticmethod
    def _turned_quat(motion: Motion, arm: str, start_yaw: float, goal_yaw: float) -> np.ndarray:
        """The top-down hand pose with finger yaw ``goal_yaw``, reached by the shorter turn from
        ``start_yaw`` if the IK follows it from the commanded joints, else the other way round."""
        turn = math.remainder(goal_yaw - start_yaw, 2 * math.pi)
        i = ARMS.index(arm)
        current = motion.action[7 * i: 7 * i + 6].copy()
        tcp, _ = motion.tcp_target_pose(arm)
        for total in (turn, turn - math.copysign(2 * math.pi, turn)):
            quat = gripper_down_quat(start_yaw + total)
            if plan_chain(motion, arm, [(tcp, quat)], current) is not None:
                return quat
        return gripper_down_quat(goal_yaw)

    def _aim(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        """Close the last 5 cm along the beam, correcting for where the window and the box really are."""
        yield from motion.wait(6)
        window, beam = self._window(sim)
        target = self._box_centre(sim) - AIM_DISTANCE * beam
        tcp, quat = motion.tcp_target_pose(self.scanner_arm)
        yield from motion.line(self.scanner_arm, tcp + (target - window), quat, steps=20, segments=2)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        held = sim.is_grasped(self.arm, BOX) and sim.is_grasped(self.scanner_arm, SCANNER)
        if not held:
            return self.state_from_spec(sim, sim.body_pos(SCANNER) + (0, 0, self.scanner.grasp_z), "grasp",
                                        action_type="grasp", arm=self.scanner_arm)
        if sim.body_pos(BOX)[2] < HOLD_Z - 0.08:
            return self.state_from_spec(sim, self._hold_point(), "lift", arm=self.arm)
        _, beam = self._window(sim)
        return self.state_from_spec(sim, self._box_centre(sim) - AIM_DISTANCE * beam, "aim",
                                    action_type="aim", arm=self.scanner_arm)
