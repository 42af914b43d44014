"""``vlapro-bench expert``, ``baselines`` and ``rollout``: quick success tables without a protocol.

Thin shells over :func:`vlapro_bench.evaluation.sweep.sweep`, which plays the episodes with the
evaluator's episode loop; these commands only pick the tasks, policies and seeds and print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from vlapro_bench.cli.options import (
    EpisodesOpt,
    SeedStartOpt,
    SuiteOpt,
    make_parent,
    parse_size,
    policy_kwargs,
    resolve_tasks,
)
from vlapro_bench.cli.paths import output_file
from vlapro_bench.evaluation.policy_spec import policy_reads, rendered_observation
from vlapro_bench.evaluation.sweep import sweep
from vlapro_bench.policy import UnknownPolicyError
from vlapro_bench.splits import SplitError


def _success_table(suite: str, names: list[str], policies: list[str], episodes: int, seed_start: int,
                   obs_mode: str) -> pd.DataFrame:
    """One row per (task, policy): successes out of ``episodes`` seeds and the rate."""
    played = sweep(names, policies, range(seed_start, seed_start + episodes), suite=suite, obs_mode=obs_mode)
    rows = [{"task": name, "policy": policy,
             "success": sum(r.success for r in played.episodes[policy] if r.task == name), "episodes": episodes}
            for name in names for policy in policies]
    table = pd.DataFrame(rows)
    table["rate"] = table["success"] / table["episodes"]
    return table


def _print_table(table: pd.DataFrame) -> None:
    wide = table.pivot(index="task", columns="policy", values="rate")
    wide.loc["average"] = wide.mean()
    typer.echo((wide * 100).round(1).to_string(float_format=lambda v: f"{v:5.1f}%"))


def expert(
    tasks: Annotated[list[str], typer.Argument(help="Task names, or seen / unseen / all.")],
    episodes: EpisodesOpt = 50,
    seed_start: SeedStartOpt = 0,
    suite: SuiteOpt = "robotwin",
) -> None:
    """Success rate of the scripted experts (state observations, no rendering)."""
    names = resolve_tasks(suite, tasks)
    table = _success_table(suite, names, ["expert"], episodes, seed_start, "state")
    _print_table(table)


def baselines(
    split: Annotated[str, typer.Option(help="Split to run: seen or unseen.")] = "unseen",
    episodes: Annotated[int, typer.Option(min=1, help="Episodes (seeds) per task and policy.")] = 10,
    seed_start: SeedStartOpt = 100000,
    obs_mode: Annotated[str, typer.Option(help="state (fast) or rgb (renders every camera).")] = "state",
    csv: Annotated[Path | None, typer.Option(help="Also write the table to this CSV file.", callback=output_file)]
    = None,
    suite: SuiteOpt = "robotwin",
    split_version: Annotated[int, typer.Option(min=0, help="Split file version (data/splits/<suite>-v<N>.json).")]
    = 0,
    split_name: Annotated[str, typer.Option(
        help="Split line: empty for the suite's own, or a named line such as zw7 (data/splits/<suite>-zw7-v<N>.json).")]
    = "",
    task: Annotated[list[str] | None, typer.Option(
        help="Run these tasks instead of the split (repeatable), e.g. the tasks a split version adds.")] = None,
) -> None:
    """Run the expert (privileged) and a random policy on a split; print per-task success."""
    try:
        names = resolve_tasks(suite, task or [split], split_version, split_name)
    except SplitError as exc:
        raise typer.BadParameter(str(exc), param_hint="--split-version") from None
    make_parent(csv)
    table = _success_table(suite, names, ["expert", "random"], episodes, seed_start, obs_mode)
    _print_table(table)
    if csv is not None:
        table.to_csv(csv, index=False)
        typer.echo(f"wrote {csv}")


def rollout(
    tasks: Annotated[list[str], typer.Argument(help="Task names, or seen / unseen / all.")],
    policy: Annotated[str, typer.Option(help="Policy: registry name (random, expert, replay, tinyvla, ...) "
                                             "or package.module:factory.")] = "random",
    policy_arg: Annotated[list[str] | None, typer.Option(help="Policy factory argument key=value (repeatable), "
                                                              "e.g. checkpoint=runs/bell.")] = None,
    episodes: EpisodesOpt = 10,
    seed_start: Annotated[int, typer.Option(min=0, help="First seed (RoboTwin evaluates from 100000).")] = 100000,
    obs_mode: Annotated[str, typer.Option(help="rgb, rgbd or state.")] = "rgb",
    size: Annotated[str | None, typer.Option(
        help="Camera size HEIGHTxWIDTH. Default: the size the policy declares, else 128x128.")] = None,
    instruction_pool: Annotated[str, typer.Option(help="Instruction templates: seen or unseen.")] = "seen",
    csv: Annotated[Path | None, typer.Option(help="Write per-episode results to this CSV file.",
                                             callback=output_file)] = None,
    suite: SuiteOpt = "robotwin",
) -> None:
    """Roll out any policy on tasks and print per-task success (the full evaluator adds protocols,
    resumable records and confidence intervals). Only the cameras the policy declares it reads
    are rendered, once per action chunk."""
    names = resolve_tasks(suite, tasks)
    kwargs = policy_kwargs(policy_arg or [])
    make_parent(csv)
    cameras, camera_size = rendered_observation(policy_reads(policy, kwargs), suite,
                                                camera_size=parse_size(size) if size else None)
    try:
        played = sweep(names, [policy], range(seed_start, seed_start + episodes), suite=suite, policy_kwargs=kwargs,
                       obs_mode=obs_mode, camera_size=camera_size, cameras=cameras,
                       instruction_pool=instruction_pool)
    except UnknownPolicyError as exc:
        raise typer.BadParameter(str(exc), param_hint="--policy") from None
    table = pd.DataFrame([result.as_row() for result in played.episodes[policy]])
    if csv is not None:
        table.to_csv(csv, index=False)
    summary = table.groupby("task")["success"].agg(["sum", "count", "mean"])
    summary.loc["average"] = [summary["sum"].sum(), summary["count"].sum(), summary["mean"].mean()]
    summary.columns = ["successes", "episodes", "rate"]
    typer.echo(f"policy {policy} ({'privileged' if played.privileged[policy] else 'not privileged'})")
    typer.echo(summary.to_string(formatters={"rate": lambda v: f"{100 * v:5.1f}%"}))
