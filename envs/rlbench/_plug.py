"""A plug seated in a socket, shared by take_usb_out_of_computer and unplug_charger.

Both tasks pull a loose part out of a hole in a fixed prop: a USB stick out of a laptop's port,
a charger out of a wall socket. The socket is a hole through a slab of the prop (four boxes
round the opening, the prop's body behind it); the plug is a free body, a connector that fits
the hole with a quarter of a millimetre to spare and a grip outside it. Nothing but contact
holds the plug: the snug hole carries its weight, friction resists the pull.

Frames: a socket is given by its mouth (the centre of the opening, in the prop's frame) and the
yaw of its outward normal; the plug's own +x is that normal, its origin the connector's outer
end, so a seated plug has the socket's pose.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.franka import TABLE_TOP_Z
from vlapro_bench.sim.geometry import gripper_down_quat, nearest_symmetric_yaw, quat_to_mat, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation

#: The hole is this much wider (each side) than the connector.
CLEARANCE = 0.00025
#: Contact time constant of the hole's walls and the connector. With MuJoCo's default (0.02 s)
#: the plug's weight sank the connector 0.6-1.3 mm into the walls, tilted the plug by about 10
#: degrees and let it creep 2-5 mm out in 30 s with the arm still (4 seeds per task); with
#: these (and the smooth connector below) it sags 0.01 mm and creeps at most 0.2 mm.
STIFF = (0.004, 1.0)
#: The connector slides in its hole on smooth metal or plastic (MuJoCo takes the larger of two
#: frictions, so the hole's walls have it too): with the grip's friction (1.5) and stiff walls,
#: a pull a little off the hole's axis jammed it.
CONNECTOR_FRICTION = (0.3, 0.005, 0.0001)
#: A seated plug's grip stops this short of the socket's face: resting against the face it
#: would add contacts (and step time) that hold nothing.
GRIP_GAP = 0.0005
#: The fingertips stay this far above the table at the grasp.
TIP_CLEARANCE = 0.004
APPROACH = 0.10
#: How far outside the hole's walls the socket still detects the connector's inner end.
DETECT_MARGIN = 0.004


@dataclass(frozen=True)
class PlugShape:
    """Half extents (along the plug's axis, across, up) of the connector and of the grip."""

    connector: tuple[float, float, float]
    grip: tuple[float, float, float]

    @property
    def depth(self) -> float:
        """How far the connector goes into the socket."""
        return 2 * self.connector[0]


def _local_box(centre: np.ndarray, yaw: float, n: float, u: float, z: float) -> list[float]:
    """A point ``n`` along the normal of yaw ``yaw``, ``u`` across it and ``z`` up from ``centre``."""
    c, s = math.cos(yaw), math.sin(yaw)
    return [centre[0] + n * c - u * s, centre[1] + n * s + u * c, centre[2] + z]


def holed_slab(
    scene: SceneBuilder,
    body: Any,
    name: str,
    mouth: tuple[float, float, float],
    yaw: float,
    slab_half: tuple[float, float, float],
    slab_offset: tuple[float, float],
    hole_half: tuple[float, float],
    rgba: tuple[float, float, float, float],
) -> None:
    """A slab whose outer face holds the socket's opening, as four boxes round the hole.

    ``body``: the prop's spec body (``Any``: pyright does not know MuJoCo's spec classes);
    ``mouth``: the opening's centre in ``body``'s frame; ``yaw``: its outward normal's heading
    there; ``slab_half``: half extents (thickness along the normal, width across, height);
    ``slab_offset``: the slab's centre across and up from the mouth; ``hole_half``: the hole's
    half width and half height. The hole goes through the slab: whatever the slab stands on
    closes it.
    """
    centre = np.asarray(mouth, float)
    t, w, h = slab_half
    du, dz = slab_offset
    a, b = hole_half
    quat = list(yaw_quat(yaw))
    low, high = dz - h, dz + h
    left, right = du - w, du + w
    pieces = {
        "below": ((du, (low + -b) / 2), (w, (-b - low) / 2)),
        "above": ((du, (b + high) / 2), (w, (high - b) / 2)),
        "right": (((left + -a) / 2, 0.0), ((-a - left) / 2, b)),
        "left": (((a + right) / 2, 0.0), ((right - a) / 2, b)),
    }
    for piece, ((u, z), (hu, hz)) in pieces.items():
        if hu > 0 and hz > 0:
            wall = scene.box(body, f"{name}_{piece}", (t, hu, hz), rgba, pos=_local_box(centre, yaw, -t, u, z),
                             quat=quat, friction=CONNECTOR_FRICTION)
            wall.solref = list(STIFF)


def build_plug(
    scene: SceneBuilder,
    name: str,
    shape: PlugShape,
    grip_rgba: tuple[float, float, float, float],
    connector_rgba: tuple[float, float, float, float],
    mass: float,
) -> Any:
    """The free plug: its connector behind its origin (inside the socket when seated), its grip
    in front, ``GRIP_GAP`` out (the connector's last half millimetre shows)."""
    body = scene.body(name, pos=(0.25, 0.0, 1.0), free=True)
    cx, cy, cz = shape.connector
    connector = scene.box(body, f"{name}_connector", (cx, cy - CLEARANCE, cz - CLEARANCE), connector_rgba,
                          pos=(-cx, 0.0, 0.0), mass=0.1 * mass, friction=CONNECTOR_FRICTION)
    connector.solref = list(STIFF)
    scene.box(body, f"{name}_grip", shape.grip, grip_rgba, pos=(shape.grip[0] + GRIP_GAP, 0.0, 0.0), mass=0.9 * mass)
    return body


@dataclass
class Socket:
    """Where a socket is in the world this episode: its mouth and its outward normal's yaw."""

    mouth: np.ndarray
    yaw: float
    shape: PlugShape

    @property
    def normal(self) -> np.ndarray:
        return np.array([math.cos(self.yaw), math.sin(self.yaw), 0.0])

    def seat(self, sim: Simulation, plug: str) -> None:
        """Put the plug fully into the socket."""
        sim.set_free_pose(plug, self.mouth, yaw_quat(self.yaw))

    def local(self, point: np.ndarray) -> np.ndarray:
        """A world point in the socket's frame (along the normal, across, up)."""
        d = np.asarray(point, float) - self.mouth
        n = self.normal
        return np.array([d @ n, -d[0] * n[1] + d[1] * n[0], d[2]])

    def tip(self, sim: Simulation, plug: str) -> np.ndarray:
        """World position of the connector's inner end (its centre)."""
        mat = quat_to_mat(sim.body_quat(plug))
        return sim.body_pos(plug) - mat[:, 0] * self.shape.depth

    def holds(self, sim: Simulation, plug: str) -> bool:
        """The socket detects the plug: the connector's inner end is inside the hole (behind
        the mouth; across and up within ``DETECT_MARGIN`` of the hole, as a connector pressed
        into a wall of its hole by a knock still is)."""
        n, u, z = self.local(self.tip(sim, plug))
        cy, cz = self.shape.connector[1:]
        return (-self.shape.depth - DETECT_MARGIN <= n <= 0.0 and abs(u) <= cy + DETECT_MARGIN
                and abs(z) <= cz + DETECT_MARGIN)

    def pulled_out(self, sim: Simulation, plug: str) -> float:
        """How far (m) the plug has come out along the normal from fully seated."""
        return float(self.local(sim.body_pos(plug))[0])

    def grasp_pose(self, sim: Simulation, arm: str, plug: str, along: float) -> tuple[np.ndarray, np.ndarray]:
        """TCP pose over the grip, ``along`` metres out from the socket, fingers closing across
        the plug, as high as the fingertips need to clear the table."""
        mat = quat_to_mat(sim.body_quat(plug))
        point = sim.body_pos(plug) + mat[:, 0] * along
        point[2] = max(point[2], TABLE_TOP_Z + sim.robot.fingertip_below_tcp + TIP_CLEARANCE)
        axis_yaw = math.atan2(mat[1, 0], mat[0, 0])
        yaw = nearest_symmetric_yaw(axis_yaw + math.pi / 2, sim.robot.natural_yaw[arm])
        return point, gripper_down_quat(yaw)

    def waypoints(self, sim: Simulation, arm: str, plug: str, along: float,
                  pull: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """Above the grasp, the grasp, and pulled ``pull`` metres along the normal."""
        grasp, quat = self.grasp_pose(sim, arm, plug, along)
        return [(grasp + (0, 0, APPROACH), quat), (grasp, quat), (grasp + self.normal * pull, quat)]


def pull_out(motion: Motion, arm: str, poses: list[tuple[np.ndarray, np.ndarray]],
             pull_steps: int) -> Iterator[np.ndarray]:
    """Grasp the plug from above and pull it straight out (the poses of :meth:`Socket.waypoints`)."""
    (above, quat), (grasp, _), (pulled, _) = poses
    yield from motion.move(arm, above, quat, steps=30, gripper=motion.robot.gripper_open)
    yield from motion.line(arm, grasp, quat, steps=16, segments=2)
    yield from motion.gripper(arm, motion.robot.gripper_closed, steps=8)
    yield from motion.wait(3)
    yield from motion.line(arm, pulled, quat, steps=pull_steps, segments=max(2, pull_steps // 6))
