"""``vlapro-bench memory build``, ``inspect``, ``probe``, ``export``, ``import`` and ``convert``.

The app (:mod:`vlapro_bench.cli.app`) mounts :data:`memory_app` as the ``memory`` group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vlapro_bench.cli.paths import output_file, output_folder

memory_app = typer.Typer(
    help="Procedural memory (VLA-Pro): build a bank of task LoRAs with retrieval keys, inspect a bank, move "
         "memories in and out as peft adapters, convert an older bank.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@memory_app.command()
def build(
    backbone: Annotated[Path | None, typer.Option(help="Training run folder (or checkpoint) of the backbone.")] = None,
    data: Annotated[Path | None, typer.Option(help="Demonstrations (`vlapro-bench collect`); seen tasks are used.")]
    = None,
    out: Annotated[Path | None, typer.Option(help="Bank folder to create (must be new or empty).",
                                             callback=output_folder)] = None,
    config: Annotated[Path | None, typer.Option(help="JSON build config; flags override its fields.")] = None,
    suite: Annotated[str | None, typer.Option(help="Task suite whose split says which tasks are seen.")] = None,
    task: Annotated[list[str] | None, typer.Option(help="Only these seen tasks (repeatable).")] = None,
    rank: Annotated[int | None, typer.Option(help="LoRA rank (default 16).")] = None,
    alpha: Annotated[float | None, typer.Option(help="LoRA alpha (default 32).")] = None,
    targets: Annotated[str | None, typer.Option(help="Regex of target linear names (default: the backbone's).")]
    = None,
    task_init: Annotated[str | None, typer.Option(help="residual (default) or from_base.")] = None,
    base_steps: Annotated[int | None, typer.Option(help="Optimiser steps of the base LoRA (default 1000).")] = None,
    task_steps: Annotated[int | None, typer.Option(help="Optimiser steps of each task LoRA (default 500).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Samples per step (default 32).")] = None,
    lr: Annotated[float | None, typer.Option(help="AdamW learning rate of the LoRA parameters (default 1e-3).")] = None,
    keys_per_memory: Annotated[int | None, typer.Option(help="Key sequence length per memory (default 8).")] = None,
    key_episodes: Annotated[int | None, typer.Option(help="Demonstrations per task for keys (default 10).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for LoRA init, batches and dropout.")] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:N or auto.")] = None,
    torch_threads: Annotated[int | None, typer.Option(
        min=0, help="CPU math threads per LoRA training (default 0: one on machines of up to 4 cores). Part of "
                    "the result: other thread counts give other last bits.")] = None,
    workers: Annotated[int, typer.Option(
        min=1, help="Processes training the task LoRAs on a CPU, a task each; changes the speed, not the bank.")]
    = 1,
) -> None:
    """Train the base LoRA and one LoRA per seen task, compute keys, and write a verified bank."""
    # Deferred for import-time cost: the memory imports torch and peft (seconds).
    from vlapro_bench.memory.build import build_bank  # noqa: PLC0415
    from vlapro_bench.memory.config import MemoryBuildConfig  # noqa: PLC0415

    lora = {k: v for k, v in {"rank": rank, "alpha": alpha, "target_modules": targets, "task_init": task_init}.items()
            if v is not None}
    keys = {k: v for k, v in {"keys_per_memory": keys_per_memory, "key_episodes": key_episodes}.items()
            if v is not None}
    overrides = {"backbone": str(backbone) if backbone else None, "data": str(data) if data else None,
                 "out": str(out) if out else None, "suite": suite, "tasks": list(task) if task else None,
                 "base_steps": base_steps, "task_steps": task_steps, "batch_size": batch_size, "lr": lr,
                 "seed": seed, "device": device, "torch_threads": torch_threads, "lora": lora or None,
                 "keys": keys or None}
    try:
        if config is not None:
            cfg = MemoryBuildConfig.from_file(config, **overrides)
        else:
            cfg = MemoryBuildConfig.from_dict({k: v for k, v in overrides.items() if v is not None})
    except (ValueError, FileNotFoundError, TypeError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--config" if config else None) from None
    if not cfg.backbone or not cfg.data or not cfg.out:
        raise typer.BadParameter("--backbone, --data and --out are all needed (as flags or in the config file)")
    try:
        bank = build_bank(cfg, log=typer.echo, workers=workers)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"memory bank {bank.root}: {len(bank)} memories ({', '.join(bank.memory_names)})")


@memory_app.command()
def inspect(
    bank: Annotated[Path, typer.Argument(help="Bank folder from `vlapro-bench memory build`.")],
    picture: Annotated[Path | None, typer.Option(help="Where to save the key similarity matrix (PNG); default "
                                                      "BANK-keys.png next to the bank.",
                                                 callback=output_file)] = None,
) -> None:
    """Verify a bank and list its memories, sizes and key similarity (printed and as a picture)."""
    # Deferred for import-time cost: the bank and its report import torch and matplotlib.
    import pandas as pd  # noqa: PLC0415

    from vlapro_bench.memory.bank import MemoryBankError, load_bank  # noqa: PLC0415
    from vlapro_bench.memory.report import key_similarity, memory_table, similarity_figure, summary_lines  # noqa: PLC0415

    try:
        loaded = load_bank(bank)
    except MemoryBankError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for line in summary_lines(loaded):
        typer.echo(line)
    typer.echo("(the backbone fingerprint is checked when a policy loads the bank with its backbone)")
    typer.echo(memory_table(loaded).to_string(index=False))
    for variant in loaded.variants:
        sim = key_similarity(loaded.keys[variant]).numpy()
        frame = pd.DataFrame(sim, index=loaded.memory_names, columns=loaded.memory_names)
        label = " (privileged)" if loaded.index.encoders[variant].privileged else ""
        typer.echo(f"\nkey similarity, {variant} state{label} (row: procedure walked, column: memory scored)")
        typer.echo(frame.to_string(float_format=lambda v: f"{v:6.3f}"))
    path = picture if picture is not None else bank.with_name(bank.name + "-keys.png")
    typer.echo(f"\npicture: {similarity_figure(loaded, path)}")



@memory_app.command()
def export(
    bank: Annotated[Path, typer.Argument(help="Bank folder.")],
    memory: Annotated[str, typer.Argument(help="Name of the memory to export (see `vlapro-bench memory inspect`).")],
    out: Annotated[Path, typer.Argument(help="Folder to create (new or empty).", callback=output_folder)],
) -> None:
    """Write one memory as a peft adapter folder (adapter_config.json + adapter_model.safetensors).

    `PeftModel.from_pretrained(backbone, OUT)` loads it onto the backbone the bank was built for.
    Beside it, vlapro_memory.json records the bank's metadata for the memory (task, backbone
    fingerprint, LoRA spec, sha256 of each file). When the bank keeps its base LoRA on under the
    memories (residual task LoRAs), the base LoRA is written to OUT/base: the bank applies the
    memory on top of it.
    """
    # Deferred for import-time cost: the bank imports torch.
    from vlapro_bench.memory.exchange import export_memory  # noqa: PLC0415

    typer.echo(f"memory {memory!r} exported as a peft adapter: {export_memory(bank, memory, out)}")


@memory_app.command("import")
def import_(
    bank: Annotated[Path, typer.Argument(help="Bank folder to add the memory to.")],
    adapter: Annotated[Path, typer.Argument(help="peft LoRA adapter folder (adapter_config.json + "
                                                 "adapter_model.safetensors), trained on the bank's backbone.")],
    task: Annotated[str, typer.Option(help="The task the adapter was trained on; its keys come from this task's "
                                           "demonstrations.")],
    data: Annotated[Path, typer.Option(help="Demonstrations (`vlapro-bench collect`) holding episodes of --task.")],
    backbone: Annotated[Path | None, typer.Option(help="Training run (or checkpoint) of the bank's backbone; "
                                                       "default: the one the bank records.")] = None,
    name: Annotated[str | None, typer.Option(help="Memory name (default: the task).")] = None,
    suite: Annotated[str | None, typer.Option(help="Task suite (default: the bank's).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the extended bank here instead of changing BANK in place.",
                                             callback=output_folder)] = None,
) -> None:
    """Add a peft LoRA trained elsewhere on the bank's backbone as a new memory.

    The adapter must match the bank: plain LoRA, the same rank, scaling (lora_alpha / r) and
    target modules, shapes of the bank's backbone; the backbone must have the bank's
    fingerprint, and so must the one an exported memory (vlapro_memory.json) records. Its keys
    are built from --task's demonstrations in --data with the bank's own state projections, as
    `memory build` builds them. In a bank of residual task LoRAs the memory is fused on top of
    the base LoRA, so train it with the base LoRA active (`memory export` writes it to OUT/base).
    """
    # Deferred for import-time cost: the memory imports torch.
    from vlapro_bench.memory.exchange import import_memory  # noqa: PLC0415

    import_memory(bank, adapter, task=task, data=data, backbone=backbone, name=name, suite=suite, out=out,
                  log=typer.echo)


@memory_app.command()
def probe(
    bank: Annotated[Path, typer.Argument(help="Bank folder from `vlapro-bench memory build`.")],
    backbone: Annotated[Path, typer.Option(help="Training run folder (or checkpoint) the bank was built for.")],
    data: Annotated[Path, typer.Option(help="Demonstrations to measure on (`vlapro-bench collect`), seen or "
                                            "unseen tasks.")],
    ceiling: Annotated[Path | None, typer.Option(help="A ceiling bank (`memories_from: unseen`, the same base "
                                                      "LoRA): adds each task's own LoRA as the reference.")] = None,
    task: Annotated[list[str] | None, typer.Option(help="Only these tasks of DATA (repeatable).")] = None,
    frames: Annotated[int, typer.Option(min=1, help="Frames drawn per task; every memory is measured on the same "
                                                    "ones.")] = 256,
    seed: Annotated[int, typer.Option(help="Seed of the frame draw.")] = 0,
    csv: Annotated[Path | None, typer.Option(help="Also write every task x memory loss here (CSV).",
                                             callback=output_file)] = None,
) -> None:
    """Whether any memory can move the backbone toward a task: its action loss per task and fused memory.

    For each task of DATA: the backbone's training loss (L1 on normalised actions) alone, with the
    base LoRA (k=0), with each memory fused alone at weight 1, and with the task's own LoRA from
    --ceiling. "gap closed %" is the share of the k0-to-ceiling distance the best memory covers. Open
    loop and teacher forced: it explains closed-loop results, it does not replace them.
    """
    # Deferred for import-time cost: the probe imports torch and pandas.
    from vlapro_bench.datasets import LeRobotV3Dataset  # noqa: PLC0415
    from vlapro_bench.memory.bank import MemoryBankError, load_bank  # noqa: PLC0415
    from vlapro_bench.memory.probe import probe_memories  # noqa: PLC0415
    from vlapro_bench.splits import load_split  # noqa: PLC0415
    from vlapro_bench.training.checkpoint import latest_checkpoint, load_backbone_checkpoint  # noqa: PLC0415

    try:
        model = load_backbone_checkpoint(latest_checkpoint(backbone), "cpu")
        loaded = load_bank(bank, model)
        reference = load_bank(ceiling, model) if ceiling is not None else None
        result = probe_memories(model, loaded, LeRobotV3Dataset(data), frames, seed, reference, task or ())
    except (MemoryBankError, ValueError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    suite = str(loaded.index.build.get("suite") or "")
    sources = load_split(suite).transfer_sources if suite else {}
    typer.echo(result.summary(sources).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if csv is not None:
        result.losses.rename_axis("task").to_csv(csv)
        typer.echo(f"every task x memory loss: {csv}")


@memory_app.command()
def convert(
    bank: Annotated[Path, typer.Argument(help="Version 1 bank folder.")],
    out: Annotated[Path | None, typer.Option(help="Write the version 2 bank here instead of replacing BANK.",
                                             callback=output_folder)] = None,
) -> None:
    """Rewrite a version 1 bank (bare safetensors adapters) as version 2 (peft adapter folders).

    Every file is checked against the sha256 its index recorded first; the new bank holds the same
    tensors bit for bit (checked before it replaces the old one) and records the conversion in its
    index's history. Without --out the bank is replaced in place.
    """
    # Deferred for import-time cost: the bank imports torch.
    from vlapro_bench.memory.exchange import convert_bank  # noqa: PLC0415

    typer.echo(f"memory bank converted to format version 2: {convert_bank(bank, out)}")


__all__ = ["memory_app"]
