"""place_shoe-v1: put a shoe on the blue mat with its toe pointing left, as upstream's target asks.

Description:
    A shoe lies on the table at a random heading, and a thin blue mat (26 x 10 cm, long from
    left to right) lies fixed in front of the robot, between the arms. The arm on the shoe's
    side picks the shoe up across its narrow waist, turns it so it runs along the mat with its
    toe to the left (-x) and sets it down on the mat's centre (RoboTwin 2.0 ``place_shoe``).
    Everything but the toe's direction is version 0's (``place_shoe``): the same shoe, mat,
    ranges, expert and thresholds.
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the shoe, then the mat.
Success:
    The shoe's centre is within 5 cm of the mat's centre along the mat (x) and within 2 cm
    across it (y), the shoe stands upright with its toe within 0.263 rad (15.1 degrees) of -x
    (``toe_to_the_left``), and no part of the robot touches it while it is at rest.
    Fidelity: upstream's place_shoe asks for the shoe's quaternion within 0.07 per component of
    (0.5, 0.5, -0.5, -0.5), which is one heading only; it does not name the heading in words.
    Upstream's place_dual_shoes uses the same target quaternion for the same shoe models, and
    its instructions insist that the toes point to the left, so that quaternion puts the toe
    at -x. Version 0 read it as +x; this version follows the evidence of place_dual_shoes.
    The rest is version 0's Fidelity note: the same 5 cm / 2 cm offsets, the quaternion test
    as a 0.263 rad heading limit plus an upright check, and released and at rest instead of
    grippers open.
Starting state:
    As version 0 (upstream's ranges shifted into our frame: shoe at x in [-0.25, 0.25],
    y in [0.4, 0.55], its centre at least 15 cm from (0, 0.5), any heading; mat fixed at
    (0, 0.42)).
Episode end:
    Success, or 500 control steps (upstream's evaluation limit).
Version history:
    v0: first version (split v1): toe to the right (+x). v1: toe to the left (-x), the heading
    upstream's target quaternion means (split v2, splits zw7 and all50).
"""

from __future__ import annotations

import math

from vlapro_bench.registry import ProceduralAnnotation, register_task

from ._common import RoboTwinTask
from .place_shoe import PlaceShoe, _templates

#: Words that name the toe's side in version 0's templates, and what they become here.
_MIRROR = {"right": "left", "left": "right", "rightward": "leftward"}


def _mirrored(text: str) -> str:
    """A template with every side word swapped (toe right <-> toe left, heel left <-> heel right)."""
    words = text.split(" ")
    out = []
    for word in words:
        core = word.rstrip(".,")
        out.append(_MIRROR.get(core, core) + word[len(core):])
    return " ".join(out)


def _templates_v1() -> dict[str, tuple[str, ...]]:
    """Version 0's seen and unseen templates with the toe's side mirrored."""
    return {pool: tuple(_mirrored(t) for t in templates) for pool, templates in _templates().items()}


@register_task
class PlaceShoeV1(PlaceShoe):
    spec = RoboTwinTask.spec_for(
        name="place_shoe",
        version=1,
        max_episode_steps=500,
        procedure=ProceduralAnnotation("pick_place", "shoe", "downward", "pad_centre"),
        description="Place the shoe on the blue mat, along the mat with its toe to the left.",
    )
    instructions = _templates_v1()
    target_yaw = math.pi
    toe_condition = "toe_to_the_left"
