"""The fusion is exact (the explicit weighted sum of LoRA deltas), removable bit for bit, for two backbones."""

import copy

import numpy as np
import pytest
import torch
from peft import LoraConfig, get_peft_model
from torch import nn

from vlapro_bench.memory.contract import linear_targets
from vlapro_bench.memory.fusion import AdapterTable, FusedLoRA, activation_layers, counting_rows
from vlapro_bench.memory.lora import extract_adapter
from vlapro_bench.policies.lerobot_bridge import LeRobotBackbone
from vlapro_bench.policies.tinyvla import LORA_TRANSFORMER_REGEX, TinyVLA, TinyVLAConfig

TINY = {"image_size": [16, 16], "vision_channels": [8, 8], "vision_groups": 4, "vision_res_stages": 0,
        "d_model": 16, "n_heads": 2, "n_encoder_layers": 1, "n_decoder_layers": 1, "ffn_dim": 32,
        "chunk_size": 4, "cameras": ["head_camera", "front_camera"], "dropout": 0.0}
CAMS = ("head_camera", "front_camera")
RANK, SCALING, N_ADAPTERS = 4, 2.0, 6
#: The target linears' own (W, b), saved before any fusion: the explicit sum starts from them.
ORIGINAL: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}


class StandInLeRobotPolicy(nn.Module):
    """LeRobot's documented policy interface (forward -> (loss, info), predict_action_chunk, reset) with linears."""

    def __init__(self, chunk: int = 4, dim: int = 14):
        super().__init__()
        self.chunk, self.dim = chunk, dim
        self.encoder = nn.Linear(2 * 3 + 14, 24)
        self.hidden = nn.Linear(24, 24)
        self.action_head = nn.Linear(24, chunk * dim)

    def _predict(self, batch):
        pooled = torch.cat([batch[f"observation.images.{c}"].mean(dim=(2, 3)) for c in CAMS], dim=-1)
        h = torch.relu(self.encoder(torch.cat([pooled, batch["observation.state"]], dim=-1)))
        return self.action_head(torch.relu(self.hidden(h))).view(-1, self.chunk, self.dim)

    def forward(self, batch):
        return (self._predict(batch) - batch["action"]).abs().mean(), {}

    def predict_action_chunk(self, batch):
        return self._predict(batch)

    def reset(self):
        pass


def make_backbone(kind: str) -> tuple[nn.Module, str]:
    """A tiny backbone with random weights and its LoRA target regex."""
    torch.manual_seed(0)
    if kind == "tinyvla":
        return TinyVLA(TinyVLAConfig(**TINY)), LORA_TRANSFORMER_REGEX
    return LeRobotBackbone(StandInLeRobotPolicy(), CAMS, chunk_size=4), r"policy\.(encoder|hidden|action_head)"


def random_adapter(targets: dict[str, nn.Linear], gen: torch.Generator, rank: int = RANK):
    """Both factors random (peft's B = 0 init would make every delta vanish and every test pass)."""
    return {name: (torch.randn(rank, m.in_features, generator=gen) * 0.3,
                   torch.randn(m.out_features, rank, generator=gen) * 0.3) for name, m in targets.items()}


def observation(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"images": {c: rng.integers(0, 255, (16, 16, 3), dtype=np.uint8) for c in CAMS},
            "agent_pos": rng.normal(size=14).astype(np.float32), "ee_pose": rng.normal(size=16).astype(np.float32),
            "instruction_embedding": rng.normal(size=384).astype(np.float32), "instruction": "click the bell"}


def remember_originals(targets: dict[str, nn.Linear]) -> dict[str, nn.Linear]:
    ORIGINAL.clear()
    ORIGINAL.update({name: (m.weight.detach().clone(), m.bias.detach().clone()) for name, m in targets.items()})
    return targets


#: Which target layers add their term on the activations instead of into fused weights.
PATHS = {"weights": lambda layers: [], "activations": lambda layers: layers, "mixed": lambda layers: layers[::2]}


def setup(kind: str, k: int, with_base: bool = True, path: str = "weights"):
    model, regex = make_backbone(kind)
    targets = remember_originals(linear_targets(model, regex))
    gen = torch.Generator().manual_seed(1)
    adapters = [random_adapter(targets, gen) for _ in range(N_ADAPTERS)]
    base = random_adapter(targets, gen) if with_base else None
    table = AdapterTable.from_adapters([f"m{i}" for i in range(N_ADAPTERS)], adapters)
    fusion = FusedLoRA(model, table, k, SCALING, base=base, activation_path=PATHS[path](list(targets)))
    return model, targets, adapters, base, fusion


def explicit_output(name: str, x: torch.Tensor, adapters, base, chosen, weights) -> torch.Tensor:
    """W x + b + s B0 A0 x + sum_i w_i s B_i A_i x, in float64, one adapter at a time."""
    x64 = x.double()
    weight, bias = ORIGINAL[name]
    y = x64 @ weight.double().T + bias.double()
    if base is not None:
        a, b = base[name]
        y = y + SCALING * (x64 @ a.double().T) @ b.double().T
    for i, w in zip(chosen, weights):
        a, b = adapters[i][name]
        y = y + float(w) * SCALING * (x64 @ a.double().T) @ b.double().T
    return y


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return float((actual.detach().double() - expected).norm() / expected.norm())


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("kind", ["tinyvla", "lerobot_bridge"])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_fused_layers_equal_the_explicit_sum(kind, k, path):
    model, targets, adapters, base, fusion = setup(kind, k, path=path)
    gen = torch.Generator().manual_seed(2)
    for trial in range(3):
        chosen = torch.randperm(N_ADAPTERS, generator=gen)[:k]
        weights = torch.softmax(torch.randn(k, generator=gen), dim=0)
        fusion.set(chosen, weights)
        for i, (name, linear) in enumerate(targets.items()):
            shape = ((2, 5), (7,), (), (2, 1, 3))[(trial + i) % 4]  # (batch, tokens), rows, one vector, 4-d
            x = torch.randn(*shape, linear.in_features, generator=gen)
            with torch.no_grad():
                fused = linear(x)
            assert fused.shape == (*shape, linear.out_features)
            expected = explicit_output(name, x, adapters, base, chosen.tolist(), weights.tolist())
            assert relative_error(fused, expected) < 1e-5, (name, trial)
            # and the fusion really added something: the base layer alone is far from it
            assert relative_error(x @ ORIGINAL[name][0].T + ORIGINAL[name][1], expected) > 1e-3
        fusion.clear()


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("kind", ["tinyvla", "lerobot_bridge"])
@pytest.mark.parametrize("k", [1, 4])
def test_whole_model_matches_merged_weights_and_restores_the_base_bit_for_bit(kind, k, path):
    model, targets, adapters, base, fusion = setup(kind, k, path=path)
    obs = observation()
    before = {n: t.clone() for n, t in model.state_dict().items()}
    plain = model.predict_action_chunk(obs)
    chosen = torch.arange(k)
    weights = torch.softmax(torch.linspace(0.0, 1.0, k), dim=0)

    merged = copy.deepcopy(model)
    merged_targets = linear_targets(merged, "|".join(n.replace(".", r"\.") for n in targets))
    with torch.no_grad():
        for name, linear in merged_targets.items():
            delta = SCALING * base[name][1].double() @ base[name][0].double()
            for i, w in zip(chosen.tolist(), weights.tolist()):
                delta += w * SCALING * adapters[i][name][1].double() @ adapters[i][name][0].double()
            linear.weight.copy_((linear.weight.double() + delta).float())

    with fusion.applied(chosen, weights):
        fused = model.predict_action_chunk(obs)
    reference = merged.predict_action_chunk(obs)
    assert np.linalg.norm(fused - reference) / np.linalg.norm(reference) < 1e-5
    assert not np.allclose(fused, plain, atol=1e-4)  # the memories changed the chunk

    after_chunk = model.predict_action_chunk(obs)
    assert np.array_equal(after_chunk, plain)  # unloaded: bit for bit the base output
    fusion.detach()
    assert np.array_equal(model.predict_action_chunk(obs), plain)
    with pytest.raises(RuntimeError, match="detached"):
        fusion.set(chosen, weights)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name]), name  # the weights were never touched
    assert not any("forward" in vars(linear) for linear in targets.values())  # no forward left behind


def test_base_only_mode_and_no_base_bank():
    model, targets, adapters, base, fusion = setup("tinyvla", 2)
    fusion.set_base_only()
    name, linear = next(iter(targets.items()))
    x = torch.randn(3, linear.in_features)
    with torch.no_grad():
        out = linear(x)
    assert relative_error(out, explicit_output(name, x, adapters, base, [], [])) < 1e-5
    fusion.clear()

    model, targets, adapters, base, fusion = setup("tinyvla", 2, with_base=False)
    assert base is None and not fusion.has_base
    fusion.set(torch.tensor([5, 0]), torch.tensor([0.25, 0.75]))
    linear = targets[name]
    with torch.no_grad():
        out = linear(x)
    assert relative_error(out, explicit_output(name, x, adapters, None, [5, 0], [0.25, 0.75])) < 1e-5


def test_base_only_after_a_chunk_removes_the_activation_terms():
    model, targets, adapters, base, fusion = setup("tinyvla", 2, path="mixed")
    fusion.set(torch.tensor([1, 3]), torch.tensor([0.5, 0.5]))
    fusion.set_base_only()
    for name, linear in targets.items():
        x = torch.randn(3, linear.in_features)
        with torch.no_grad():
            out = linear(x)
        assert relative_error(out, explicit_output(name, x, adapters, base, [], [])) < 1e-5, name
    with pytest.raises(ValueError, match="activation_path names layers the bank does not target"):
        FusedLoRA(model, fusion.table, 1, SCALING, activation_path=["decoder.nowhere"])


def test_rows_counted_per_layer_choose_the_activation_path_for_the_decoder_queries():
    """Default tinyvla: 146 observation tokens through the encoder and the cross-attention keys and
    values, 16 action queries through the rest of the decoder."""
    model = TinyVLA(TinyVLAConfig()).eval()
    layers = list(linear_targets(model, LORA_TRANSFORMER_REGEX))
    rng = np.random.default_rng(0)
    obs = {"images": {c: rng.integers(0, 255, (96, 96, 3), dtype=np.uint8) for c in model.config.cameras},
           "agent_pos": np.zeros(14, np.float32), "instruction_embedding": np.zeros(384, np.float32)}
    with counting_rows(model, layers) as rows:
        model.predict_action_chunk(obs)
    assert rows["encoder.layers.0.self_attn.q_proj"] == rows["decoder.layers.1.cross_attn.v_proj"] == 146
    assert rows["decoder.layers.0.self_attn.q_proj"] == rows["decoder.layers.1.mlp.fc2"] == 16
    modules = dict(model.named_modules())
    chosen = set(activation_layers(model, rows))
    assert chosen == {n for n in layers if n.startswith("decoder") and not n.endswith(("cross_attn.k_proj",
                                                                                     "cross_attn.v_proj"))}
    assert not any(modules[n]._forward_pre_hooks for n in layers)  # the counters are gone


def test_shared_adapters_through_memory_index():
    """Several memories may point at one adapter row; set() follows the mapping."""
    model, regex = make_backbone("tinyvla")
    targets = remember_originals(linear_targets(model, regex))
    gen = torch.Generator().manual_seed(3)
    adapters = [random_adapter(targets, gen) for _ in range(2)]
    table = AdapterTable.from_adapters(["a", "b"], adapters)
    fusion = FusedLoRA(model, table, 1, SCALING, memory_adapter=torch.tensor([1, 1, 0]))
    name, linear = next(iter(targets.items()))
    x = torch.randn(2, linear.in_features)
    fusion.set(torch.tensor([2]), torch.tensor([1.0]))  # memory 2 -> adapter 0
    with torch.no_grad():
        out = linear(x)
    assert relative_error(out, explicit_output(name, x, adapters, None, [0], [1.0])) < 1e-5


def test_refuses_a_bank_for_another_backbone_and_bad_k():
    model, targets, adapters, base, fusion = setup("tinyvla", 2)
    other, _ = make_backbone("lerobot_bridge")
    table = AdapterTable.from_adapters(["a"], [adapters[0]])
    with pytest.raises(ValueError, match="matches no module"):
        FusedLoRA(other, table, 1, SCALING)
    bigger = TinyVLA(TinyVLAConfig(**{**TINY, "d_model": 32, "ffn_dim": 64}))
    with pytest.raises(ValueError, match="built for another backbone"):
        FusedLoRA(bigger, table, 1, SCALING)
    with pytest.raises(ValueError, match="k=3 memories per chunk, but the bank holds 1"):
        FusedLoRA(make_backbone("tinyvla")[0], table, 3, SCALING)
    with pytest.raises(ValueError, match="rank"):
        AdapterTable.from_adapters(["a", "b"], [adapters[0], random_adapter(targets, torch.Generator(), rank=2)])
    with pytest.raises(ValueError, match="need 2 memory indices"):
        fusion.set(torch.tensor([0]), torch.tensor([1.0]))


def test_non_linear_targets_are_refused():
    model, _ = make_backbone("tinyvla")
    with pytest.raises(ValueError, match="not an nn.Linear"):
        linear_targets(model, r"vision\..*conv")


def test_matches_peft_cat_combination_and_not_peft_linear():
    """Cross-check with peft itself: its exact "cat" combination equals our fusion; its "linear"
    combination (A and B mixed separately, cross terms) does not: the pitfall the design avoids."""
    torch.manual_seed(0)
    model, regex = make_backbone("lerobot_bridge")
    clean = copy.deepcopy(model)
    config = LoraConfig(r=RANK, lora_alpha=2 * RANK, target_modules=regex)
    peft_model = get_peft_model(model, config, adapter_name="a0")
    peft_model.add_adapter("a1", config)
    gen = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for module in peft_model.modules():
            if hasattr(module, "lora_B") and "a0" in module.lora_B:
                for name in ("a0", "a1"):
                    module.lora_B[name].weight.normal_(0, 0.5, generator=gen)
    weights = [0.3, 0.7]
    for combination in ("cat", "linear"):
        peft_model.add_weighted_adapter(["a0", "a1"], weights, combination, combination_type=combination)
    prefix = "base_model.model."
    adapters = [{n.removeprefix(prefix): factors for n, factors in extract_adapter(peft_model, name).items()}
                for name in ("a0", "a1")]
    fusion = FusedLoRA(clean, AdapterTable.from_adapters(["a0", "a1"], adapters), 2, SCALING)
    obs = observation(3)
    with fusion.applied(torch.tensor([0, 1]), torch.tensor(weights)):
        ours = clean.predict_action_chunk(obs)
    outputs = {}
    for combination in ("cat", "linear"):
        peft_model.set_adapter(combination)
        outputs[combination] = model.predict_action_chunk(obs)
    assert np.linalg.norm(ours - outputs["cat"]) / np.linalg.norm(outputs["cat"]) < 1e-5
    assert np.linalg.norm(ours - outputs["linear"]) / np.linalg.norm(outputs["cat"]) > 1e-2
