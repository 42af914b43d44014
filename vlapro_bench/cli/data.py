"""``vlapro-bench collect`` and ``vlapro-bench train``: demonstrations, and a backbone trained on them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vlapro_bench.cli.options import SuiteOpt, parse_size, resolve_tasks
from vlapro_bench.cli.paths import output_folder
from vlapro_bench.collection import collect_demonstrations


def collect(
    out: Annotated[Path, typer.Option(help="Dataset folder (LeRobotDataset v3.0 layout); re-running resumes.",
                                      callback=output_folder)],
    split: Annotated[str, typer.Option(help="Tasks to record: seen, unseen, or all.")] = "seen",
    tasks: Annotated[list[str] | None, typer.Option("--task", help="Record only these tasks (repeatable).")] = None,
    episodes: Annotated[int, typer.Option(help="Successful expert episodes per task.")] = 50,
    seed_start: Annotated[int, typer.Option(
        min=0, help="First reset seed; failed seeds are skipped, as RoboTwin does.")] = 0,
    size: Annotated[str, typer.Option(help="Camera size HEIGHTxWIDTH.")] = "128x128",
    camera: Annotated[list[str] | None, typer.Option(help="Cameras to record (repeatable); default all.")] = None,
    obs_mode: Annotated[str, typer.Option(
        help="rgb (images of every camera) or state (object poses, no images: for state models).")] = "rgb",
    control_mode: Annotated[str | None, typer.Option(
        help="Action space the actions are recorded in; default: the suite's own (RoboTwin qpos, or ee).")] = None,
    instruction_pool: Annotated[str, typer.Option(help="Instruction templates: seen or unseen.")] = "seen",
    instruction_set: Annotated[int, typer.Option(
        help="Instruction set: 0, each task's original templates; 1, RoboTwin 2.0's scale (50+ seen, "
             "object descriptions drawn per episode).")] = 0,
    workers: Annotated[int, typer.Option(
        min=1, help="Processes recording tasks side by side (one task each); the dataset is the same for "
                    "any number, but a task's episodes reach the disk when the whole task is done.")] = 1,
    suite: SuiteOpt = "robotwin",
    progress: Annotated[bool, typer.Option(help="Show a progress bar with ETA.")] = True,
) -> None:
    """Record scripted-expert demonstrations (cameras, state, actions, procedural state).

    Only successful episodes are kept; seeds are tried upward from --seed-start until each task
    has --episodes of them. Every finished episode is on disk at once, so a killed run resumes
    where it stopped without duplicating an episode.
    """
    if episodes < 1:
        raise typer.BadParameter("must be >= 1", param_hint="--episodes")
    names = resolve_tasks(suite, tasks or [split])
    try:
        total = collect_demonstrations(out, names, episodes, suite=suite, seed_start=seed_start,
                                       camera_size=parse_size(size), cameras=camera, obs_mode=obs_mode,
                                       control_mode=control_mode, instruction_pool=instruction_pool,
                                       instruction_set=instruction_set, workers=workers, progress=progress)
    except ValueError as exc:  # an option value the environment refuses (obs mode, camera, control mode)
        raise typer.BadParameter(str(exc)) from None
    typer.echo(f"{out}: {total} episodes of {len(names)} task(s)")


def train(
    data: Annotated[Path | None, typer.Option(help="Dataset folder from `vlapro-bench collect`.")] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder; re-running resumes from its last checkpoint.",
                                             callback=output_folder)] = None,
    backbone: Annotated[str | None, typer.Option(help="Backbone name (tinyvla).")] = None,
    config: Annotated[Path | None, typer.Option(help="JSON training config; flags override its fields.")] = None,
    steps: Annotated[int | None, typer.Option(help="Total optimiser steps.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Samples per step.")] = None,
    lr: Annotated[float | None, typer.Option(help="AdamW learning rate.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for init, batches and dropout.")] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:N or auto.")] = None,
    checkpoint_every: Annotated[int | None, typer.Option(help="Steps between checkpoints.")] = None,
    threads: Annotated[int | None, typer.Option(
        help="CPU math threads (0: one on machines of up to 4 cores, where a second thread is 2.4x slower as "
             "soon as another process runs; torch's choice above).")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar with ETA.")] = True,
) -> None:
    """Train a backbone on demonstrations (seeded; checkpoints as safetensors + JSON; resumable)."""
    # Deferred for import-time cost: training imports torch (seconds), which other commands never need.
    from vlapro_bench.training import TrainConfig  # noqa: PLC0415
    from vlapro_bench.training import train as train_backbone  # noqa: PLC0415

    overrides = {"data": str(data) if data else None, "out": str(out) if out else None, "backbone": backbone,
                 "steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed, "device": device,
                 "checkpoint_every": checkpoint_every, "torch_threads": threads}
    try:
        cfg = (TrainConfig.from_file(config, **overrides) if config
               else TrainConfig.from_dict({k: v for k, v in overrides.items() if v is not None}))
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--config" if config else None) from None
    if not cfg.data or not cfg.out:
        raise typer.BadParameter("both --data and --out are needed (as flags or in the config file)")
    last = train_backbone(cfg, progress=progress)
    typer.echo(f"checkpoint: {last}")
