"""The README's task tables cover every registered task, each with its picture and measured counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vlapro_bench.registry import task_names

ROOT = Path(__file__).resolve().parents[1]


def _block(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index(f"<!-- {marker}:start -->"):text.index(f"<!-- {marker}:end -->")]


@pytest.mark.parametrize(("suite", "marker"), [("robotwin", "tasks"), ("rlbench", "rlbench-tasks")])
def test_the_gallery_shows_every_registered_task_with_its_picture(suite: str, marker: str):
    block = _block(marker)
    rows = re.findall(r"^\| `([\w-]+)` \|.*!\[[\w-]+\]\(([^)]+)\) \|$", block, flags=re.M)
    assert sorted(name for name, _ in rows) == sorted(task_names(suite))
    for name, picture in rows:
        assert (ROOT / picture).is_file(), f"{name}: no picture at {picture}"


@pytest.mark.parametrize(("suite", "marker"), [("robotwin", "baselines"), ("rlbench", "rlbench-baselines")])
def test_the_baseline_table_has_measured_counts_for_every_task(suite: str, marker: str):
    block = _block(marker)
    rows = dict(re.findall(r"^\| `([\w-]+)` \| [^|]+ \| (\d+/\d+ \| \d+/\d+|not measured \| not measured) \|",
                           block, flags=re.M))
    assert sorted(rows) == sorted(task_names(suite))
    unmeasured = sorted(name for name, counts in rows.items() if counts.startswith("not measured"))
    assert not unmeasured, f"measure these and add them to docs/data/{suite}_baselines.csv: {unmeasured}"
