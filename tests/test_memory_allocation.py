"""Over 1,000 consecutive chunks with changing top-k, retrieval + fusion allocate nothing and memory stays flat.

Three independent measurements, and a deliberately allocating fusion that every one of them
catches, so the test can fail:

* the torch profiler's allocation events while retrieval and fusion set-up run (must be 0 bytes);
* the number of live tensors and the Python heap (tracemalloc) between chunk 100 and chunk 1,000;
* the storage addresses of every retrieval and fusion buffer (must never change).
"""

import gc
import tracemalloc

import numpy as np
import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from vlapro_bench.memory.contract import linear_targets
from vlapro_bench.memory.fusion import AdapterTable, FusedLoRA
from vlapro_bench.memory.retrieval import Retriever
from vlapro_bench.policies.tinyvla import LORA_TRANSFORMER_REGEX, TinyVLA, TinyVLAConfig

TINY = {"image_size": [16, 16], "vision_channels": [8, 8], "vision_groups": 4, "vision_res_stages": 0,
        "d_model": 16, "n_heads": 2, "n_encoder_layers": 1, "n_decoder_layers": 1, "ffn_dim": 32,
        "chunk_size": 4, "cameras": ["head_camera"]}
N_MEMORIES, KEYS, DIM, K = 8, 4, 12, 2


class AllocatingFusion(FusedLoRA):
    """The naive way: gather fresh factors for every chunk (torch.cat) and keep them around."""

    def set(self, memories, weights):
        self.kept = getattr(self, "kept", [])
        for buf in self._groups:
            self.kept.append(torch.cat([buf.group.a[:, i] for i in memories.tolist()], dim=1))
        super().set(memories, weights)


def allocated_bytes(fn, repeat: int) -> int:
    """Bytes of tensor storage allocated while ``fn`` runs ``repeat`` times (torch profiler events)."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        for _ in range(repeat):
            fn()
    return sum(max(int(e.self_cpu_memory_usage), 0) for e in prof.events())


def live_tensors() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), torch.Tensor))


def run_chunks(fusion_cls, chunks: int, activation_every: int = 0) -> dict:
    """``activation_every``: every n-th target layer adds its term on the activations (0: none)."""
    torch.manual_seed(0)
    model = TinyVLA(TinyVLAConfig(**TINY)).eval()
    targets = linear_targets(model, LORA_TRANSFORMER_REGEX)
    gen = torch.Generator().manual_seed(1)

    def adapter():
        return {n: (torch.randn(4, m.in_features, generator=gen), torch.randn(m.out_features, 4, generator=gen))
                for n, m in targets.items()}

    table = AdapterTable.from_adapters([f"m{i}" for i in range(N_MEMORIES)], [adapter() for _ in range(N_MEMORIES)])
    activation = list(targets)[::activation_every] if activation_every else []
    fusion = fusion_cls(model, table, K, 2.0, base=adapter(), activation_path=activation)
    retriever = Retriever(torch.randn(N_MEMORIES, KEYS, DIM, generator=gen), K, temperature=0.1)
    queries = torch.randn(chunks, DIM, generator=gen)
    rng = np.random.default_rng(0)
    batch = {"images": {"head_camera": torch.from_numpy(rng.integers(0, 255, (1, 16, 16, 3), dtype=np.uint8))},
             "agent_pos": torch.zeros(1, 14), "instruction_embedding": torch.zeros(1, 384)}
    pointers = fusion.buffer_pointers() + [retriever.top_memories.data_ptr(), retriever.weights.data_ptr()]
    state = {"previous": None, "changes": 0, "setup_bytes": 0, "forward_bytes": []}

    def set_up(i: int) -> None:
        memories, weights = retriever.retrieve(queries[i])
        fusion.set(memories, weights)

    def chunk(i: int) -> None:
        set_up(i)
        with torch.inference_mode():
            model(batch)
        fusion.clear()
        top = tuple(retriever.top_memories.tolist())
        state["changes"] += top != state["previous"]
        state["previous"] = top

    for i in range(100):
        chunk(i)
    state["setup_bytes"] += allocated_bytes(lambda: set_up(100), 20)
    state["forward_bytes"].append(allocated_bytes(lambda: chunk(101), 1))
    tensors_at_100 = live_tensors()
    tracemalloc.start()
    heap_at_100 = tracemalloc.get_traced_memory()[0]
    for i in range(102, chunks):
        chunk(i)
    heap_growth = tracemalloc.get_traced_memory()[0] - heap_at_100
    tracemalloc.stop()
    state["setup_bytes"] += allocated_bytes(lambda: set_up(chunks - 1), 20)
    state["forward_bytes"].append(allocated_bytes(lambda: chunk(chunks - 1), 1))
    return {"setup_bytes": state["setup_bytes"], "tensor_growth": live_tensors() - tensors_at_100,
            "heap_growth": heap_growth, "changes": state["changes"], "forward_bytes": state["forward_bytes"],
            "pointers_stable": pointers == fusion.buffer_pointers() + [retriever.top_memories.data_ptr(),
                                                                     retriever.weights.data_ptr()]}


@pytest.mark.parametrize("activation_every", [0, 2])
def test_1000_chunks_with_changing_top_k_allocate_nothing_per_chunk(activation_every):
    result = run_chunks(FusedLoRA, 1000, activation_every)
    assert result["changes"] > 500  # the top-k really changed from chunk to chunk
    assert result["setup_bytes"] == 0  # retrieval + fusion set-up: no tensor storage allocated
    assert result["pointers_stable"]
    assert result["tensor_growth"] == 0
    assert result["heap_growth"] < 16 * 1024
    # the forward pass's own transient activations are the same at chunk 101 and chunk 1,000
    assert result["forward_bytes"][0] == result["forward_bytes"][1] > 0


def test_the_measurement_catches_an_allocating_fusion():
    result = run_chunks(AllocatingFusion, 300)
    assert result["setup_bytes"] > 0
    assert result["tensor_growth"] > 100
    assert result["heap_growth"] > 16 * 1024
