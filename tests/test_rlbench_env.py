"""The RLBench suite's robot, observations and action modes, split and CLI."""

from pathlib import Path
from types import SimpleNamespace

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from typer.testing import CliRunner

from vlapro_bench.cli import app
from vlapro_bench.env import VLAProEnv
from vlapro_bench.envs.rlbench._common import RLBenchTask
from vlapro_bench.evaluation.episode import run_episode
from vlapro_bench.policies.expert import ExpertPolicy
from vlapro_bench.sim.franka import FRANKA, HOME_QPOS, TABLE_TOP_Z, franka_assets_dir
from vlapro_bench.sim.geometry import quat_to_mat
from vlapro_bench.splits import load_split

CAMERAS = ("left_shoulder", "right_shoulder", "overhead", "wrist", "front")


def test_robot_comes_from_the_installed_package_with_datasheet_joint_zeros():
    assert "gymnasium_robotics" in str(franka_assets_dir())
    model = FRANKA.robot_only_model()
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)  # all joints at 0: the arm straight up, hand pointing down
    site = model.site("panda_tcp").id
    base = np.array(model.body("panda0_link0").pos)
    # Franka's zero pose: flange 0.088 m forward and 1.033 m up; our TCP 0.2354 m past link 7.
    np.testing.assert_allclose(data.site_xpos[site] - base, [0.088, 0.0, 1.033 - 0.2354], atol=2e-3)
    approach = data.site_xmat[site].reshape(3, 3)[:, 0]
    np.testing.assert_allclose(approach, [0, 0, -1], atol=1e-3)


def test_observation_layout_and_start_pose(make):
    env = make("VLAPro-RLBench/reach_target-v0", obs_mode="rgbd", camera_size=(48, 64))
    obs, info = env.reset(seed=0)
    assert tuple(obs["images"]) == CAMERAS
    assert obs["images"]["wrist"].shape == (48, 64, 3) and obs["depth"]["front"].shape == (48, 64, 1)
    assert obs["agent_pos"].shape == (8,) and obs["joint_velocities"].shape == (7,)
    np.testing.assert_allclose(obs["agent_pos"][:7], HOME_QPOS, atol=0.01)  # RLBench's start pose
    assert abs(obs["agent_pos"][7] - 0.04) < 1e-3  # fingers open, metres per finger
    # ee_pose: RLBench's gripper pose (tip frame: z along the fingers) and gripper_open flag.
    pose = obs["ee_pose"]
    assert pose[7] == 1.0 and abs(np.linalg.norm(pose[3:7]) - 1) < 1e-5
    assert quat_to_mat(pose[3:7])[2, 2] < -0.95  # tip z axis points down at the start pose
    assert TABLE_TOP_Z + 0.5 < pose[2] < TABLE_TOP_Z + 0.8
    assert env.observation_space.contains(obs)
    assert info["variation"] in range(20) and obs["instruction"] == info["instruction"]
    for cam in CAMERAS:
        assert obs["images"][cam].std() > 5, f"{cam} shows a blank image"


def test_joint_delta_adds_to_the_commanded_target(make):
    env = make("VLAPro-RLBench/reach_target-v0", obs_mode="state", max_episode_steps=100)
    obs, _ = env.reset(seed=1)
    assert env.unwrapped.control_mode == "joint_delta"
    start = obs["agent_pos"].copy()
    action = np.zeros(8, dtype=np.float32)
    action[0], action[7] = 0.05, 0.04
    for _ in range(6):
        obs, *_ = env.step(action)
    action[0] = 0.5  # out of bounds: clipped to the 0.1 rad RLBench allows per step
    obs, *_ = env.step(action)
    hold = np.r_[np.zeros(7), 0.04].astype(np.float32)
    for _ in range(10):
        obs, *_ = env.step(hold)
    assert abs(env.unwrapped._target[0] - (start[0] + 6 * 0.05 + 0.1)) < 1e-6
    assert abs(obs["agent_pos"][0] - env.unwrapped._target[0]) < 0.01


def test_joint_position_mode_is_rate_limited(make):
    env = make("VLAPro-RLBench/push_button-v0", obs_mode="state", control_mode="joint_position")
    obs, _ = env.reset(seed=0)
    start = env.unwrapped._target[3]
    target = obs["agent_pos"].copy()
    target[3] = start + 0.5
    obs, *_ = env.step(target)
    assert abs(env.unwrapped._target[3] - (start + 0.1)) < 1e-6  # 0.1 rad per step (2 rad/s)
    for _ in range(20):
        obs, *_ = env.step(target)
    assert abs(obs["agent_pos"][3] - target[3]) < 0.01


def test_ee_pose_mode_reaches_and_holds(make):
    env = make("VLAPro-RLBench/reach_target-v0", obs_mode="state", control_mode="ee_pose")
    obs, _ = env.reset(seed=0)
    assert env.action_space.shape == (8,)
    target = obs["ee_pose"].copy()
    target[0:3] += np.array([0.05, -0.03, -0.08], dtype=np.float32)
    for _ in range(25):
        obs, *_ = env.step(target)
    assert np.linalg.norm(obs["ee_pose"][0:3] - target[0:3]) < 0.01
    assert abs(abs(np.dot(obs["ee_pose"][3:7], target[3:7])) - 1) < 1e-3  # orientation kept


@pytest.mark.parametrize("mode", ["joint_delta", "joint_position", "ee_pose"])
def test_expert_works_in_every_control_mode(mode):
    env = VLAProEnv("push_button", suite="rlbench", obs_mode="state", control_mode=mode)
    results = [run_episode(env, ExpertPolicy(env), seed) for seed in range(3)]
    env.close()
    assert all(r.success for r in results)


def test_expert_deltas_replay_exactly_in_chunks():
    """Deltas add to the commanded target, so a chunk drawn ahead of time replays the plan."""
    runs = []
    for chunk in (1, 8):
        env = VLAProEnv("open_drawer", suite="rlbench", obs_mode="state")
        policy = ExpertPolicy(env, chunk=chunk)
        trace: list[np.ndarray] = []
        result = run_episode(env, policy, 4, on_step=lambda obs, info, action, trace=trace: trace.append(action.copy()))
        runs.append((result.success, result.steps, np.array(trace)))
        env.close()
    assert runs[0][0] and runs[1][0] and runs[0][1] == runs[1][1]
    np.testing.assert_array_equal(runs[0][2], runs[1][2])


def test_expert_ends_on_a_hold_action():
    env = VLAProEnv("reach_target", suite="rlbench", obs_mode="state")
    env.reset(seed=2)
    actions = list(env.expert_actions())
    env.close()
    np.testing.assert_array_equal(actions[-1][:7], np.zeros(7))
    assert np.all(np.abs(np.array(actions)[:, :7]) <= 0.1 + 1e-9)


def test_rgb_observations_are_deterministic():
    a = VLAProEnv("open_drawer", suite="rlbench", camera_size=(40, 40))
    b = VLAProEnv("open_drawer", suite="rlbench", camera_size=(40, 40))
    obs_a, _ = a.reset(seed=5)
    obs_b, _ = b.reset(seed=5)
    action = np.r_[np.full(7, 0.02), 0.02].astype(np.float32)
    for _ in range(3):
        obs_a, *_ = a.step(action)
        obs_b, *_ = b.step(action)
    for cam in CAMERAS:
        np.testing.assert_array_equal(obs_a["images"][cam], obs_b["images"][cam])
    a.close()
    b.close()


def test_bad_arguments_name_the_suite_choices():
    with pytest.raises(ValueError, match="joint_delta"):
        VLAProEnv("reach_target", suite="rlbench", control_mode="qpos")
    with pytest.raises(ValueError, match="left_shoulder"):
        VLAProEnv("reach_target", suite="rlbench", cameras=["head_camera"])


def test_vector_entry_point():
    envs = gym.make_vec("VLAPro-RLBench/push_button-v0", num_envs=2, vectorization_mode="vector_entry_point",
                        obs_mode="state", asynchronous=False)
    obs, _ = envs.reset(seed=[1, 2])
    assert obs["agent_pos"].shape == (2, 8) and obs["joint_velocities"].shape == (2, 7)
    obs, *_ = envs.step(envs.action_space.sample())
    assert obs["object_state"].shape[0] == 2
    envs.close()


def test_split_file_and_ids():
    split = load_split("rlbench")
    split.check_registered()
    assert {"reach_target", "push_button", "open_drawer"} <= set(split.seen)
    assert "close_drawer" in split.unseen
    assert split.transfer["close_drawer"].sources == ("open_drawer",)
    env = gym.make("VLAPro-RLBench-Unseen-v0", obs_mode="state")
    _, info = env.reset(seed=0)
    assert info["task"] in split.unseen
    env.close()


def test_cli_covers_the_suite(tmp_path: Path):
    runner = CliRunner()
    listed = runner.invoke(app, ["list", "--suite", "rlbench"])
    assert listed.exit_code == 0 and "VLAPro-RLBench/open_drawer-v0" in listed.output
    out = tmp_path / "button.png"
    rendered = runner.invoke(app, ["render", "push_button", "--suite", "rlbench", "--size", "32x32", "--out", str(out)])
    assert rendered.exit_code == 0 and out.is_file()
    expert = runner.invoke(app, ["expert", "reach_target", "--suite", "rlbench", "--episodes", "2"])
    assert expert.exit_code == 0 and "100.0%" in expert.output


def test_single_variation_tasks_have_no_placeholders_and_others_must_say():
    """RLBenchTask's default: one variation, no placeholders; several, a clear NotImplementedError."""
    assert RLBenchTask.variation_placeholders(SimpleNamespace(variation_count=1), 0) == {}  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError, match="3 variations: define variation_placeholders"):
        RLBenchTask.variation_placeholders(SimpleNamespace(variation_count=3), 0)  # type: ignore[arg-type]
    env = VLAProEnv("close_microwave", suite="rlbench", obs_mode="state")
    assert env.reset(seed=0)[1]["instruction"]  # a one-variation task resets through the default
    env.close()
