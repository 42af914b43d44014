"""Leaderboard tables (sorted, with intervals, privileged marked, submitter text escaped) and the
``leaderboard`` command group, driven through Typer's test runner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_leaderboard_submit import TASKS, finished_runs, make_board, small_protocol, write_card
from typer.testing import CliRunner

from vlapro_bench.cli.leaderboard import leaderboard_app
from vlapro_bench.leaderboard import validate
from vlapro_bench.leaderboard.render import RenderError, escape, render_entries, render_folder, write_rendered
from vlapro_bench.leaderboard.results import average_result, task_result
from vlapro_bench.leaderboard.submit import submit
from vlapro_bench.leaderboard.validate import validate_entry


@pytest.fixture
def runs(tmp_path_factory) -> dict[str, Path]:
    return finished_runs(tmp_path_factory.getbasetemp())


@pytest.fixture
def board(tmp_path, runs) -> Path:
    return make_board(tmp_path, runs)


def entries(board: Path):
    return [validate_entry(p, protocol=small_protocol(), tasks=TASKS).entry for p in sorted(board.glob("*.json"))]


def with_rates(entry, name: str, successes: int):
    """A copy of ``entry`` under another name whose every task has ``successes`` of 2."""
    tasks = {t: task_result(successes, 2) for t in entry.tasks}
    average = average_result([(successes, 2)] * len(tasks))
    card = entry.policy.model_copy(update={"name": name, "privileged": False})
    return entry.model_copy(update={"id": name.lower(), "policy": card, "tasks": tasks, "average": average})


def rows(markdown: str) -> list[list[str]]:
    """The summary table's rows as cells (a Markdown table splits cells on unescaped pipes)."""
    table = markdown.split("### Per task", maxsplit=1)[0]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))] for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| Rank")]


def test_table_is_sorted_by_average_with_privileged_entries_unranked(board):
    expert, random = sorted(entries(board), key=lambda e: e.policy.privileged, reverse=True)
    better = with_rates(random, "Better", 1)
    best = with_rates(random, "Best", 2)
    text = render_entries("robotwin-unseen", [random, better, expert, best])
    table = rows(text)
    # Best ties the expert at 100% (same interval) and wins on the name; the expert takes no rank
    assert [(r[0], r[1]) for r in table] == [("1", "Best"), ("–", "Scripted expert †"), ("2", "Better"),
                                             ("3", "Random")]
    assert table[2][4] == f"**50.0 [{100 * better.average.low:.1f}, {100 * better.average.high:.1f}]**"
    assert "| `click_alarmclock` | 2/2 (100.0 [34.2, 100.0])" in text  # per-task Wilson intervals
    assert "Protocol `robotwin-v0-test`" in text


def test_ties_are_listed_by_name_and_share_their_rank(board):
    random = next(e for e in entries(board) if not e.policy.privileged)
    a, b = with_rates(random, "b-entry", 1), with_rates(random, "a-entry", 1)
    top = with_rates(random, "top", 2)
    ranked = [(r[0], r[1]) for r in rows(render_entries("robotwin-unseen", [a, random, top, b]))]
    assert ranked == [("1", "top"), ("2", "a-entry"), ("2", "b-entry"), ("4", "Random")]


def test_submitter_text_cannot_inject_markdown_or_html(tmp_path, runs):
    name = "x | <img src=x onerror=alert(1)> [click](javascript:alert(1)) **bold**"
    root = tmp_path / "lb"
    submit(runs["random"], write_card(tmp_path, "random", name=name, code="https://example.org/a)(b"), root,
           entry_id="evil", protocol=small_protocol(), tasks=TASKS)
    text = render_folder(root / "robotwin-unseen", protocol=small_protocol(), tasks=TASKS)
    assert "<img" not in text and "[click](" not in text and "**bold**" not in text
    assert "&lt;img" in text and "\\[click\\](javascript" in text  # shown as text, inert
    row = rows(text)[0]
    assert len(row) == 8  # the '|' in the name did not add a column
    assert "(<https://example.org/a%29%28b>)" in text
    assert escape("a|b") == "a\\|b"


def test_render_refuses_invalid_entries_and_writes_an_empty_board(board, tmp_path):
    data = json.loads((board / "random.json").read_text())
    data["tasks"][TASKS[0]]["rate"] = 0.99
    (board / "random.json").write_text(json.dumps(data))
    with pytest.raises(RenderError, match="numbers"):
        render_folder(board, protocol=small_protocol(), tasks=TASKS)
    empty = tmp_path / "rlbench-unseen"
    empty.mkdir()
    assert write_rendered(empty)
    assert "No entries yet." in (empty / "README.md").read_text()
    assert not write_rendered(empty, check=True)
    outside = tmp_path / "outside.md"
    outside.write_text("keep")
    (empty / "README.md").unlink()
    (empty / "README.md").symlink_to(outside)
    with pytest.raises(RenderError, match="symlink"):
        write_rendered(empty)
    assert outside.read_text() == "keep"


# -- the command group --------------------------------------------------------------------------------------------
@pytest.fixture
def cli(monkeypatch, tmp_path):
    """The runner, the test protocol as a file, and the split narrowed to the tasks the runs played."""
    monkeypatch.setattr(validate, "split_tasks", lambda suite, split, version, line="": TASKS)
    protocol_file = tmp_path / "protocol.json"
    protocol_file.write_text(small_protocol().model_dump_json())
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(leaderboard_app, [str(a) for a in args])

    return invoke, protocol_file


def test_cli_submit_validate_render_verify(cli, runs, tmp_path):
    invoke, protocol = cli
    root = tmp_path / "leaderboards"
    for policy in ("expert", "random"):
        result = invoke("submit", runs[policy], "--card", write_card(tmp_path, policy), "--leaderboards", root,
                        "--protocol", protocol)
        assert result.exit_code == 0, result.output
        assert "wrote" in result.output
    board = root / "robotwin-unseen"
    assert sorted(p.name for p in board.iterdir()) == ["random.episodes.jsonl", "random.json",
                                                       "scripted-expert.episodes.jsonl", "scripted-expert.json"]

    result = invoke("validate", "--leaderboards", root, "--protocol", protocol, "--require-records")
    assert result.exit_code == 0, result.output
    assert "2 valid, 0 invalid" in result.output

    result = invoke("render", "--leaderboards", root, "--protocol", protocol)
    assert result.exit_code == 0, result.output
    table = (board / "README.md").read_text()
    assert table.index("Scripted expert †") < table.index("| 1 | Random")
    produced = table[table.index("### How each entry was produced"):]
    assert "**Random** (`random`): policy `random` (registry); mujoco backend" in produced
    assert re.search(r"vlapro-bench [0-9][^ ]*, commit `[0-9a-f]{12}`", produced)
    assert "Uniform joint targets." in produced
    assert invoke("render", "--leaderboards", root, "--protocol", protocol, "--check").exit_code == 0
    assert invoke("validate", board, "--protocol", protocol).exit_code == 0  # the table belongs in the folder

    result = invoke("verify", board / "random.json", "--episodes", 2, "--protocol", protocol)
    assert result.exit_code == 0, result.output
    assert "2/2 checks reproduce the record" in result.output


def test_cli_reports_problems_with_exit_code_1(cli, board):
    invoke, protocol = cli
    data = json.loads((board / "random.json").read_text())
    data["policy"]["code"] = "../../../etc/passwd"
    data["extra"] = 1
    (board / "random.json").write_text(json.dumps(data))
    result = invoke("validate", board / "random.json", "--protocol", protocol)
    assert result.exit_code == 1
    assert "[schema] random.json: extra: unknown field" in result.output
    result = invoke("validate", board / "scripted-expert.json")  # packaged protocols only, by default
    assert result.exit_code == 1 and "unknown protocol 'robotwin-v0-test'" in result.output
    result = invoke("render", board, "--protocol", protocol)
    assert result.exit_code == 1 and "refusing to render" in result.output
    assert invoke("render", board, "--protocol", protocol, "--check").exit_code == 1
    result = invoke("verify", board / "random.json", "--protocol", protocol)
    assert result.exit_code == 1 and "fix the entry" in result.output


def test_cli_usage_errors(cli, board, runs, tmp_path):
    invoke, protocol = cli
    assert invoke("validate", board / "random.json", "--protocol", tmp_path / "nope.json").exit_code == 2
    assert invoke("submit", runs["random"], "--card", "c.json", "--split", "train").exit_code == 2
    assert invoke("verify", board / "random.json", "--episodes", 0).exit_code == 2
    assert invoke("validate", board, "--records", board / "random.episodes.jsonl").exit_code == 2
    result = invoke("submit", tmp_path, "--card", write_card(tmp_path, "random"), "--leaderboards", tmp_path / "lb",
                    "--protocol", protocol)
    assert result.exit_code == 1 and "not an evaluation results folder" in result.output
