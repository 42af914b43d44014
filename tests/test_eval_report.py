"""Reports over two runs: tables (Markdown, CSV, LaTeX), figures, and refusal to mix protocols."""

import dataclasses
import json

import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from vlapro_bench.cli import app
from vlapro_bench.evaluation import report as report_module
from vlapro_bench.evaluation.export import write_report
from vlapro_bench.evaluation.manifest import ProtocolMismatchError
from vlapro_bench.evaluation.protocol import load_protocol
from vlapro_bench.evaluation.records import RECORDS_FILE
from vlapro_bench.evaluation.report import build_report
from vlapro_bench.evaluation.runner import EvalSettings, evaluate
from vlapro_bench.splits import load_split

TASKS = ("click_alarmclock", "turn_switch")
PROTOCOL = load_protocol("robotwin-v0")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for policy in ("expert", "random"):
        evaluate(EvalSettings(policy=policy, tasks=TASKS, protocol=PROTOCOL, obs_mode="state", episodes=4),
                 root / policy, cache_dir=root / "cache", progress=False)
    return root


def successes(folder) -> dict[str, int]:
    out = dict.fromkeys(TASKS, 0)
    for line in (folder / RECORDS_FILE).read_text().splitlines():
        record = json.loads(line)
        out[record["task"]] += record["success"]
    return out


def test_report_writes_tables_and_figures(runs, tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", str(runs / "expert"), "--baseline", str(runs / "random"),
                                                    "--out", str(out), "--resamples", "1000"])
    assert result.exit_code == 0, result.output
    for name in ("report.md", "report.tex", "success_rates.csv", "comparisons.csv", "success_per_task.png",
                 "relative_improvement.png"):
        assert (out / name).is_file(), name

    rates = pd.read_csv(out / "success_rates.csv")
    random_wins, expert_wins = successes(runs / "random"), successes(runs / "expert")
    for run, wins in (("random", random_wins), ("expert", expert_wins)):
        rows = rates[rates["run"] == run].set_index("task")
        for task in TASKS:
            assert rows.loc[task, "successes"] == wins[task] and rows.loc[task, "episodes"] == 4
            assert rows.loc[task, "low"] <= rows.loc[task, "rate"] <= rows.loc[task, "high"]
        assert rows.loc["average", "rate"] == pytest.approx(sum(wins.values()) / 8)
    assert rates.set_index("run").loc["expert", "privileged"].all()

    markdown = (out / "report.md").read_text()
    assert "expert†" in markdown and "privileged" in markdown and "random SR" in markdown
    assert markdown.index("random SR") < markdown.index("expert† SR")  # the baseline comes first
    assert "partial: 4 of 100" in markdown and "McNemar" in markdown
    comparisons = pd.read_csv(out / "comparisons.csv").set_index("task")
    for task in TASKS:
        base = random_wins[task] / 4
        gain_cell = markdown.split(f"| {task} |")[1].split("\n")[0]
        if base == 0:
            assert "n/a (base 0%)" in gain_cell
        else:
            assert comparisons.loc[task, "relative"] == pytest.approx((expert_wins[task] / 4 - base) / base)
    latex = (out / "report.tex").read_text()
    assert r"\begin{tabular}" in latex and r"click\_alarmclock" in latex and r"$^\dagger$" in latex
    assert "expert" in result.output and "average" in result.output  # terminal summary
    for name in ("success_per_task.png", "relative_improvement.png"):
        with Image.open(out / name) as image:
            assert image.size[0] > 500 and image.size[1] > 300


def test_report_refuses_runs_of_different_protocols(runs, tmp_path):
    other = PROTOCOL.with_overrides(name="robotwin-v0-seen", instruction_pool="seen")
    evaluate(EvalSettings(policy="random", tasks=TASKS[:1], protocol=other, obs_mode="state", episodes=1,
                          label="random-seen"), tmp_path / "seen", cache_dir=runs / "cache", progress=False)
    with pytest.raises(ProtocolMismatchError, match="different protocols"):
        build_report([runs / "expert", tmp_path / "seen"])
    result = CliRunner().invoke(app, ["report", str(tmp_path / "seen"), "--baseline",
                                                    str(runs / "random"), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "different protocols" in " ".join(result.output.replace("│", " ").split())


def test_report_on_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="not an evaluation results folder"):
        build_report([tmp_path])


def test_single_run_report_has_no_comparison(runs, tmp_path):
    written = write_report(build_report([runs / "random"], resamples=500), tmp_path / "one")
    names = {p.name for p in written}
    assert "comparisons.csv" not in names and "relative_improvement.png" not in names
    assert "success_per_task.png" in names


def test_split_groups_get_their_own_averages_and_gains(runs, monkeypatch):
    """AGNOSTOS reports level-1 and level-2 apart: a split's groups become rows of their own, each
    the mean of its tasks with an interval, and a paired gain per group against the baseline."""
    split = dataclasses.replace(load_split("robotwin", 0), groups={"level-1": ("click_alarmclock",),
                                                                    "level-2": ("turn_switch",)})
    monkeypatch.setattr(report_module, "load_split", lambda *args, **kwargs: split)
    report = build_report([runs / "expert"], baseline=runs / "random", resamples=200)
    assert report.summary_rows == ["average (level-1)", "average (level-2)", "average"]
    expert = report.rates[str(runs / "expert")].set_index("task")
    wins = successes(runs / "expert")
    assert expert.loc["average (level-1)", "rate"] == pytest.approx(wins["click_alarmclock"] / 4)
    assert expert.loc["average (level-2)", "episodes"] == 4
    assert expert.loc["average (level-1)", "low"] <= expert.loc["average (level-1)", "rate"]
    table = report.table().set_index("Task")
    assert list(table.index[-3:]) == report.summary_rows
    comparison = report.comparisons[0]
    assert set(comparison.per_group) == {"level-1", "level-2"}
    assert comparison.per_group["level-1"].pairs == 4
    assert comparison.result("average (level-2)") is comparison.per_group["level-2"]
    assert any(note.startswith("average (level-1): the mean over the 1 level-1 tasks") for note in report.notes())
    long = report.long_comparisons().set_index("task")
    assert "average (level-2)" in long.index


def test_a_report_without_split_groups_has_only_the_overall_average(runs):
    report = build_report([runs / "expert"], resamples=200)
    assert report.groups == {} and report.summary_rows == ["average"]
