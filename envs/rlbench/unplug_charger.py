"""unplug_charger: pull the black charger out of the wall socket.

Description:
    A short piece of wall stands on the table facing the robot, a white socket plate on it and
    a black charger plugged into the socket. The Panda grips the charger from above and pulls
    it straight out of the socket, toward itself (RLBench ``unplug_charger``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the wall and the charger.
Success:
    ``charger_unplugged``: the charger is in the success volume in front of the socket: its
    connector has come out of the socket and the middle of its back face is 6 to 25 cm out
    from the wall, within 10 cm either side of the socket and 4.5 to 25 cm above the table
    (held up in front of the socket, whose middle is 6 cm up; a charger knocked out onto the
    table is not in it: however it comes to rest, its back face's middle is at most 4 cm up).
    **Fidelity:** RLBench: ``DetectedCondition(charger, charger_success)``, a proximity sensor
    in front of the socket, alone (the charger may still be held); ours: the sensor's volume
    is not in the reference data, so it is the box above, which the charger reaches only once
    its 1.5 cm connector is well clear of the socket, the state RLBench's sensor stands for.
    As in RLBench, letting go is not required.
Starting state:
    The charger fully in the socket. The task base (the middle of the wall's front face, on
    the table) is placed with x 0.2..0.4, y -0.2..0.2 and a yaw in [-pi/4, pi/4] (RLBench's
    rotation bounds); placements whose grasp and pull waypoints have no collision-free IK
    solution are drawn again (RLBench's validation).
Geometry:
    RLBench's ``unplug_charger.ttm`` is not in the reference data, so the sizes are ours: the
    wall 0.24 m wide, 0.04 m thick and 0.11 m tall, fixed to the table; a 9 x 9 cm white socket
    plate centred 6 cm above the table; the socket a recessed 3.0 x 2.4 cm hole 1.5 cm deep
    (a European socket's recess, simplified to a box); the charger a 4 x 4.4 x 5.4 cm black
    brick (60 g) whose 1.5 cm connector fits the hole with 0.25 mm to spare each side. The
    pins are left out: the connector in its recess holds the charger the way pins in holes do
    (contact alone carries it, on stiff, smooth walls as in ``_plug``; friction resists the
    pull), and the wall is kept low so the Panda's hand passes over it while the fingers
    close on the charger.
Variations:
    1 (as in RLBench).
Episode end:
    Success, or 160 control steps (8 s at 20 Hz; the expert needed at most 80 on seeds
    0-49 and 81 on 100000-100049). The front camera looks at the wall's back: the charger shows
    in the other four.
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._plug import PlugShape, Socket, build_plug, holed_slab, pull_out

YAW_BOUNDS = (-math.pi / 4, math.pi / 4)
X_RANGE = (0.2, 0.4)
Y_RANGE = (-0.2, 0.2)
CHARGER = "charger"
#: Wall frame (the task base): x away from the robot, y to the robot's left, z up; origin in
#: the middle of the wall's front face, on the table. The socket faces -x.
WALL_HALF = (0.02, 0.12, 0.055)
SOCKET_Z = 0.06
CHARGER_SHAPE = PlugShape(connector=(0.0075, 0.015, 0.012), grip=(0.02, 0.022, 0.027))
CHARGER_MASS = 0.06
#: The front layer of the wall that holds the socket: 1.7 cm (the connector goes 1.5 cm in).
SLAB_HALF_THICKNESS = 0.0085
PLATE_HALF = 0.045
#: Success volume (socket frame: out along the normal, across, height above the table).
SUCCESS_OUT = (0.06, 0.25)
SUCCESS_ACROSS = 0.10
SUCCESS_HEIGHT = (0.045, 0.25)
#: The expert grips the charger 2 cm out from the wall (the middle of the brick), 1 cm above
#: its centre, and pulls it 9 cm out.
GRASP_ALONG = 0.02
GRASP_UP = 0.01
PULL = 0.09
WALL = (0.86, 0.84, 0.78, 1.0)
PLATE = (0.97, 0.97, 0.96, 1.0)
HOLE = (0.15, 0.15, 0.15, 1.0)
BLACK = (0.06, 0.06, 0.07, 1.0)
PIN_GREY = (0.35, 0.35, 0.37, 1.0)


@register_task
class UnplugCharger(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="unplug_charger",
        max_episode_steps=160,
        procedure=ProceduralAnnotation("pull_out", "plug", "downward", "plug_body"),
        description="Pull the charger out of the wall socket.",
    )
    instructions = {
        "seen": (
            "unplug charger",
            "unplug the charger",
            "take the charger out of the wall socket",
            "grip the black charger and pull it out of the socket",
            "pull the plug out of the wall",
            "remove the charger from the mains socket",
        ),
        "unseen": (
            "disconnect the power adapter from the outlet",
            "draw the adapter brick free of its receptacle",
        ),
    }
    variation_count = 1
    tracked_bodies = ("charger_wall", CHARGER)
    #: The port this episode (placed with the layout).
    socket: Socket

    def build_scene(self, scene: SceneBuilder) -> None:
        root = scene.body("charger_wall", pos=(0.25, 0.0, 0.752))
        wx, wy, wz = WALL_HALF
        t = SLAB_HALF_THICKNESS
        scene.box(root, "charger_wall_back", (wx - t, wy, wz), WALL, pos=(wx + t, 0.0, wz))
        holed_slab(scene, root, "charger_wall_front", mouth=(0.0, 0.0, SOCKET_Z), yaw=math.pi,
                   slab_half=(t, wy, wz), slab_offset=(0.0, wz - SOCKET_Z), hole_half=CHARGER_SHAPE.connector[1:],
                   rgba=WALL)
        scene.box(root, "charger_socket_plate", (0.002, PLATE_HALF, PLATE_HALF), PLATE,
                  pos=(-0.0015, 0.0, SOCKET_Z), collide=False)
        scene.box(root, "charger_socket_recess", (0.0005, CHARGER_SHAPE.connector[1] + 0.003,
                                                  CHARGER_SHAPE.connector[2] + 0.003), HOLE,
                  pos=(-0.0036, 0.0, SOCKET_Z), collide=False)
        body = build_plug(scene, CHARGER, CHARGER_SHAPE, BLACK, BLACK, CHARGER_MASS)
        scene.box(body, "charger_label", (0.0005, 0.01, 0.004), PIN_GREY,
                  pos=(2 * CHARGER_SHAPE.grip[0] + 0.0004, 0.0, 0.012), collide=False)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.choose_variation(rng)
        def draw() -> TaskFrame | None:
            self.frame = sample_frame(rng, YAW_BOUNDS, x_range=X_RANGE, y_range=Y_RANGE)
            sim.set_body_pose("charger_wall", self.frame.pos, self.frame.quat)
            self.socket = Socket(self.frame.point((0.0, 0.0, SOCKET_Z)), self.frame.yaw + math.pi, CHARGER_SHAPE)
            self.socket.seat(sim, CHARGER)
            sim.forward()
            if reachable(sim, self._waypoints(sim), ignore=[CHARGER]):
                return self.frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(0)

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        poses = self.socket.waypoints(sim, self.arm, CHARGER, GRASP_ALONG, PULL)
        return [(pos + (0, 0, GRASP_UP), quat) for pos, quat in poses]

    def _in_success_volume(self, sim: Simulation) -> bool:
        out, across, up = self.socket.local(sim.body_pos(CHARGER))
        height = up + SOCKET_Z
        return (SUCCESS_OUT[0] <= out <= SUCCESS_OUT[1] and abs(across) <= SUCCESS_ACROSS
                and SUCCESS_HEIGHT[0] <= height <= SUCCESS_HEIGHT[1] and not self.socket.holds(sim, CHARGER))

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(charger_unplugged=self._in_success_volume(sim))

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        yield from pull_out(motion, self.arm, self._waypoints(sim), pull_steps=30)
        yield from motion.wait(5)

    def trace(self, sim: Simulation) -> str:
        return (f"out={self.socket.pulled_out(sim, CHARGER):.3f} in_socket={self.socket.holds(sim, CHARGER)} "
                f"grasped={sim.is_grasped(self.arm, CHARGER)}")

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if sim.is_grasped(self.arm, CHARGER):
            stage = "pull_out"
        else:
            stage = "reach_plug"
        target = self.socket.grasp_pose(sim, self.arm, CHARGER, GRASP_ALONG)[0] + (0, 0, GRASP_UP)
        return self.state_from_spec(sim, target, stage)
