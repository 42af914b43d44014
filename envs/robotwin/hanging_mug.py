"""hanging_mug: pick a mug up, turn it and set it down mid-table, then hang it on a rack's peg.

Description:
    A mug with a loop handle stands on the left of the table, and a mug rack (a heavy base, a
    post and a short peg slanting up towards the robot, with a second peg at the back) stands
    at the back on the right. The left arm picks the mug up, turns it so that its handle points
    across the rack's peg, and sets it down in the middle of the table; the right arm then
    takes it, threads the handle's loop over the peg from the peg's tip and lets go, and the
    mug hangs by its handle (RoboTwin 2.0 ``hanging_mug``, whose expert uses the arms the same
    way: the left arm picks and sets the mug down in the middle, the right arm hangs it).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the mug, then the rack.
Success:
    The middle of the handle's loop is within 2 cm (in x and in y) of the middle of the front
    peg and more than 12 cm above the table; the mug hangs on the rack (touches it and not the
    table); and no part of the robot touches the mug while it is at rest.
    Fidelity: upstream checks that the mug's handle point is within 2 cm (x and y) of the
    midpoint between the rack's origin and its hanging point, that it is above z = 0.86 (12 cm
    above its 0.74 table) and that the right gripper is open. Ours is the same 2 cm box around
    the peg's middle (from the post's axis to the tip) and the same height; instead of the
    open gripper we ask that the robot has let go, that the mug is at rest and that it hangs on
    the rack, so a mug still swinging, held up by a finger, or standing on the table is not
    counted.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): mug at x in [-0.25, -0.1], y in
    [0.45, 0.55], its handle turned up to 90 degrees either way from pointing to the left (-x);
    rack at x in [0.1, 0.3], y in [0.63, 0.67], its front peg pointing towards the robot (-y)
    turned by up to 0.2 rad about the vertical. The mid-table spot where the left arm sets the
    mug down is upstream's (0, 0.35). Upstream picks one of ten mug meshes; ours is one rigid
    model built from primitives (a 5.6 cm wide, 8.5 cm tall body, narrower than most real mugs
    so that the 6.5 cm gripper spans it, and a loop handle whose opening is 2.5 x 3.6 cm), in
    one of six colours. Upstream's rack is a static mesh (``040_rack``); ours is a fixed model:
    a 12 x 12 cm base, a 23.5 cm post, a 6.5 cm front peg (from the post's axis) at 20 cm,
    slanting up by 20 degrees, and a shorter back peg, in one of three finishes.
Episode end:
    Success, or 900 control steps (36 s at 25 Hz; the expert needs at most 473 on seeds 0-49
    and 100000-100049). Upstream's evaluation limit is 900 policy actions.
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
from vlapro_bench.sim.objects.household import COLOURS, HOME, TABLE_BODY, GraspableProp
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.placement import (
    body_yaw_in_world,
    carry_turning,
    grasp_prop,
    pick_colour,
    place_prop,
    released_at_rest,
    round_inertia,
    set_on_table,
)
from vlapro_bench.sim.skills import APPROACH_HEIGHT, NATURAL_YAW
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask
from .put_object_cabinet import top_down_joints

MUG, RACK, HANDLE_SITE = "mug", "rack", "mug_handle_point"
#: Mug body radius and height; handle: bar radius, reach from the wall, heights of its top and
#: bottom bars (m).
MUG_RADIUS, MUG_HEIGHT = 0.028, 0.085
HANDLE_BAR, HANDLE_REACH, HANDLE_TOP, HANDLE_BOTTOM = 0.0045, 0.03, 0.07, 0.025
#: Middle of the handle's loop in the mug's frame (the handle points along local +x).
HANDLE_POINT = np.array([MUG_RADIUS + (HANDLE_REACH - HANDLE_BAR) / 2, 0.0, (HANDLE_TOP + HANDLE_BOTTOM) / 2])
#: Rack: base half-size, post radius and top, front peg radius, root height, length from the
#: post's axis and upward slant; back peg length and height.
RACK_BASE = (0.06, 0.06, 0.008)
POST_RADIUS, POST_TOP = 0.009, 0.235
PEG_RADIUS, PEG_Z, PEG_LENGTH, PEG_SLANT = 0.005, 0.2, 0.065, math.radians(20)
BACK_PEG_LENGTH, BACK_PEG_Z = 0.05, 0.16
#: Upstream's thresholds: handle point within 2 cm (x and y) of the peg's middle, and above
#: 12 cm over the table.
XY_TOLERANCE, MIN_HEIGHT = 0.02, 0.12
#: Upstream's ranges in our frame (m, rad).
MUG_X, MUG_Y, MUG_TURN = (-0.25, -0.1), (0.45, 0.55), math.pi / 2
RACK_X, RACK_Y, RACK_TURN = (0.1, 0.3), (0.63, 0.67), 0.2
MIDDLE = (0.0, 0.35)
#: How far along the peg (from the post's axis) the expert threads the loop before letting go;
#: the mug then slides down the slanted peg towards the post.
THREAD_TO = 0.045
MUG_COLOURS = {k: COLOURS[k] for k in ("red", "blue", "white", "yellow", "green", "black")}
RACK_FINISHES = {"dark grey": (0.22, 0.22, 0.24, 1), "silver": (0.7, 0.71, 0.74, 1),
                 "wooden": (0.58, 0.42, 0.26, 1)}
X_TO_Z = (math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0)  # a capsule's axis along x


def mug(scene: SceneBuilder, name: str) -> GraspableProp:
    """A mug: a solid body (a dark disc on top reads as its opening) and a loop handle on local
    +x made of three capsules (top and bottom bars out from the wall, an upright outer bar), so
    the loop is really open and a peg can pass through it. The fingers close across the body's
    y extent, never on the handle."""
    body = scene.body(name, pos=HOME, free=True)
    colour = MUG_COLOURS["white"]
    scene.cylinder(body, f"{name}_body", MUG_RADIUS, MUG_HEIGHT / 2, colour, pos=(0, 0, MUG_HEIGHT / 2), mass=0.08)
    scene.cylinder(body, f"{name}_inside", MUG_RADIUS * 0.85, 0.0008, (0.12, 0.1, 0.09, 1),
                   pos=(0, 0, MUG_HEIGHT + 0.0004), collide=False)
    half_bar = (HANDLE_REACH + 0.002) / 2
    for part, z in (("top", HANDLE_TOP), ("bottom", HANDLE_BOTTOM)):
        scene.capsule(body, f"{name}_handle_{part}", HANDLE_BAR, half_bar, colour,
                      pos=(MUG_RADIUS + HANDLE_REACH / 2 - 0.002, 0, z), quat=X_TO_Z, mass=0.004)
    scene.capsule(body, f"{name}_handle_outer", HANDLE_BAR, (HANDLE_TOP - HANDLE_BOTTOM) / 2, colour,
                  pos=(MUG_RADIUS + HANDLE_REACH, 0, (HANDLE_TOP + HANDLE_BOTTOM) / 2), mass=0.004)
    scene.site(body, HANDLE_SITE, pos=tuple(HANDLE_POINT))
    geoms = (f"{name}_body", f"{name}_handle_top", f"{name}_handle_bottom", f"{name}_handle_outer")
    return GraspableProp(name, "mug", "mug", "mug", geoms, grasp_z=MUG_HEIGHT - 0.02, height=MUG_HEIGHT,
                         radius=MUG_RADIUS + HANDLE_REACH, colours=tuple(MUG_COLOURS))


def _peg_direction(slant: float) -> np.ndarray:
    """Unit vector of the front peg in the rack's frame: towards local -y, tilted up."""
    return np.array([0.0, -math.cos(slant), math.sin(slant)])


def rack(scene: SceneBuilder, name: str) -> tuple[str, ...]:
    """A fixed mug rack: a square base, an upright post, a front peg slanting up towards local
    -y with a ball on its tip, and a shorter level peg at the back. Returns its geoms."""
    body = scene.body(name, pos=(0.2, 0.65, 0.0))
    finish = RACK_FINISHES["dark grey"]
    geoms = [
        scene.box(body, f"{name}_base", RACK_BASE, finish, pos=(0, 0, RACK_BASE[2])),
        scene.cylinder(body, f"{name}_post", POST_RADIUS, (POST_TOP - 2 * RACK_BASE[2]) / 2, finish,
                       pos=(0, 0, (POST_TOP + 2 * RACK_BASE[2]) / 2)),
    ]
    d = _peg_direction(PEG_SLANT)
    tilt = math.pi / 2 - PEG_SLANT  # turns a capsule's z axis onto the peg
    root = np.array([0.0, 0.0, PEG_Z])
    geoms.append(scene.capsule(body, f"{name}_peg", PEG_RADIUS, PEG_LENGTH / 2, finish,
                               pos=tuple(root + d * PEG_LENGTH / 2),
                               quat=(math.cos(tilt / 2), math.sin(tilt / 2), 0, 0)))
    geoms.append(scene.sphere(body, f"{name}_peg_tip", PEG_RADIUS + 0.002, finish,
                              pos=tuple(root + d * PEG_LENGTH)))
    back = (math.cos(-math.pi / 4), math.sin(-math.pi / 4), 0, 0)  # capsule along local y
    geoms.append(scene.capsule(body, f"{name}_back_peg", PEG_RADIUS, BACK_PEG_LENGTH / 2, finish,
                               pos=(0, BACK_PEG_LENGTH / 2, BACK_PEG_Z), quat=back))
    return tuple(g.name for g in geoms)


def _templates() -> dict[str, Sequence[str]]:
    """Seen and unseen instruction pools, composed from verbs and phrases.

    ``{A}`` is the mug and ``{B}`` the rack, each named from ``descriptions`` per episode.
    Unseen templates use verbs and phrasing no seen template uses.
    """
    picks = ("Pick up the {A}", "Grab the {A} with the left arm", "Lift the {A}", "Take the {A}")
    turns = ("turn it", "rotate it")
    sets = ("set it down in the middle", "put it down in the center of the table")
    hangs = ("hang it on the {B}.", "then hang it on the {B} with the right arm.", "and hang it onto the {B}.")
    seen = [f"{p}, {t}, {s}, {h}" for p, t, s, h in product(picks, turns, sets, hangs[:2])]
    hang = ("Hang", "Hook", "Put")
    on = ("on the {B}", "onto the {B} by its handle", "on the peg of the {B}")
    seen += [f"{v} the {{A}} {o}." for v, o in product(hang, on)]
    seen += [
        "Use the left arm to pick up the {A} and the right arm to hang it on the {B}.",
        "Move the {A} to the middle with the left arm, then hang it on the {B} with the right arm.",
        "Pick the {A} up, rotate it, put it in the middle and hang it on the {B}.",
        "Hang the {A} on the {B} after turning it in the middle of the table.",
        "Grab the {A}, place it in the center turned around, then hook it onto the {B}.",
        "Get the {A} onto the {B}, hanging by its handle.",
        "The {A} goes on the {B}: hang it by the handle.",
        "Put the {A} down in the middle first, then hang it on the {B}.",
        "Hang the {A} by its handle on the peg of the {B}.",
        "With the right arm, hang the {A} on the {B} once the left arm has set it in the middle.",
        "Slide the handle of the {A} over the peg of the {B}.",
        "Turn the {A} in the middle of the table and hang it on the {B}.",
        "Pick up the {A} with one arm, hand it on through the middle, and hang it on the {B}.",
        "Lift the {A}, rotate it, set it down, then hang it on the {B}.",
        "Use both arms to hang the {A} on the {B}.",
    ]
    unseen = (
        "Suspend the {A} from the {B} by its loop.",
        "Relocate the {A} mid-table with your left hand, then dangle it from the {B} with your right.",
        "Spin the {A} round at the centre and leave it dangling from the {B}.",
        "Let the {A} dangle from the {B}, its loop threaded over the prong.",
        "Thread the loop of the {A} onto the prong of the {B}.",
        "Swivel the {A}, park it centrally, and suspend it from the {B}.",
        "Your left hand repositions the {A}; your right hand suspends it from the {B}.",
        "Leave the {A} suspended from the {B}'s prong.",
        "Drape the {A} over the prong of the {B} by its loop.",
        "Stow the {A} by dangling it from the {B}.",
    )
    return {"seen": tuple(dict.fromkeys(seen)), "unseen": unseen}


@register_task
class HangingMug(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="hanging_mug",
        max_episode_steps=900,
        procedure=ProceduralAnnotation("hang", "mug", "downward", "handle"),
        description="Pick the mug up, set it down turned in the middle, then hang it by its handle on the rack's peg.",
    )
    instructions = _templates()
    descriptions = {
        "A": {
            "seen": ("{c} mug", "mug", "{c} mug with a handle", "{c} ceramic mug", "{c} coffee mug"),
            "unseen": ("{c} cup for hot drinks", "glazed {c} beaker", "{c} tea vessel"),
        },
        "B": {
            "seen": ("{f} rack", "rack", "{f} mug rack", "{f} metal rack"),
            "unseen": ("{f} hook stand", "{f} cup tree", "upright {f} holder"),
        },
    }
    tracked_bodies = (MUG, RACK)

    def build_scene(self, scene: SceneBuilder) -> None:
        self.mug = mug(scene, MUG)
        self.rack_geoms = rack(scene, RACK)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        round_inertia(sim, [self.mug])
        mug_xy = (rng.uniform(*MUG_X), rng.uniform(*MUG_Y))
        set_on_table(sim, self.mug, mug_xy, math.pi + rng.uniform(-MUG_TURN, MUG_TURN))
        rack_xy = (rng.uniform(*RACK_X), rng.uniform(*RACK_Y))
        self.rack_yaw = rng.uniform(-RACK_TURN, RACK_TURN)
        sim.set_body_pose(RACK, (rack_xy[0], rack_xy[1], 0.0), yaw_quat(self.rack_yaw))
        colour = pick_colour(rng, tuple(MUG_COLOURS))
        sim.set_rgba(self.mug.colour_geoms, MUG_COLOURS[colour])
        finish = pick_colour(rng, tuple(RACK_FINISHES))
        sim.set_rgba(self.rack_geoms, RACK_FINISHES[finish])
        sim.forward()
        self.arm = "left"
        return {"A": f"{colour} mug", "B": f"{finish} rack", "c": colour, "f": finish}

    # -- geometry -----------------------------------------------------------------------------
    def peg_point(self, sim: Simulation, along: float) -> np.ndarray:
        """World point on the front peg's axis, ``along`` metres out from the post's axis."""
        local = np.array([0.0, 0.0, PEG_Z]) + along * _peg_direction(PEG_SLANT)
        return sim.body_pos(RACK) + sim.body_mat(RACK) @ local

    def handle_point(self, sim: Simulation) -> np.ndarray:
        """Middle of the handle's loop (upstream's functional point of the mug)."""
        return sim.site_pos(HANDLE_SITE)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        handle = self.handle_point(sim)
        offset = np.abs(handle[:2] - self.peg_point(sim, PEG_LENGTH / 2)[:2])
        return all_of(
            handle_on_peg=bool(np.all(offset < XY_TOLERANCE)),
            handle_high=bool(handle[2] > MIN_HEIGHT),
            mug_hangs_on_rack=sim.in_contact(MUG, RACK) and not sim.in_contact(MUG, TABLE_BODY),
            mug_released_at_rest=released_at_rest(sim, MUG),
        )

    # -- expert -----------------------------------------------------------------------------
    def _handle_yaw(self, sim: Simulation) -> float:
        return body_yaw_in_world(sim, MUG)

    def _hang_yaw(self) -> float:
        """Handle heading while hanging: across the peg, towards the robot's left (-x)."""
        return math.pi + self.rack_yaw

    def _turn(self, motion: Motion, arm: str, pos: np.ndarray, start_yaw: float, end_yaw: float,
              steps: int = 40) -> Iterator[np.ndarray]:
        """Move the TCP (pointing down) to ``pos`` while turning the fingers (:func:`carry_turning`;
        a plain move if no turn can be planned)."""
        yield from carry_turning(motion, arm, pos, start_yaw, end_yaw, steps=steps, min_steps=10, fallback=True)

    def _finger_yaw(self, sim: Simulation, arm: str) -> float:
        finger = sim.tcp_mat(arm)[:, 1]
        return math.atan2(finger[1], finger[0])

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        # The left arm picks the mug (fingers across the body, never on the handle), turns it
        # so that its handle points across the peg, and sets it down in the middle.
        across = body_yaw_in_world(sim, MUG) + math.pi / 2
        approach = sim.body_pos(MUG) + (0, 0, self.mug.grasp_z + APPROACH_HEIGHT)
        joints, yaw = top_down_joints(motion, "left", approach, (across, across + math.pi))
        yield from motion.move_joints({"left": joints}, 30, {"left": motion.robot.gripper_open})
        yield from grasp_prop(sim, motion, "left", self.mug, yaw=yaw)
        finger = self._finger_yaw(sim, "left")
        place_yaw = finger + math.remainder(self._hang_yaw() - self._handle_yaw(sim), 2 * math.pi)
        above = np.array([MIDDLE[0], MIDDLE[1], self.mug.grasp_z + 0.09])
        yield from self._turn(motion, "left", above, finger, place_yaw)
        goal = np.array([MIDDLE[0], MIDDLE[1], 0.003])
        yield from place_prop(sim, motion, "left", self.mug, goal, [place_yaw], hover=0.05, retreat=0.1)
        # The left arm goes home; the right arm takes the mug from above and lifts it.
        yield from motion.home("left", steps=30)
        handle_yaw = self._handle_yaw(sim)
        yield from grasp_prop(sim, motion, "right", self.mug, lift=0.12,
                              yaw=nearest_symmetric_yaw(handle_yaw + math.pi / 2, NATURAL_YAW["right"]))
        # Thread the loop over the peg: line the loop's middle up with the peg's axis beyond its
        # tip, slide it along the axis towards the post, lower it onto the peg and let go.
        offset = sim.tcp_mat("right").T @ (self.handle_point(sim) - sim.tcp_pos("right"))
        finger = self._finger_yaw(sim, "right")
        yaw = finger + math.remainder(self._hang_yaw() - self._handle_yaw(sim), 2 * math.pi)
        quat = gripper_down_quat(yaw)
        rot = quat_to_mat(quat)

        def tcp_for(handle: np.ndarray) -> np.ndarray:
            return handle - rot @ offset

        start = self.peg_point(sim, PEG_LENGTH + 0.06)
        yield from self._turn(motion, "right", tcp_for(start + (0, 0, 0.04)), finger, yaw, steps=45)
        yield from motion.line("right", tcp_for(start), quat, steps=16, segments=2)
        yield from motion.line("right", tcp_for(self.peg_point(sim, THREAD_TO)), quat, steps=36, segments=4)
        yield from motion.line("right", tcp_for(self.peg_point(sim, THREAD_TO) - (0, 0, 0.014)), quat, steps=12,
                               segments=2)
        yield from motion.gripper("right", motion.robot.gripper_open, steps=10)
        yield from motion.wait(6)
        tcp, _ = motion.tcp_target_pose("right")
        yield from motion.line("right", tcp + (0, 0, 0.1), quat, steps=16, segments=2)
        yield from motion.wait(20)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        pos = sim.body_pos(MUG)
        peg = self.peg_point(sim, PEG_LENGTH / 2)
        if sim.is_grasped("left", MUG):
            return self.state_from_spec(sim, np.array([*MIDDLE, 0.0]), "turn_and_set_down", action_type="place")
        if sim.is_grasped("right", MUG):
            return self.state_from_spec(sim, peg, "hang", arm="right")
        if pos[2] > 0.08:  # let go on the rack
            return self.state_from_spec(sim, peg, "release", arm="right")
        if np.linalg.norm(pos[:2] - np.array(MIDDLE)) < 0.05:
            return self.state_from_spec(sim, pos + (0, 0, self.mug.grasp_z), "regrasp", action_type="grasp",
                                        arm="right")
        return self.state_from_spec(sim, pos + (0, 0, self.mug.grasp_z), "grasp", action_type="grasp")
