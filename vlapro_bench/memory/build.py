"""``vlapro-bench memory build``: demonstrations + a trained backbone -> a verified memory bank.

Steps (VLA-Pro's "base LoRA preparation" and "memory construction"):

1. Pick the memory tasks: the split's **seen** tasks that the dataset holds (unseen-task
   episodes in the dataset are skipped: memories may only come from seen tasks).
2. Train the **base LoRA** on every episode of those tasks.
3. Train **one LoRA per task** on that task's episodes, same rank and targets; ``residual``
   (default) on top of the frozen base, or ``from_base`` starting from a copy of it.
4. Compute each task's **key sequence**: the procedural states of its first ``key_episodes``
   demonstrations every ``key_stride`` frames, encoded (policy-visible and, when the dataset
   records ground truth, oracle), averaged per episode-phase bin.
5. Write the bank (:mod:`vlapro_bench.memory.bank`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vlapro_bench.backbones import default_instruction_encoder
from vlapro_bench.datasets import LeRobotV3Dataset
from vlapro_bench.memory.bank import MemoryBank, MemoryEntry, load_bank, lora_info, save_bank
from vlapro_bench.memory.config import FIELDS, KeyConfig, MemoryBuildConfig
from vlapro_bench.memory.contract import default_target_regex
from vlapro_bench.memory.fusion import Adapter
from vlapro_bench.memory.lora import LoraTrainSettings, TrainedLora, train_lora
from vlapro_bench.memory.state import StateProjection, history_window, oracle_fields, phase_keys, visible_fields
from vlapro_bench.memory.task_loras import TaskLoraJob, TaskLoraSetup, chunk_samples, train_task_loras
from vlapro_bench.registry import get_task_class
from vlapro_bench.splits import load_split
from vlapro_bench.training.checkpoint import latest_checkpoint, load_backbone_checkpoint, read_state
from vlapro_bench.training.data import IMAGE_PREFIX, OBJECT_STATE
from vlapro_bench.training.trainer import default_threads, reads_object_state, resolve_device

ORACLE_COLUMNS = ("action_type", "object_geometry", "ee_orientation", "target_point", "stage")
#: Frames per CNN batch when computing visual features for keys.
FEATURE_BATCH = 64


def instruction_embedder(backbone: nn.Module) -> Callable[[list[str]], torch.Tensor]:
    """The backbone's own instruction encoder when it has one, else the shared all-MiniLM-L6-v2."""
    encoder = getattr(backbone, "instruction_encoder", None)
    if encoder is None:
        encoder = default_instruction_encoder()
    return encoder.encode


def episode_task_names(data: LeRobotV3Dataset) -> list[str]:
    """The task of each episode of ``data``, in episode order; refuses data recorded without task names."""
    names = [row.get("task_name") for row in data.episodes]
    if any(t is None for t in names):
        raise ValueError(f"{data.root}: episodes carry no task_name; record demonstrations with `vlapro-bench collect`")
    return [str(t) for t in names]


def select_tasks(episode_tasks: list[str], suite: str, wanted: list[str],
                 part: str = "seen") -> tuple[list[str], list[str]]:
    """``(memory tasks, skipped tasks)``: the tasks of the split's ``part`` present in the data
    (optionally a subset). VLA-Pro's memories come from seen tasks; ``part="unseen"`` builds the
    ceiling arm's bank."""
    split = load_split(suite)
    allowed = list(split.tasks(part))
    present = list(dict.fromkeys(episode_tasks))
    for task in wanted:
        if task not in allowed:
            raise ValueError(f"{task!r} is not a {part} task of the {suite} split; these memories come from {part} "
                             f"tasks only ({', '.join(allowed)})")
        if task not in present:
            raise ValueError(f"the dataset has no episodes of {task!r}; it holds {present}")
    chosen = [t for t in allowed if t in present and (not wanted or t in wanted)]
    if not chosen:
        raise ValueError(f"the dataset holds no {part} task of the {suite} split (it has {present}); record "
                         f"demonstrations with `vlapro-bench collect --split {part}`")
    return chosen, [t for t in present if t not in chosen]


def _reused_base(config: MemoryBuildConfig, backbone: nn.Module, regex: str) -> Adapter:
    """The base LoRA of ``config.base_bank``, which must share this build's backbone and LoRA shape."""
    other = load_bank(config.base_bank, backbone)  # verified, and refused for another backbone
    spec = lora_info(config.lora, regex)
    mine = {k: spec[k] for k in ("rank", "alpha", "target_modules", "task_init")}
    theirs = {k: getattr(other.index.lora, k) for k in mine}
    if mine != theirs or other.base is None:
        raise ValueError(f"base_bank {config.base_bank} has LoRA settings {theirs} and "
                         f"{'a' if other.base is not None else 'no'} base LoRA; this build needs {mine} and a base")
    return other.base


def training_image_shift(config: MemoryBuildConfig, backbone_state: dict[str, Any]) -> int:
    """The augmentation the LoRAs train with: the config's, else the backbone's own (default 0)."""
    if config.image_shift is not None:
        return int(config.image_shift)
    return int(backbone_state.get("train_config", {}).get("image_shift", 0) or 0)


def _visual_features(backbone: nn.Module, inputs: dict[str, Any]) -> torch.Tensor:
    """``backbone.visual_features`` over frames, in batches; ``inputs`` holds ``images`` (camera ->
    frames) and, for a state model, ``object_state`` frames."""
    images = inputs.get("images", {})
    objects = inputs.get("object_state")
    n = len(objects) if objects is not None else len(next(iter(images.values())))
    out = []
    backbone.eval()
    with torch.inference_mode():
        for start in range(0, n, FEATURE_BATCH):
            window = slice(start, start + FEATURE_BATCH)
            batch: dict[str, Any] = {"images": {c: torch.from_numpy(np.ascontiguousarray(v[window]))
                                                for c, v in images.items()}}
            if objects is not None:
                batch["object_state"] = torch.from_numpy(np.ascontiguousarray(objects[window]))
            out.append(backbone.visual_features(batch).float().cpu())
    return torch.cat(out)


def episode_states(backbone: nn.Module, episode: dict[str, Any], embed: Callable[[list[str]], torch.Tensor],
                   frames: np.ndarray, history_steps: int) -> dict[str, dict[str, torch.Tensor]]:
    """Raw fields of the given frames of one demonstration: ``{"visible": ..., "oracle": ...}``.

    The oracle entry is absent when the dataset does not record the procedural state.
    """
    inputs: dict[str, Any] = {"images": {c: episode[IMAGE_PREFIX + c][frames] for c in backbone.config.cameras}}
    if reads_object_state(backbone):
        inputs["object_state"] = np.asarray(episode[OBJECT_STATE], dtype=np.float32)[frames]
    ee = np.asarray(episode["observation.ee_pose"], dtype=np.float32)
    actions = np.asarray(episode["action"], dtype=np.float32)
    ee_prev, steps, grip_cmd = history_window(ee, actions, frames, history_steps)
    instruction = embed([str(episode["task"])]).float().expand(len(frames), -1)
    out = {"visible": visible_fields(instruction, _visual_features(backbone, inputs), ee[frames], ee_prev, steps,
                                     grip_cmd)}
    if all(f"procedural_state.{c}" in episode for c in ORACLE_COLUMNS):
        states = [{c: episode[f"procedural_state.{c}"][t] for c in ORACLE_COLUMNS} for t in frames]
        out["oracle"] = oracle_fields(states, embed)
    return out


def _key_labels(episodes: list[dict[str, Any]], frame_lists: list[np.ndarray], bins: int) -> list[str]:
    """Readable label of each key: the most common ground-truth ``action_type/stage`` in its phase bin."""
    per_bin: list[Counter] = [Counter() for _ in range(bins)]
    for episode, frames in zip(episodes, frame_lists):
        if "procedural_state.stage" not in episode:
            return []
        length = len(episode["action"])
        for t in frames:
            j = min(int(t / max(length - 1, 1) * bins), bins - 1)
            per_bin[j][f"{episode['procedural_state.action_type'][t]}/{episode['procedural_state.stage'][t]}"] += 1
    return [c.most_common(1)[0][0] if c else "" for c in per_bin]


@dataclass
class TaskStates:
    """The procedural states a task's key sequence is built from (its first ``key_episodes``
    demonstrations, every ``key_stride`` frames).

    Attributes:
        fields: state encoder (``visible``, and ``oracle`` when every episode records the ground
            truth) -> field -> raw values ``(states, raw dim)``, episodes concatenated.
        phases: each state's episode phase ``t / (T - 1)``.
        labels: the readable label of each key (empty without ground truth).
        episodes: demonstrations used.
        instructions: their distinct instructions, sorted.
    """

    fields: dict[str, dict[str, torch.Tensor]]
    phases: torch.Tensor
    labels: list[str]
    episodes: int
    instructions: list[str]


def task_states(backbone: nn.Module, data: LeRobotV3Dataset, episode_tasks: Sequence[str | None], task: str,
                keys: KeyConfig, embed: Callable[[list[str]], torch.Tensor]) -> TaskStates:
    """The raw key states of ``task`` from its first ``keys.key_episodes`` demonstrations in ``data``."""
    chosen = [e for e, t in enumerate(episode_tasks) if t == task][: keys.key_episodes]
    if not chosen:
        raise ValueError(f"{data.root} has no episodes of {task!r} to build its keys from")
    per_variant: dict[str, list[dict[str, torch.Tensor]]] = {}
    phases, episodes, frame_lists = [], [], []
    for e in chosen:
        episode = data.episode(e)
        length = len(episode["action"])
        frames = np.arange(0, length, keys.key_stride)
        for variant, fields in episode_states(backbone, episode, embed, frames, keys.history_steps).items():
            per_variant.setdefault(variant, []).append(fields)
        phases.append(torch.from_numpy(frames / max(length - 1, 1)).float())
        episodes.append({k: v for k, v in episode.items() if not k.startswith(IMAGE_PREFIX)})
        frame_lists.append(frames)
    fields = {variant: {f: torch.cat([states[f] for states in per_episode]) for f in FIELDS}
              for variant, per_episode in per_variant.items() if len(per_episode) == len(chosen)}
    return TaskStates(fields, torch.cat(phases), _key_labels(episodes, frame_lists, keys.keys_per_memory),
                      len(chosen), sorted({str(episode["task"]) for episode in episodes}))


def task_keys(states: TaskStates, variant: str, projection: StateProjection, keys_per_memory: int) -> torch.Tensor:
    """``(keys_per_memory, dim)``: the task's states encoded by ``projection`` and averaged per phase bin."""
    return phase_keys(projection.encode(states.fields[variant]), states.phases, keys_per_memory, projection)


def build_bank(config: MemoryBuildConfig, progress: bool = True, log: Callable[[str], None] = print,
               workers: int = 1) -> MemoryBank:
    """Train the base and task LoRAs, compute keys, write the bank to ``config.out``; return it.

    ``workers`` > 1 trains the task LoRAs a task per process on a CPU (see
    :mod:`vlapro_bench.memory.task_loras`); it changes the speed, not the bank.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if not config.backbone or not config.data or not config.out:
        raise ValueError("memory build needs backbone (a training run), data (a dataset) and out (the bank folder)")
    out = Path(config.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not empty; choose a new --out folder or delete it")
    device = resolve_device(config.device)
    threads = config.torch_threads or default_threads()
    if device.type == "cpu":
        torch.set_num_threads(threads)
    checkpoint = latest_checkpoint(config.backbone)
    backbone_state = read_state(checkpoint)
    name = backbone_state["backbone"]
    backbone = load_backbone_checkpoint(checkpoint, device).eval()
    regex = config.lora.target_modules or default_target_regex(backbone)
    data = LeRobotV3Dataset(config.data)
    episode_tasks = episode_task_names(data)
    tasks, skipped = select_tasks(episode_tasks, config.suite, list(config.tasks), config.memories_from)
    if skipped:
        log(f"skipping episodes of tasks that are not seen tasks to build memories from: {', '.join(skipped)}")
    embed = instruction_embedder(backbone)
    samples = chunk_samples(backbone, data, embed)
    sample_episode = np.array([e for e, _ in samples.index])
    task_array = np.array(episode_tasks)
    shift = training_image_shift(config, backbone_state)
    settings = {"batch_size": config.batch_size, "lr": config.lr, "weight_decay": config.weight_decay,
                "image_shift": shift, "device": device}

    if config.base_bank:
        base = TrainedLora(_reused_base(config, backbone, regex), [])
        log(f"base LoRA: reused from {config.base_bank}")
    else:
        seen_samples = np.nonzero(np.isin(task_array[sample_episode], tasks))[0]
        log(f"base LoRA: {len(seen_samples)} frames of {len(tasks)} tasks, {config.base_steps} steps, "
            f"image shift {shift} px")
        base = train_lora(backbone, samples, seen_samples, config.lora, regex,
                          LoraTrainSettings(steps=config.base_steps, seed=config.seed, **settings),
                          desc="base LoRA", progress=progress)
    residual = config.lora.task_init == "residual"
    task_settings = dict(settings)
    if config.instruction_swap > 0:
        seen_texts = sorted({samples.instructions[e] for e, t in enumerate(episode_tasks) if t in tasks})
        missing = [t for t in seen_texts if t not in samples.embeddings]
        if missing or not seen_texts:
            raise ValueError("instruction_swap needs a backbone that reads an instruction embedding; "
                             f"{type(backbone).__name__} embeds none of the dataset's instructions")
        task_settings.update(instruction_swap=config.instruction_swap,
                             instruction_pool=torch.stack([samples.embeddings[t] for t in seen_texts]))
        log(f"task LoRAs: each sample reads another seen episode's instruction with probability "
            f"{config.instruction_swap} ({len(seen_texts)} instructions)")
    setup = TaskLoraSetup(checkpoint=str(checkpoint), data=str(Path(data.root).resolve()),
                          embeddings=samples.embeddings, spec=config.lora, target_regex=regex,
                          base=base.adapter if residual else None, init=None if residual else base.adapter,
                          threads=threads)
    jobs = [TaskLoraJob(task, np.nonzero(task_array[sample_episode] == task)[0],
                        LoraTrainSettings(steps=config.task_steps, seed=config.seed + 1 + i, **task_settings))
            for i, task in enumerate(tasks)]

    def report(job: TaskLoraJob, lora: TrainedLora) -> None:
        log(f"task LoRA {job.task}: {len(job.indices)} frames, loss {lora.losses[0]:.4f} -> {lora.final_loss:.4f}")

    trained = train_task_loras(backbone, samples, setup, jobs, workers=workers, progress=progress, done=report)

    keys_cfg = config.keys
    episode_counts = {t: int((task_array == t).sum()) for t in tasks}
    states = {task: task_states(backbone, data, episode_tasks, task, keys_cfg, embed) for task in tasks}
    labels = {task: states[task].labels for task in tasks}
    projections: dict[str, StateProjection] = {}
    keys: dict[str, torch.Tensor] = {}
    for variant in states[tasks[0]].fields:
        if any(variant not in states[t].fields for t in tasks):
            continue  # ground truth missing for some episodes: no oracle keys
        pooled = {f: torch.cat([states[t].fields[variant][f] for t in tasks]) for f in FIELDS}
        projection = StateProjection.fit(pooled, keys_cfg.field_dim, keys_cfg.field_weights)
        projections[variant] = projection
        keys[variant] = torch.stack([task_keys(states[t], variant, projection, keys_cfg.keys_per_memory)
                                     for t in tasks])

    memories = []
    for task in tasks:
        procedure = dataclasses.asdict(get_task_class(config.suite, task).spec.procedure)
        instructions = sorted({samples.instructions[e] for e, t in enumerate(episode_tasks) if t == task})
        memories.append(MemoryEntry(name=task, task=task, adapter=task, metadata={
            "suite": config.suite, "procedure": procedure, "episodes": episode_counts[task],
            "frames": int((task_array[sample_episode] == task).sum()),
            "key_episodes": min(keys_cfg.key_episodes, episode_counts[task]), "key_labels": labels[task],
            "instructions": instructions[:5], "train_steps": config.task_steps,
            "first_loss": trained[task].losses[0], "final_loss": trained[task].final_loss,
        }))
    build = {**config.to_dict(), "torch_threads": threads, "checkpoint": str(checkpoint), "skipped_tasks": skipped,
             "image_shift": shift,
             "base_first_loss": base.losses[0] if base.losses else None,
             "base_final_loss": base.final_loss if base.losses else None}
    bank = MemoryBank.from_parts(
        backbone=backbone, backbone_name=name, lora=lora_info(config.lora, regex),
        adapters={t: trained[t].adapter for t in tasks}, base=base.adapter, memories=memories,
        projections=projections, keys=keys, key_config={**dataclasses.asdict(keys_cfg),
                                                        "field_weights": list(keys_cfg.field_weights)},
        temperature=keys_cfg.temperature, source=str(Path(config.backbone).resolve()), build=build,
    )
    save_bank(bank, out)
    return bank


__all__ = ["TaskStates", "build_bank", "episode_states", "instruction_embedder", "select_tasks", "task_keys",
           "task_states"]
