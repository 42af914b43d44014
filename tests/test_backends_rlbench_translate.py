"""RLBench observations and actions to our spaces, on recorded upstream-shaped data.

``recorded_observation`` builds an object with the attributes of RLBench 1.2.0's
``rlbench.backend.observation.Observation`` (shared/reference/rlbench.md section 2): five
cameras' ``*_rgb`` (uint8) and ``*_depth`` (metres with ``depth_in_meters=True``), the Panda's
7 joint positions and velocities, the two finger joints, ``gripper_open`` and ``gripper_pose``
as xyz + xyzw. No upstream import. The spaces are compared with the embedded RLBench suite's,
which a policy must see unchanged on either backend.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from vlapro_bench.backends import rlbench_translate as rl
from vlapro_bench.backends.common import observation_space
from vlapro_bench.env import VLAProEnv
from vlapro_bench.errors import InvalidActionError

JOINTS = [0.0, 0.1752, 0.0, -0.8732, 0.0, 1.2216, 0.7854]  # RLBench's initial Panda pose
TIP = [0.2785, -0.0082, 1.4719]
QUAT_XYZW = [0.0, 0.9239, 0.0, 0.3827]
VELOCITIES = [0.01, -0.02, 0.03, -0.04, 0.05, -0.06, 25.0]


def recorded_observation(size=(128, 128), gripper_open=1.0, fingers=(0.04, 0.04), with_depth=True):
    fields = {}
    for i, cam in enumerate(rl.RLBENCH_CAMERAS):
        fields[f"{cam}_rgb"] = np.full((*size, 3), 40 * i, dtype=np.uint8)
        fields[f"{cam}_depth"] = np.full(size, 0.5 + 0.25 * i) if with_depth else None
        fields[f"{cam}_mask"] = fields[f"{cam}_point_cloud"] = None
    fields.update(
        joint_positions=np.array(JOINTS), joint_velocities=np.array(VELOCITIES), joint_forces=None,
        gripper_open=gripper_open, gripper_pose=np.array(TIP + QUAT_XYZW), gripper_matrix=None,
        gripper_joint_positions=None if fingers is None else np.array(fingers),
        gripper_touch_forces=None, task_low_dim_state=None, misc={},
    )
    return SimpleNamespace(**fields)


def translate(raw, cameras=rl.RLBENCH_CAMERAS, size=(128, 128), obs_mode="rgb"):
    return rl.translate_observation(raw, cameras=cameras, camera_size=size, obs_mode=obs_mode,
                                    instruction="reach the red target")


def test_proprioception_is_joints_then_finger_opening_and_the_pose_turns_wxyz():
    obs = translate(recorded_observation(gripper_open=0.0, fingers=(0.011, 0.013)))
    np.testing.assert_allclose(obs["agent_pos"], np.array(JOINTS + [0.012], dtype=np.float32))
    np.testing.assert_array_equal(obs["ee_pose"], np.array(TIP + [0.3827, 0.0, 0.9239, 0.0, 0.0], dtype=np.float32))
    np.testing.assert_array_equal(obs["joint_velocities"], np.array(VELOCITIES[:6] + [20.0], dtype=np.float32))
    assert obs["agent_pos"].dtype == obs["ee_pose"].dtype == obs["joint_velocities"].dtype == np.float32
    # Without finger joints in the observation the open flag stands in for the opening.
    assert translate(recorded_observation(gripper_open=1.0, fingers=None))["agent_pos"][7] == np.float32(0.04)


def test_our_camera_names_are_rlbench_names():
    raw = recorded_observation()
    obs = translate(raw)
    assert list(obs["images"]) == list(rl.RLBENCH_CAMERAS)
    for i, cam in enumerate(rl.RLBENCH_CAMERAS):
        np.testing.assert_array_equal(obs["images"][cam], np.full((128, 128, 3), 40 * i, np.uint8))
        assert not np.shares_memory(obs["images"][cam], getattr(raw, f"{cam}_rgb"))


def test_depth_is_metres_with_a_channel_axis():
    obs = translate(recorded_observation(), obs_mode="rgbd", cameras=("front", "wrist"))
    assert set(obs["depth"]) == {"front", "wrist"}
    assert obs["depth"]["front"].shape == (128, 128, 1) and obs["depth"]["front"].dtype == np.float32
    assert np.all(obs["depth"]["front"] == 1.5) and np.all(obs["depth"]["wrist"] == 1.25)
    far = recorded_observation()
    far.front_depth = np.full((128, 128), 100.0)
    assert rl.DEPTH_FAR == 4.5 and np.all(translate(far, obs_mode="rgbd")["depth"]["front"] == 4.5)


def test_float_images_are_converted_as_rlbench_does_and_missing_ones_are_named():
    raw = recorded_observation()
    raw.wrist_rgb = np.full((128, 128, 3), 0.5)
    assert np.all(translate(raw)["images"]["wrist"] == 127)
    raw.overhead_rgb = None
    with pytest.raises(KeyError, match="overhead_rgb"):
        translate(raw)
    with pytest.raises(KeyError, match="left_shoulder_depth"):
        translate(recorded_observation(with_depth=False), obs_mode="rgbd")


def test_another_image_size_is_fitted_to_ours():
    obs = translate(recorded_observation(size=(256, 256)), size=(128, 128))
    assert obs["images"]["front"].shape == (128, 128, 3)


def test_translated_observation_is_inside_our_space():
    space = observation_space(rl.RLBENCH_CAMERAS, (128, 128), "rgbd", rl.agent_pos_bounds(), rl.ee_pose_bounds(),
                              depth_far=rl.DEPTH_FAR, joint_velocities=7)
    assert space.contains(translate(recorded_observation(), obs_mode="rgbd"))


@pytest.mark.parametrize("mode", rl.CONTROL_MODES)
def test_spaces_equal_the_embedded_rlbench_suites(mode):
    """Same keys, shapes, dtypes and bounds as VLAProEnv(suite="rlbench"): policies run unchanged."""
    embedded = VLAProEnv("reach_target", suite="rlbench", obs_mode="rgbd", control_mode=mode)
    ours = observation_space(rl.RLBENCH_CAMERAS, (128, 128), "rgbd", rl.agent_pos_bounds(), rl.ee_pose_bounds(),
                             depth_far=rl.DEPTH_FAR, joint_velocities=7)
    assert ours == embedded.observation_space
    low, high = rl.action_bounds(mode)
    np.testing.assert_allclose(low, embedded.action_space.low)
    np.testing.assert_allclose(high, embedded.action_space.high)
    embedded.close()


def test_seven_joints_required():
    raw = recorded_observation()
    raw.joint_positions = np.zeros(6)
    with pytest.raises(ValueError, match="7-DoF Panda"):
        translate(raw)


@pytest.mark.parametrize(
    "mode, arm, kwargs",
    [
        ("joint_delta", "JointPosition", {"absolute_mode": False}),
        ("joint_position", "JointPosition", {"absolute_mode": True}),
        ("ee_pose", "EndEffectorPoseViaIK", {"absolute_mode": True, "frame": "world", "collision_checking": False}),
    ],
)
def test_action_modes_map_to_rlbench_classes(mode, arm, kwargs):
    plan = rl.rlbench_action_mode(mode)
    assert (plan.arm, plan.arm_kwargs, plan.gripper) == (arm, kwargs, "Discrete")
    low, high = rl.action_bounds(mode)
    assert low.shape == high.shape == (8,) and low[-1] == 0.0
    assert high[-1] == (1.0 if mode == "ee_pose" else 0.04)  # open fraction / finger opening (m)


def test_unknown_control_mode_lists_the_choices():
    with pytest.raises(ValueError, match="joint_delta"):
        rl.rlbench_action_mode("joint_velocity")


def test_joint_actions_pass_through_and_the_finger_opening_becomes_discretes_fraction():
    action = np.array([0.05, -0.05, 0.0, 0.01, 0.02, -0.03, 0.1, 0.03])
    out = rl.to_rlbench_action(action, "joint_delta")
    np.testing.assert_allclose(out, np.r_[action[:7], 0.75])  # 3 cm of 4: Discrete opens (> 0.5)
    np.testing.assert_array_equal(rl.to_rlbench_action(np.r_[JOINTS, 0.01], "joint_position"), np.r_[JOINTS, 0.25])
    assert rl.to_rlbench_action(np.r_[JOINTS, 0.5], "joint_position")[-1] == 1.0  # clipped


def test_ee_action_is_the_inverse_of_the_observed_pose():
    """Sending the observed ee_pose back as an ee_pose action gives RLBench's own gripper_pose."""
    obs = translate(recorded_observation())
    out = rl.to_rlbench_action(obs["ee_pose"].astype(np.float64), "ee_pose")
    expected_quat = np.array(QUAT_XYZW) / np.linalg.norm(QUAT_XYZW)
    np.testing.assert_allclose(out[:7], np.r_[TIP, expected_quat], atol=1e-6)
    assert out[7] == 1.0
    with pytest.raises(InvalidActionError, match="zero norm"):
        rl.to_rlbench_action(np.zeros(8), "ee_pose")


def test_camera_settings_render_only_what_the_observation_needs():
    settings = rl.camera_settings(("front", "wrist"), "rgbd", (96, 96))
    assert set(settings) == {f"{cam}_camera" for cam in rl.RLBENCH_CAMERAS}
    assert settings["front_camera"] == {"rgb": True, "depth": True, "point_cloud": False, "mask": False,
                                        "image_size": (96, 96), "depth_in_meters": True}
    assert not settings["overhead_camera"]["rgb"] and not settings["overhead_camera"]["depth"]
    assert not rl.camera_settings(("front",), "rgb", (128, 128))["front_camera"]["depth"]
    on = {key for key, value in rl.LOW_DIM_SETTINGS.items() if value}
    assert on == {"joint_positions", "joint_velocities", "gripper_open", "gripper_pose", "gripper_joint_positions"}
