"""``leaderboard verify`` on an entry whose evaluation settings pass validation but cannot be
rebuilt here (a camera of the other suite, a size over the environment's limit, the other suite's
control mode): one line that names the entry and the setting, no traceback."""

from __future__ import annotations

import json

import pytest
from test_leaderboard_submit import TASKS, finished_runs, make_board, small_protocol
from typer.testing import CliRunner

from vlapro_bench.cli import app
from vlapro_bench.cli_boundary import DEBUG_VARIABLE
from vlapro_bench.leaderboard import validate


@pytest.fixture
def entry(tmp_path, tmp_path_factory, monkeypatch):
    monkeypatch.setattr(validate, "split_tasks", lambda suite, split, version: TASKS)
    board = make_board(tmp_path, finished_runs(tmp_path_factory.getbasetemp()))
    return board / "random.json"


@pytest.mark.parametrize(("settings", "message"), [
    ({"cameras": ["wrist"]}, "Unknown cameras ['wrist']; choose from ['head_camera'"),
    ({"camera_size": [3000, 3000]}, "camera_size must be between 8 and 2048 pixels"),
    ({"control_mode": "ee_pose"}, "control_mode must be one of ['qpos', 'ee'], got 'ee_pose'"),
])
def test_settings_verify_cannot_rebuild_are_one_line(entry, tmp_path, settings, message):
    data = json.loads(entry.read_text())
    data["evaluation"].update(settings)
    entry.write_text(json.dumps(data))
    protocol = tmp_path / "protocol.json"
    protocol.write_text(small_protocol().model_dump_json())
    assert validate.validate_entry(entry, protocol=small_protocol(), tasks=TASKS).ok  # validate accepts them
    result = CliRunner().invoke(app, ["leaderboard", "verify", str(entry), "--episodes", "1", "--protocol",
                                      str(protocol)], env={DEBUG_VARIABLE: ""})
    assert result.exit_code == 1
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith(f"Error: {entry}: cannot rebuild its environment and policy to re-run it: ")
    assert message in line and "Traceback" not in result.output
