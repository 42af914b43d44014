"""The training loop: seeded, resumable, with a progress bar and periodic checkpoints."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from vlapro_bench.backbones import build_backbone
from vlapro_bench.datasets import LeRobotV3Dataset
from vlapro_bench.errors import RunInterrupted
from vlapro_bench.training.augment import random_shift
from vlapro_bench.training.checkpoint import (
    checkpoint_dirs,
    load_model_weights,
    load_optimizer,
    read_state,
    save_checkpoint,
)
from vlapro_bench.training.config import TrainConfig, check_device
from vlapro_bench.training.data import IMAGE_PREFIX, ChunkDataset
from vlapro_bench.training.optim import adamw

#: Machines with at most this many cores train with one math thread unless told otherwise.
SMALL_MACHINE_CORES = 4
LOG_FILE = "log.jsonl"


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(check_device(name))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r} but CUDA is not available here; use --device cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device={name!r} but this machine has {torch.cuda.device_count()} CUDA device(s); "
                         "use cuda:0 or auto")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={name!r} but MPS is not available here; use --device cpu")
    return device


def _batch(dataset: ChunkDataset, indices: torch.Tensor, device: torch.device, shift: int,
           generator: torch.Generator) -> dict[str, Any]:
    samples = [dataset[int(i)] for i in indices]
    batch = torch.utils.data.default_collate(samples)
    batch["images"] = {cam: random_shift(img, shift, generator) for cam, img in batch["images"].items()}
    return _to(batch, device)


def step_batch(dataset: ChunkDataset, config: TrainConfig, step: int, device: torch.device) -> dict[str, Any]:
    """The batch of ``step``: drawn (and augmented) from a generator seeded by (seed, step) alone,
    so a resumed run, and a batch assembled ahead of its step, are the ones an uninterrupted run uses."""
    generator = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
    indices = torch.randint(len(dataset), (config.batch_size,), generator=generator)
    return _batch(dataset, indices, device, config.image_shift, generator)


def prefetched_batches(make: Callable[[int], dict[str, Any]], start: int, stop: int) -> Iterator[
        tuple[int, dict[str, Any]]]:
    """``(step, make(step))`` for ``start <= step < stop``, each batch assembled in a background
    thread while the step before it computes.

    Batch assembly (indexing decoded frames, collating, augmenting, copying to the device) is
    about 1 ms of a 290 ms CPU step on the click_bell config, but on a GPU it is as long as the
    step itself; overlapping it costs nothing on a CPU.
    """
    if start >= stop:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch") as pool:
        pending = pool.submit(make, start)
        for step in range(start, stop):
            batch = pending.result()
            if step + 1 < stop:
                pending = pool.submit(make, step + 1)
            yield step, batch


def default_threads(cores: int | None = None) -> int:
    """Math threads for ``torch_threads=0``: one on machines of up to 4 cores, torch's own choice above.

    On 2 cores, 2 threads train 1.6x faster than 1 on a quiet machine, but 2.4x slower as soon
    as one other process competes for a core (tinyvla, click_bell config: 179 vs 109 samples/s
    quiet, 48 vs 117 with one busy process, 2026-12-06); a small machine is rarely quiet.
    """
    cores = (os.cpu_count() or 1) if cores is None else cores
    return 1 if cores <= SMALL_MACHINE_CORES else torch.get_num_threads()


def reads_object_state(model: torch.nn.Module) -> bool:
    """Whether a backbone reads the env's ``object_state`` (a state model)."""
    return bool(getattr(model.config, "object_state_dim", 0))


def _to(value: Any, device: torch.device) -> Any:
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    return value.to(device, non_blocking=True) if torch.is_tensor(value) else value


def truncate_log(path: Path, step: int) -> None:
    """Keep the log lines up to ``step``, the checkpoint a run resumes from: the resumed run logs
    the steps after it again, and a log that held them twice would plot a run that never was."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:  # the torn last line of a killed run
            continue
        if isinstance(entry, dict) and isinstance(entry.get("step"), int) and entry["step"] <= step:
            kept.append(line + "\n")
    partial = path.with_name(path.name + ".partial")
    partial.write_text("".join(kept))
    os.replace(partial, path)


def _kept(last: Path | None, config: TrainConfig) -> str:
    """What a stopped run leaves: its newest checkpoint, which a re-run continues from."""
    if last is None:
        return f"no checkpoint yet (the first is written at step {config.checkpoint_every}), so a re-run starts over"
    step = int(read_state(last)["step"])
    return f"checkpoint step {step} of {config.steps} is kept in {last}"


def train(config: TrainConfig, progress: bool = True) -> Path:
    """Train ``config.backbone`` on ``config.data``; resume if ``config.out`` has checkpoints.

    Returns the last checkpoint. Batches are drawn from a generator seeded by (seed, step), so a
    resumed run sees exactly the batches an uninterrupted run would have seen. Ctrl-C raises
    :class:`~vlapro_bench.errors.RunInterrupted` naming the checkpoint a re-run resumes from.
    """
    run = Path(config.out)
    run.mkdir(parents=True, exist_ok=True)
    device = resolve_device(config.device)
    if device.type == "cpu":
        torch.set_num_threads(config.torch_threads or default_threads())
    existing = checkpoint_dirs(run)
    resume_state = read_state(existing[-1]) if existing else None
    if resume_state is not None:
        config.check_resumes(resume_state["train_config"], run)

    torch.manual_seed(config.seed)
    model = build_backbone(config.backbone, resume_state["backbone_config"] if resume_state else config.model)
    data = LeRobotV3Dataset(config.data)
    samples = ChunkDataset(data, model.config.cameras, model.config.chunk_size,
                           embed=model.instruction_encoder.encode, object_state=reads_object_state(model),
                           ee_pose=bool(getattr(model.config, "ee_pose_dim", 0)))
    model.set_normalization(samples.statistics())
    model.to(device)
    optimizer = adamw(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, device=device)
    start = 0
    if resume_state is not None:
        load_model_weights(existing[-1], model)
        load_optimizer(existing[-1], optimizer, resume_state)
        start = int(resume_state["step"])
    camera_shape = data.features[IMAGE_PREFIX + model.config.cameras[0]]["shape"] if model.config.cameras else None
    obs_mode = "state" if reads_object_state(model) else "rgb"
    meta = {"backbone": config.backbone, "backbone_config": model.config.to_dict(),
            "observation": {"cameras": list(model.config.cameras), "obs_mode": obs_mode,
                            "camera_size": list(camera_shape[:2]) if camera_shape else None},
            "train_config": config.to_dict(), "dataset": {"root": str(data.root), "frames": len(samples),
                                                          "episodes": data.num_episodes}}
    (run / "train_config.json").write_text(json.dumps(config.to_dict(), indent=2))
    truncate_log(run / LOG_FILE, start)
    log = (run / LOG_FILE).open("a")
    model.train()
    last = existing[-1] if existing else None
    started = time.perf_counter()
    bar = tqdm(initial=start, total=config.steps, desc="train", unit="step", disable=not progress)
    batches = prefetched_batches(lambda step: step_batch(samples, config, step, device), start, config.steps)
    try:
        for step, batch in batches:
            torch.manual_seed(config.seed + step)  # dropout
            for group in optimizer.param_groups:
                group["lr"] = config.learning_rate(step)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.amp and device.type == "cuda"):
                loss = model.compute_loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            done = step + 1
            bar.update(1)
            if done % 20 == 0 or done == config.steps:
                rate = (done - start) * config.batch_size / (time.perf_counter() - started)
                bar.set_postfix(loss=f"{loss.item():.4f}", samples_s=f"{rate:.0f}")
                log.write(json.dumps({"step": done, "loss": loss.item(), "lr": config.learning_rate(step),
                                     "samples_per_s": rate}) + "\n")
                log.flush()
            if done % config.checkpoint_every == 0 or done == config.steps:
                last = save_checkpoint(run, done, model, optimizer, meta, config.keep_checkpoints)
    except KeyboardInterrupt:
        raise RunInterrupted(_kept(last, config)) from None
    finally:
        bar.close()
        log.close()
    if last is None:  # nothing left to do: the run had already reached config.steps
        last = existing[-1]
    return last
