"""Procedural-state fields, their projection, key sequences and retrieval (top-k, softmax, temperature)."""

import numpy as np
import pytest
import torch

from vlapro_bench.memory.config import FIELDS
from vlapro_bench.memory.contract import find_visual_tap, linear_targets
from vlapro_bench.memory.fusion import AdapterTable, FusedLoRA
from vlapro_bench.memory.retrieval import Retriever
from vlapro_bench.memory.state import (
    QueryEncoder,
    StateProjection,
    as_two_arm_pose,
    canonical_quaternion,
    history_window,
    oracle_fields,
    phase_keys,
    pose_fields,
    visible_fields,
)
from vlapro_bench.policies.lerobot_bridge import LeRobotBackbone
from vlapro_bench.policies.tinyvla import TinyVLA, TinyVLAConfig

TINY = {"image_size": [16, 16], "vision_channels": [8, 8], "vision_groups": 4, "vision_res_stages": 0,
        "d_model": 16, "n_heads": 2, "n_encoder_layers": 1, "n_decoder_layers": 1, "ffn_dim": 32,
        "chunk_size": 4, "cameras": ["head_camera", "front_camera"]}
RAW_DIMS = {"action_type": 384, "object_geometry": 16, "ee_orientation": 10, "target_point": 14}


def raw_states(n: int, gen: torch.Generator, centre: dict | None = None, spread: float = 1.0) -> dict:
    centre = centre or {f: torch.zeros(d) for f, d in RAW_DIMS.items()}
    return {f: centre[f] + spread * torch.randn(n, d, generator=gen) for f, d in RAW_DIMS.items()}


def test_retriever_matches_brute_force_top_k_and_softmax():
    gen = torch.Generator().manual_seed(0)
    keys = torch.randn(7, 3, 10, generator=gen)
    for k, temperature in ((1, 0.1), (2, 0.1), (4, 0.5)):
        retriever = Retriever(keys, k, temperature)
        for _ in range(5):
            query = torch.randn(10, generator=gen)
            memories, weights = retriever.retrieve(query)
            scores = (keys @ query).amax(dim=1)
            expected = torch.argsort(scores, descending=True)[:k]
            assert memories.tolist() == expected.tolist()
            torch.testing.assert_close(weights, torch.softmax(scores[expected] / temperature, dim=0))
            assert abs(float(weights.sum()) - 1.0) < 1e-6
    query = torch.randn(10, generator=gen)
    sharp = Retriever(keys, 2, 0.01).retrieve(query)[1].clone()
    soft = Retriever(keys, 2, 10.0).retrieve(query)[1].clone()
    assert sharp[0] > soft[0] and abs(float(soft[0]) - 0.5) < 0.05
    with pytest.raises(ValueError, match="k=8 memories per chunk, but the bank holds 7"):
        Retriever(keys, 8, 0.1)
    with pytest.raises(ValueError, match="query must be a \\(10,\\) state vector"):
        Retriever(keys, 2, 0.1).retrieve(torch.zeros(9))


def test_state_vectors_dot_to_the_weighted_sum_of_field_cosines():
    gen = torch.Generator().manual_seed(1)
    weights = (0.4, 0.3, 0.2, 0.1)
    projection = StateProjection.fit(raw_states(50, gen), 8, weights)
    a, b = raw_states(1, gen), raw_states(1, gen)
    va, vb = projection.encode(a)[0], projection.encode(b)[0]
    cosines = [torch.nn.functional.cosine_similarity(projection.fields[f].project(a[f]),
                                                     projection.fields[f].project(b[f])).item() for f in FIELDS]
    assert float(va @ vb) == pytest.approx(sum(w * c for w, c in zip(weights, cosines)), abs=1e-5)
    assert float(va @ va) == pytest.approx(1.0, abs=1e-5)
    torch.testing.assert_close(projection.similarity(va, vb), torch.tensor(cosines), atol=1e-5, rtol=0)
    # the online encoder gives the same vector into one reused buffer
    online = QueryEncoder(projection)
    first = online.encode({f: v[0] for f, v in a.items()})
    pointer = first.data_ptr()
    torch.testing.assert_close(first, va, atol=1e-6, rtol=0)
    assert online.encode({f: v[0] for f, v in b.items()}).data_ptr() == pointer
    with pytest.raises(ValueError, match="object_geometry.*was the bank built for this backbone"):
        projection.encode({**a, "object_geometry": torch.zeros(1, 5)})


def test_retrieval_finds_the_task_whose_procedure_contains_the_state():
    """Three synthetic tasks, each a cluster of states per phase; a state from task 1's middle phase finds task 1."""
    gen = torch.Generator().manual_seed(2)
    centres = [[{f: 3.0 * torch.randn(d, generator=gen) for f, d in RAW_DIMS.items()} for _ in range(4)]
               for _ in range(3)]
    per_task = [[raw_states(10, gen, centre, 0.3) for centre in phases] for phases in centres]
    pooled = {f: torch.cat([s[f] for phases in per_task for s in phases]) for f in FIELDS}
    projection = StateProjection.fit(pooled, 16, (0.25,) * 4)
    keys = []
    for phases in per_task:
        vectors = torch.cat([projection.encode(s) for s in phases])
        phase = torch.cat([torch.full((10,), (j + 0.5) / 4) for j in range(4)])
        keys.append(phase_keys(vectors, phase, 4, projection))
    retriever = Retriever(torch.stack(keys), 2, 0.1)
    query = projection.encode(raw_states(1, gen, centres[1][2], 0.3))[0]
    memories, weights = retriever.retrieve(query)
    assert memories[0] == 1 and weights[0] > 0.9


def test_phase_keys_are_ordered_and_fill_empty_bins_from_neighbours():
    gen = torch.Generator().manual_seed(3)
    projection = StateProjection.fit(raw_states(30, gen), 4, (0.25,) * 4)
    vectors = projection.encode(raw_states(3, gen))
    keys = phase_keys(vectors, torch.tensor([0.0, 0.1, 0.95]), 4, projection)
    assert keys.shape == (4, projection.dim)
    torch.testing.assert_close(keys[1], keys[0])
    torch.testing.assert_close(keys[2], keys[3])
    torch.testing.assert_close(keys[3], vectors[2], atol=1e-6, rtol=0)  # one state in the last bin: itself
    assert float(keys[0] @ keys[0]) == pytest.approx(1.0, abs=1e-5)


def test_demonstration_window_and_visible_fields():
    rng = np.random.default_rng(0)
    ee = rng.normal(size=(30, 16)).astype(np.float32)
    actions = rng.normal(size=(30, 14)).astype(np.float32)
    n, starts = 8, [0, 8, 16, 24]
    offline = history_window(ee, actions, np.array(starts), n)
    assert offline[1].tolist() == [0, n, n, n]
    np.testing.assert_array_equal(offline[0][1], ee[0])
    np.testing.assert_allclose(offline[2][1], actions[0:8][:, [6, 13]].mean(axis=0), atol=1e-6)
    # frame 0 has no history: measured gripper openings stand in for the command, velocity is 0
    np.testing.assert_allclose(offline[2][0], ee[0, [7, 15]])
    fields = visible_fields(torch.zeros(4, 384), torch.zeros(4, 6), ee[starts], *offline)
    assert {f: v.shape[1] for f, v in fields.items()} == {**RAW_DIMS, "object_geometry": 6}
    assert torch.all(fields["target_point"][0, 6:12] == 0)
    expected_velocity = (ee[8, 0:3] - ee[0, 0:3]) / n
    np.testing.assert_allclose(fields["target_point"][1, 6:9].numpy(), expected_velocity, rtol=1e-5)


def test_quaternions_are_compared_as_rotations():
    q = np.array([[-0.5, 0.5, -0.5, 0.5], [0.5, -0.5, 0.5, -0.5]])
    canonical = canonical_quaternion(q)
    np.testing.assert_array_equal(canonical[0], canonical[1])
    assert np.all(canonical[:, 0] >= 0)


def test_oracle_fields_embed_each_label_once():
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return torch.stack([torch.full((384,), float(len(t))) for t in texts])

    states = [{"action_type": "pick_place", "object_geometry": "cuboid", "ee_orientation": [-1, 0, 0, 0],
               "target_point": [0.1, 0.2, 0.3]}] * 3
    fields = oracle_fields(states, embed)
    assert calls == [["pick place"], ["cuboid"]]
    assert fields["action_type"].shape == (3, 384) and fields["target_point"].shape == (3, 3)
    assert torch.equal(fields["ee_orientation"][0], torch.tensor([1.0, 0.0, 0.0, 0.0]))


def test_visual_tap_equals_visual_features_and_ignores_fused_adapters():
    torch.manual_seed(0)
    model = TinyVLA(TinyVLAConfig(**TINY)).eval()
    rng = np.random.default_rng(0)
    batch = {"images": {c: torch.from_numpy(rng.integers(0, 255, (2, 16, 16, 3), dtype=np.uint8))
                        for c in TINY["cameras"]},
             "agent_pos": torch.zeros(2, 14), "instruction_embedding": torch.zeros(2, 384)}
    tap = find_visual_tap(model)
    seen = []
    handle = tap.module.register_forward_hook(lambda m, a, out: seen.append(tap.pool(out, 2)))
    with torch.no_grad():
        model(batch)
        direct = model.visual_features(batch)
    handle.remove()
    assert torch.equal(seen[0], direct)
    # every linear carries a fused adapter: the features do not move
    targets = linear_targets(model, r".*(proj|fc1|fc2|action_head)")
    gen = torch.Generator().manual_seed(1)
    adapter = {n: (torch.randn(2, m.in_features, generator=gen), torch.randn(m.out_features, 2, generator=gen))
               for n, m in targets.items()}
    fusion = FusedLoRA(model, AdapterTable.from_adapters(["a"], [adapter]), 1, 1.0)
    with fusion.applied(torch.tensor([0]), torch.tensor([1.0])), torch.no_grad():
        assert torch.equal(model.visual_features(batch), direct)


class _StandInPolicy(torch.nn.Module):
    """LeRobot's documented interface: forward -> (loss, info), predict_action_chunk, reset."""

    def __init__(self):
        super().__init__()
        self.head = torch.nn.Linear(6, 4 * 14)

    def forward(self, batch):
        return torch.zeros(()), {}

    def predict_action_chunk(self, batch):
        pooled = torch.cat([batch[f"observation.images.{c}"].mean(dim=(2, 3)) for c in TINY["cameras"]], dim=-1)
        return self.head(pooled).view(-1, 4, 14)

    def reset(self):
        pass


def test_lerobot_bridge_visual_features_are_pooled_images_untouched_by_adapters():
    bridge = LeRobotBackbone(_StandInPolicy(), TINY["cameras"], chunk_size=4)
    assert find_visual_tap(bridge) is None  # no tap: the policy calls visual_features before predicting
    images = {c: torch.zeros(3, 16, 16, 3, dtype=torch.uint8) for c in TINY["cameras"]}
    images["front_camera"][:, :8, :8] = 255  # top-left quarter white
    features = bridge.visual_features({"images": images})
    assert features.shape == (3, 2 * 3 * 16)
    front = features[0, 48:].view(3, 4, 4)
    assert torch.all(front[:, :2, :2] == 1.0) and torch.all(front[:, 2:, :] == 0.0)
    head = bridge.policy.head
    adapter = {"policy.head": (torch.ones(2, head.in_features), torch.ones(head.out_features, 2))}
    fusion = FusedLoRA(bridge, AdapterTable.from_adapters(["a"], [adapter]), 1, 1.0)
    with fusion.applied(torch.tensor([0]), torch.tensor([1.0])):
        assert torch.equal(bridge.visual_features({"images": images}), features)


def test_single_arm_poses_fill_the_first_arm_block():
    """RLBench's 8-d ee_pose and 8-d actions give the same field widths as RoboTwin's 16-d ones."""
    rng = np.random.default_rng(0)
    ee = rng.normal(size=(20, 8)).astype(np.float32)
    actions = rng.uniform(0, 0.04, size=(20, 8)).astype(np.float32)
    padded = as_two_arm_pose(ee)
    assert padded.shape == (20, 16) and np.array_equal(padded[:, :8], ee) and not padded[:, 8:].any()
    ee_prev, steps, grip = history_window(ee, actions, np.arange(20), window=5)
    assert ee_prev.shape == (20, 16) and grip.shape == (20, 2)
    assert np.allclose(grip[10, 0], actions[5:10, 7].mean()) and grip[10, 1] == 0.0
    orientation, target = pose_fields(ee, ee_prev[:, :8], steps, grip)
    assert orientation.shape == (20, 10) and target.shape == (20, 14)
    with pytest.raises(ValueError, match="8 .one arm. or 16"):
        as_two_arm_pose(np.zeros((1, 7)))
