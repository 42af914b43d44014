import pandas as pd
from PIL import Image
from typer.testing import CliRunner

from vlapro_bench.cli import app

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
