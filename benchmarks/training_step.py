"""Cost of one training step of tinyvla with torch's loop AdamW against the fused AdamW we train with.

Every training in the project (backbones, base and task LoRAs) builds its optimiser with
``vlapro_bench.training.optim.adamw``, which asks torch for the fused kernel on CPU and CUDA.
On a small CPU model the default AdamW, a Python loop over ~100 parameter tensors, is a visible
share of the step. One process measures, on the same random batches and two copies of the same
model (the profile's ``train.model``, default the state profile's):

* the optimiser step alone, loop vs fused;
* a whole training step (forward, backward, clipping, optimiser), loop vs fused.

Blocks of steps alternate between the two so background load on a shared machine hits both
alike; times are medians over ``--repeats`` blocks, and each ratio is the median of the
per-block ratios. Target: a fused training step <= 0.95x the loop's on the state profile's
model on 2 CPU threads (0.92x on the 2-core AMD EPYC, 2026-12-07: 9.3 -> 2.3 ms per optimiser step).

Random batches: step time does not depend on what the data is.

Run: ``python benchmarks/training_step.py [--repeats N] [--threads T] [--config configs/reproduce_state.json]``.
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import time
from typing import Any

import torch

from vlapro_bench.backbones import build_backbone
from vlapro_bench.config_files import read_json_object

TARGET = 0.95


def random_batch(model: torch.nn.Module, batch_size: int, generator: torch.Generator) -> dict[str, Any]:
    """A batch of the shapes ``model`` trains on (state inputs, instruction embedding, action chunk)."""
    cfg = model.config
    batch: dict[str, Any] = {
        "images": {c: torch.randint(0, 255, (batch_size, *cfg.image_size, 3), dtype=torch.uint8, generator=generator)
                   for c in cfg.cameras},
        "agent_pos": torch.randn(batch_size, cfg.state_dim, generator=generator),
        "action": torch.randn(batch_size, cfg.chunk_size, cfg.action_dim, generator=generator),
        "action_is_pad": torch.zeros(batch_size, cfg.chunk_size, dtype=torch.bool),
        "instruction_embedding": torch.randn(batch_size, cfg.instruction_dim, generator=generator),
    }
    if cfg.object_state_dim:
        batch["object_state"] = torch.randn(batch_size, cfg.object_state_dim, generator=generator)
    if cfg.ee_pose_dim:
        batch["ee_pose"] = torch.randn(batch_size, cfg.ee_pose_dim, generator=generator)
    return batch


def unit_statistics(model: torch.nn.Module) -> dict[str, dict[str, list[float]]]:
    """Zero-mean, unit-std statistics of every width the model normalises."""
    def unit(width: int) -> dict[str, list[float]]:
        return {"mean": [0.0] * width, "std": [1.0] * width}

    stats = {key: unit(model.action_mean.numel()) for key in ("action", "action_delta", "action_delta_ee")}
    stats["agent_pos"] = unit(model.state_mean.numel())
    for key, norm in (("object_state", model.object_norm), ("object_offsets", model.offset_norm)):
        if norm is not None:
            stats[key] = unit(norm.mean.numel())
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/reproduce_state.json",
                        help="a reproduce profile or training config; its train.model (or model) section")
    parser.add_argument("--repeats", type=int, default=8, help="alternating blocks per variant")
    parser.add_argument("--steps", type=int, default=10, help="training steps per block")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = read_json_object(args.config, "Config")
    train = config.get("train", config)
    torch.manual_seed(0)
    model = build_backbone(train.get("backbone", "tinyvla"), train.get("model", {}))
    model.set_normalization(unit_statistics(model))
    model.train()
    models = {"loop": model, "fused": copy.deepcopy(model)}
    optimizers = {name: torch.optim.AdamW(m.parameters(), lr=1e-4, fused=(name == "fused"))
                  for name, m in models.items()}
    generator = torch.Generator().manual_seed(0)
    batches = [random_batch(model, int(train.get("batch_size", 64)), generator) for _ in range(args.steps)]

    def block(name: str) -> tuple[float, float]:
        """(ms per training step, ms per optimiser step) over one block."""
        m, optimizer = models[name], optimizers[name]
        step_total, optim_total = 0.0, 0.0
        for batch in batches:
            start = time.perf_counter()
            loss = m.compute_loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 10.0)
            before_step = time.perf_counter()
            optimizer.step()
            end = time.perf_counter()
            step_total += end - start
            optim_total += end - before_step
        return step_total / len(batches) * 1e3, optim_total / len(batches) * 1e3

    for name in models:  # warm-up: the first steps allocate the optimiser state
        block(name)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in models}
    for repeat in range(args.repeats):
        order = list(models) if repeat % 2 == 0 else list(reversed(models))
        for name in order:
            times[name].append(block(name))
    step_ratio = statistics.median(f[0] / s[0] for f, s in zip(times["fused"], times["loop"]))
    optim_ratio = statistics.median(f[1] / s[1] for f, s in zip(times["fused"], times["loop"]))
    params = sum(p.numel() for p in model.parameters())
    print(f"tinyvla from {args.config}: {params / 1e6:.2f} M parameters in {len(list(model.parameters()))} tensors, "
          f"batch {len(batches[0]['action'])}, {args.threads} thread(s), {platform.processor() or platform.machine()}")
    for name in models:
        print(f"{name:>5}: training step {statistics.median(t[0] for t in times[name]):6.1f} ms, "
              f"optimiser step {statistics.median(t[1] for t in times[name]):5.2f} ms (medians of {args.repeats})")
    print(f"fused / loop: training step {step_ratio:.3f}x (target <= {TARGET}), optimiser step {optim_ratio:.3f}x")
    print("PASS" if step_ratio <= TARGET else "FAIL")


if __name__ == "__main__":
    main()
