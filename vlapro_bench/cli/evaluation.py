"""``vlapro-bench eval`` and ``vlapro-bench report``: the evaluator and its reports.

Bad input becomes a usage error that names the offending option and says what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vlapro_bench.cli.options import parse_size, policy_kwargs, resolve_tasks
from vlapro_bench.cli.paths import output_folder
from vlapro_bench.evaluation.expert_filter import ExpertFilterError
from vlapro_bench.evaluation.manifest import ProtocolMismatchError, RunLockedError, RunMismatchError
from vlapro_bench.evaluation.policy_spec import PolicyMismatchError
from vlapro_bench.evaluation.protocol import ProtocolError, load_protocol
from vlapro_bench.evaluation.records import RecordsError
from vlapro_bench.evaluation.runner import EvalSettings, evaluate
from vlapro_bench.policy import UnknownPolicyError
from vlapro_bench.splits import SplitError, load_split


def eval_command(
    tasks: Annotated[list[str] | None, typer.Argument(
        help="Task names, or seen / unseen (of the protocol's split version) / all. Default: unseen, or seen on a "
             "single-task split line such as all50, which has no unseen side.")] = None,
    policy: Annotated[str, typer.Option(
        help="Registry name (random, expert, ...), package.module:factory, or a checkpoint / training-run "
             "folder.")] = "random",
    policy_arg: Annotated[list[str] | None, typer.Option(
        help="Policy factory argument key=value (repeatable), e.g. execute=8.")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Results folder; re-running the same command resumes it. Default: results/<label>.",
        callback=output_folder)] = None,
    protocol: Annotated[str | None, typer.Option(
        help="Protocol name (robotwin-v0) or JSON file. Default: <suite>-v0.")] = None,
    episodes: Annotated[int | None, typer.Option(
        min=1, help="Play only the first N protocol episodes per task (a partial run; reports say so).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Parallel workers, each keeping its env and policy alive.")] = 1,
    executor: Annotated[str, typer.Option(help="local (process pool) or ray.")] = "local",
    address: Annotated[str | None, typer.Option(help="Ray cluster address (auto, ray://host:10001).")] = None,
    obs_mode: Annotated[str, typer.Option(help="rgb, rgbd or state (state: privileged/baseline policies).")] = "rgb",
    size: Annotated[str | None, typer.Option(
        help="Camera size HEIGHTxWIDTH. Default: the size the policy declares (a checkpoint: its demonstrations' "
             "size), else 128x128.")] = None,
    camera: Annotated[list[str] | None, typer.Option(
        help="Cameras to render (repeatable). Default: the cameras the policy declares it reads, else all.")] = None,
    control_mode: Annotated[str | None, typer.Option(
        help="Action space; default: the suite's own (RoboTwin qpos: 14-d joint targets, or ee; RLBench "
             "joint_delta, or joint_position, ee_pose).")] = None,
    videos: Annotated[int, typer.Option(min=0, help="Write MP4 videos of the first N episodes per task.")] = 0,
    label: Annotated[str | None, typer.Option(help="Name of this run in reports (default: the policy).")] = None,
    cache_dir: Annotated[Path | None, typer.Option(
        help="Cache of expert-filter results (default ~/.cache/vlapro-bench).", callback=output_folder)] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars with ETA.")] = True,
    suite: Annotated[str | None, typer.Option(
        help="Task suite: robotwin or rlbench. Default: the protocol's suite, else robotwin.")] = None,
) -> None:
    """Evaluate a policy under a versioned protocol, with resumable per-episode records."""
    # Deferred for import-time cost: the report's statistics load scipy, which `--help` should not wait for.
    from vlapro_bench.evaluation.report import build_report, terminal_summary  # noqa: PLC0415

    try:
        proto = load_protocol(protocol or f"{suite or 'robotwin'}-v0")
    except ProtocolError as exc:
        raise typer.BadParameter(str(exc), param_hint="--protocol") from None
    if suite is not None and proto.suite != suite:
        raise typer.BadParameter(f"protocol {proto.name} is for suite {proto.suite}, not {suite}: drop --suite "
                                 f"or pass --suite {proto.suite}", param_hint="--protocol")
    suite = proto.suite
    try:
        if not tasks:  # unseen, or seen on a line with no unseen side (all50)
            tasks = ["unseen"] if load_split(suite, proto.split_version, name=proto.split).unseen else ["seen"]
        names = resolve_tasks(suite, tasks, proto.split_version, proto.split)
    except SplitError as exc:
        line = f"split {proto.split} version" if proto.split else "split version"
        raise typer.BadParameter(f"protocol {proto.name} names {line} {proto.split_version}: {exc}",
                                 param_hint="--protocol") from None
    settings = EvalSettings(
        policy=policy, tasks=tuple(names), protocol=proto,
        policy_kwargs=policy_kwargs(policy_arg or []), obs_mode=obs_mode, control_mode=control_mode,
        camera_size=parse_size(size) if size else None, cameras=tuple(camera) if camera else None, episodes=episodes,
        videos=videos, label=label)
    out = out or Path("results") / _slug(label or policy)
    try:
        evaluate(settings, out, executor=executor, workers=workers, address=address, cache_dir=cache_dir,
                 progress=progress)
    except (UnknownPolicyError, PolicyMismatchError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--policy") from None
    except (ProtocolMismatchError, RunMismatchError, RunLockedError, RecordsError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--out") from None
    except ExpertFilterError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(f"results: {out}")
    typer.echo(terminal_summary(build_report([out])))


def _slug(name: str) -> str:
    """A folder name from a label or policy spec (``runs/bell`` -> ``bell``, ``pkg.mod:f`` -> ``pkg.mod-f``)."""
    name = Path(name.rstrip("/")).name or name
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in name)


def report_command(
    runs: Annotated[list[Path], typer.Argument(help="Results folders of `vlapro-bench eval`.")],
    baseline: Annotated[Path | None, typer.Option(
        help="Results folder of the base policy; the others get paired gains against it.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for report.md, report.tex, CSVs and figures.",
                                      callback=output_folder)] = Path("report"),
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
) -> None:
    """Tables (Markdown, CSV, LaTeX) and figures over evaluation runs, with confidence intervals."""
    # Deferred for import-time cost: scipy for the statistics, matplotlib for the figures.
    from vlapro_bench.evaluation.export import write_report  # noqa: PLC0415
    from vlapro_bench.evaluation.report import build_report, terminal_summary  # noqa: PLC0415

    if resamples < 100:
        raise typer.BadParameter("use at least 100 resamples", param_hint="--resamples")
    try:
        report = build_report(runs, baseline, resamples=resamples, seed=seed)
    except (FileNotFoundError, ProtocolMismatchError, RecordsError, ValueError) as exc:
        raise typer.BadParameter(str(exc), param_hint="RUNS") from None
    written = write_report(report, out)
    typer.echo(terminal_summary(report))
    typer.echo("wrote " + ", ".join(str(p) for p in written))
