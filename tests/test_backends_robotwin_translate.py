"""RoboTwin 2.0 observations and actions to our spaces, on recorded upstream-shaped data.

The dicts below have exactly the layout of RoboTwin ``stable_2.0``'s ``Base_Task.get_obs()``
(shared/reference/robotwin.md section 2.1): 240x320 D435 images, depth in millimetres with 0
where nothing is hit, drive-target joints, end poses as xyz + wxyz. Nothing upstream is imported.
"""

import numpy as np
import pytest

from vlapro_bench.backends import robotwin_translate as rt
from vlapro_bench.backends.common import instruction_text, observation_space
from vlapro_bench.backends.images import fit_depth, fit_rgb
from vlapro_bench.env import DEPTH_FAR, MAX_INSTRUCTION_LENGTH, VLAProEnv
from vlapro_bench.errors import InvalidActionError
from vlapro_bench.task import INSTRUCTION_CHARSET

LEFT_ARM = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6]
RIGHT_ARM = [-1.1, 1.2, -1.3, 1.4, -1.5, 1.6]
LEFT_POSE = [-0.3, -0.1, 0.95, 0.7071, 0.0, 0.7071, 0.0]  # x, y, z, qw, qx, qy, qz
RIGHT_POSE = [0.3, -0.1, 0.92, 0.0, 1.0, 0.0, 0.0]


def camera_image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(240, 320, 3), dtype=np.uint8)


def recorded_observation(depth: bool = False) -> dict:
    """One get_obs() dict of aloha-agilex with the four cameras of demo_clean."""
    views = {}
    for i, cam in enumerate(rt.ROBOTWIN_CAMERAS):
        view = {"rgb": camera_image(i), "intrinsic_cv": np.eye(3), "extrinsic_cv": np.eye(3, 4),
                "cam2world_gl": np.eye(4)}
        if depth:
            mm = np.full((240, 320), 850.0 + 10 * i)  # float64 millimetres, as Camera.get_depth
            mm[:5, :] = 0.0  # rays that hit nothing (alpha 0)
            view["depth"] = mm
        views[cam] = view
    return {
        "observation": views,
        "pointcloud": [],
        "joint_action": {
            "left_arm": LEFT_ARM, "left_gripper": 0.25, "right_arm": RIGHT_ARM, "right_gripper": 1.0,
            "vector": np.array(LEFT_ARM + [0.25] + RIGHT_ARM + [1.0]),
        },
        "endpose": {"left_endpose": LEFT_POSE, "left_gripper": 0.25, "right_endpose": RIGHT_POSE,
                    "right_gripper": 1.0},
    }


def translate(raw, cameras=rt.ROBOTWIN_CAMERAS, size=(128, 128), obs_mode="rgb", fit="crop"):
    return rt.translate_observation(raw, cameras=cameras, camera_size=size, obs_mode=obs_mode,
                                    instruction="Ring the bell with the left arm.", fit=fit)


def test_joint_vector_keeps_robotwin_order_and_gripper_convention():
    obs = translate(recorded_observation())
    expected = np.array(LEFT_ARM + [0.25] + RIGHT_ARM + [1.0], dtype=np.float32)
    assert obs["agent_pos"].dtype == np.float32 and obs["agent_pos"].shape == (14,)
    np.testing.assert_array_equal(obs["agent_pos"], expected)
    assert obs["agent_pos"][6] == np.float32(0.25) and obs["agent_pos"][13] == 1.0  # grippers, 1 = open


def test_joint_vector_from_per_arm_entries_when_vector_is_absent():
    joint_action = dict(recorded_observation()["joint_action"])
    full = rt.joint_vector(joint_action)
    del joint_action["vector"]
    np.testing.assert_array_equal(rt.joint_vector(joint_action), full)


def test_a_seven_dof_embodiment_is_refused_with_what_to_set():
    with pytest.raises(ValueError, match=r"16 entries.*aloha-agilex"):
        rt.joint_vector({"vector": np.zeros(16)})


def test_end_poses_become_our_ee_layout():
    obs = translate(recorded_observation())
    expected = np.array(LEFT_POSE + [0.25] + RIGHT_POSE + [1.0], dtype=np.float32)
    np.testing.assert_array_equal(obs["ee_pose"], expected)
    with pytest.raises(ValueError, match="left_endpose must be"):
        rt.ee_vector({"left_endpose": [0, 0, 0], "left_gripper": 1, "right_endpose": RIGHT_POSE, "right_gripper": 1})


@pytest.mark.parametrize("size", [(128, 128), (96, 160), (240, 320)])
def test_images_have_our_size_dtype_and_fresh_memory(size):
    raw = recorded_observation()
    obs = translate(raw, size=size)
    assert list(obs["images"]) == list(rt.ROBOTWIN_CAMERAS)
    for i, cam in enumerate(rt.ROBOTWIN_CAMERAS):
        image = obs["images"][cam]
        assert image.shape == (*size, 3) and image.dtype == np.uint8
        assert not np.shares_memory(image, raw["observation"][cam]["rgb"])
        if size == (240, 320):
            np.testing.assert_array_equal(image, camera_image(i))  # native size: unchanged
    np.testing.assert_array_equal(raw["observation"]["head_camera"]["rgb"], camera_image(0))  # input untouched


def banded_image() -> np.ndarray:
    """240x320: red 40-px bands left and right, a green 240x240 centre."""
    image = np.zeros((240, 320, 3), dtype=np.uint8)
    image[:, :40] = image[:, 280:] = (255, 0, 0)
    image[:, 40:280] = (0, 255, 0)
    return image


def test_crop_keeps_the_square_centre():
    out = fit_rgb(banded_image(), (128, 128), "crop")
    assert np.all(out == (0, 255, 0))


def test_stretch_keeps_the_sides():
    out = fit_rgb(banded_image(), (128, 128), "stretch")
    assert np.all(out[:, 0] == (255, 0, 0)) and np.all(out[:, -1] == (255, 0, 0))
    assert np.all(out[:, 64] == (0, 255, 0))


def test_pad_letterboxes_with_zeros():
    out = fit_rgb(banded_image(), (128, 128), "pad")  # 240x320 -> 96x128 inside 128x128
    assert np.all(out[:16] == 0) and np.all(out[-16:] == 0)
    assert np.all(out[16:112, 0] == (255, 0, 0)) and np.all(out[16:112, 64] == (0, 255, 0))


def test_rgba_drops_alpha_and_bad_images_are_refused():
    rgba = np.concatenate([banded_image(), np.full((240, 320, 1), 7, np.uint8)], axis=2)
    np.testing.assert_array_equal(fit_rgb(rgba, (240, 320)), banded_image())
    with pytest.raises(ValueError, match="uint8"):
        fit_rgb(banded_image().astype(np.float32), (128, 128))
    with pytest.raises(ValueError, match="image fit"):
        fit_rgb(banded_image(), (128, 128), "zoom")


def test_depth_is_metres_with_no_hit_at_far_and_never_interpolated():
    raw = recorded_observation(depth=True)
    obs = translate(raw, obs_mode="rgbd", size=(120, 160), fit="stretch")
    for i, cam in enumerate(rt.ROBOTWIN_CAMERAS):
        depth = obs["depth"][cam]
        assert depth.shape == (120, 160, 1) and depth.dtype == np.float32
        assert set(np.unique(depth)) <= {np.float32(0.85 + 0.01 * i), np.float32(DEPTH_FAR)}  # nearest neighbour
        assert depth[0, 0, 0] == DEPTH_FAR and depth[-1, -1, 0] == np.float32(0.85 + 0.01 * i)
    np.testing.assert_allclose(rt.depth_to_metres(np.array([[0.0, 1500.0, 25000.0]])), [[DEPTH_FAR, 1.5, DEPTH_FAR]])
    assert fit_depth(np.ones((4, 6)), (4, 6)).shape == (4, 6, 1)


def test_missing_camera_or_depth_says_which_config_switch():
    raw = recorded_observation()
    del raw["observation"]["left_camera"]
    with pytest.raises(KeyError, match=r"left_camera.*collect_wrist_camera"):
        translate(raw)
    assert set(translate(raw, cameras=("head_camera", "front_camera"))["images"]) == {"head_camera", "front_camera"}
    with pytest.raises(KeyError, match="data_type.depth"):
        translate(recorded_observation(), obs_mode="rgbd")


def test_translated_observation_is_inside_our_space():
    space = observation_space(rt.ROBOTWIN_CAMERAS, (128, 128), "rgbd", rt.agent_pos_bounds(), rt.ee_pose_bounds())
    obs = translate(recorded_observation(depth=True), obs_mode="rgbd")
    assert space.contains(obs)
    assert set(obs) == {"agent_pos", "ee_pose", "instruction", "images", "depth"}


def test_upstream_instructions_fit_our_text_space():
    upstream = "Use the \u2018left\u2019 arm_to grab \u201cthe caf\u00e9 mug\u201d\n\u2014 gently\u2026 \u00a9"
    text = instruction_text(upstream)
    assert text == "Use the 'left' arm to grab 'the cafe mug' - gently..."
    assert set(text) <= INSTRUCTION_CHARSET
    assert len(instruction_text("move " * 200)) <= MAX_INSTRUCTION_LENGTH
    with pytest.raises(ValueError, match="empty"):
        instruction_text("\u00a9 \u00ae")


def test_qpos_action_passes_through_with_grippers_clipped():
    action = np.array(LEFT_ARM + [1.7] + RIGHT_ARM + [-0.2])
    out = rt.to_upstream_action(action, "qpos")
    np.testing.assert_array_equal(out[:6], LEFT_ARM)
    np.testing.assert_array_equal(out[7:13], RIGHT_ARM)
    assert (out[6], out[13]) == (1.0, 0.0)
    assert action[6] == 1.7  # the caller's array is not modified


def test_ee_action_normalises_quaternions_in_wxyz_order():
    action = np.array([0.1, 0.2, 0.9, 2.0, 0.0, 0.0, 0.0, 0.4, -0.1, 0.2, 0.9, 0.0, 0.0, 3.0, 4.0, 0.6])
    out = rt.to_upstream_action(action, "ee")
    np.testing.assert_allclose(out, [0.1, 0.2, 0.9, 1, 0, 0, 0, 0.4, -0.1, 0.2, 0.9, 0, 0, 0.6, 0.8, 0.6])
    action[3:7] = 0
    with pytest.raises(InvalidActionError, match="left quaternion"):
        rt.to_upstream_action(action, "ee")
    with pytest.raises(ValueError, match="14 entries"):
        rt.to_upstream_action(np.zeros(16), "qpos")


@pytest.mark.parametrize("control_mode, dim", [("qpos", 14), ("ee", 16)])
def test_space_layout_equals_the_embedded_robotwin_suites(control_mode, dim):
    """Same keys, shapes and dtypes as VLAProEnv's, so a policy runs unchanged; joint bounds are
    the arms' own (aloha-agilex upstream, ViperX embedded) and so differ."""
    embedded = VLAProEnv("click_bell", obs_mode="rgbd", control_mode=control_mode)
    ours = observation_space(rt.ROBOTWIN_CAMERAS, (128, 128), "rgbd", rt.agent_pos_bounds(), rt.ee_pose_bounds())

    def layout(space):
        return {k: layout(v) if hasattr(v, "spaces") else (getattr(v, "shape", None), getattr(v, "dtype", None))
                for k, v in space.spaces.items()}

    assert layout(ours) == layout(embedded.observation_space)
    assert ours["ee_pose"] == embedded.observation_space["ee_pose"]
    assert ours["instruction"] == embedded.observation_space["instruction"]
    assert embedded.action_space.shape == (dim,) and embedded.action_space.dtype == np.float32
    embedded.close()
