"""Options and parsers that several command groups share.

Each turns command-line text into a library value and refuses a bad one as a usage error that
names the option (exit code 2), before any work runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vlapro_bench import splits
from vlapro_bench.registry import SUITES, UnknownTaskError, get_task_class, task_names

SuiteOpt = Annotated[str, typer.Option(help="Task suite: robotwin or rlbench.")]
EpisodesOpt = Annotated[int, typer.Option(min=1, help="Episodes (seeds) per task.")]
SeedStartOpt = Annotated[int, typer.Option(min=0, help="First seed.")]


def check_suite(suite: str) -> None:
    """Refuse a suite name that is not registered."""
    if suite not in SUITES:
        raise typer.BadParameter(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)}", param_hint="--suite")


def parse_size(size: str) -> tuple[int, int]:
    """``HEIGHTxWIDTH`` (e.g. ``240x320``) as ``(height, width)``."""
    try:
        h, w = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise typer.BadParameter(f"size must look like HEIGHTxWIDTH (e.g. 240x320), got {size!r}") from None
    return h, w


def resolve_tasks(suite: str, tasks: list[str], split_version: int = 0, split_name: str = "") -> list[str]:
    """Task names from arguments: names, or 'seen'/'unseen' (of split file ``split_version`` of the
    split line ``split_name``) or 'all'."""
    check_suite(suite)
    out: list[str] = []
    for item in tasks:
        if item == "all":
            out += task_names(suite)
        elif item in ("seen", "unseen"):
            out += list(splits.load_split(suite, split_version, name=split_name).tasks(item))
        else:
            try:
                get_task_class(suite, item)
            except UnknownTaskError as exc:
                raise typer.BadParameter(str(exc), param_hint="TASK") from None
            out.append(item)
    return list(dict.fromkeys(out))


def policy_kwargs(items: list[str]) -> dict[str, object]:
    """``key=value`` pairs; values parsed as JSON where they parse (numbers, booleans), else text."""
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected key=value, got {item!r}", param_hint="--policy-arg")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def make_parent(path: Path | None) -> None:
    """Create an output file's folder before the work, so a table is never lost at the end."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
