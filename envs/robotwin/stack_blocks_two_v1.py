"""stack_blocks_two-v1: move the red block to the table's centre, then stack the green block on it.

Description:
    A red and a green 5 cm cube lie on the table, each on one side of the robot. The arm on the
    red cube's side carries it to the middle of the table (x = 0, y = 0.37, upstream's
    (0, -0.13)) and sets it down; then the arm on the green cube's side picks the green cube up and stacks
    it on the red one, while the first arm, if it is the other one, goes back to its ready pose
    (RoboTwin 2.0 ``stack_blocks_two``, as upstream's expert does it).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the red cube, then the green one.
Success:
    The green cube's centre is within 2.5 cm of the red cube's in x and in y, its height is
    within 1.2 cm of one cube size (5 cm) above the red cube's, both grippers are open (their
    commanded value above 0.8), neither gripper touches either cube, and the green cube is at
    rest. Where the red cube stands does not matter.
    Fidelity: upstream checks the same per-axis box (2.5, 2.5, 1.2 cm) around the red cube's
    centre plus 5 cm, and that both grippers are open (their drive targets above 0.8, as we
    read it); we also ask that no finger touches a cube and the green cube is at rest, so a
    cube still sliding off, or one held by a gripper commanded open, does not count.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): each cube at x in [-0.28, 0.28],
    y in [0.42, 0.55] (y <= 0.5 where |x| < 0.15), yaw within 0.75 rad of the table's axes,
    with |x| >= 0.05, at least 15 cm from (0, 0.4) (so clear of the centre spot) and the cubes
    at least 10 cm apart. Each cube is redrawn on its own until it fits, as upstream does.
    Upstream's cubes are 5 cm boxes of pure red and pure green; ours are the same size, in the
    red and green v0 uses.
Episode end:
    Success, or 800 control steps (32 s at 25 Hz). Upstream's evaluation limit is 800 policy
    actions.
Version history:
    v0: first version.
    v1: upstream's procedure (split v2): 5 cm cubes (v0: 4 cm) in upstream's ranges; the red
    cube goes to the table's centre first, each cube moved by the arm on its side (v0: one arm
    stacks green on red where red lies); upstream's per-axis success box; 800 steps (v0: 400).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.geometry import gripper_down_quat, quat_yaw, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.primitives import block
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import arm_for, grasp_yaw, place_at
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask
from .stack_blocks_two import GREEN, RED

HALF = 0.025
#: Where the red cube goes first: upstream's (0, -0.13), our frame.
CENTRE = np.array([0.0, 0.37])
#: Upstream's success box: per-axis tolerance of the green cube's centre around the red cube's
#: centre plus one cube size.
TOLERANCE = np.array([0.025, 0.025, 0.012])
#: TCP height above a cube's centre when it is held (the fingertips stay clear of the table).
GRIP_ABOVE = 0.01
#: Lift after a grasp and above a release point (upstream's 7 cm).
LIFT = 0.07
BLOCKS = ("block_red", "block_green")
#: Upstream's "gripper open": the commanded gripper value above 0.8.
OPEN = 0.8


def _instruction_set_1() -> dict[str, tuple[str, ...]]:
    """Instruction set 1 (RoboTwin 2.0's scale): first-step phrases x second-step phrases, then
    hand-written ones. ``{R}`` is the red block, ``{G}`` the green one, ``{a}`` the arm that
    moves the red block and ``{b}`` the arm that stacks the green one (the same arm when both
    blocks lie on one side).

    Unseen templates use verbs and phrasing that no seen template uses.
    """
    firsts = (
        "Move the {R} to the centre of the table",
        "Put the {R} in the middle of the table with the {a} arm",
        "Use the {a} arm to carry the {R} to the centre",
        "Place the {R} at the table's centre",
        "Take the {R} to the middle with the {a} gripper",
    )
    seconds = (
        ", then stack the {G} on it.",
        ", then put the {G} on top of it with the {b} arm.",
        " and then use the {b} arm to set the {G} on it.",
        ", then place the {G} onto it.",
    )
    seen = [f"{f}{s}" for f, s in product(firsts, seconds)]
    stacks = ("Stack the {G} on the {R}", "Put the {G} on top of the {R}", "Set the {G} onto the {R}",
              "Place the {G} on the {R}")
    afters = (" after moving the {R} to the centre.", " once the {a} arm has brought the {R} to the middle.",
              " at the centre of the table.", " in the middle of the table, using the {b} arm for the {G}.",
              " with the {b} gripper once the {R} sits in the middle.")
    seen += [f"{s}{a}" for s, a in product(stacks, afters)]
    seen += [
        "The {a} arm brings the {R} to the centre and the {b} arm stacks the {G} on it.",
        "First centre the {R} on the table, then stack the {G} on it.",
        "Pick up the {R}, set it in the middle, then pick up the {G} and put it on the {R}.",
        "Build a stack of two in the middle of the table: the {R} below, the {G} on top.",
        "With the {a} arm move the {R} to the centre; with the {b} arm stack the {G} on it.",
        "Grab the {R} with the {a} gripper and put it at the centre, then grab the {G} with the {b} gripper "
        "and place it on the {R}.",
        "Carry the {R} to the middle of the table and stack the {G} on top of it.",
        "Move the {R} to the centre first; the {G} goes on top of it.",
        "Centre the {R}, then put the {G} on top of it with the {b} gripper.",
        "Lift the {R} to the middle of the table, then lift the {G} onto it.",
        "Let the {a} arm put the {R} in the centre, then let the {b} arm stack the {G} on it.",
        "Get the {R} to the centre of the table and the {G} on top of the {R}.",
    ]
    unseen = (
        "Shuttle the {R} to the midpoint, then perch the {G} atop it.",
        "Your {a} hand relocates the {R} to mid-table; your {b} hand crowns it with the {G}.",
        "Erect a two-tier tower at the table's midpoint, {R} underneath and {G} above.",
        "Bring the {R} over to the middle and rest the {G} upon it.",
        "Drop off the {R} at mid-table, then seat the {G} on it.",
        "Have your {a} hand ferry the {R} centrewards, then your {b} hand piles the {G} on it.",
        "Relocate the {R} to the heart of the table and mount the {G} on it.",
        "Transfer the {R} to mid-table and balance the {G} upon it.",
        "Deposit the {R} at the midpoint and top it off with the {G}.",
        "Gather both blocks in the middle, the {G} resting upon the {R}.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


def _draw_block(rng: np.random.Generator, placed: list[np.ndarray]) -> np.ndarray:
    """One cube's position by upstream's rejection rules (our frame): x in [-0.28, 0.28],
    y in [0.42, 0.55] (y <= 0.5 where |x| < 0.15), |x| >= 0.05, at least 15 cm from (0, 0.4),
    at least 10 cm from the cubes already placed."""
    while True:
        x = rng.uniform(-0.28, 0.28)
        y = rng.uniform(0.42, 0.55)
        while abs(x) < 0.15 and y > 0.5:
            y = rng.uniform(0.42, 0.5)
        xy = np.array([x, y])
        clear = all(np.sum((xy - other) ** 2) >= 0.01 for other in placed)
        if abs(x) >= 0.05 and np.sum((xy - (0.0, 0.4)) ** 2) >= 0.0225 and clear:
            return xy


def gripper_open(sim: Simulation, arm: str) -> bool:
    """Upstream's "gripper open": the gripper's commanded value (its drive target, as upstream's
    robot reads it, not where the fingers stopped) is above 0.8. Measured, a gripper closed on a
    5-6 cm block still reads about 0.9."""
    target = sim.data.ctrl[sim.arms[arm].finger_actuators[0]]
    return bool(sim.robot.gripper_from_fingers(np.array([target]))[0] > OPEN)


def stacked_conditions(sim: Simulation) -> dict[str, bool]:
    """Upstream's box around the red cube's centre plus one cube size, per axis, and open grippers;
    our additions: neither cube touched by a finger, the green one at rest."""
    offset = np.abs(sim.body_pos("block_green") - sim.body_pos("block_red") - (0.0, 0.0, 2 * HALF))
    return {
        "green_over_red": bool(np.all(offset[:2] < TOLERANCE[:2])),
        "green_at_stack_height": bool(offset[2] < TOLERANCE[2]),
        "grippers_open": gripper_open(sim, "left") and gripper_open(sim, "right"),
        "blocks_released": not any(sim.gripper_touches(arm, b) for arm in ("left", "right") for b in BLOCKS),
        "block_green_at_rest": bool(sim.body_speed("block_green") < 0.05),
    }


@register_task
class StackBlocksTwoV1(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="stack_blocks_two",
        version=1,
        max_episode_steps=800,
        procedure=ProceduralAnnotation("stack", "cuboid", "downward", "top_face"),
        description="Move the red block to the centre of the table, then stack the green block on it.",
    )
    instructions = {
        "seen": (
            "Move the red block to the centre of the table, then stack the green block on it.",
            "Put the red cube in the middle with the {a} arm and the green cube on top of it with the {b} arm.",
            "Carry the red block to the centre and place the green block onto it.",
            "First centre the red cube, then stack the green cube on the red one.",
            "Use the {a} arm to bring the red block to the middle, then the {b} arm to put the green block on it.",
        ),
        "unseen": (
            "Relocate the red cube to mid-table and perch the green cube atop it.",
            "Your {a} hand shuttles the red block to the midpoint; your {b} hand crowns it with the green one.",
        ),
    }
    instruction_sets = {1: _instruction_set_1()}
    descriptions = {
        "G": {
            "seen": ("green block", "green cube", "green building block", "small green block"),
            "unseen": ("emerald brick", "lime-coloured brick", "jade toy piece"),
        },
        "R": {
            "seen": ("red block", "red cube", "red building block", "small red block"),
            "unseen": ("crimson brick", "scarlet toy piece", "ruby-coloured brick"),
        },
    }
    tracked_bodies = BLOCKS

    def build_scene(self, scene: SceneBuilder) -> None:
        block(scene, "block_red", HALF, RED)
        block(scene, "block_green", HALF, GREEN)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        red = _draw_block(rng, [])
        green = _draw_block(rng, [red])
        for name, xy in (("block_red", red), ("block_green", green)):
            sim.set_free_pose(name, (xy[0], xy[1], HALF + 0.001), yaw_quat(rng.uniform(-0.75, 0.75)))
        self.red_arm, self.green_arm = arm_for(red[0]), arm_for(green[0])
        self.arm = self.red_arm
        return {"a": self.red_arm, "b": self.green_arm}

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(**stacked_conditions(sim))

    # -- expert -----------------------------------------------------------------------------
    def _grasp(self, sim: Simulation, motion: Motion, arm: str, body: str, home: str | None) -> Iterator[np.ndarray]:
        """Open and come down on ``body`` from above, close, lift; ``home`` (the other arm, if it
        has just placed) goes back to its ready pose during the approach."""
        pos = sim.body_pos(body) + (0.0, 0.0, GRIP_ABOVE)
        quat = gripper_down_quat(grasp_yaw(arm, quat_yaw(sim.body_quat(body))))
        joints = {arm: motion.solve(arm, pos + (0.0, 0.0, 0.1), quat)}
        if home is not None:
            joints[home] = motion.robot.home_action()[motion.robot.arm_slice(home)]
        yield from motion.move_joints(joints, 30, {arm: motion.robot.gripper_open})
        yield from motion.line(arm, pos, quat, steps=20, segments=2)
        yield from motion.gripper(arm, motion.robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        yield from motion.line(arm, pos + (0.0, 0.0, LIFT), quat, steps=16, segments=2)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        yield from self._grasp(sim, motion, self.red_arm, "block_red", None)
        centre = np.array([CENTRE[0], CENTRE[1], HALF + GRIP_ABOVE + 0.003])
        yield from place_at(motion, self.red_arm, centre, hover=LIFT, retreat=LIFT)
        other = self.red_arm if self.green_arm != self.red_arm else None
        yield from self._grasp(sim, motion, self.green_arm, "block_green", other)
        top = sim.body_pos("block_red") + (0.0, 0.0, 2 * HALF + GRIP_ABOVE + 0.004)
        yield from place_at(motion, self.green_arm, top, hover=LIFT, retreat=LIFT)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        red, green = sim.body_pos("block_red"), sim.body_pos("block_green")
        red_held = sim.is_grasped(self.red_arm, "block_red")
        red_placed = np.linalg.norm(red[:2] - CENTRE) < 0.03 and red[2] < HALF + 0.01 and not red_held
        if not red_placed:
            lifted = red_held or red[2] > HALF + 0.01
            target = np.array([*CENTRE, HALF]) if lifted else red
            return self.state_from_spec(sim, target, "place_red" if lifted else "grasp_red",
                                        action_type="place" if lifted else "grasp", arm=self.red_arm)
        lifted = sim.is_grasped(self.green_arm, "block_green") or green[2] > HALF + 0.01
        target = red + (0.0, 0.0, 2 * HALF) if lifted else green
        return self.state_from_spec(sim, target, "place_green" if lifted else "grasp_green",
                                    action_type="place" if lifted else "grasp", arm=self.green_arm)
