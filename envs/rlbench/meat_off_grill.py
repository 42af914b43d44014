"""meat_off_grill: take the named piece of meat off the grill and put it down beside it.

Description:
    A tabletop barbecue grill stands on the table with its lid raised; a chicken drumstick and
    a steak lie on its grate. The Panda picks the named one up from above, carries it over the
    firebox's side wall, turning it a quarter turn, and sets it down on the table to the
    grill's right, then lets go
    (RLBench ``meat_off_grill``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
Success:
    Nothing is held, and the named meat overlaps the drop volume beside the grill: a 0.18 x
    0.18 m footprint on the table, 8 cm tall, its centre 0.34 m right of the grill's centre.
    The steak is tested as its box, the drumstick as the box around its meaty part (the bone
    left out).
    **Fidelity:** RLBench: ``NothingGrasped(gripper)`` and ``DetectedCondition(meat,
    success)``, the ``success`` proximity sensor beside the grill; ours: the same two
    conditions, "nothing grasped" as neither meat between both fingers. The sensor's size and
    place are not in the reference data (``meat_off_grill.ttm`` is missing from every public
    copy), so the volume is ours.
Starting state:
    The grill's lid stands open on its stop; the drumstick lies on the grate's left half and the
    steak on its right half, both toward the front (fixed in the grill's frame, as the meats
    are part of RLBench's model). The task base (the grill's centre on the table) is placed
    with x 0.15..0.40, y -0.05..0.30 and any yaw (RLBench's default rotation bounds); placements
    whose grasp, carry and drop waypoints have no collision-free IK solution, or whose drop
    point is outside the table area the arm serves from above, are drawn again, as RLBench
    does.
Geometry:
    The grill of open_grill (:mod:`vlapro_bench.envs.rlbench._grill`): a 0.26 x 0.40 m firebox,
    grate 0.185 m above the table, lid hinged along the back rim. RLBench's meats are meshes we
    do not have; ours: a chicken drumstick (a 10.4 cm long, 4.4 cm thick golden-brown capsule
    with a 3.6 cm bone and knuckle, 0.08 kg) and a steak (a 10 x 6 x 2.8 cm dark red-brown slab,
    0.12 kg).
Variations:
    2 (as in RLBench): which meat, chicken or steak.
Episode end:
    Success, or 400 control steps (20 s at 20 Hz; the expert needed at most 208 on seeds 0-149
    and 100000-100049). A random arm solved none of 50 seeds.
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.franka import TABLE_TOP_Z
from vlapro_bench.sim.geometry import gripper_down_quat, nearest_symmetric_yaw
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._grill import GRATE_Z, LID_RANGE, build_grill
from ._pick_and_carry import BoxSensor, body_detected, grasp_from_above, in_reach, place_held

MEATS = ("chicken", "steak")
X_RANGE = (0.15, 0.40)
Y_RANGE = (-0.05, 0.30)
#: Drumstick: a capsule along its x (radius, half length of the straight part), then the bone.
CHICKEN_RADIUS, CHICKEN_HALF = 0.022, 0.03
STEAK_HALF = (0.05, 0.03, 0.014)
#: Half extents of the box each meat is tested as (the drumstick's meaty part).
SENSED_HALF = {"chicken": (CHICKEN_HALF + CHICKEN_RADIUS, CHICKEN_RADIUS, CHICKEN_RADIUS), "steak": STEAK_HALF}
#: Where each meat lies, in the task-base frame (x, y); both with their long side along x.
MEAT_XY = {"chicken": (-0.04, 0.085), "steak": (-0.04, -0.085)}
MEAT_HALF_HEIGHT = {"chicken": CHICKEN_RADIUS, "steak": STEAK_HALF[2]}
#: The drop volume on the table to the grill's right.
SENSOR = BoxSensor(origin=(-0.03, -0.34, 0.0), footprint=(0.18, 0.18), range=0.08)
#: The TCP closes this far above the meat's centre (the fingertips stay above the grate).
GRASP_RAISE = {"chicken": 0.012, "steak": 0.016}
#: Lift the meat this far, clear of the firebox's walls (rim 1.5 cm above the grate), and hover
#: this far above the drop point before going down.
LIFT = 0.15
HOVER = 0.06
DROP_ABOVE_TABLE = 0.006
CHICKEN_RGBA = (0.8, 0.52, 0.22, 1.0)
BONE_RGBA = (0.93, 0.9, 0.82, 1.0)
STEAK_RGBA = (0.45, 0.16, 0.12, 1.0)


@register_task
class MeatOffGrill(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="meat_off_grill",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("pick_place", "loaf", "downward", "beside_object"),
        description="Take the named meat off the grill and put it down beside the grill.",
    )
    instructions = {
        "seen": (
            "take the {meat} off the grill",
            "lift the {meat} off the grill and put it next to it",
            "get the {meat} off the grill and leave it at the side",
            "move the {meat} from the grate to the table beside the grill",
            "pick the {meat} up from the barbecue and set it down beside it",
        ),
        "unseen": (
            "the {meat} is cooked: clear it from the bbq onto the counter alongside",
            "rescue the {meat} from the coals by parking it to the right of the cooker",
        ),
    }
    variation_count = len(MEATS)
    tracked_bodies = ("grill", "chicken", "steak")

    def build_scene(self, scene: SceneBuilder) -> None:
        self.grill = build_grill(scene)
        chicken = scene.body("chicken", pos=(0.3, 0.3, 0.9), free=True)
        scene.capsule(chicken, "chicken_meat", CHICKEN_RADIUS, CHICKEN_HALF, CHICKEN_RGBA,
                      quat=(math.cos(math.pi / 4), 0, math.sin(math.pi / 4), 0), mass=0.07)
        bone_x = CHICKEN_HALF + CHICKEN_RADIUS + 0.012
        scene.cylinder(chicken, "chicken_bone", 0.006, 0.018, BONE_RGBA, pos=(bone_x, 0, -0.008),
                       quat=(math.cos(math.pi / 4), 0, math.sin(math.pi / 4), 0), mass=0.008)
        scene.sphere(chicken, "chicken_knuckle", 0.01, BONE_RGBA, pos=(bone_x + 0.02, 0, -0.008), mass=0.004)
        steak = scene.body("steak", pos=(0.3, -0.3, 0.9), free=True)
        scene.box(steak, "steak_meat", STEAK_HALF, STEAK_RGBA, mass=0.12)
        # A darker grill mark band across the top (visual).
        for i, x in enumerate((-0.025, 0.0, 0.025)):
            scene.box(steak, f"steak_mark{i}", (0.004, STEAK_HALF[1] - 0.004, 0.0005), (0.2, 0.08, 0.05, 1.0),
                      pos=(x, 0, STEAK_HALF[2] + 0.0005), collide=False)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        index = self.choose_variation(rng)
        self.meat = MEATS[index]
        def draw() -> TaskFrame | None:
            self.frame = sample_frame(rng, x_range=X_RANGE, y_range=Y_RANGE)
            self.grill.place(sim, self.frame, LID_RANGE[1])
            for meat in MEATS:
                x, y = MEAT_XY[meat]
                sim.set_free_pose(meat, self.frame.point((x, y, GRATE_Z + MEAT_HALF_HEIGHT[meat] + 0.001)),
                                  self.frame.quat)
            sim.forward()
            if not in_reach(self._goal()):
                return None  # the drop point must be where the arm can put things down from above
            if reachable(sim, self._waypoints(sim), ignore=list(MEATS)):
                return self.frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(index)

    def variation_placeholders(self, index: int) -> dict[str, str]:
        return {"meat": MEATS[index]}

    # -- geometry -------------------------------------------------------------------------------
    def _yaw(self, sim: Simulation) -> float:
        """Fingers across the meats' width (the task base's y), nearest the arm's natural yaw."""
        return nearest_symmetric_yaw(self.frame.yaw + math.pi / 2, sim.robot.natural_yaw[self.arm])

    def _drop_yaw(self, sim: Simulation) -> float:
        """Fingers along the task base's x at the drop: the hand's long side then runs beside the
        grill, not into its side shelf."""
        return nearest_symmetric_yaw(self.frame.yaw, sim.robot.natural_yaw[self.arm])

    def _goal(self) -> np.ndarray:
        """Where the meat's centre is put down: the drop volume's centre, just above the table."""
        x, y, _ = SENSOR.origin
        goal = self.frame.point((x, y, 0.0))
        goal[2] = TABLE_TOP_Z + MEAT_HALF_HEIGHT[self.meat] + DROP_ABOVE_TABLE
        return goal

    def _grasp_point(self, sim: Simulation) -> np.ndarray:
        return sim.body_pos(self.meat) + (0.0, 0.0, GRASP_RAISE[self.meat])

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        """TCP poses: above the meat, at it, lifted, over the drop point, at it."""
        quat, turned = gripper_down_quat(self._yaw(sim)), gripper_down_quat(self._drop_yaw(sim))
        grasp = self._grasp_point(sim)
        drop = self._goal() + (0.0, 0.0, GRASP_RAISE[self.meat])
        lifted = grasp + (0.0, 0.0, LIFT)
        over = np.array([drop[0], drop[1], lifted[2]])
        return [(grasp + (0.0, 0.0, 0.10), quat), (grasp, quat), (lifted, quat), (over, turned),
                (drop + (0.0, 0.0, HOVER), turned), (drop, turned)]

    # -- episode --------------------------------------------------------------------------------
    def _held(self, sim: Simulation) -> bool:
        return any(sim.is_grasped(self.arm, meat) for meat in MEATS)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        beside = body_detected(sim, self.meat, SENSED_HALF[self.meat], SENSOR, self.frame)
        return all_of(nothing_grasped=not self._held(sim), meat_beside_grill=beside)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        arm, yaw = self.arm, self._yaw(sim)
        grasp = self._grasp_point(sim)
        yield from grasp_from_above(motion, arm, grasp, yaw, lift=LIFT, close_to=0.0)
        lifted = grasp + (0.0, 0.0, LIFT)
        goal = self._goal()
        drop_yaw = self._drop_yaw(sim)
        yield from motion.line(arm, np.array([goal[0], goal[1], lifted[2]]), gripper_down_quat(drop_yaw),
                               steps=40, segments=5)
        yield from place_held(sim, motion, arm, self.meat, goal, drop_yaw, hover=HOVER, carry_steps=12)

    def trace(self, sim: Simulation) -> str:
        local = self.frame.local(sim.body_pos(self.meat))
        return f"{self.meat} at {local.round(3)} held={self._held(sim)}"

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        """Stages: grasp the named meat, then put it down beside the grill (the drop point)."""
        if sim.is_grasped(self.arm, self.meat):
            return self.state_from_spec(sim, self._goal(), "place_meat")
        return self.state_from_spec(sim, sim.body_pos(self.meat), "grasp_meat")
