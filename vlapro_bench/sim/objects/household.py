"""Household props for the placement family: small objects, phone, bread, apple, stands, basket.

Every prop is built from primitives (no mesh files). Builders return a small record that tells
tasks and experts what they need about the prop (which body to move, which geoms carry the
colour, where a top-down grasp holds it, how big it is), so task files stay short.

Conventions:
    * Graspable props are free bodies whose origin is the centre of their bottom face, so a prop
      rests on the table with its origin at z = 0 and ``body_pos`` is its footprint centre.
    * Stands and baskets have their origin on the floor of their footprint, at their centre.
    * Colours are per-episode (``set_rgba``); each record lists the geoms that take the colour.
    * A task that picks one of several prop kinds per episode builds all of them once and parks
      the unused ones on a hidden shelf under the table (:func:`parking_shelf`, :func:`park`),
      because the scene is compiled once per task.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.geometry import (
    mat_to_quat,
    yaw_quat,
)
from vlapro_bench.sim.physics import Simulation

RGBA = tuple[float, float, float, float]

#: Named colours for instructions ("the red can"); the names are what the instruction says.
COLOURS: dict[str, RGBA] = {
    "red": (0.82, 0.14, 0.14, 1),
    "green": (0.16, 0.62, 0.24, 1),
    "blue": (0.16, 0.36, 0.82, 1),
    "yellow": (0.92, 0.8, 0.16, 1),
    "orange": (0.95, 0.5, 0.1, 1),
    "purple": (0.5, 0.24, 0.66, 1),
    "white": (0.92, 0.92, 0.9, 1),
    "black": (0.12, 0.12, 0.13, 1),
    "pink": (0.93, 0.5, 0.66, 1),
    "silver": (0.72, 0.74, 0.78, 1),
}
#: Stand and basket finishes (name, rgba): "the wooden stand", "the white basket".
FINISHES: dict[str, RGBA] = {
    "wooden": (0.62, 0.44, 0.26, 1),
    "white": (0.9, 0.9, 0.88, 1),
    "black": (0.16, 0.16, 0.18, 1),
    "grey": (0.5, 0.52, 0.55, 1),
    "blue": (0.3, 0.45, 0.7, 1),
}
#: The table's body: a prop that rests on a stand or in a basket must not also touch it.
TABLE_BODY = "table"
#: Body-name prefix of every robot link (both ViperX arms).
ROBOT_PREFIX = "vx300s_"
#: A prop counts as at rest below this body speed (m/s), as ``is_stacked`` does.
REST_SPEED = 0.05
#: The hidden shelf for unused props: under the table top, out of every camera's view.
PARKING_Z = -0.3
PARKING_XS = tuple(-0.42 + 0.12 * i for i in range(8))
#: Height of the room's floor plane (``SceneBuilder.table``), which has no collision geom.
FLOOR_Z = -0.75

#: Where a free prop sits in the compiled model; tasks pass a spot that is not a success state,
#: because MuJoCo's automatic reset after a numerical blow-up returns free bodies there.
HOME = (0.0, 0.5, 0.0)
#: A spot on the table's far corner, out of every task's working area (a safe ``pos``).
TABLE_CORNER = (0.46, 0.8, 0.0)
#: Contact parameters for stand and basket surfaces (a little less grippy than graspable props).
SURFACE_FRICTION = (1.0, 0.005, 0.0001)


@dataclass(frozen=True)
class GraspableProp:
    """A free prop that one gripper picks top-down.

    ``grasp_z`` is the TCP height above the body origin for a top-down grasp; it keeps the
    finger tips (2.4 cm past the TCP) just clear of the table. ``grasp_yaw_offset`` is the finger
    direction relative to the body's x axis (pi/2: fingers close across the body's y extent),
    and ``symmetry`` the period of equivalent grasp yaws (small for round props).
    """

    body: str
    kind: str  # e.g. "can", used to pick kinds in tasks
    noun: str  # the words an instruction uses, e.g. "can", "Rubik's cube"
    geometry: str  # procedural-state geometry label, e.g. "cylinder", "cuboid"
    colour_geoms: tuple[str, ...]  # geoms that take the per-episode colour (empty: fixed look)
    grasp_z: float
    height: float
    radius: float  # footprint radius (for spacing props apart)
    grasp_yaw_offset: float = math.pi / 2
    symmetry: float = math.pi
    colours: tuple[str, ...] = ("red", "green", "blue", "yellow", "orange", "purple")

    def describe(self, colour: str | None) -> str:
        """The words an instruction uses for this prop, e.g. 'red can'."""
        return self.noun if colour is None or not self.colour_geoms else f"{colour} {self.noun}"


@dataclass(frozen=True)
class StandProp:
    """A fixed stand: the supported area is a rectangle in the ``support`` frame.

    The support frame sits on the support surface at its centre (in the stand's body frame,
    position ``support_pos`` and rotation ``support_rot``); its z axis is the surface normal.
    ``support_half`` is the (x, y) half-extent of the area a placed object must be over.
    """

    body: str
    geoms: tuple[str, ...]  # geoms that take the stand finish colour
    support_pos: np.ndarray
    support_rot: np.ndarray
    support_half: tuple[float, float]
    tilt: float  # surface tilt (rad) about the stand's x axis, rising toward +y
    lip_v: float = 0.0  # support-frame y of the front lip's inner face (tilted stands)

    def support_pose(self, sim: Simulation) -> tuple[np.ndarray, np.ndarray]:
        """World position and rotation matrix of the support frame."""
        pos, rot = sim.body_pos(self.body), sim.body_mat(self.body)
        return pos + rot @ self.support_pos, rot @ self.support_rot

    def surface_point(self, sim: Simulation, u: float = 0.0, v: float = 0.0) -> np.ndarray:
        """World point on the support surface at support-frame (u, v)."""
        pos, rot = self.support_pose(sim)
        return pos + rot @ np.array([u, v, 0.0])

    def to_support(self, sim: Simulation, point: Sequence[float]) -> np.ndarray:
        """A world point in the support frame (u, v along the surface, w off it)."""
        pos, rot = self.support_pose(sim)
        return rot.T @ (np.asarray(point, float) - pos)

    def over_support(self, sim: Simulation, point: Sequence[float], margin: float = 0.0) -> bool:
        """True if ``point`` projects inside the support rectangle (shrunk by ``margin``)."""
        u, v, _ = self.to_support(sim, point)
        return abs(u) < self.support_half[0] - margin and abs(v) < self.support_half[1] - margin


@dataclass(frozen=True)
class BasketProp:
    """A free open basket: floor and four separate wall slabs, so it is really concave."""

    body: str
    geoms: tuple[str, ...]
    inner_half: tuple[float, float]
    floor_top: float  # height of the floor's top face above the body origin
    rim: float  # height of the wall tops above the body origin
    outer_half: tuple[float, float] = field(default=(0.0, 0.0))


# -- small graspable objects ----------------------------------------------------------------
def can(
    scene: SceneBuilder, name: str, radius: float = 0.02, height: float = 0.075, mass: float = 0.05,
    pos: Sequence[float] = HOME,
) -> GraspableProp:
    """A drink can: a cylinder with a silver lid (visual only)."""
    body = scene.body(name, pos=pos, free=True)
    scene.cylinder(body, f"{name}_shell", radius, height / 2, COLOURS["red"], pos=(0, 0, height / 2), mass=mass)
    scene.cylinder(body, f"{name}_lid", radius * 0.85, 0.001, COLOURS["silver"], pos=(0, 0, height + 0.0005),
                   collide=False)
    return GraspableProp(name, "can", "can", "cylinder", (f"{name}_shell",), grasp_z=height - 0.02,
                         height=height, radius=radius, symmetry=math.pi / 8)


def cup(
    scene: SceneBuilder, name: str, radius: float = 0.023, height: float = 0.06, mass: float = 0.05,
    pos: Sequence[float] = HOME,
) -> GraspableProp:
    """A mug: a cylinder with coffee on top and a handle on the body's +x side.

    Fingers close across the body's y extent, so they never meet the handle.
    """
    body = scene.body(name, pos=pos, free=True)
    scene.cylinder(body, f"{name}_shell", radius, height / 2, COLOURS["white"], pos=(0, 0, height / 2), mass=mass)
    scene.cylinder(body, f"{name}_coffee", radius * 0.85, 0.001, (0.3, 0.18, 0.1, 1), pos=(0, 0, height + 0.0005),
                   collide=False)
    scene.box(body, f"{name}_handle", (0.008, 0.004, 0.016), COLOURS["white"], pos=(radius + 0.007, 0, height * 0.55),
              mass=0.004)
    return GraspableProp(name, "cup", "mug", "cylinder", (f"{name}_shell", f"{name}_handle"), grasp_z=height - 0.018,
                         height=height, radius=radius + 0.015,
                         colours=("red", "blue", "white", "yellow", "green", "pink"))


def tea_box(
    scene: SceneBuilder, name: str, half=(0.03, 0.02, 0.026), mass: float = 0.05, pos: Sequence[float] = HOME,
) -> GraspableProp:
    """A small upright carton with a white label band."""
    body = scene.body(name, pos=pos, free=True)
    scene.box(body, f"{name}_shell", half, COLOURS["green"], pos=(0, 0, half[2]), mass=mass)
    scene.box(body, f"{name}_label", (half[0] + 0.0005, half[1] * 0.6, half[2] * 0.4), COLOURS["white"],
              pos=(0, 0, half[2] * 1.1), collide=False)
    return GraspableProp(name, "tea_box", "tea box", "cuboid", (f"{name}_shell",), grasp_z=2 * half[2] - 0.016,
                         height=2 * half[2], radius=math.hypot(half[0], half[1]))


def rubiks_cube(
    scene: SceneBuilder, name: str, half: float = 0.02, mass: float = 0.05, pos: Sequence[float] = HOME,
) -> GraspableProp:
    """A black cube with a coloured sticker on each visible face (stickers are visual only)."""
    body = scene.body(name, pos=pos, free=True)
    scene.box(body, f"{name}_core", (half, half, half), (0.08, 0.08, 0.09, 1), pos=(0, 0, half), mass=mass)
    faces = [((0, 0, 1), "white"), ((1, 0, 0), "red"), ((-1, 0, 0), "orange"), ((0, 1, 0), "blue"),
             ((0, -1, 0), "green"), ((0, 0, -1), "yellow")]
    for i, (normal, colour) in enumerate(faces):
        n = np.array(normal, float)
        size = np.where(n != 0, 0.0008, half * 0.86)
        at = tuple(n * (half + 0.0004) + (0, 0, half))
        scene.box(body, f"{name}_sticker{i}", tuple(size), COLOURS[colour], pos=at, collide=False)
    return GraspableProp(name, "rubiks_cube", "Rubik's cube", "cuboid", (), grasp_z=2 * half - 0.016,
                         height=2 * half, radius=half * math.sqrt(2), symmetry=math.pi / 2)


def toy_car(scene: SceneBuilder, name: str, mass: float = 0.05, pos: Sequence[float] = HOME) -> GraspableProp:
    """A toy car: body, cabin and four wheels tucked inside the body's width (so the grasp
    width is the body's 3.4 cm)."""
    body = scene.body(name, pos=pos, free=True)
    scene.box(body, f"{name}_body", (0.032, 0.017, 0.009), COLOURS["red"], pos=(0, 0, 0.016), mass=mass * 0.8)
    scene.box(body, f"{name}_cabin", (0.016, 0.015, 0.008), COLOURS["red"], pos=(-0.004, 0, 0.032), mass=mass * 0.1)
    scene.box(body, f"{name}_window", (0.0165, 0.0152, 0.004), (0.55, 0.75, 0.9, 1), pos=(-0.004, 0, 0.033),
              collide=False)
    wheel_quat = (math.cos(math.pi / 4), math.sin(math.pi / 4), 0, 0)
    for i, (x, y) in enumerate([(0.02, 0.012), (0.02, -0.012), (-0.02, 0.012), (-0.02, -0.012)]):
        scene.cylinder(body, f"{name}_wheel{i}", 0.008, 0.0035, (0.08, 0.08, 0.08, 1), pos=(x, y, 0.008),
                       quat=wheel_quat, mass=mass * 0.025)
    return GraspableProp(name, "toy_car", "toy car", "cuboid", (f"{name}_body", f"{name}_cabin"), grasp_z=0.026,
                         height=0.04, radius=0.037)


def remote_control(scene: SceneBuilder, name: str, mass: float = 0.05, pos: Sequence[float] = HOME) -> GraspableProp:
    """A flat remote control lying on its back, with a few buttons (visual only)."""
    body = scene.body(name, pos=pos, free=True)
    scene.box(body, f"{name}_shell", (0.055, 0.019, 0.008), COLOURS["black"], pos=(0, 0, 0.008), mass=mass)
    for i, x in enumerate((0.035, 0.015, -0.005, -0.025)):
        colour = COLOURS["red"] if i == 0 else COLOURS["silver"]
        scene.cylinder(body, f"{name}_button{i}", 0.0045, 0.0008, colour, pos=(x, 0, 0.0165), collide=False)
    return GraspableProp(name, "remote_control", "remote control", "thin_slab", (f"{name}_shell",), grasp_z=0.024,
                         height=0.016, radius=0.058, colours=("black", "white", "silver", "blue"))


SMALL_OBJECT_BUILDERS = {
    "can": can,
    "cup": cup,
    "tea_box": tea_box,
    "rubiks_cube": rubiks_cube,
    "toy_car": toy_car,
    "remote_control": remote_control,
}


# -- phone, bread, apple --------------------------------------------------------------------
def phone(
    scene: SceneBuilder, name: str, half=(0.036, 0.0175, 0.0055), mass: float = 0.03, pos: Sequence[float] = HOME
) -> GraspableProp:
    """A phone lying screen-up: a 7.2 x 3.5 x 1.1 cm slab with a dark screen (visual only).

    Its friction is low so that, released on an inclined stand, it slides down onto the lip
    the way a real phone settles; the fingers' own friction still holds it in a grasp.
    """
    body = scene.body(name, pos=pos, free=True)
    scene.box(body, f"{name}_case", half, COLOURS["black"], pos=(0, 0, half[2]), mass=mass,
              friction=(0.35, 0.005, 0.0001))
    scene.box(body, f"{name}_screen", (half[0] - 0.003, half[1] - 0.002, 0.0004), (0.05, 0.07, 0.12, 1),
              pos=(0, 0, 2 * half[2] + 0.0002), collide=False)
    scene.cylinder(body, f"{name}_camera", 0.003, 0.0004, (0.3, 0.3, 0.32, 1), pos=(half[0] - 0.008, 0, -0.0003),
                   collide=False)
    return GraspableProp(name, "phone", "phone", "thin_slab", (f"{name}_case",), grasp_z=2 * half[2] + 0.013,
                         height=2 * half[2], radius=math.hypot(half[0], half[1]),
                         colours=("black", "white", "blue", "pink", "silver"))


def bread(scene: SceneBuilder, name: str, length: float = 0.1, width: float = 0.042, height: float = 0.04,
          mass: float = 0.05, pos: Sequence[float] = HOME) -> GraspableProp:
    """A loaf: a flat-bottomed slab under a domed ellipsoid crust, long along the body's x axis."""
    body = scene.body(name, pos=pos, free=True)
    crust = (length / 2, width / 2, height * 0.6)
    scene.box(body, f"{name}_base", (length / 2 - 0.008, width / 2 - 0.002, 0.008), COLOURS["orange"],
              pos=(0, 0, 0.008), mass=mass * 0.4)
    scene.ellipsoid(body, f"{name}_crust", crust, COLOURS["orange"], pos=(0, 0, height - crust[2]), mass=mass * 0.6)
    return GraspableProp(name, "bread", "bread", "loaf", (f"{name}_base", f"{name}_crust"), grasp_z=0.026,
                         height=height, radius=length / 2)


#: Bread crust colours, named as an instruction would ("the golden bread").
BREAD_COLOURS: dict[str, RGBA] = {
    "golden": (0.86, 0.6, 0.28, 1),
    "brown": (0.6, 0.36, 0.18, 1),
    "dark": (0.38, 0.22, 0.12, 1),
    "pale": (0.93, 0.8, 0.58, 1),
}


def apple(
    scene: SceneBuilder, name: str, radius: float = 0.023, mass: float = 0.06, pos: Sequence[float] = HOME,
) -> GraspableProp:
    """An apple: a sphere of 4.6 cm (narrow enough for the 6.5 cm gripper) with a stem and leaf."""
    body = scene.body(name, pos=pos, free=True)
    scene.sphere(body, f"{name}_flesh", radius, COLOURS["red"], pos=(0, 0, radius), mass=mass)
    scene.capsule(body, f"{name}_stem", 0.0015, 0.005, (0.35, 0.22, 0.1, 1), pos=(0, 0, 2 * radius + 0.003),
                  collide=False)
    scene.ellipsoid(body, f"{name}_leaf", (0.007, 0.003, 0.001), (0.2, 0.55, 0.15, 1),
                    pos=(0.005, 0, 2 * radius + 0.004), collide=False)
    return GraspableProp(name, "apple", "apple", "sphere", (f"{name}_flesh",), grasp_z=radius + 0.002,
                         height=2 * radius, radius=radius, symmetry=math.pi / 8)


#: Apple skins, named as an instruction would ("the green apple").
APPLE_COLOURS: dict[str, RGBA] = {
    "red": (0.78, 0.08, 0.1, 1),
    "green": (0.45, 0.75, 0.2, 1),
    "yellow": (0.93, 0.8, 0.25, 1),
    "dark red": (0.5, 0.05, 0.08, 1),
}


# -- stands and basket ----------------------------------------------------------------------
def _rot_x(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def display_stand(
    scene: SceneBuilder,
    name: str,
    board_half=(0.055, 0.045),
    board_centre_z: float = 0.06,
    tilt: float = math.radians(8),
    thickness: float = 0.004,
    lip_height: float = 0.012,
) -> StandProp:
    """A display stand: a foot, a riser and a board inclined toward the viewer with a front lip.

    The board rises toward the stand's +y, so its face (and what stands on it) looks toward -y,
    the operator and head camera when the stand is not yawed. The lip keeps round or sliding
    objects on the board.
    """
    body = scene.body(name, pos=(0, 0.5, 0))
    rot = _rot_x(tilt)
    quat = tuple(mat_to_quat(rot))
    centre = np.array([0.0, 0.0, board_centre_z])
    low_front = board_centre_z - board_half[1] * math.sin(tilt)
    geoms = [f"{name}_foot", f"{name}_riser", f"{name}_board", f"{name}_lip"]
    scene.box(body, geoms[0], (board_half[0], board_half[1], 0.004), friction=SURFACE_FRICTION, pos=(0, 0, 0.004))
    riser_h = low_front - thickness
    scene.box(body, geoms[1], (board_half[0] * 0.5, board_half[1] * 0.7, riser_h / 2), friction=SURFACE_FRICTION,
              pos=(0, 0, riser_h / 2))
    scene.box(body, geoms[2], (board_half[0], board_half[1], thickness), friction=SURFACE_FRICTION,
              pos=tuple(centre), quat=quat)
    lip_local = np.array([0.0, -board_half[1] + 0.003, thickness + lip_height / 2])
    scene.box(body, geoms[3], (board_half[0], 0.003, lip_height / 2), friction=SURFACE_FRICTION,
              pos=tuple(centre + rot @ lip_local), quat=quat)
    support_pos = centre + rot @ np.array([0.0, 0.0, thickness])
    return StandProp(name, tuple(geoms), support_pos, rot, (board_half[0], board_half[1]), tilt,
                     lip_v=-board_half[1] + 0.006)


def fruit_stand(
    scene: SceneBuilder,
    name: str,
    plate_radius: float = 0.05,
    plate_z: float = 0.06,
    rim_height: float = 0.008,
    segments: int = 16,
) -> StandProp:
    """A fruit stand: a round foot, a column and a plate with a low rim (separate slabs, so the
    plate is concave and a round fruit cannot roll off)."""
    body = scene.body(name, pos=(0, 0.5, 0))
    geoms = [f"{name}_foot", f"{name}_column", f"{name}_plate"]
    scene.cylinder(body, geoms[0], plate_radius * 0.9, 0.004, friction=SURFACE_FRICTION, pos=(0, 0, 0.004))
    scene.cylinder(body, geoms[1], 0.012, plate_z / 2, friction=SURFACE_FRICTION, pos=(0, 0, plate_z / 2))
    scene.cylinder(body, geoms[2], plate_radius, 0.003, friction=SURFACE_FRICTION, pos=(0, 0, plate_z - 0.003))
    seg_half = math.pi * plate_radius / segments * 1.1
    for i in range(segments):
        a = 2 * math.pi * i / segments
        geom = f"{name}_rim{i}"
        geoms.append(geom)
        scene.box(body, geom, (0.002, seg_half, rim_height / 2), friction=SURFACE_FRICTION,
                  pos=((plate_radius - 0.002) * math.cos(a), (plate_radius - 0.002) * math.sin(a),
                       plate_z + rim_height / 2),
                  quat=tuple(yaw_quat(a)))
    half = plate_radius / math.sqrt(2)
    return StandProp(name, tuple(geoms), np.array([0.0, 0.0, plate_z]), np.eye(3), (half, half), 0.0)


def phone_stand(
    scene: SceneBuilder,
    name: str,
    cradle_half=(0.045, 0.05),
    tilt: float = math.radians(50),
    front_z: float = 0.014,
    thickness: float = 0.004,
    lip_height: float = 0.018,
) -> StandProp:
    """A phone stand: a base plate, a cradle inclined toward the viewer, a lip at its foot and a
    back plate under its top edge.

    A phone laid on the cradle (portrait: its long side along the slope) slides down onto the
    lip and leans there, screen to the viewer. The cradle is low-friction for that reason.
    """
    body = scene.body(name, pos=(0, 0.5, 0))
    rot = _rot_x(tilt)
    quat = tuple(mat_to_quat(rot))
    # Cradle centre so that its lower edge sits ``front_z`` above the base plate's centre line.
    centre = np.array([0.0, 0.0, front_z]) + rot @ np.array([0.0, cradle_half[1], 0.0])
    slick = (0.3, 0.005, 0.0001)
    geoms = [f"{name}_base", f"{name}_cradle", f"{name}_lip", f"{name}_back"]
    depth = cradle_half[1] * math.cos(tilt) + 0.01
    scene.box(body, geoms[0], (cradle_half[0], depth, 0.004), friction=SURFACE_FRICTION,
              pos=(0, cradle_half[1] * math.cos(tilt) - 0.005, 0.004))
    scene.box(body, geoms[1], (cradle_half[0], cradle_half[1], thickness), friction=slick, pos=tuple(centre),
              quat=quat)
    lip_local = np.array([0.0, -cradle_half[1] + 0.003, thickness + lip_height / 2])
    scene.box(body, geoms[2], (cradle_half[0], 0.003, lip_height / 2), friction=slick,
              pos=tuple(centre + rot @ lip_local), quat=quat)
    top = centre + rot @ np.array([0.0, cradle_half[1], 0.0])
    scene.box(body, geoms[3], (cradle_half[0] * 0.8, 0.005, top[2] / 2), friction=SURFACE_FRICTION,
              pos=(0, top[1] + 0.002, top[2] / 2))
    support_pos = centre + rot @ np.array([0.0, 0.0, thickness])
    return StandProp(name, tuple(geoms), support_pos, rot, (cradle_half[0], cradle_half[1]), tilt,
                     lip_v=-cradle_half[1] + 0.006)


def basket(
    scene: SceneBuilder,
    name: str,
    inner_half=(0.09, 0.075),
    wall_height: float = 0.045,
    wall: float = 0.005,
    mass: float = 0.4,
    pos: Sequence[float] = HOME,
) -> BasketProp:
    """An open basket: a floor slab and four wall slabs (separate geoms keep it concave)."""
    body = scene.body(name, pos=pos, free=True)
    ix, iy = inner_half
    floor = 0.004
    geoms = [f"{name}_floor", f"{name}_wall_n", f"{name}_wall_s", f"{name}_wall_e", f"{name}_wall_w"]
    scene.box(body, geoms[0], (ix + wall, iy + wall, floor / 2), friction=SURFACE_FRICTION, pos=(0, 0, floor / 2),
              mass=mass * 0.3)
    h = wall_height / 2
    z = floor + h
    scene.box(body, geoms[1], (ix + 2 * wall, wall / 2, h), friction=SURFACE_FRICTION, pos=(0, iy + wall / 2, z),
              mass=mass * 0.2)
    scene.box(body, geoms[2], (ix + 2 * wall, wall / 2, h), friction=SURFACE_FRICTION, pos=(0, -iy - wall / 2, z),
              mass=mass * 0.2)
    scene.box(body, geoms[3], (wall / 2, iy, h), friction=SURFACE_FRICTION, pos=(ix + wall / 2, 0, z),
              mass=mass * 0.15)
    scene.box(body, geoms[4], (wall / 2, iy, h), friction=SURFACE_FRICTION, pos=(-ix - wall / 2, 0, z),
              mass=mass * 0.15)
    return BasketProp(name, tuple(geoms), (ix, iy), floor, floor + wall_height, (ix + 2 * wall, iy + 2 * wall))


def pot_shell(scene: SceneBuilder, body: Any, name: str, rgba: Sequence[float], *, radius: float,
              height: float, wall: float, base: float, staves: int, base_mass: float, stave_mass: float) -> list[str]:
    """The open body of a cooking pot in ``body`` (made by ``SceneBuilder.body``), origin at the
    centre of its bottom face: a base disc, a hollow wall of ``staves`` flat staves (so it is
    really open) and a rolled rim that does not collide. Returns the geoms, base first; the
    caller adds the handles."""
    geoms = [scene.cylinder(body, f"{name}_base", radius - 0.002, base / 2, rgba, pos=(0, 0, base / 2),
                            mass=base_mass, friction=SURFACE_FRICTION).name]
    wall_half = (height - base) / 2
    r = radius - wall / 2
    stave_half = r * math.tan(math.pi / staves) + 0.0005
    for k in range(staves):
        angle = 2 * math.pi * k / staves
        geoms.append(scene.box(body, f"{name}_stave{k}", (wall / 2, stave_half, wall_half), rgba,
                               pos=(r * math.cos(angle), r * math.sin(angle), base + wall_half),
                               quat=tuple(yaw_quat(angle)), mass=stave_mass, friction=SURFACE_FRICTION).name)
    geoms.append(scene.cylinder(body, f"{name}_rim", radius + 0.002, 0.002, rgba, pos=(0, 0, height - 0.002),
                                collide=False).name)
    return geoms


def fixed_open_box(scene: SceneBuilder, name: str, xy: Sequence[float], inner_half: Sequence[float], wall: float,
                   height: float, base: float, rgba: Sequence[float]) -> tuple[str, ...]:
    """A box fixed to the table, open at the top: a base slab and four walls (separate geoms keep
    it concave), its origin on the table at its centre; returns the geoms, base first."""
    body = scene.body(name, pos=(xy[0], xy[1], 0))
    ix, iy = inner_half
    h = height / 2
    parts = [
        (f"{name}_base", (ix + 2 * wall, iy + 2 * wall, base / 2), (0, 0, base / 2)),
        (f"{name}_front", (ix + 2 * wall, wall / 2, h), (0, -iy - wall / 2, h)),
        (f"{name}_back", (ix + 2 * wall, wall / 2, h), (0, iy + wall / 2, h)),
        (f"{name}_left", (wall / 2, iy, h), (-ix - wall / 2, 0, h)),
        (f"{name}_right", (wall / 2, iy, h), (ix + wall / 2, 0, h)),
    ]
    for geom, half, pos in parts:
        scene.box(body, geom, half, rgba, pos=pos, friction=SURFACE_FRICTION)
    return tuple(p[0] for p in parts)


# -- hidden parking for unused prop kinds ---------------------------------------------------
def parking_shelf(scene: SceneBuilder, name: str = "parking_shelf") -> str:
    """An invisible static shelf under the table top where unused props wait for an episode.

    It is below the table, so the head, front and wrist cameras never see it.
    """
    body = scene.body(name, pos=(0.0, 0.45, PARKING_Z - 0.01))
    scene.box(body, name, (0.52, 0.1, 0.01), (0, 0, 0, 0))
    return name


def catch_floor(scene: SceneBuilder, name: str = "catch_floor") -> str:
    """Invisible collision slabs at the room's (visual-only) floor, walls and ceiling.

    A prop that a random policy knocks off the table then lands on the floor and stays in the
    room, instead of falling forever until the integrator blows up (MuJoCo then resets the
    whole state, which must never read as a success).
    """
    body = scene.body(name, pos=(0.0, 0.45, FLOOR_Z - 0.05))
    hidden = (0, 0, 0, 0)
    scene.box(body, name, (2.2, 2.0, 0.05), hidden, friction=SURFACE_FRICTION)
    # Walls and ceiling where SceneBuilder.table draws them (relative to this body).
    top = 2.5 - 0.05
    h = top / 2
    slabs = [((0, 1.2, h), (2.2, 0.02, h)), ((0, -1.6, h), (2.2, 0.02, h)), ((2.0, 0, h), (0.02, 2.0, h)),
             ((-2.0, 0, h), (0.02, 2.0, h)), ((0, 0, top), (2.2, 2.0, 0.02))]
    for i, (pos, half) in enumerate(slabs):
        scene.box(body, f"{name}_wall{i}", half, hidden, pos=pos, friction=SURFACE_FRICTION)
    return name


def parking_spot(slot: int) -> tuple[float, float, float]:
    """Position of parking slot ``slot`` on the hidden shelf (also a safe compiled ``pos``)."""
    return (PARKING_XS[slot], 0.45, PARKING_Z + 0.001)


def park(sim: Simulation, props: Sequence[GraspableProp], active: Iterable[str] = ()) -> None:
    """Put every prop but the ``active`` ones (by body name) on the shelf, prop i in slot i.

    Build prop i with ``pos=parking_spot(i)`` so its compiled position is the same slot.
    """
    active = set(active)
    for i, prop in enumerate(props):
        if prop.body not in active:
            sim.set_free_pose(prop.body, parking_spot(i))
