"""pick_dual_bottles: each arm picks up one of two bottles and both lift them to the front together.

Description:
    Two bottles of the same shape stand upright on the table, a brown one on the left and a
    green one on the right. The left arm grasps the brown bottle and the right arm the green
    one at the same time; both lift them together and carry them, still upright and held, to
    two points side by side in front of the robot, in the air (RoboTwin 2.0
    ``pick_dual_bottles``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the left bottle, then the right one.
Success:
    For each bottle: its base centre is within 10 cm in x and in y of its target (the left
    bottle's at (-0.06, 0.395), the right one's at (0.06, 0.395)), at least 15 cm above the
    table, and the arm on its side holds it (both of that arm's fingers touch it).
    Fidelity: upstream checks the same 10 cm per axis around the same targets and a height of
    z > 0.89 (15 cm above its table top, 0.74) for each bottle's functional point; we apply
    the height to the bottle's base, and ``left_holds`` / ``right_holds`` are our addition, so a
    bottle knocked or thrown through the target region does not count.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): the left bottle at x in
    [-0.25, -0.05], the right one at x in [0.05, 0.25], both at y in [0.53, 0.73], upright, at
    any heading (they are round; upstream turns them by up to 1 rad). Upstream uses two fixed
    bottle meshes of ``001_bottle`` (model 13, a brown cola bottle with a red cap, on the left;
    model 16, a green bottle with a white label, on the right); ours are one rigid model built
    from cylinders, 19 cm tall and 5.4 cm across (the open gripper spans 6.9 cm), 20 g, in
    those two colourings.
Episode end:
    Success, or 400 control steps (16 s at 25 Hz; the expert needs at most 104 on seeds 0-49).
    Upstream's evaluation limit is 400 policy actions.
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
from vlapro_bench.sim.geometry import gripper_down_quat, nearest_symmetric_yaw, yaw_quat
from vlapro_bench.sim.motion import Motion, PlanningError
from vlapro_bench.sim.objects.household import HOME, RGBA, GraspableProp
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import round_inertia
from vlapro_bench.sim.skills import ARM_BASE, NATURAL_YAW
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask

BOTTLES = {"left": "bottle_left", "right": "bottle_right"}
#: Bottle body radius and height, and the whole bottle's height with shoulder, neck and cap (m).
BOTTLE_RADIUS, BODY_HEIGHT, BOTTLE_HEIGHT = 0.027, 0.145, 0.19
#: Upstream's two models as colourings: body, cap and label of the left and the right bottle.
LOOKS = {
    "left": ((0.3, 0.16, 0.08, 1), (0.85, 0.1, 0.1, 1), (0.85, 0.1, 0.1, 1)),
    "right": ((0.2, 0.6, 0.3, 1), (0.15, 0.35, 0.2, 1), (0.93, 0.93, 0.9, 1)),
}
#: Upstream's ranges in our frame (upstream y + 0.5): |x| in [0.05, 0.25], y in [0.53, 0.73].
BOTTLE_X, BOTTLE_Y = (0.05, 0.25), (0.53, 0.73)
#: Upstream's targets (x, y in our frame) and tolerance per axis, and its height rule: 15 cm
#: above the table (z > 0.89 over its 0.74 table top).
TARGETS = {"left": np.array([-0.06, 0.395]), "right": np.array([0.06, 0.395])}
XY_TOLERANCE, LIFT_HEIGHT = 0.1, 0.15
#: The expert's first straight lift (upstream's 0.1 m) and the height it carries the bases to.
EXPERT_LIFT, CARRY_HEIGHT = 0.1, 0.19
#: Forearm roll (rad) above which an IK answer counts as flipped over (see ``_carry_chain``).
MAX_ROLL = 1.0

#: Instruction set 1's descriptions: ``{A}`` the left (brown) bottle, ``{B}`` the right (green)
#: one. Unseen descriptions use no word a seen one uses.
DESCRIPTIONS = {
    "A": {"seen": ("brown bottle", "cola bottle", "brown bottle with a red cap", "dark soda bottle"),
          "unseen": ("caramel-coloured flask", "fizzy-drink vessel", "red-lidded flask")},
    "B": {"seen": ("green bottle", "green plastic bottle", "bottle with a white label", "green drink bottle"),
          "unseen": ("emerald flask", "lime-tinted vessel", "jade-coloured container")},
}


def drink_bottle(scene: SceneBuilder, name: str, look: tuple[RGBA, RGBA, RGBA]) -> GraspableProp:
    """An upright drink bottle: body with a label band, shoulder, neck and cap, its origin under
    the middle of its base. The fingers close on the body 2 cm below its top."""
    body = scene.body(name, pos=HOME, free=True)
    colour, cap, label = look
    scene.cylinder(body, f"{name}_body", BOTTLE_RADIUS, BODY_HEIGHT / 2, colour, pos=(0, 0, BODY_HEIGHT / 2),
                   mass=0.016)
    scene.cylinder(body, f"{name}_label", BOTTLE_RADIUS + 0.0005, 0.025, label, pos=(0, 0, 0.06), collide=False)
    scene.cylinder(body, f"{name}_shoulder", 0.02, 0.007, colour, pos=(0, 0, BODY_HEIGHT + 0.007), mass=0.002)
    scene.cylinder(body, f"{name}_neck", 0.012, 0.01, colour, pos=(0, 0, BODY_HEIGHT + 0.024), mass=0.001)
    scene.cylinder(body, f"{name}_cap", 0.014, 0.006, cap, pos=(0, 0, BOTTLE_HEIGHT - 0.006), mass=0.001)
    return GraspableProp(name, "bottle", "bottle", "cylinder", (f"{name}_body",), grasp_z=BODY_HEIGHT - 0.02,
                         height=BOTTLE_HEIGHT, radius=BOTTLE_RADIUS, symmetry=math.pi / 8)


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and phrases.

    ``{A}`` is the left bottle and ``{B}`` the right one (set 0 fills them with their plain
    names; later sets draw them from :data:`DESCRIPTIONS`); the arms are named as words.
    """
    pick = ("Pick up", "Grab", "Lift", "Take", "Grasp")
    split = ("the {A} with the left arm and the {B} with the right arm",
             "the {A} and the {B}, one in each gripper",
             "the {A} in the left hand and the {B} in the right hand",
             "both the {A} and the {B} at the same time")
    seen = [f"{p} {s}." for p, s in product(pick, split)]
    raise_ = ("bring them up together", "raise both in front of you", "hold them up side by side")
    seen += [f"{p} the {{A}} and the {{B}} with both arms, then {r}." for p, r in product(pick, raise_)]
    seen += [
        "Use both arms to pick up the {A} and the {B}.",
        "Left arm takes the {A}, right arm takes the {B}; lift both.",
        "Pick up one bottle with each arm: the {A} and the {B}.",
        "Lift the {A} and the {B} at once, one per arm.",
        "Grab the {A} with one gripper and the {B} with the other.",
        "Hold the {A} in the left gripper and the {B} in the right one.",
        "Pick up the {A} and the {B} and bring them to the front.",
        "Raise the {A} and the {B} together using both arms.",
        "Each arm picks up a bottle: left the {A}, right the {B}.",
        "Take the {A} and the {B} off the table with both grippers.",
        "Lift both bottles, the {A} on the left and the {B} on the right.",
        "Pick up the {A} and the {B} and hold them up in front of the robot.",
        "With the left arm grab the {A}, with the right arm grab the {B}.",
        "Grasp the {A} and the {B} with separate arms and lift them.",
        "Carry the {A} and the {B} up to the middle, one in each hand.",
        "Lift the {A} with the left gripper while the right one lifts the {B}.",
    ]
    unseen = (
        "Hoist the {A} and the {B} aloft, a fist for each.",
        "Snatch up the {A} and the {B} in tandem.",
        "Your two hands should each claim one: the {A} and the {B}.",
        "Scoop up the {A} and the {B} simultaneously and present them.",
        "Heft the {A} and the {B} skyward, a hand apiece.",
        "Collect the {A} and the {B} concurrently, then display them.",
        "Elevate the {A} and the {B} in unison.",
        "Clutch the {A} and the {B}, one per fist, and heave them up.",
        "In one synchronized motion, hoist the {A} and the {B}.",
        "Haul the {A} and the {B} upward, each hand minding one.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


def _square_quat(arm: str, point: np.ndarray) -> np.ndarray:
    """Top-down TCP orientation with the fingers across the line from ``arm``'s base to
    ``point``: the bottles are round, so any finger yaw grasps them, and this one needs no
    forearm roll."""
    d = np.asarray(point)[:2] - ARM_BASE[arm][:2]
    return gripper_down_quat(nearest_symmetric_yaw(math.atan2(d[1], d[0]) + math.pi / 2, NATURAL_YAW[arm], math.pi))


def _carry_chain(motion: Motion, arm: str, points: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Joint solutions for a carry through ``points`` (fingers squared to the arm at each, see
    :func:`_square_quat`), each solved from the one before (the first from the commanded
    joints) and refined for a few rounds, so the wrist stays on its branch: a solution with the
    forearm rolled past :data:`MAX_ROLL` (the wrist flipped over, which swings the held bottle)
    is solved again from the ready pose."""
    arm_slice = motion.robot.arm_slice(arm)
    q = motion.action[arm_slice].copy()
    chain = []
    for point in points:
        for seed in (q, motion.robot.home_action()[arm_slice]):
            answer = seed
            for _ in range(4):
                result = motion.ik.solve(arm, np.asarray(point, float), _square_quat(arm, point), answer)
                answer = result.qpos
                if result.converged:
                    break
            if result.converged and abs(answer[3]) < MAX_ROLL:
                break
        else:
            raise PlanningError(f"{arm} arm cannot carry its bottle to {np.round(point, 3).tolist()}")
        chain.append(answer)
        q = answer
    return chain


@register_task
class PickDualBottles(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="pick_dual_bottles",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("dual_lift", "cylinder", "downward", "bottle_body"),
        description="Pick up one bottle with each arm and lift both to the front together.",
    )
    instructions = _templates()
    descriptions = DESCRIPTIONS
    tracked_bodies = tuple(BOTTLES.values())

    def build_scene(self, scene: SceneBuilder) -> None:
        self.bottles = {arm: drink_bottle(scene, name, LOOKS[arm]) for arm, name in BOTTLES.items()}

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, self.bottles.values())
        for arm, prop in self.bottles.items():
            side = -1.0 if arm == "left" else 1.0
            xy = (side * rng.uniform(*BOTTLE_X), rng.uniform(*BOTTLE_Y))
            sim.set_free_pose(prop.body, (xy[0], xy[1], 0.001), yaw_quat(rng.uniform(-math.pi, math.pi)))
        self.arm = "left"
        return {"A": "brown bottle", "B": "green bottle"}

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        conditions = {}
        for arm, prop in self.bottles.items():
            base = sim.body_pos(prop.body)
            conditions[f"{arm}_at_target"] = bool(np.all(np.abs(base[:2] - TARGETS[arm]) < XY_TOLERANCE))
            conditions[f"{arm}_lifted"] = bool(base[2] > LIFT_HEIGHT)
            conditions[f"{arm}_holds"] = sim.is_grasped(arm, prop.body)
        return all_of(**conditions)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        grips = {arm: sim.body_pos(prop.body) + (0, 0, prop.grasp_z) for arm, prop in self.bottles.items()}
        quats = {arm: _square_quat(arm, p) for arm, p in grips.items()}
        open_, closed = motion.robot.gripper_open, motion.robot.gripper_closed

        def both(points: dict[str, np.ndarray], steps: int,
                 grippers: dict[str, float] | None = None) -> Iterator[np.ndarray]:
            yield from motion.move_both({arm: (points[arm], quats[arm]) for arm in points}, steps, grippers)

        yield from both({arm: p + (0, 0, 0.1) for arm, p in grips.items()}, 30, {"left": open_, "right": open_})
        for dz in (0.05, 0.0):
            yield from both({arm: p + (0, 0, dz) for arm, p in grips.items()}, 10)
        yield from motion.grippers({"left": closed, "right": closed}, steps=10)
        yield from motion.wait(4)
        lifted = {arm: p + (0, 0, EXPERT_LIFT) for arm, p in grips.items()}
        yield from both(lifted, 16)
        # Carry both to their targets in the air, through a point half-way (keeps the IK on
        # its branch over the longer move).
        goals = {arm: np.array([*TARGETS[arm], CARRY_HEIGHT + prop.grasp_z]) for arm, prop in self.bottles.items()}
        chains = {arm: _carry_chain(motion, arm, [(lifted[arm] + goals[arm]) / 2, goals[arm]]) for arm in grips}
        for k in range(2):
            yield from motion.move_joints({arm: chain[k] for arm, chain in chains.items()}, 15)
        yield from motion.wait(10)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        prop = self.bottles["left"]
        if sim.is_grasped("left", prop.body) and sim.is_grasped("right", self.bottles["right"].body):
            return self.state_from_spec(sim, np.array([*TARGETS["left"], CARRY_HEIGHT]), "lift")
        return self.state_from_spec(sim, sim.body_pos(prop.body) + (0, 0, prop.grasp_z), "grasp")
