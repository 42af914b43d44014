"""``vlapro-bench list`` and ``vlapro-bench render``: what the suites hold, and what a task looks like."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from vlapro_bench.cli.options import SuiteOpt, check_suite, parse_size, resolve_tasks
from vlapro_bench.cli.paths import output_file
from vlapro_bench.registration import split_id
from vlapro_bench.registry import all_specs, get_task_class
from vlapro_bench.splits import SplitError, load_split
from vlapro_bench.task import INSTRUCTION_SETS


def list_tasks(
    suite: SuiteOpt = "robotwin",
    split_version: Annotated[int, typer.Option(help="Split file version (data/splits/<suite>-v<N>.json).")] = 0,
    split_name: Annotated[str, typer.Option(
        help="Split line: empty for the suite's own, or a named line such as zw7 (data/splits/<suite>-zw7-v<N>.json).")]
    = "",
    instruction_set: Annotated[int, typer.Option(
        min=0, max=max(INSTRUCTION_SETS),
        help="Instruction set whose template counts (seen/unseen) the table shows.")] = max(INSTRUCTION_SETS),
) -> None:
    """List suites, splits, tasks and their Gymnasium ids, with each task's instruction templates (seen/unseen)."""
    check_suite(suite)
    try:
        split = load_split(suite, split_version, name=split_name)
    except SplitError as exc:
        raise typer.BadParameter(str(exc), param_hint="--split-version") from None
    rows = []
    for spec in all_specs(suite):
        which = "seen" if spec.name in split.seen else "unseen" if spec.name in split.unseen else "-"
        sources = ", ".join(split.transfer[spec.name].sources) if spec.name in split.transfer else ""
        pools = get_task_class(suite, spec.name).instruction_pools(instruction_set)
        rows.append({"task": spec.name, "split": which, "id": spec.gym_id, "steps": spec.max_episode_steps,
                     "action": spec.procedure.action_type, "transfer from": sources, "origin": spec.origin,
                     "instructions": f"{len(set(pools['seen']))}/{len(set(pools['unseen']))}"})
    typer.echo(f"Suite {suite}, split {split.label.removeprefix(suite + ' ')}: {len(split.seen)} seen, "
               f"{len(split.unseen)} unseen tasks")
    typer.echo("  " + "  ".join(split_id(suite, side, split.version, split.name) for side in ("seen", "unseen")
                                if split.tasks(side)))
    typer.echo(pd.DataFrame(rows).sort_values(["split", "task"]).to_string(index=False))


def render(
    task: Annotated[str, typer.Argument(help="Task name, e.g. click_bell.")],
    out: Annotated[Path, typer.Option(help="Output PNG file.", callback=output_file)] = Path("render.png"),
    seed: Annotated[int, typer.Option(min=0, help="Reset seed (fixes layout, colours, instruction).")] = 0,
    size: Annotated[str, typer.Option(help="Camera size HEIGHTxWIDTH.")] = "240x320",
    steps: Annotated[int, typer.Option(min=0, help="Expert steps to play before the picture (0 = initial state).")]
    = 0,
    suite: SuiteOpt = "robotwin",
) -> None:
    """Save a montage of all cameras for one task and seed (RLBench: five cameras, three per row)."""
    # Deferred for import-time cost: the env loads MuJoCo, which `vlapro-bench --help` should not wait for.
    from vlapro_bench.env import VLAProEnv  # noqa: PLC0415
    from vlapro_bench.montage import camera_montage  # noqa: PLC0415

    resolve_tasks(suite, [task])
    env = VLAProEnv(task, suite=suite, camera_size=parse_size(size))
    obs, info = env.reset(seed=seed)
    for i, action in enumerate(env.expert_actions()):
        if i >= steps:
            break
        obs, *_ = env.step(action.astype("float32"))
    image = camera_montage(obs["images"], columns=3 if len(obs["images"]) > 4 else 2,
                           title=f"{task} (seed {seed}): {info['instruction']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)
    env.close()
    typer.echo(f"wrote {out}")
