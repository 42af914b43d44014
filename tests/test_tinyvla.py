"""The ``tinyvla`` backbone: shapes, learning, normalisation, instruction encoder, config, LoRA names, env I/O.

Tiny configs keep the suite fast on a 2-core CPU; the MiniLM encoder is loaded once per session.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from torch import nn

from vlapro_bench.env import VLAProEnv
from vlapro_bench.policies.tinyvla import (
    LORA_TARGET_REGEX,
    LORA_TRANSFORMER_REGEX,
    InstructionEncoder,
    TinyVLA,
    TinyVLAConfig,
    count_parameters,
    shared_instruction_encoder,
)
from vlapro_bench.policies.tinyvla.modeling import SpatialSoftmax
from vlapro_bench.policies.tinyvla.policy import BackbonePolicy
from vlapro_bench.training.features import object_offsets

TINY = dict(
    cameras=("head_camera", "front_camera"),
    image_size=(32, 32),
    chunk_size=4,
    vision_channels=(8, 16),
    vision_groups=4,
    vision_res_stages=1,
    d_model=32,
    n_heads=2,
    n_encoder_layers=1,
    n_decoder_layers=1,
    ffn_dim=64,
    dropout=0.0,
)


def tiny_model(seed: int = 0, **overrides) -> TinyVLA:
    torch.manual_seed(seed)
    return TinyVLA(TinyVLAConfig(**{**TINY, **overrides}))


def random_batch(cfg: TinyVLAConfig, batch_size: int = 3, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    h, w = cfg.image_size
    return {
        "images": {c: torch.randint(0, 256, (batch_size, h, w, 3), dtype=torch.uint8, generator=g)
                   for c in cfg.cameras},
        "agent_pos": torch.randn(batch_size, cfg.state_dim, generator=g),
        "instruction_embedding": torch.nn.functional.normalize(
            torch.randn(batch_size, cfg.instruction_dim, generator=g), dim=-1),
        "action": torch.randn(batch_size, cfg.chunk_size, cfg.action_dim, generator=g),
    }


@pytest.fixture(scope="module")
def encoder() -> InstructionEncoder:
    return shared_instruction_encoder()


def test_forward_shape_and_layouts():
    model = tiny_model()
    cfg = model.config
    batch = random_batch(cfg, batch_size=3)
    out = model(batch)
    assert out.shape == (3, cfg.chunk_size, 14)
    assert torch.isfinite(out).all()
    # The stacked (B, n_cameras, H, W, 3) layout and another image size give a valid result too.
    stacked = dict(batch, images=torch.stack([batch["images"][c] for c in cfg.cameras], dim=1))
    model.eval()
    assert torch.allclose(model(stacked), model(batch))
    bigger = dict(batch, images={c: torch.zeros(3, 48, 40, 3, dtype=torch.uint8) for c in cfg.cameras})
    assert model(bigger).shape == (3, cfg.chunk_size, 14)
    feats = model.visual_features(batch)
    assert feats.shape == (3, model.visual_feature_dim) == (3, 16 * 2)


def test_missing_camera_is_a_clear_error():
    model = tiny_model()
    batch = random_batch(model.config)
    del batch["images"]["front_camera"]
    with pytest.raises(KeyError, match="front_camera"):
        model(batch)


def test_loss_decreases_when_overfitting_a_fixed_batch():
    model = tiny_model()
    batch = random_batch(model.config, batch_size=4)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = model.compute_loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # Seeded, so the curve is reproducible (about 1.06 -> 0.65 on the development machine).
    assert losses[-1] < 0.7 * losses[0], losses
    assert min(losses[-5:]) < min(losses[:5]), losses


def test_padded_steps_do_not_count_in_the_loss():
    model = tiny_model()
    batch = random_batch(model.config)
    is_pad = torch.zeros(3, model.config.chunk_size, dtype=torch.bool)
    is_pad[:, 2:] = True
    garbage = batch["action"].clone()
    garbage[:, 2:] = 1e6
    model.eval()
    a = model.compute_loss(dict(batch, action_is_pad=is_pad))
    b = model.compute_loss(dict(batch, action=garbage, action_is_pad=is_pad))
    assert torch.allclose(a, b)


def test_normalization_round_trip_and_state_dict():
    model = tiny_model()
    rng = np.random.default_rng(0)
    stats = {
        "action": {"mean": rng.normal(size=14).tolist(), "std": rng.uniform(0.1, 2.0, size=14).tolist()},
        "agent_pos": {"mean": rng.normal(size=14), "std": np.r_[rng.uniform(0.1, 2.0, size=13), 0.0]},
    }
    model.set_normalization(stats)
    assert bool(model.normalization_set)
    assert model.state_std[-1].item() == pytest.approx(model.config.min_std)  # a constant dimension is floored
    x = torch.randn(5, 4, 14, dtype=torch.float32) * 3
    assert torch.allclose(model.unnormalize_action(model.normalize_action(x)), x, atol=1e-5)
    assert torch.allclose(model.normalize_action(torch.tensor(stats["action"]["mean"])), torch.zeros(14), atol=1e-6)

    # Buffers travel with the state dict: a fresh model loaded from it normalises identically.
    clone = tiny_model(seed=1)
    clone.load_state_dict(model.state_dict())
    assert bool(clone.normalization_set)
    assert clone.normalization_stats() == model.normalization_stats()
    assert torch.equal(clone.normalize_action(x), model.normalize_action(x))

    with pytest.raises(ValueError, match="14 entries"):
        model.set_normalization({"action": {"mean": [0.0] * 3, "std": [1.0] * 3}, "agent_pos": stats["agent_pos"]})
    with pytest.raises(KeyError, match="agent_pos"):
        model.set_normalization({"action": stats["action"]})


def test_instruction_encoder_embeddings_and_cache(encoder: InstructionEncoder):
    a, b = "Click the bell on the table.", "Stack the two blocks."
    first = encoder.encode([a, b])
    assert first.shape == (2, 384) and first.dtype == torch.float32
    assert torch.allclose(first.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert not torch.allclose(first[0], first[1], atol=1e-3)
    before = encoder.cache_info()
    again = encoder.encode([b, a, a])
    after = encoder.cache_info()
    assert after["hits"] - before["hits"] == 3 and after["misses"] == before["misses"]
    assert torch.equal(again[0], first[1]) and torch.equal(again[1], first[0]) and torch.equal(again[2], first[0])
    # Similar instructions are closer than unrelated ones (the embedding carries meaning).
    near = encoder.encode(["Press the bell on the table."])[0]
    assert near @ first[0] > near @ first[1]
    with pytest.raises(TypeError):
        encoder.encode(a)


def test_config_json_round_trip():
    cfg = TinyVLAConfig(**TINY)
    text = json.dumps(cfg.to_dict())
    back = TinyVLAConfig.from_dict(json.loads(text))
    assert back == cfg
    assert back.to_dict() == cfg.to_dict()
    assert TinyVLAConfig.from_dict(TinyVLAConfig().to_dict()) == TinyVLAConfig()
    with pytest.raises(ValueError, match="Unknown TinyVLAConfig fields"):
        TinyVLAConfig.from_dict({**cfg.to_dict(), "chunk_sise": 8})
    with pytest.raises(ValueError, match="must divide"):
        TinyVLAConfig(d_model=30, n_heads=4)


def test_every_linear_matches_the_lora_regex():
    model = TinyVLA(TinyVLAConfig(**{**TINY, "n_encoder_layers": 2, "n_decoder_layers": 2}))
    linears = model.linear_module_names()
    assert linears
    assert all(type(m) is nn.Linear for n, m in model.named_modules() if n in linears)
    assert not any(isinstance(m, nn.MultiheadAttention) for m in model.modules())
    assert [n for n in linears if not re.fullmatch(LORA_TARGET_REGEX, n)] == []
    # Under a wrapper prefix (as peft adds "base_model.model.") the names still match.
    assert all(re.fullmatch(LORA_TARGET_REGEX, "base_model.model." + n) for n in linears)
    assert "decoder.layers.1.cross_attn.q_proj" in linears
    # The transformer-only regex picks attention and MLP linears and nothing else.
    transformer = TinyVLA.lora_target_names(model, LORA_TRANSFORMER_REGEX)
    per_encoder_layer, per_decoder_layer = 4 + 2, 8 + 2
    assert len(transformer) == 2 * per_encoder_layer + 2 * per_decoder_layer
    assert set(linears) - set(transformer) == {"vision_proj", "state_proj", "instruction_proj", "action_head"}
    # No convolution or the CNN falls under either pattern: visual_features stays adapter-independent.
    assert not any(n.startswith("vision.") for n in linears)


def test_determinism_with_a_fixed_seed():
    a, b = tiny_model(seed=7, dropout=0.1), tiny_model(seed=7, dropout=0.1)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    batch = random_batch(a.config)
    torch.manual_seed(3)
    out_a = a(batch)  # training mode: dropout draws from the torch generator
    torch.manual_seed(3)
    out_b = b(batch)
    assert torch.equal(out_a, out_b)
    a.eval()
    assert torch.equal(a(batch), a(batch))
    assert not torch.equal(tiny_model(seed=8)(batch), tiny_model(seed=7)(batch))


def test_default_config_is_cpu_sized():
    model = TinyVLA()
    assert 1_000_000 <= count_parameters(model) <= 3_000_000
    assert model.feature_hw == (6, 6)


def test_predict_action_chunk_on_a_real_env_observation(encoder: InstructionEncoder):
    env = VLAProEnv("click_bell", camera_size=(96, 96))
    try:
        obs, _ = env.reset(seed=0)
    finally:
        env.close()
    torch.manual_seed(0)
    model = TinyVLA(TinyVLAConfig(n_encoder_layers=1, n_decoder_layers=1), instruction_encoder=encoder)
    model.set_normalization({
        "action": {"mean": obs["agent_pos"], "std": np.full(14, 0.5)},
        "agent_pos": {"mean": obs["agent_pos"], "std": np.full(14, 0.5)},
    })
    model.train()
    chunk = model.predict_action_chunk(obs)
    assert model.training  # the mode is restored
    assert chunk.shape == (16, 14) and chunk.dtype == np.float32
    assert np.isfinite(chunk).all()
    # Unnormalised: an untrained model's outputs sit near the dataset mean, on the env's scale.
    assert np.abs(chunk - obs["agent_pos"]).max() < 10
    # The instruction went through the cached encoder, and a precomputed embedding gives the same chunk.
    emb = encoder.encode([obs["instruction"]])[0]
    same = model.predict_action_chunk({**obs, "instruction_embedding": emb.numpy()})
    np.testing.assert_array_equal(chunk, same)


class _CountingModel:
    """Stands in for a backbone: the chunk predicted at call c holds c*100 + step index."""

    class config:  # noqa: N801 - mimics the attribute of a real backbone
        chunk_size = 4

    def __init__(self):
        self.calls = 0

    def eval(self):
        return self

    def predict_action_chunk(self, observation):
        chunk = self.calls * 100.0 + np.arange(4, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
        self.calls += 1
        return chunk


def test_temporal_ensembling_averages_every_chunk_that_covers_the_step():
    policy = BackbonePolicy(_CountingModel(), temporal_ensemble=0.5)
    policy.reset("x", None)
    first = policy.act({})
    assert first.shape == (1, 2) and np.allclose(first, 0.0)
    second = policy.act({})  # chunk 0 predicted step 1 as 1.0; chunk 1 predicts it as 100.0
    w = np.exp(-0.5 * np.arange(2))
    assert np.allclose(second, (w[0] * 1.0 + w[1] * 100.0) / w.sum())
    for _ in range(6):
        out = policy.act({})
    assert len(policy._chunks) == 4  # only chunks that still cover the current step are kept
    ages = np.arange(4)
    expected = ((np.exp(-0.5 * ages)) * (np.array([4, 5, 6, 7]) * 100.0 + ages[::-1])).sum() / np.exp(-0.5 * ages).sum()
    assert np.allclose(out, expected)
    policy.reset("y", None)
    assert policy._chunks == []
    chunked = BackbonePolicy(_CountingModel(), execute=3)
    assert chunked.act({}).shape == (3, 2)
    with pytest.raises(ValueError, match="temporal_ensemble"):
        BackbonePolicy(_CountingModel(), temporal_ensemble=-1.0)


def test_spatial_softmax_reads_the_position_of_a_peak():
    layer = SpatialSoftmax(channels=1, keypoints=1, height=6, width=8)
    with torch.no_grad():
        layer.heat.weight.fill_(1.0)
        layer.heat.bias.zero_()
        layer.log_temperature.fill_(-3.0)  # sharp: the expectation sits on the peak
    x = torch.zeros(1, 1, 6, 8)
    x[0, 0, 4, 6] = 5.0
    kx, ky = layer(x)[0].tolist()
    assert kx == pytest.approx(-1 + 2 * 6 / 7, abs=1e-3) and ky == pytest.approx(-1 + 2 * 4 / 5, abs=1e-3)
    # A flat map puts the keypoint in the middle of the image.
    assert layer(torch.zeros(1, 1, 6, 8))[0].abs().max() < 1e-6


def test_keypoint_tokens_one_per_camera_and_reached_by_lora():
    cfg = TinyVLAConfig(**{**TINY, "keypoints": 5, "keypoint_stage": 1})
    model = TinyVLA(cfg)
    batch = random_batch(cfg)
    h, w = model.feature_hw
    assert model.encode_observation(batch).shape == (3, 2 + len(cfg.cameras) * (h * w + 1), cfg.d_model)
    assert model(batch).shape == (3, cfg.chunk_size, cfg.action_dim)
    assert "keypoint_proj" in TinyVLA.lora_target_names(model)
    # The keypoints are read from stage 1 (16x16 at 32x32 input) and never reach the retrieval feature.
    assert model.vision.keypoints.grid.shape == (16 * 16, 2)
    assert model.visual_features(batch).shape == (3, model.visual_feature_dim)
    seen = []  # the procedural memory's visual tap hooks `vision`: it must still see the feature map
    handle = model.vision.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    model.compute_loss(batch).backward()
    handle.remove()
    assert seen == [(3 * len(cfg.cameras), cfg.vision_channels[-1], h, w)]
    assert model.vision.keypoints.heat.weight.grad.abs().sum() > 0
    assert model.vision.last_keypoints is None  # taken by the forward pass, not left behind
    assert "vision.keypoints.grid" not in model.state_dict()  # rebuilt from the config, not stored
    with pytest.raises(ValueError, match="keypoint_stage must be between 1 and 2"):
        TinyVLAConfig(**{**TINY, "keypoints": 4, "keypoint_stage": 3})
    with pytest.raises(ValueError, match="keypoints must be >= 0"):
        TinyVLAConfig(**{**TINY, "keypoints": -1})


def test_state_model_reads_object_poses_instead_of_images():
    model = tiny_model(cameras=(), object_state_dim=28)
    cfg = model.config
    g = torch.Generator().manual_seed(0)
    batch = {"object_state": torch.randn(3, 28, generator=g), "agent_pos": torch.randn(3, cfg.state_dim, generator=g),
             "instruction_embedding": torch.randn(3, cfg.instruction_dim, generator=g),
             "action": torch.randn(3, cfg.chunk_size, cfg.action_dim, generator=g)}
    stats = {"action": {"mean": [0.0] * 14, "std": [1.0] * 14}, "agent_pos": {"mean": [0.0] * 14, "std": [1.0] * 14},
             "object_state": {"mean": [0.5] * 28, "std": [2.0] * 28}}
    model.set_normalization(stats)
    assert model.vision is None and model(batch).shape == (3, cfg.chunk_size, cfg.action_dim)
    model.compute_loss(batch).backward()
    assert model.object_proj.weight.grad.abs().sum() > 0
    # the visual feature is the normalised object state, taken before any linear (the memory's tap)
    expected = (batch["object_state"] - 0.5) / 2.0
    torch.testing.assert_close(model.visual_features(batch), expected)
    module, pool = model.visual_feature_tap()
    seen = []
    handle = module.register_forward_hook(lambda m, args, out: seen.append(pool(out, 3)))
    model(batch)
    handle.remove()
    torch.testing.assert_close(seen[0], expected)
    assert model.visual_feature_dim == 28 and model.normalization_stats()["object_state"]["std"] == [2.0] * 28
    with pytest.raises(KeyError, match="object_state"):
        model.set_normalization({k: v for k, v in stats.items() if k != "object_state"})
    with pytest.raises(ValueError, match="at least one camera .*object_state_dim"):
        TinyVLAConfig(cameras=())


def test_camera_configs_keep_their_dict_and_fingerprint_without_object_state():
    """object_state_dim is left out of camera models' configs, so banks built before it existed still match."""
    cfg = TinyVLAConfig(**TINY)
    assert "object_state_dim" not in cfg.to_dict()
    assert TinyVLAConfig.from_dict(cfg.to_dict()) == cfg
    state = TinyVLAConfig(**{**TINY, "cameras": (), "object_state_dim": 28})
    assert state.to_dict()["object_state_dim"] == 28 and TinyVLAConfig.from_dict(state.to_dict()) == state
    # checkpoints written with the first spelling of relative actions still load
    assert TinyVLAConfig.from_dict({"relative_actions": True}).action_reference == "agent_pos"


def test_state_model_acts_in_a_state_mode_env():
    env = VLAProEnv("click_bell", obs_mode="state")
    model = tiny_model(cameras=(), object_state_dim=28)
    obs, _ = env.reset(seed=0)
    chunk = BackbonePolicy(model).act(obs)
    assert chunk.shape == (model.config.chunk_size, 14) and np.isfinite(chunk).all()
    env.close()


def test_relative_actions_are_predicted_from_the_chunk_start_state():
    model = tiny_model(action_reference="agent_pos")
    cfg = model.config
    stats = {"action_delta": {"mean": [0.1] * 14, "std": [0.5] * 14}, "agent_pos": {"mean": [0.0] * 14,
                                                                                   "std": [1.0] * 14}}
    model.set_normalization(stats)
    with torch.no_grad():  # a head that outputs 0: the prediction is the mean difference from the state
        model.action_head.weight.zero_()
        model.action_head.bias.zero_()
    batch = random_batch(cfg, batch_size=2)
    obs = {"images": {c: img[0] for c, img in batch["images"].items()}, "agent_pos": batch["agent_pos"][0],
           "instruction_embedding": batch["instruction_embedding"][0]}
    chunk = model.predict_action_chunk(obs)
    np.testing.assert_allclose(chunk, np.tile(batch["agent_pos"][0].numpy() + 0.1, (cfg.chunk_size, 1)), atol=1e-6)
    # the loss compares the output with (action - agent_pos - mean) / std
    batch["action"] = batch["agent_pos"][:, None, :] + 0.1 + 0.5 * torch.ones(2, cfg.chunk_size, 14)
    assert float(model.compute_loss(batch)) == pytest.approx(1.0, abs=1e-5)
    assert model.config.to_dict()["action_reference"] == "agent_pos"
    assert "action_reference" not in TinyVLAConfig().to_dict()
    with pytest.raises(KeyError, match="action_delta"):
        model.set_normalization({"action": stats["action_delta"], "agent_pos": stats["agent_pos"]})
    with pytest.raises(ValueError, match="state_dim == action_dim"):
        TinyVLAConfig(action_reference="agent_pos", action_dim=16)
    with pytest.raises(ValueError, match="action_reference must be one of"):
        TinyVLAConfig(action_reference="tcp")


def test_end_effector_actions_relative_to_the_hand_and_object_offsets():
    """ee actions: positions and gripper relative to the measured ee_pose, orientations absolute; the
    offsets token reads each object's position minus each gripper's."""
    model = tiny_model(cameras=(), object_state_dim=28, action_dim=16, ee_pose_dim=16, action_reference="ee_position",
                       object_offsets=True)
    stats = {"action_delta_ee": {"mean": [0.0] * 16, "std": [1.0] * 16},
             "agent_pos": {"mean": [0.0] * 14, "std": [1.0] * 14},
             "object_state": {"mean": [0.0] * 28, "std": [1.0] * 28},
             "object_offsets": {"mean": [0.0] * 24, "std": [1.0] * 24}}
    model.set_normalization(stats)
    with torch.no_grad():
        model.action_head.weight.zero_()
        model.action_head.bias.zero_()
    g = torch.Generator().manual_seed(0)
    obs = {"agent_pos": torch.randn(14, generator=g), "object_state": torch.randn(28, generator=g),
           "ee_pose": torch.randn(16, generator=g), "instruction_embedding": torch.randn(384, generator=g)}
    chunk = model.predict_action_chunk(obs)
    expected = obs["ee_pose"].numpy() * np.tile([1, 1, 1, 0, 0, 0, 0, 1], 2)
    np.testing.assert_allclose(chunk[0], expected, atol=1e-6)
    offsets = object_offsets(obs["object_state"][None], obs["ee_pose"][None])[0]
    assert offsets.shape == (24,)  # 4 objects x 2 arms x xyz
    torch.testing.assert_close(offsets[3:6], obs["object_state"][0:3] - obs["ee_pose"][8:11])  # object 0, right arm
    with pytest.raises(ValueError, match="as wide as ee_pose_dim"):
        TinyVLAConfig(action_reference="ee_position", action_dim=16)
    with pytest.raises(ValueError, match="object_offsets needs"):
        TinyVLAConfig(object_offsets=True)
