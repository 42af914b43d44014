"""stack_cups: stack the other two cups into the cup of the named colour.

Description:
    Three cups that nest stand upright on the table; one has the named colour, the other two
    other colours. The Panda picks the two other cups one by one and sets each into the
    named cup (the second into the first), leaving the named cup on the table as the base of
    the stack (RLBench ``stack_cups``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the named cup, then the other two.
Success:
    Both other cups are detected inside the named cup, and nothing is held: a cup is detected
    when the centre of its bottom face lies in a column of 1.5 cm radius around the named
    cup's axis, between the named cup's floor and its rim, and the cup stands upright (tilted
    by less than 20 degrees).
    **Fidelity:** RLBench: ``DetectedCondition(cup1, success)``, ``DetectedCondition(cup3,
    success)`` with the proximity sensor ``success`` inside the base cup ``cup2``, and
    ``NothingGrasped``; ours: the sensor's volume is not in the reference geometry, so we test
    the point at the bottom of each cup in a column inside the base cup instead of any part of
    the cup in an unknown volume; the tilt bound keeps a cup lying across the rim from
    counting.
Starting state:
    RLBench's ``stack_cups.ttm`` is not in the reference geometry, so the sizes are ours: cups
    8.6 cm tall, 6.6 cm across the rim and 4.8 cm across the floor, 0.05 kg, with walls leaning
    out, so that a cup sits 3.8 cm above the floor of the cup it is in and centres itself
    there; three nested cups stand 16.5 cm tall. As upstream, the cups are placed upright (no
    rotation) inside a spawn boundary, ours a 0.36 x 0.36 m square at the task base, with their
    centres at least 0.12 m apart (upstream 0.05 m; ours leave room for the fingers around each
    cup) and inside the area the Panda grasps from above. The task base gets RLBench's default
    yaw bounds [-pi, pi] and a position x 0.10..0.25, y -0.15..0.15; placements whose grasp and
    stacking waypoints have no collision-free IK solution are drawn again (RLBench's placement
    check).
Geometry:
    The Panda grasps a cup across its rim from above, carries it over the stack, lowers it
    until its floor is 1.5 cm above where it will rest and lets go: the cup drops in and the
    leaning walls centre it.
Variations:
    20: the base cup takes ``COLORS[i]``; each other cup takes a colour drawn at random among
    the other 19 (the two may match), as upstream.
Episode end:
    Success, or 600 control steps (30 s at 20 Hz; the expert needs at most 366 on seeds
    0-49 and 100000-100049).
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.geometry import gripper_down_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import NATURAL_YAW, release_upward
from vlapro_bench.task import ProceduralState, all_of

from ._common import COLOR_NAMES, RLBenchTask, TaskFrame, reachable, rgba, sample_frame
from ._cups import CUP_RIM_RADIUS, CUP_TOP, CUP_WALL, cup_tilt, nesting_cup
from ._pick_and_carry import Rect, in_reach, sample_in_boundaries, table_point

BASE, OTHERS = "stack_cups_cup2", ("stack_cups_cup1", "stack_cups_cup3")
CUPS = (BASE, *OTHERS)
BOUNDARY = (Rect((0.0, 0.0), (0.36, 0.36)),)
MIN_DISTANCE = 0.12
YAW_BOUNDS = (-math.pi, math.pi)
X_RANGE = (0.10, 0.25)
Y_RANGE = (-0.15, 0.15)
#: How far a cup's origin rises above the origin of the cup it rests in (measured: 3.8 to 3.9 cm).
NEST_STEP = 0.038
#: Detection column: radius around the base cup's axis; upright bound.
SENSOR_RADIUS = 0.015
MAX_TILT = math.radians(20)
#: TCP below a held cup's top (the pads pinch the rim); the cup is let go this far above its rest.
GRASP_BELOW_TOP = 0.015
DROP_GAP = 0.015
HOVER = 0.06
LIFT = 0.12
#: Half the span of the open fingers around a cup, used to keep them off the other cups.
FINGER_REACH = CUP_RIM_RADIUS + CUP_WALL + 0.015


@register_task
class StackCups(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="stack_cups",
        max_episode_steps=600,
        procedure=ProceduralAnnotation("stack", "cup", "downward", "container_inside"),
        description="Stack the other two cups into the cup of the named colour.",
    )
    instructions = {
        "seen": (
            "stack the other cups on top of the {color} cup",
            "put the two remaining cups onto the {color} cup",
            "pick up the other cups and set them down into the {color} cup",
            "build a stack of cups with the {color} cup at its base",
            "leave the {color} cup on the table and stack the other two cups onto it",
            "place both cups that are not {color} on the {color} cup",
        ),
        "unseen": (
            "nest the pair of leftover cups inside the {color} one",
            "drop each other cup in turn into the {color} cup so all three sit together",
        ),
    }
    variation_count = len(COLOR_NAMES)
    tracked_bodies = CUPS

    def build_scene(self, scene: SceneBuilder) -> None:
        self.geoms = {name: nesting_cup(scene, name) for name in CUPS}

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        index = self.choose_variation(rng)
        others = [int(rng.choice([i for i in range(len(COLOR_NAMES)) if i != index])) for _ in OTHERS]

        def draw() -> TaskFrame | None:
            frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)

            def on_table(xy, frame=frame):
                return in_reach(frame.point((xy[0], xy[1], 0.0)))
            points = sample_in_boundaries(rng, BOUNDARY, len(CUPS), MIN_DISTANCE, CUP_RIM_RADIUS + CUP_WALL,
                                          on_table)
            if points is None:
                return None
            for name, xy in zip(CUPS, points, strict=True):
                sim.set_free_pose(name, table_point(frame, xy, 0.0005))
            sim.forward()
            if reachable(sim, self._waypoints(sim)):
                return frame
            return None
        self.frame = self.draw_layout(draw)
        sim.set_rgba(self.geoms[BASE], rgba(COLOR_NAMES[index]))
        for name, color in zip(OTHERS, others, strict=True):
            sim.set_rgba(self.geoms[name], rgba(COLOR_NAMES[color]))
        return self.variation_placeholders(index)

    def variation_placeholders(self, index: int) -> dict[str, str]:
        return {"color": COLOR_NAMES[index]}

    def _finger_yaw(self, sim: Simulation, name: str) -> float:
        """Finger yaw (near the arm's natural one) that keeps the open fingers farthest from the
        other cups."""
        centre = sim.body_pos(name)[:2]
        others = [sim.body_pos(o)[:2] for o in CUPS if o != name]

        def clearance(yaw: float) -> float:
            d = np.array([math.cos(yaw), math.sin(yaw)])
            return min(float(np.linalg.norm(centre + s * FINGER_REACH * d - o)) for o in others for s in (-1, 1))
        natural = NATURAL_YAW[self.arm]
        candidates = [natural + k * math.pi / 12 for k in range(-6, 6)]
        return max(candidates, key=lambda y: (round(clearance(y), 2), -abs(y - natural)))

    def _grasp_point(self, sim: Simulation, name: str) -> np.ndarray:
        return sim.body_pos(name) + (0.0, 0.0, CUP_TOP - GRASP_BELOW_TOP)

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each other cup: above it, at it, lifted, above the stack, at the drop point."""
        poses = []
        base = sim.body_pos(BASE)
        for level, name in enumerate(OTHERS, start=1):
            quat = gripper_down_quat(self._finger_yaw(sim, name))
            grasp = self._grasp_point(sim, name)
            drop = base + (0.0, 0.0, NEST_STEP * level + DROP_GAP + CUP_TOP - GRASP_BELOW_TOP)
            lifted = grasp + (0.0, 0.0, LIFT)
            poses += [(grasp + (0, 0, 0.08), quat), (grasp, quat), (lifted, quat), (drop + (0, 0, HOVER), quat),
                      (drop, quat)]
        return poses

    def _held(self, sim: Simulation) -> str | None:
        for name in CUPS:
            if sim.is_grasped(self.arm, name):
                return name
        return None

    def _inside(self, sim: Simulation, name: str) -> bool:
        """Whether the centre of ``name``'s bottom face is in the column inside the base cup."""
        base = sim.body_pos(BASE)
        axis = sim.body_mat(BASE)[:, 2]
        offset = sim.body_pos(name) - base
        along = float(offset @ axis)
        radial = float(np.linalg.norm(offset - along * axis))
        return radial < SENSOR_RADIUS and 0.0 < along < CUP_TOP and cup_tilt(sim, name) < MAX_TILT

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(cup1_in_base_cup=self._inside(sim, OTHERS[0]), cup3_in_base_cup=self._inside(sim, OTHERS[1]),
                      nothing_held=self._held(sim) is None)

    def _stack_top(self, sim: Simulation) -> tuple[str, int]:
        """The highest cup of the stack on the base cup, and how many cups the stack has above it."""
        stacked = [n for n in OTHERS if self._inside(sim, n)]
        if not stacked:
            return BASE, 0
        return max(stacked, key=lambda n: sim.body_pos(n)[2]), len(stacked)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        for name in OTHERS:
            if self._inside(sim, name):
                continue
            quat = gripper_down_quat(self._finger_yaw(sim, name))
            grasp = self._grasp_point(sim, name)
            yield from motion.move(self.arm, grasp + (0.0, 0.0, 0.08), quat, steps=30,
                                   gripper=motion.robot.gripper_open)
            yield from motion.line(self.arm, grasp, quat, steps=16, segments=2)
            yield from motion.gripper(self.arm, 0.0, steps=10)
            yield from motion.wait(4)
            yield from motion.line(self.arm, grasp + (0.0, 0.0, LIFT), quat, steps=24, segments=2)
            top, _ = self._stack_top(sim)
            rest = sim.body_pos(top) + (0.0, 0.0, NEST_STEP)
            above = rest + (0.0, 0.0, DROP_GAP + HOVER)
            # Aim the cup, not the TCP: measure the held cup's offset from the TCP on the way.
            yield from motion.move(self.arm, above + (motion.tcp_target_pose(self.arm)[0] - sim.body_pos(name)),
                                   quat, steps=40)
            yield from motion.wait(4)
            offset = sim.tcp_pos(self.arm) - sim.body_pos(name)
            drop = rest + (0.0, 0.0, DROP_GAP) + offset
            yield from motion.line(self.arm, drop, quat, steps=16, segments=2)
            yield from release_upward(motion, self.arm, drop, quat, 0.08)
            yield from motion.wait(6)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        held = self._held(sim)
        top, _ = self._stack_top(sim)
        if held is not None and held != BASE:
            return self.state_from_spec(sim, sim.body_pos(top) + (0.0, 0.0, CUP_TOP), f"place_{held[-4:]}")
        waiting = [n for n in OTHERS if not self._inside(sim, n)]
        target = waiting[0] if waiting else OTHERS[-1]
        return self.state_from_spec(sim, self._grasp_point(sim, target), f"grasp_{target[-4:]}",
                                    action_type="grasp")
