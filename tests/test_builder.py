"""Scene builders: generated meshes collide, excluded pairs do not, props compile."""

import mujoco
import numpy as np

from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.objects.primitives import block
from vlapro_bench.sim.physics import Simulation


def _scene_with_dome(scene: SceneBuilder) -> None:
    root = scene.body("dome", pos=(0.0, 0.5, 0.0))
    mesh = scene.revolved_mesh("dome_mesh", [(0.05, 0.0), (0.04, 0.03), (0.0, 0.04)], segments=16)
    scene.geom(root, "dome", mujoco.mjtGeom.mjGEOM_MESH, (0, 0, 0), mesh=mesh)
    block(scene, "cube", half=0.01)


def test_revolved_mesh_collides_as_its_hull():
    sim = Simulation(_scene_with_dome)
    sim.reset()
    mesh_id = sim.model.geom("dome").dataid
    assert sim.model.mesh_vertnum[mesh_id] == 3 * 16
    sim.set_free_pose("cube", (0.0, 0.5, 0.2))
    sim.step(600)
    # The cube rests on the dome's apex (z = 0.04) plus its half size, not on the table.
    assert abs(sim.body_pos("cube")[2] - 0.05) < 0.004
    assert sim.in_contact("cube", "dome")


def test_excluded_pair_never_collides():
    def build(scene: SceneBuilder) -> None:
        base = scene.body("base", pos=(0, 0.5, 0.02))
        scene.box(base, "base", (0.03, 0.03, 0.02))
        lid = scene.body("lid", pos=(0, 0, 0.025), parent=base)
        scene.slide(lid, "lid_slide", (0, 0, 1), (-0.02, 0.0))
        scene.box(lid, "lid", (0.025, 0.025, 0.01), mass=0.05)
        scene.exclude("base", "lid")

    sim = Simulation(build)
    sim.reset()
    sim.step(300)  # gravity pulls the lid into the base; only the joint limit stops it
    assert not sim.in_contact("base", "lid")
    assert np.isclose(sim.joint_qpos("lid_slide"), -0.02, atol=2e-3)


def test_contact_queries_follow_every_change_of_state():
    """Contacts are cached per physics state: a step, a forward after moving a body, a reset and
    MuJoCo called directly must each be seen (checked against the contact list itself)."""
    sim = Simulation(_scene_with_dome)
    cube, dome = sim.body_id("cube"), sim.body_id("dome")

    def truth() -> bool:
        pairs = sim.model.geom_bodyid[sim.data.contact.geom[: sim.data.ncon]].tolist()
        return [cube, dome] in pairs or [dome, cube] in pairs

    sim.reset()
    sim.set_free_pose("cube", (0.0, 0.5, 0.2))
    sim.step(600)
    assert sim.in_contact("cube", "dome") and sim.in_contact("dome", "cube") and truth()
    sim.set_free_pose("cube", (0.3, 0.5, 0.3))  # lifted away, same simulation time
    sim.forward()
    assert not sim.in_contact("cube", "dome") and not truth()
    sim.set_free_pose("cube", (0.0, 0.5, 0.049))
    mujoco.mj_forward(sim.model, sim.data)  # not through Simulation: the contact count changes
    assert sim.in_contact("cube", "dome") and truth()
    sim.set_free_pose("cube", (0.3, 0.5, 0.3))
    sim.step(1)
    assert sim.in_contact("cube", "dome") == truth() is False
    sim.reset()
    assert sim.in_contact("cube", "dome") == truth()
