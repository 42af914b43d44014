"""The command line through Typer's runner: tasks, render, expert, baselines and rollout do what they say."""

import pandas as pd
from PIL import Image
from typer.testing import CliRunner

from vlapro_bench.cli import app
from vlapro_bench.cli.options import resolve_tasks
from vlapro_bench.evaluation.protocol import load_protocol
from vlapro_bench.splits import load_split

runner = CliRunner()


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("list", "render", "expert", "baselines", "rollout", "collect", "train", "eval", "report",
                    "reproduce", "memory", "leaderboard"):
        assert command in result.output


def test_list():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    assert "VLAPro-RoboTwin/click_bell-v0" in result.output
    assert "VLAPro-RoboTwin-Unseen-v0" in result.output
    apple = next(line for line in result.output.splitlines() if line.strip().startswith("place_apple_stand"))
    assert "VLA-Pro paper (not RoboTwin 2.0)" in apple  # the paper's own task, not RoboTwin's
    assert apple.split()[-1] == "52/10"  # instruction set 1's seen/unseen templates
    set0 = runner.invoke(app, ["list", "--instruction-set", "0"])
    apple0 = next(line for line in set0.output.splitlines() if line.strip().startswith("place_apple_stand"))
    assert apple0.split()[-1] == "6/2"  # the original pools


def test_render_writes_montage(tmp_path):
    out = tmp_path / "bell.png"
    result = runner.invoke(app, ["render", "click_bell", "--seed", "2", "--out", str(out), "--size", "60x80"])
    assert result.exit_code == 0, result.output
    image = Image.open(out)
    assert image.size == (160, 120 + 22)  # 2x2 grid of 60x80 cameras plus a title bar


def test_render_unknown_task():
    result = runner.invoke(app, ["render", "click_bel"])
    assert result.exit_code == 2
    text = " ".join(result.output.replace("│", " ").split())  # undo rich's box and wrapping
    assert "Did you mean click_bell?" in text and "stack_blocks_two" in text


def test_expert_table():
    result = runner.invoke(app, ["expert", "click_bell", "--episodes", "2"])
    assert result.exit_code == 0, result.output
    assert "click_bell" in result.output and "100.0%" in result.output


def test_baselines_csv(tmp_path):
    csv = tmp_path / "t.csv"
    result = runner.invoke(app, ["baselines", "--split", "seen", "--episodes", "1", "--csv", str(csv)])
    assert result.exit_code == 0, result.output
    text = csv.read_text()
    assert "expert" in text and "random" in text


def test_baselines_on_named_tasks_of_a_split_version(tmp_path):
    csv = tmp_path / "t.csv"
    result = runner.invoke(app, ["baselines", "--split-version", "1", "--task", "stamp_seal", "--episodes", "1",
                                 "--seed-start", "0", "--csv", str(csv)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(csv)
    assert set(table["task"]) == {"stamp_seal"}  # only the named task, not the split's
    bad = runner.invoke(app, ["baselines", "--split-version", "9", "--episodes", "1"])
    assert bad.exit_code == 2 and "versions available" in bad.output


def test_rollout_any_policy(tmp_path):
    csv = tmp_path / "r.csv"
    result = runner.invoke(app, ["rollout", "click_bell", "--policy", "expert", "--episodes", "2",
                                 "--obs-mode", "state", "--csv", str(csv)])
    assert result.exit_code == 0, result.output
    assert "privileged" in result.output and "100.0%" in result.output
    rows = pd.read_csv(csv)
    assert list(rows["seed"]) == [100000, 100001] and rows["success"].all()
    assert {"task", "steps", "instruction", "episode_seed"} <= set(rows.columns)


def test_rollout_bad_policy_arguments():
    result = runner.invoke(app, ["rollout", "click_bell", "--policy", "rando", "--obs-mode", "state"])
    assert result.exit_code == 2 and "random" in result.output
    result = runner.invoke(app, ["rollout", "click_bell", "--policy-arg", "oops", "--obs-mode", "state"])
    assert result.exit_code == 2 and "key=value" in result.output


def test_a_task_of_the_other_suite_says_which_suite_to_pass():
    result = runner.invoke(app, ["expert", "close_drawer", "--episodes", "1"])
    assert result.exit_code == 2
    assert "rlbench suite: pass --suite rlbench" in " ".join(result.output.split())


def test_every_suite_option_names_both_suites():
    for command in (["eval"], ["rollout"], ["collect"], ["list"], ["render"], ["expert"], ["baselines"]):
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
        assert "Task suite: robotwin or rlbench." in result.output, command


def test_split_versions_come_from_the_option_or_the_protocol(tmp_path, monkeypatch):
    result = runner.invoke(app, ["list", "--suite", "rlbench", "--split-version", "7"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "version 7" in result.output and "versions available: 0" in result.output
    protocol = load_protocol("rlbench-v0").with_overrides(name="rlbench-v1", version=1, split_version=7)
    path = protocol.save(tmp_path / "rlbench-v1.json")
    for suite in (["--suite", "rlbench"], []):  # without --suite, the protocol's suite
        result = runner.invoke(app, ["eval", "unseen", *suite, "--protocol", str(path),
                                     "--out", str(tmp_path / "out")], env={"COLUMNS": "200"})
        assert result.exit_code == 2, result.output
        assert "protocol rlbench-v1 names split version 7" in " ".join(result.output.split())
    # and a split file of that version decides what "unseen" means
    seen_versions = []

    def versioned(suite, version=0, **kwargs):
        seen_versions.append(version)
        return load_split(suite, 0, **kwargs)

    monkeypatch.setattr("vlapro_bench.splits.load_split", versioned)
    assert resolve_tasks("rlbench", ["unseen"], 7) == list(load_split("rlbench").unseen)
    assert seen_versions == [7]
