"""The desk lamp of RLBench's ``lamp_on`` and ``lamp_off``: a bulb on a post, a push button on the base.

RLBench's lamp model (``lamp_on.ttm`` / ``lamp_off.ttm``) is not in the parsed reference geometry;
what its task code fixes is a shape ``bulb`` whose colour the task sets (black when off, white
when lit) and a prismatic ``target_button_joint`` whose travel of more than 3 mm switches the
lamp. We build a small table lamp from primitives, sized like a real one (task-base frame, x
away from the robot at yaw 0, metres):

* base: a 0.17 x 0.11 x 0.025 block on the table;
* button: a red disc 36 mm across standing 8 mm proud of the base top, 4 cm in front of the
  base centre (toward -x), on a spring that holds it up (travel 7 mm down);
* post: 24 mm across, 5 cm behind the base centre, up to 0.15 m; a socket above it (40 mm
  across, 25 mm tall), and on it the bulb, a 64 mm sphere centred 0.205 m above the base;
* glow: a non-colliding translucent sphere round the bulb, invisible while the lamp is off.

The bulb sits on top of the post, not under a shade or an arm over the base, so a gripper coming
down on the button passes nothing, and the overhead and shoulder cameras see the bulb. Lit, the
bulb turns bright warm yellow and the glow shows; off, the bulb is dark grey glass (RLBench
switches black to white).

The tasks latch the lamp as RLBench's ``step`` does: once the button has gone down by more
than 3 mm the lamp has switched and stays so, the button springing back or not.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.geometry import gripper_down_quat, nearest_symmetric_yaw
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import press
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame

ROOT = "lamp"
BUTTON = "lamp_button"
BUTTON_JOINT = "target_button_joint"
BUTTON_TOP = "lamp_button_top"
BULB = "bulb"
GLOW = "bulb_glow"

BASE_HALF = (0.085, 0.055, 0.0125)
BUTTON_X = -0.04
BUTTON_RADIUS, BUTTON_HALF_HEIGHT = 0.018, 0.006
BUTTON_PROUD = 0.008  # the button top's height above the base top
POST_X, POST_RADIUS, POST_TOP = 0.05, 0.012, 0.15
SOCKET_RADIUS, SOCKET_HALF_HEIGHT = 0.02, 0.0125
BULB_RADIUS, BULB_Z = 0.032, 0.205
GLOW_RADIUS = 0.05
#: The button's slide: 7 mm down from rest, none up; RLBench's JointCondition threshold.
TRAVEL = (-0.007, 0.0)
PRESSED = 0.003
SPRING_STIFFNESS = 500.0  # N/m: about 1.5 N holds it at the switching depth
#: How far the expert drives the fingertips below the button's rest top (1 mm short of the stop).
PRESS_DEPTH = 0.006
#: The expert's start height above the button: the bulb's top is 0.2 m above the button, and a
#: joint-space move from home to a lower start swings the hand into it.
APPROACH = 0.23

BASE_RGBA = (0.86, 0.84, 0.78, 1.0)
POST_RGBA = (0.72, 0.56, 0.26, 1.0)
BUTTON_RGBA = (0.85, 0.05, 0.05, 1.0)
BULB_OFF = (0.2, 0.2, 0.22, 1.0)
BULB_LIT = (1.0, 0.93, 0.35, 1.0)
GLOW_OFF = (1.0, 0.9, 0.4, 0.0)
GLOW_LIT = (1.0, 0.9, 0.4, 0.35)


def build_lamp(scene: SceneBuilder) -> None:
    """The lamp's bodies and geoms, its base at the scene's task-base origin (moved per episode)."""
    root = scene.body(ROOT, pos=(0.25, 0.0, 0.752))
    base_top = 2 * BASE_HALF[2]
    scene.box(root, "lamp_base", BASE_HALF, rgba=BASE_RGBA, pos=(0.0, 0.0, BASE_HALF[2]))
    post_half = (POST_TOP - base_top) / 2
    scene.cylinder(root, "lamp_post", POST_RADIUS, post_half, rgba=POST_RGBA, pos=(POST_X, 0.0, base_top + post_half))
    scene.cylinder(root, "lamp_socket", SOCKET_RADIUS, SOCKET_HALF_HEIGHT, rgba=POST_RGBA,
                   pos=(POST_X, 0.0, POST_TOP + SOCKET_HALF_HEIGHT))
    scene.sphere(root, BULB, BULB_RADIUS, rgba=BULB_OFF, pos=(POST_X, 0.0, BULB_Z))
    scene.sphere(root, GLOW, GLOW_RADIUS, rgba=GLOW_OFF, pos=(POST_X, 0.0, BULB_Z), collide=False)
    rest_z = base_top + BUTTON_PROUD - BUTTON_HALF_HEIGHT
    button = scene.body(BUTTON, pos=(BUTTON_X, 0.0, rest_z), parent=root)
    button.gravcomp = 1.0
    scene.slide(button, BUTTON_JOINT, axis=(0, 0, 1), range_=TRAVEL, damping=2.0, stiffness=SPRING_STIFFNESS,
                springref=0.0)
    scene.cylinder(button, BUTTON, BUTTON_RADIUS, BUTTON_HALF_HEIGHT, rgba=BUTTON_RGBA, mass=0.02)
    scene.site(button, BUTTON_TOP, pos=(0.0, 0.0, BUTTON_HALF_HEIGHT))
    scene.exclude(ROOT, BUTTON)


def show_lit(sim: Simulation, lit: bool) -> None:
    """Colour the bulb and its glow for a lamp that is on (``lit``) or off."""
    sim.set_rgba([BULB], BULB_LIT if lit else BULB_OFF)
    sim.set_rgba([GLOW], GLOW_LIT if lit else GLOW_OFF)


class LampTask(RLBenchTask):
    """What ``lamp_on`` and ``lamp_off`` share: the lamp, its placement, the latch and the expert.

    Subclasses set ``starts_lit`` and the spec and instructions.
    """

    #: The lamp's state at the start of an episode; pressing the button switches it.
    starts_lit: bool
    variation_count = 1
    tracked_bodies = (ROOT, BUTTON)
    frame: TaskFrame
    #: The button has gone down past the threshold at some step of this episode.
    switched: bool

    def build_scene(self, scene: SceneBuilder) -> None:
        build_lamp(scene)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        index = self.choose_variation(rng)

        def draw() -> TaskFrame | None:
            self.frame = sample_frame(rng)  # RLBench's default rotation bounds: any yaw
            sim.set_body_pose(ROOT, self.frame.pos, self.frame.quat)
            sim.forward()
            top = sim.site_pos(BUTTON_TOP)
            tip = np.array([0.0, 0.0, sim.robot.fingertip_below_tcp])
            quat = gripper_down_quat(self._yaw(sim.robot.natural_yaw[self.arm]))
            poses = [(top + tip + (0, 0, APPROACH), quat), (top + tip - (0, 0, PRESS_DEPTH), quat)]
            return self.frame if reachable(sim, poses, ignore=[BUTTON]) else None

        self.frame = self.draw_layout(draw)
        self.switched = False
        show_lit(sim, self.starts_lit)
        return self.variation_placeholders(index)

    def _yaw(self, natural: float) -> float:
        """Finger axis across the base (along its local y), so the hand's long side stays clear of
        the post; of the two such yaws, the one nearer the arm's natural yaw."""
        return nearest_symmetric_yaw(self.frame.yaw + math.pi / 2, natural)

    def lit(self) -> bool:
        return self.starts_lit != self.switched

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        # RLBench's JointCondition: the button more than 3 mm from its rest position. Its task
        # step recolours the bulb then; we latch the switch here, once per control step, so the
        # observation that follows shows the bulb's new state.
        pressed = abs(sim.joint_qpos(BUTTON_JOINT)) > PRESSED
        if pressed and not self.switched:
            self.switched = True
            show_lit(sim, self.lit())
        return all_of(button_pressed=pressed)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        yaw = self._yaw(motion.robot.natural_yaw[self.arm])
        yield from press(motion, self.arm, sim.site_pos(BUTTON_TOP), depth=PRESS_DEPTH, yaw=yaw, approach=APPROACH)

    def trace(self, sim: Simulation) -> str:
        return f"button={1000 * sim.joint_qpos(BUTTON_JOINT):.1f}mm lit={self.lit()}"

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        return self.state_from_spec(sim, sim.site_pos(BUTTON_TOP))
