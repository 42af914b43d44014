"""End to end on a tiny run: `memory build` and `memory inspect` (through the Typer app), then the vla_pro policy."""

import copy
import dataclasses
import json
import re

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from peft import LoraConfig, inject_adapter_in_model
from safetensors.torch import load_file
from typer.testing import CliRunner

from vlapro_bench.cli.memory import memory_app
from vlapro_bench.datasets import DatasetWriter, LeRobotV3Dataset, env_features
from vlapro_bench.env import VLAProEnv
from vlapro_bench.evaluation.episode import run_episode
from vlapro_bench.evaluation.policy_spec import PolicyMismatchError, check_checkpoint
from vlapro_bench.evaluation.recording import record_episode
from vlapro_bench.memory.bank import BackboneMismatchError, load_bank
from vlapro_bench.memory.build import build_bank, instruction_embedder, training_image_shift
from vlapro_bench.memory.config import LoraSpec, MemoryBuildConfig
from vlapro_bench.memory.contract import linear_targets
from vlapro_bench.memory.fusion import AdapterTable, FusedLoRA
from vlapro_bench.memory.lora import extract_adapter
from vlapro_bench.memory.probe import probe_memories
from vlapro_bench.memory.task_loras import chunk_samples
from vlapro_bench.policies.tinyvla import LORA_TRANSFORMER_REGEX, TinyVLA, TinyVLAConfig
from vlapro_bench.policy import make_policy
from vlapro_bench.training import TrainConfig, train
from vlapro_bench.training.checkpoint import latest_checkpoint, load_backbone_checkpoint

TINY_MODEL = {"image_size": [16, 16], "vision_channels": [8, 8], "vision_groups": 4, "vision_res_stages": 0,
              "d_model": 16, "n_heads": 2, "n_encoder_layers": 1, "n_decoder_layers": 1, "ffn_dim": 32,
              "chunk_size": 4}
#: Two seen tasks (click_bell twice) and one unseen task, which the build must skip.
DEMOS = (("click_bell", 0), ("click_bell", 1), ("beat_block_hammer", 0), ("click_alarmclock", 0))
BUILD_FLAGS = ["--rank", "4", "--alpha", "8", "--base-steps", "3", "--task-steps", "3", "--batch-size", "4",
               "--keys-per-memory", "4", "--key-episodes", "1", "--device", "cpu"]


def build_tiny_run(root, demos, suite="robotwin", model=None):
    """Expert demos, a 2-step backbone and a bank built through the CLI; returns the build output."""
    writer = None
    for task, seed in demos:
        env = VLAProEnv(task, suite=suite, camera_size=(16, 16))
        if writer is None:
            writer = DatasetWriter(root / "demos", fps=25, features=env_features(env),
                                   episode_key=("task_name", "reset_seed"))
        episode = record_episode(env, make_policy("expert", env), seed)
        writer.add_episode(episode.frames, episode.instruction, episode.extra_meta)
        env.close()
    config = TrainConfig(data=str(root / "demos"), out=str(root / "run"), steps=2, batch_size=4, checkpoint_every=2,
                         model=model or TINY_MODEL, device="cpu")
    train(config, progress=False)
    result = CliRunner().invoke(memory_app, ["build", "--backbone", str(root / "run"), "--data", str(root / "demos"),
                                             "--out", str(root / "bank"), "--suite", suite, *BUILD_FLAGS])
    assert result.exit_code == 0, result.output
    return result.output


def build_tiny_ceiling(root, out):
    """The ceiling bank of the tiny run: a LoRA of its unseen task on the bank's base LoRA; returns its config."""
    config = MemoryBuildConfig(backbone=str(root / "run"), data=str(root / "demos"), out=str(out),
                               memories_from="unseen", base_bank=str(root / "bank"), lora={"rank": 4, "alpha": 8.0},
                               keys={"keys_per_memory": 4, "key_episodes": 1}, base_steps=3, task_steps=3,
                               batch_size=4, device="cpu")
    build_bank(config, progress=False, log=lambda line: None)
    return config


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("memory")
    return root, build_tiny_run(root, DEMOS)


def test_build_makes_one_memory_per_seen_task_and_skips_unseen(tiny_run):
    root, output = tiny_run
    assert "skipping episodes of tasks that are not seen tasks" in output and "click_alarmclock" in output
    index = json.loads((root / "bank" / "index.json").read_text())
    assert [m["name"] for m in index["memories"]] == ["click_bell", "beat_block_hammer"]  # the split's order
    assert index["memories"][0]["metadata"]["episodes"] == 2
    assert index["memories"][0]["metadata"]["procedure"]["action_type"] == "press"
    assert index["lora"]["rank"] == 4 and index["lora"]["target_modules"] == LORA_TRANSFORMER_REGEX
    assert index["encoders"]["visible"]["privileged"] is False and index["encoders"]["oracle"]["privileged"] is True
    bank = load_bank(root / "bank")
    assert bank.keys["visible"].shape[:2] == (2, 4)
    for name in ("base", "click_bell"):
        tensors = load_file(root / "bank" / "adapters" / name / "adapter_model.safetensors")
        b_factors = [t for key, t in tensors.items() if key.endswith("lora_B.weight")]
        assert b_factors and all(float(t.abs().sum()) > 0 for t in b_factors)  # trained away from peft's B = 0
    assert any(label for label in index["memories"][0]["metadata"]["key_labels"])


def test_task_loras_trained_in_two_processes_are_the_ones_one_process_trains(tiny_run, tmp_path):
    root, serial_output = tiny_run
    result = CliRunner().invoke(memory_app, ["build", "--backbone", str(root / "run"), "--data", str(root / "demos"),
                                             "--out", str(tmp_path / "bank"), "--workers", "2", *BUILD_FLAGS])
    assert result.exit_code == 0, result.output
    task_lines = re.findall(r"task LoRA \w+: [^\n]*", result.output)  # progress bars share the lines
    assert task_lines == re.findall(r"task LoRA \w+: [^\n]*", serial_output)  # same losses, in task order
    assert [line.split(":")[0] for line in task_lines] == ["task LoRA click_bell", "task LoRA beat_block_hammer"]
    files = [f"adapters/{name}/adapter_model.safetensors" for name in ("base", "click_bell", "beat_block_hammer")]
    for file in [*files, "keys.safetensors"]:  # tensors, not bytes: safetensors orders its metadata map freely
        parallel, serial = load_file(tmp_path / "bank" / file), load_file(root / "bank" / file)
        assert parallel.keys() == serial.keys()
        assert all(torch.equal(parallel[key], serial[key]) for key in serial), file  # bit for bit


def test_inspect_lists_memories_sizes_and_key_similarity(tiny_run, tmp_path):
    root, _ = tiny_run
    picture = tmp_path / "keys.png"
    result = CliRunner().invoke(memory_app, ["inspect", str(root / "bank"), "--picture", str(picture)])
    assert result.exit_code == 0, result.output
    for text in ("beat_block_hammer", "click_bell", "adapter_kB", "key similarity, visible state",
                 "key similarity, oracle state (privileged)", "sha256 of every file verified"):
        assert text in result.output
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_vla_pro_policy_retrieves_fuses_and_records_per_chunk(tiny_run):
    root, _ = tiny_run
    records = {}
    for use_tap in (True, False):
        env = gym.make("VLAPro-RoboTwin/click_alarmclock-v0", camera_size=(16, 16), max_episode_steps=12)
        policy = make_policy("vla_pro", env, backbone=str(root / "run"), bank=str(root / "bank"), k=2, execute=4)
        assert policy.privileged is False
        if not use_tap:  # the explicit path: visual_features first, then predict
            policy._tap_handle.remove()
            policy._tap = None
        result = run_episode(env, policy, seed=3)
        assert result.steps == 12
        records[use_tap] = policy.episode_record()
        policy.close()
        env.close()
    record = records[True]
    assert record["privileged"] is False and record["k"] == 2 and len(record["retrievals"]) == 3
    for chunk in record["retrievals"]:
        assert {r["memory"] for r in chunk} == {"beat_block_hammer", "click_bell"}
        assert sum(r["weight"] for r in chunk) == pytest.approx(1.0, abs=1e-5)
        assert chunk[0]["score"] >= chunk[1]["score"]
    json.dumps(record)
    assert records[True]["retrievals"] == records[False]["retrievals"]  # retrieval inside the forward = outside


def test_auto_fusion_path_moves_the_decoder_queries_to_activations_with_the_same_chunks(tiny_run):
    root, _ = tiny_run
    chunks, records = {}, {}
    for path in ("auto", "weights"):
        env = gym.make("VLAPro-RoboTwin/click_alarmclock-v0", camera_size=(16, 16), max_episode_steps=12)
        policy = make_policy("vla_pro", env, backbone=str(root / "run"), bank=str(root / "bank"), k=2, execute=4,
                             fusion_path=path)
        obs, info = env.reset(seed=5)
        policy.reset(info["instruction"], None)
        chunks[path] = [policy.act(obs)]
        for _ in range(2):
            for action in chunks[path][-1]:
                obs, *_ = env.step(action)
            chunks[path].append(policy.act(obs))
        records[path] = policy.episode_record()["retrievals"]
        planned = policy.fusion.activation_path
        policy.close()
        env.close()
        if path == "auto":  # 4 action queries vs 66 observation tokens in this tiny model
            assert planned and all(n.startswith("decoder") for n in planned)
            assert "decoder.layers.0.cross_attn.k_proj" not in planned
        else:
            assert not planned
    for auto, weights in zip(chunks["auto"], chunks["weights"]):
        np.testing.assert_allclose(auto, weights, rtol=1e-5, atol=1e-5)
    assert [[r["memory"] for r in c] for c in records["auto"]] == [[r["memory"] for r in c] for c in records["weights"]]
    with pytest.raises(ValueError, match="fusion_path must be 'auto' or 'weights'"):
        make_policy("vla_pro", None, backbone=str(root / "run"), bank=str(root / "bank"), fusion_path="fast")


def test_oracle_state_is_labelled_privileged(tiny_run):
    root, _ = tiny_run
    env = gym.make("VLAPro-RoboTwin/click_alarmclock-v0", camera_size=(16, 16), max_episode_steps=4)
    policy = make_policy("vla_pro", env, backbone=str(root / "run"), bank=str(root / "bank"), k=1, execute=4,
                         state="oracle")
    run_episode(env, policy, seed=0)
    record = policy.episode_record()
    env.close()
    assert policy.privileged is True and record["privileged"] is True
    assert record["state_encoder"] == "oracle (privileged)" and len(record["retrievals"][0]) == 1
    # ground truth says "press" (alarm clock button) like click_bell, not "hit" like beat_block_hammer
    assert record["retrievals"][0][0]["memory"] == "click_bell"


def test_from_base_task_loras_replace_the_base(tiny_run, tmp_path):
    root, _ = tiny_run
    result = CliRunner().invoke(memory_app, ["build", "--backbone", str(root / "run"), "--data", str(root / "demos"),
                                             "--out", str(tmp_path / "bank"), "--task-init", "from_base",
                                             "--task", "click_bell", *BUILD_FLAGS])
    assert result.exit_code == 0, result.output
    bank = load_bank(tmp_path / "bank")
    assert bank.memory_names == ["click_bell"] and bank.index.lora.base_active is False
    task, base = bank.table.adapter(0), bank.base
    # started from a copy of the base LoRA (B != 0 from the first step) and moved away from it in training
    assert all(float(task[layer][1].abs().sum()) > 0 for layer in task)
    assert any(not torch.equal(task[layer][1], base[layer][1]) for layer in task)
    fusion = bank.fusion(TinyVLA(TinyVLAConfig(**TINY_MODEL)), k=1)
    assert fusion.has_base is False


def test_k0_runs_the_backbone_with_the_base_lora_only(tiny_run):
    root, _ = tiny_run
    env = gym.make("VLAPro-RoboTwin/click_bell-v0", camera_size=(16, 16), max_episode_steps=8)
    policy = make_policy("vla_pro", env, backbone=str(root / "run"), bank=str(root / "bank"), k=0, execute=4)
    plain = make_policy("tinyvla", env, checkpoint=str(root / "run"), execute=4)
    obs, info = env.reset(seed=1)
    policy.reset(info["instruction"], None)
    with_base = policy.act(obs)
    assert not np.allclose(with_base, plain.act(obs), atol=1e-6)  # the trained base LoRA changes the chunk
    assert policy.episode_record()["retrievals"] == [[]]
    policy.close()
    assert np.array_equal(policy.backbone.predict_action_chunk(obs)[:4], plain.act(obs))  # detached: plain again
    env.close()


def test_bank_refuses_another_backbone_at_policy_load(tiny_run, tmp_path):
    root, _ = tiny_run
    other = TrainConfig(data=str(root / "demos"), out=str(tmp_path / "other"), steps=1, batch_size=2,
                        checkpoint_every=1, model=TINY_MODEL, device="cpu", seed=7)
    train(other, progress=False)
    env = gym.make("VLAPro-RoboTwin/click_bell-v0", camera_size=(16, 16))
    with pytest.raises(BackboneMismatchError, match="was built for backbone 'tinyvla'"):
        make_policy("vla_pro", env, backbone=str(tmp_path / "other"), bank=str(root / "bank"))
    env.close()


def test_build_refuses_unseen_only_data_unknown_tasks_and_existing_banks(tiny_run, tmp_path):
    root, _ = tiny_run
    runner = CliRunner()
    base = ["build", "--backbone", str(root / "run"), "--data", str(root / "demos"), *BUILD_FLAGS]
    result = runner.invoke(memory_app, [*base, "--out", str(tmp_path / "b1"), "--task", "click_alarmclock"])
    assert result.exit_code == 1 and "not a seen task" in result.output
    result = runner.invoke(memory_app, [*base, "--out", str(root / "bank")])
    assert result.exit_code == 1 and "already exists and is not empty" in result.output
    result = runner.invoke(memory_app, ["build", "--out", str(tmp_path / "b2")])
    assert result.exit_code == 2 and "--backbone, --data and --out" in result.output
    with pytest.raises(ValueError, match="Unknown lora keys \\['rnak'\\]"):
        MemoryBuildConfig.from_dict({"lora": {"rnak": 4}})


def test_residual_task_lora_trains_on_top_of_the_base_exactly_as_inference_fuses_it():
    """peft's layer calls the original linear, whose weight the fusion points at W + base: training computes
    W x + base + task, the function the fused policy runs (memory weight 1)."""
    torch.manual_seed(0)
    model = TinyVLA(TinyVLAConfig(**{**TINY_MODEL, "dropout": 0.0})).eval()
    targets = linear_targets(model, LORA_TRANSFORMER_REGEX)
    gen = torch.Generator().manual_seed(1)
    base = {n: (torch.randn(4, m.in_features, generator=gen), torch.randn(m.out_features, 4, generator=gen))
            for n, m in targets.items()}
    spec = LoraSpec(rank=4, alpha=8)
    training = copy.deepcopy(model)
    FusedLoRA(training, AdapterTable.from_adapters(["base"], [base]), 0, spec.scaling, base=base).set_base_only()
    inject_adapter_in_model(LoraConfig(r=4, lora_alpha=8, target_modules=LORA_TRANSFORMER_REGEX), training,
                            adapter_name="memory")
    with torch.no_grad():
        for module in training.modules():
            if hasattr(module, "lora_B") and "memory" in module.lora_B:
                module.lora_B["memory"].weight.normal_(0, 0.3, generator=gen)
    task = extract_adapter(training, "memory")
    inference = FusedLoRA(model, AdapterTable.from_adapters(["task"], [task]), 1, spec.scaling, base=base)
    batch = {"images": {c: torch.randint(0, 255, (2, 16, 16, 3), dtype=torch.uint8, generator=gen)
                        for c in model.config.cameras},
             "agent_pos": torch.randn(2, 14, generator=gen),
             "instruction_embedding": torch.randn(2, 384, generator=gen)}
    with torch.no_grad():
        trained_function = training(batch)
        with inference.applied(torch.tensor([0]), torch.tensor([1.0])):
            fused = model(batch)
        plain = model(batch)
    # Same function, different float32 summation order (peft adds base and task separately, the fusion
    # in one concatenated product), compounded over every layer: equal to float32 rounding.
    assert float((fused - trained_function).norm() / trained_function.norm()) < 1e-4
    assert not torch.allclose(plain, fused, atol=1e-3)


@pytest.fixture(scope="module")
def tiny_rlbench_run(tmp_path_factory):
    """The same pipeline on the single-arm RLBench suite (8-d actions and end-effector pose)."""
    root = tmp_path_factory.mktemp("memory-rlbench")
    model = {**TINY_MODEL, "cameras": ["front", "wrist"], "state_dim": 8, "action_dim": 8}
    build_tiny_run(root, (("reach_target", 0), ("push_button", 0)), suite="rlbench", model=model)
    return root


def test_vla_pro_policy_runs_on_the_single_arm_rlbench_suite(tiny_rlbench_run):
    root = tiny_rlbench_run
    env = gym.make("VLAPro-RLBench/close_drawer-v0", camera_size=(16, 16), max_episode_steps=8)
    policy = make_policy("vla_pro", env, backbone=str(root / "run"), bank=str(root / "bank"), k=2, execute=4)
    result = run_episode(env, policy, seed=2)
    assert result.steps == 8
    record = policy.episode_record()
    assert len(record["retrievals"]) == 2  # one retrieval per 4-action chunk
    for chunk in record["retrievals"]:
        assert {r["memory"] for r in chunk} == {"reach_target", "push_button"}
        assert sum(r["weight"] for r in chunk) == pytest.approx(1.0, abs=1e-5)
    policy.close()
    env.close()


def test_random_retrieval_draws_seeded_memories_with_the_same_weight_scheme(tiny_run):
    root, _ = tiny_run
    env = gym.make("VLAPro-RoboTwin/click_alarmclock-v0", camera_size=(16, 16), max_episode_steps=24)
    policy = make_policy("vla_pro", env, backbone=str(root / "run"), bank=str(root / "bank"), k=1, execute=4,
                         retrieval="random")
    assert policy.privileged is False
    drawn = []
    for seed in (3, 3, 4):
        policy.seed(seed)
        run_episode(env, policy, seed=3)
        record = policy.episode_record()
        assert record["retrieval"] == "random" and len(record["retrievals"]) == 6
        drawn.append([chunk[0]["memory"] for chunk in record["retrievals"]])
        assert all(chunk[0]["weight"] == pytest.approx(1.0) for chunk in record["retrievals"])  # k = 1: softmax of one
    assert drawn[0] == drawn[1], "the same policy seed draws the same memories"
    assert len(set(drawn[0] + drawn[2])) == 2, "draws cover the bank, not the best match only"
    policy.close()
    env.close()
    with pytest.raises(ValueError, match="retrieval must be one of"):
        make_policy("vla_pro", None, backbone=str(root / "run"), bank=str(root / "bank"), retrieval="best")


def test_memory_loras_train_with_the_backbones_own_augmentation(tiny_run):
    root, _ = tiny_run
    assert json.loads((root / "bank" / "index.json").read_text())["build"]["image_shift"] == 0  # the backbone's 0
    state = {"train_config": {"image_shift": 3}}
    assert training_image_shift(MemoryBuildConfig(), state) == 3
    assert training_image_shift(MemoryBuildConfig(image_shift=1), state) == 1  # an explicit choice wins
    assert training_image_shift(MemoryBuildConfig(), {"train_config": {}}) == 0


def test_ceiling_bank_holds_unseen_task_loras_on_the_same_base_and_is_privileged(tiny_run, tmp_path):
    root, _ = tiny_run
    config = build_tiny_ceiling(root, tmp_path / "ceiling")
    ceiling, bank = load_bank(tmp_path / "ceiling"), load_bank(root / "bank")
    assert ceiling.memory_names == ["click_alarmclock"] and ceiling.from_evaluated_tasks
    assert all(torch.equal(ceiling.base[n][i], bank.base[n][i]) for n in bank.base for i in (0, 1))
    env = gym.make("VLAPro-RoboTwin/click_alarmclock-v0", camera_size=(16, 16), max_episode_steps=8)
    for retrieval in ("task", "similarity"):  # anything using a bank of the evaluated tasks is privileged
        policy = make_policy("vla_pro", env, backbone=str(root / "run"), bank=str(tmp_path / "ceiling"), k=1,
                             execute=4, retrieval=retrieval)
        assert policy.privileged is True
        run_episode(env, policy, seed=0)
        assert {c[0]["memory"] for c in policy.episode_record()["retrievals"]} == {"click_alarmclock"}
        policy.close()
    env.close()
    other = gym.make("VLAPro-RoboTwin/press_stapler-v0", camera_size=(16, 16), max_episode_steps=8)
    policy = make_policy("vla_pro", other, backbone=str(root / "run"), bank=str(tmp_path / "ceiling"), k=1,
                         execute=4, retrieval="task")
    with pytest.raises(ValueError, match="no memory of task 'press_stapler'"):
        run_episode(other, policy, seed=0)
    other.close()
    wrong = dataclasses.replace(config, out=str(tmp_path / "wrong"), lora=LoraSpec(rank=8, alpha=16.0))
    with pytest.raises(ValueError, match="base_bank .* has LoRA settings"):
        build_bank(wrong, progress=False, log=lambda line: None)


@pytest.fixture(scope="module")
def tiny_state_run(tmp_path_factory):
    """The pipeline on a state model: state-mode demos (no images), a tinyvla over object poses, a bank."""
    root = tmp_path_factory.mktemp("memory-state")
    writer = None
    for task, seed in (("click_bell", 0), ("beat_block_hammer", 0)):
        env = VLAProEnv(task, obs_mode="state")
        if writer is None:
            writer = DatasetWriter(root / "demos", fps=25, features=env_features(env),
                                   episode_key=("task_name", "reset_seed"))
        episode = record_episode(env, make_policy("expert", env), seed)
        writer.add_episode(episode.frames, episode.instruction, episode.extra_meta)
        env.close()
    model = {**TINY_MODEL, "cameras": [], "object_state_dim": 28}
    train(TrainConfig(data=str(root / "demos"), out=str(root / "run"), steps=2, batch_size=4, checkpoint_every=2,
                      model=model, device="cpu"), progress=False)
    result = CliRunner().invoke(memory_app, ["build", "--backbone", str(root / "run"), "--data", str(root / "demos"),
                                             "--out", str(root / "bank"), *BUILD_FLAGS])
    assert result.exit_code == 0, result.output
    return root


def test_state_model_trains_builds_a_bank_and_runs_with_memory_in_state_mode(tiny_state_run):
    root = tiny_state_run
    state = json.loads(next((root / "run" / "checkpoints").glob("step-*/state.json")).read_text())
    assert state["observation"] == {"cameras": [], "obs_mode": "state", "camera_size": None}
    bank = load_bank(root / "bank")
    assert bank.projections["visible"].raw_dims()["object_geometry"] == 28  # the object poses, not a CNN feature
    env = gym.make("VLAPro-RoboTwin/click_alarmclock-v0", obs_mode="state", max_episode_steps=8)
    policy = make_policy("vla_pro", env, backbone=str(root / "run"), bank=str(root / "bank"), k=2, execute=4)
    result = run_episode(env, policy, seed=1)
    assert result.steps == 8 and len(policy.episode_record()["retrievals"]) == 2
    policy.close()
    env.close()
    rgb = gym.make("VLAPro-RoboTwin/click_alarmclock-v0", camera_size=(16, 16))
    with pytest.raises(PolicyMismatchError, match="reads object_state .* --obs-mode state"):
        check_checkpoint(root / "run", rgb)
    rgb.close()


def test_swap_instructions_replaces_each_sample_with_the_given_probability():
    from vlapro_bench.memory.lora import swap_instructions  # noqa: PLC0415

    own = torch.zeros(64, 3)
    pool = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    batch = {"instruction_embedding": own, "agent_pos": torch.ones(64, 2)}
    never = swap_instructions(batch, pool, 0.0, torch.Generator().manual_seed(0))
    assert torch.equal(never["instruction_embedding"], own) and never["agent_pos"] is batch["agent_pos"]
    always = swap_instructions(batch, pool, 1.0, torch.Generator().manual_seed(0))["instruction_embedding"]
    assert all(any(torch.equal(row, p) for p in pool) for row in always)
    assert len({tuple(row.tolist()) for row in always}) == 2  # draws from the whole pool
    half = swap_instructions(batch, pool, 0.5, torch.Generator().manual_seed(0))["instruction_embedding"]
    swapped = int((half.abs().sum(dim=1) > 0).sum())
    assert 16 <= swapped <= 48
    again = swap_instructions(batch, pool, 0.5, torch.Generator().manual_seed(0))["instruction_embedding"]
    assert torch.equal(half, again)  # seeded
    with pytest.raises(ValueError, match="reads an instruction embedding"):
        swap_instructions({"agent_pos": torch.ones(2, 2)}, pool, 0.5, torch.Generator())


def test_instruction_swap_changes_only_the_task_loras_and_is_recorded(tiny_run, tmp_path):
    root, _ = tiny_run
    with pytest.raises(ValueError, match="instruction_swap is a probability"):
        MemoryBuildConfig(instruction_swap=1.5)
    config = MemoryBuildConfig(backbone=str(root / "run"), data=str(root / "demos"), out=str(tmp_path / "swap"),
                               base_bank=str(root / "bank"), lora={"rank": 4, "alpha": 8.0},
                               keys={"keys_per_memory": 4, "key_episodes": 1}, base_steps=3, task_steps=3,
                               batch_size=4, device="cpu", instruction_swap=1.0)
    lines: list[str] = []
    build_bank(config, progress=False, log=lines.append)
    assert any("another seen episode's instruction with probability 1.0" in line for line in lines)
    plain = build_bank(dataclasses.replace(config, out=str(tmp_path / "plain"), instruction_swap=0.0),
                       progress=False, log=lambda line: None)
    swapped = load_bank(tmp_path / "swap")
    assert json.loads((tmp_path / "swap" / "index.json").read_text())["build"]["instruction_swap"] == 1.0
    assert all(torch.equal(swapped.base[n][i], plain.base[n][i]) for n in plain.base for i in (0, 1))
    differs = [not torch.equal(swapped.table.adapter(m)[n][1], plain.table.adapter(m)[n][1])
               for m in range(len(plain.table)) for n in plain.table.adapter(m)]
    assert any(differs)  # the task LoRAs saw other instructions
    assert torch.equal(swapped.keys["visible"], plain.keys["visible"])  # retrieval keys do not depend on it


def test_probe_measures_each_memory_on_the_same_frames_and_leaves_the_backbone_as_it_was(tiny_run, tmp_path):
    root, _ = tiny_run
    model = load_backbone_checkpoint(latest_checkpoint(root / "run"), "cpu").eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    bank, data = load_bank(root / "bank", model), LeRobotV3Dataset(root / "demos")
    result = probe_memories(model, bank, data, frames_per_task=10_000)  # more than there are: every frame
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # unfused afterwards
    assert list(result.losses.columns) == ["plain", "k0", *bank.memory_names]
    assert sorted(result.losses.index) == ["beat_block_hammer", "click_alarmclock", "click_bell"]
    # plain is the backbone's own loss over all of the task's frames, computed here in one batch
    samples = chunk_samples(model, data, instruction_embedder(model))
    tasks = [row["task_name"] for row in data.episodes]
    mine = [i for i, (e, _) in enumerate(samples.index) if tasks[e] == "click_alarmclock"]
    assert result.frames["click_alarmclock"] == len(mine)
    whole = torch.utils.data.default_collate([samples[i] for i in mine])
    with torch.no_grad():
        assert result.losses.loc["click_alarmclock", "plain"] == pytest.approx(float(model.compute_loss(whole)),
                                                                               rel=1e-5)
    # a memory fused alone is the base plus that memory: the same sum the policy fuses per chunk
    fusion = bank.fusion(model, 1)
    with fusion.applied(torch.tensor([0]), torch.tensor([1.0])), torch.no_grad():
        fused = float(model.compute_loss(whole))
    fusion.detach()
    assert result.losses.loc["click_alarmclock", bank.memory_names[0]] == pytest.approx(fused, rel=1e-5)
    summary = result.summary({"click_alarmclock": ("click_bell",)}).set_index("task")
    assert summary.loc["click_bell", "own memory"] == result.losses.loc["click_bell", "click_bell"]
    assert summary.loc["click_alarmclock", "best source"] == result.losses.loc["click_alarmclock", "click_bell"]
    assert np.isnan(summary.loc["click_alarmclock", "own memory"])  # no memory of an unseen task

    out = CliRunner().invoke(memory_app, ["probe", str(root / "bank"), "--backbone", str(root / "run"),
                                          "--data", str(root / "demos"), "--frames", "8",
                                          "--csv", str(tmp_path / "losses.csv")])
    assert out.exit_code == 0, out.output
    assert "gap closed %" in out.output and "click_alarmclock" in out.output
    table = pd.read_csv(tmp_path / "losses.csv", index_col="task")
    assert list(table.columns) == ["plain", "k0", *bank.memory_names] and len(table) == 3
    bad = CliRunner().invoke(memory_app, ["probe", str(root / "bank"), "--backbone", str(root / "run"),
                                          "--data", str(root / "demos"), "--task", "open_laptop"])
    assert bad.exit_code == 1 and "has no demonstrations of ['open_laptop']" in bad.output


def test_probe_reads_the_ceiling_banks_own_task_lora_where_it_has_one(tiny_run, tmp_path):
    root, _ = tiny_run
    build_tiny_ceiling(root, tmp_path / "ceiling")
    model = load_backbone_checkpoint(latest_checkpoint(root / "run"), "cpu").eval()
    bank, ceiling = load_bank(root / "bank", model), load_bank(tmp_path / "ceiling", model)
    result = probe_memories(model, bank, LeRobotV3Dataset(root / "demos"), frames_per_task=6, ceiling=ceiling)
    own = result.losses["ceiling"]
    assert np.isfinite(own["click_alarmclock"]) and own.drop("click_alarmclock").isna().all()
    # the same number as the ceiling LoRA fused alone on a fresh backbone (no other fusion attached)
    fresh = load_backbone_checkpoint(latest_checkpoint(root / "run"), "cpu").eval()
    data = LeRobotV3Dataset(root / "demos")
    samples = chunk_samples(fresh, data, instruction_embedder(fresh))
    rng = np.random.default_rng(0)
    tasks = np.array([str(data.episodes[e]["task_name"]) for e, _ in samples.index])
    for task in sorted(set(tasks)):  # the probe's frame draw, task by task in the same order
        picked = np.sort(rng.choice(np.nonzero(tasks == task)[0], size=min(6, int((tasks == task).sum())),
                                    replace=False))
        if task == "click_alarmclock":
            batch = torch.utils.data.default_collate([samples[int(i)] for i in picked])
    fusion = load_bank(tmp_path / "ceiling", fresh).fusion(fresh, 1)
    assert fusion.has_base  # the ceiling's LoRA sits on the bank's base LoRA, as in the ceiling arm
    with fusion.applied(torch.tensor([0]), torch.tensor([1.0])), torch.no_grad():
        assert own["click_alarmclock"] == pytest.approx(float(fresh.compute_loss(batch)), rel=1e-5)
    fusion.detach()
