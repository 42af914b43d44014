"""take_usb_out_of_computer: pull the USB stick out of the laptop's port and let go of it.

Description:
    An open laptop stands on the table with a USB stick plugged into a port on its right side.
    The Panda grips the stick from above, pulls it straight out of the port, opens its gripper
    and lifts away, leaving the stick on the table (RLBench ``take_usb_out_of_computer``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the laptop and the stick.
Success:
    ``usb_out_of_port``: the port no longer detects the stick (the connector's inner end has
    left the hole), and ``nothing_grasped``: the fingers do not hold the stick (both fingers
    touching it counts as holding).
    **Fidelity:** RLBench: ``DetectedCondition(usb, success, negated=True)`` (a proximity
    sensor inside the port no longer sees the stick) and ``NothingGrasped(gripper)``; ours: the
    sensor is the port's hole itself (the stick is out once its connector's inner end has left
    the 12 mm deep hole), and "grasped" is read from contacts (both fingers on the stick), as
    our physics has no attach-on-grasp; the conditions mean the same.
Starting state:
    The stick fully in the port. The task base (the laptop's centre) is placed with x 0.1..0.4,
    y -0.25..0.25 and a yaw in [-pi, pi] (RLBench keeps its default rotation bounds for this
    task); placements where the laptop leaves the table area in front of the robot or the
    grasp and pull waypoints have no collision-free IK solution are drawn again (RLBench's
    validation).
Geometry:
    RLBench's ``take_usb_out_of_computer.ttm`` is not in the reference data, so the sizes are
    ours: a laptop base 0.21 x 0.30 x 0.03 m (a thick 13-inch laptop) fixed to the table, its
    lid 0.20 m long open at 110 degrees; the port's mouth on the right side, 2 cm in front of
    the middle, 1.6 cm above the table; the stick a 12 x 5 x 12 mm connector and a 45 x 20 x
    12 mm blue body, 15 g. The stick is a little larger than a real one (about 40 x 18 x 8 mm)
    so the Panda's pads, whose tips must stay above the table, close on its lower half with
    room. The hole fits the connector with 0.25 mm to spare each side: contact alone holds the
    stick level and in place (no joint or weld; stiff, smooth walls, see ``_plug``: it creeps
    less than 0.2 mm in 30 s untouched), and friction is all that resists the pull. A real
    port's spring clips are left out.
Variations:
    1 (as in RLBench).
Episode end:
    Success, or 190 control steps (9.5 s at 20 Hz; the expert needed at most 92 on
    seeds 0-49 and 97 on 100000-100049).
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
from ._prop_area import in_prop_area

YAW_BOUNDS = (-math.pi, math.pi)
X_RANGE = (0.1, 0.4)
Y_RANGE = (-0.25, 0.25)
USB = "usb"
#: Laptop frame: x toward the front edge, y to the laptop's left, z up; origin at the base's
#: centre on the table.
BASE_HALF = (0.105, 0.15, 0.015)
LID_LENGTH, LID_HALF_WIDTH, LID_HALF_THICKNESS = 0.20, 0.15, 0.003
LID_ANGLE = math.radians(110)
PORT_X, PORT_Z = 0.02, 0.016
USB_SHAPE = PlugShape(connector=(0.006, 0.006, 0.0025), grip=(0.0225, 0.01, 0.006))
USB_MASS = 0.015
#: The side slab that holds the port: 1.4 cm thick (the connector goes 1.2 cm in).
SLAB_HALF_THICKNESS = 0.007
#: The expert grips the stick 2.8 cm out from the port (the fingers clear the laptop's side by
#: about 1.8 cm), pulls it 7 cm out, lets go and lifts 8 cm.
GRASP_ALONG = 0.028
PULL = 0.07
LIFT = 0.08
SILVER = (0.72, 0.73, 0.75, 1.0)
SCREEN = (0.05, 0.06, 0.08, 1.0)
KEYS = (0.12, 0.12, 0.13, 1.0)
STICK_BLUE = (0.1, 0.25, 0.75, 1.0)
METAL = (0.8, 0.8, 0.82, 1.0)


@register_task
class TakeUsbOutOfComputer(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="take_usb_out_of_computer",
        max_episode_steps=190,
        procedure=ProceduralAnnotation("pull_out", "plug", "downward", "plug_body"),
        description="Pull the USB stick out of the laptop and let go of it.",
    )
    instructions = {
        "seen": (
            "take usb out of computer",
            "take the usb stick out of the computer",
            "remove the usb stick from the laptop's port",
            "pull the usb stick out of the laptop",
            "grab the usb stick and slide it out of the computer",
            "grip the usb stick, pull it free of the port and let go",
        ),
        "unseen": (
            "unplug the flash drive from the notebook",
            "extract the thumb drive from its socket on the pc",
        ),
    }
    variation_count = 1
    tracked_bodies = ("laptop", USB)
    #: The port this episode (placed with the layout).
    socket: Socket

    def build_scene(self, scene: SceneBuilder) -> None:
        root = scene.body("laptop", pos=(0.25, 0.0, 0.752))
        bx, by, bz = BASE_HALF
        t = SLAB_HALF_THICKNESS
        scene.box(root, "laptop_base", (bx, by - t, bz), SILVER, pos=(0.0, t, bz))
        holed_slab(scene, root, "laptop_port_side", mouth=(PORT_X, -by, PORT_Z), yaw=-math.pi / 2,
                   slab_half=(t, bx, bz), slab_offset=(-PORT_X, bz - PORT_Z),
                   hole_half=USB_SHAPE.connector[1:], rgba=SILVER)
        scene.box(root, "laptop_port_shell", (0.0005, 0.0075, 0.004), SCREEN, pos=(PORT_X, -by - 0.0002, PORT_Z),
                  collide=False)
        scene.box(root, "laptop_keyboard", (0.06, 0.13, 0.0005), KEYS, pos=(-0.02, 0.0, 2 * bz), collide=False)
        c, s = math.cos(LID_ANGLE), math.sin(LID_ANGLE)
        hinge = np.array([-bx, 0.0, 2 * bz])
        lid_quat = (math.cos(LID_ANGLE / 2), 0.0, -math.sin(LID_ANGLE / 2), 0.0)
        along, normal = np.array([c, 0.0, s]), np.array([-s, 0.0, c])
        scene.box(root, "laptop_lid", (LID_LENGTH / 2, LID_HALF_WIDTH, LID_HALF_THICKNESS), SILVER,
                  pos=hinge + along * LID_LENGTH / 2 + normal * LID_HALF_THICKNESS, quat=lid_quat)
        scene.box(root, "laptop_screen", (LID_LENGTH / 2 - 0.012, LID_HALF_WIDTH - 0.012, 0.0005), SCREEN,
                  pos=hinge + along * LID_LENGTH / 2 + normal * (2 * LID_HALF_THICKNESS + 0.0005), quat=lid_quat,
                  collide=False)
        build_plug(scene, USB, USB_SHAPE, STICK_BLUE, METAL, USB_MASS)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.choose_variation(rng)
        def draw() -> TaskFrame | None:
            self.frame = sample_frame(rng, YAW_BOUNDS, x_range=X_RANGE, y_range=Y_RANGE)
            sim.set_body_pose("laptop", self.frame.pos, self.frame.quat)
            self.socket = Socket(self.frame.point((PORT_X, -BASE_HALF[1], PORT_Z)), self.frame.yaw - math.pi / 2,
                                 USB_SHAPE)
            self.socket.seat(sim, USB)
            sim.forward()
            corners = [self.frame.point((x, y, 0.0)) for x in (-BASE_HALF[0], BASE_HALF[0])
                       for y in (-BASE_HALF[1] - 2 * USB_SHAPE.grip[0], BASE_HALF[1])]
            if in_prop_area(corners) and reachable(sim, self._waypoints(sim), ignore=[USB]):
                return self.frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(0)

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        poses = self.socket.waypoints(sim, self.arm, USB, GRASP_ALONG, PULL)
        pulled, quat = poses[-1]
        return [*poses, (pulled + (0, 0, LIFT), quat)]

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(usb_out_of_port=not self.socket.holds(sim, USB),
                      nothing_grasped=not sim.is_grasped(self.arm, USB))

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        *poses, (lifted, quat) = self._waypoints(sim)
        yield from pull_out(motion, self.arm, poses, pull_steps=24)
        yield from motion.gripper(self.arm, motion.robot.gripper_open, steps=8)
        yield from motion.line(self.arm, lifted, quat, steps=12, segments=2)
        yield from motion.wait(5)

    def trace(self, sim: Simulation) -> str:
        return (f"out={self.socket.pulled_out(sim, USB):.3f} in_port={self.socket.holds(sim, USB)} "
                f"grasped={sim.is_grasped(self.arm, USB)}")

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        held = sim.is_grasped(self.arm, USB)
        if held:
            stage = "pull_out" if self.socket.holds(sim, USB) else "release"
        else:
            stage = "reach_plug" if self.socket.holds(sim, USB) else "retreat"
        target = self.socket.grasp_pose(sim, self.arm, USB, GRASP_ALONG)[0]
        return self.state_from_spec(sim, target, stage)
