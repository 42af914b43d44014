"""``leaderboard verify`` on an entry whose evaluation settings cannot be rebuilt here (a camera of
the other suite, a size over the environment's limit, the other suite's control mode): validation
refuses them before anything is built, and verify says which setting, with no traceback."""

from __future__ import annotations

import json

import pytest
from test_leaderboard_submit import TASKS, finished_runs, make_board, small_protocol
from typer.testing import CliRunner

from vlapro_bench.cli import app
from vlapro_bench.cli.boundary import DEBUG_VARIABLE
from vlapro_bench.leaderboard import validate


@pytest.fixture
def entry(tmp_path, tmp_path_factory, monkeypatch):
    monkeypatch.setattr(validate, "split_tasks", lambda suite, split, version, line="": TASKS)
    board = make_board(tmp_path, finished_runs(tmp_path_factory.getbasetemp()))
    return board / "random.json"


@pytest.mark.parametrize(("settings", "message"), [
    ({"cameras": ["wrist"]}, "['wrist'] are not cameras of the robotwin suite"),
    ({"camera_size": [3000, 3000]}, "larger than the environment renders (2048 pixels a side)"),
    ({"control_mode": "ee_pose"}, "'ee_pose' is not a control mode of the robotwin suite"),
])
def test_settings_verify_cannot_rebuild_are_refused_without_a_traceback(entry, tmp_path, settings, message):
    data = json.loads(entry.read_text())
    data["evaluation"].update(settings)
    entry.write_text(json.dumps(data))
    protocol = tmp_path / "protocol.json"
    protocol.write_text(small_protocol().model_dump_json())
    report = validate.validate_entry(entry, protocol=small_protocol(), tasks=TASKS)
    assert not report.ok and any(message in str(problem) for problem in report.problems)
    result = CliRunner().invoke(app, ["leaderboard", "verify", str(entry), "--episodes", "1", "--protocol",
                                      str(protocol)], env={DEBUG_VARIABLE: ""})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: fix the entry before verifying it")
    assert message in result.stderr and "Traceback" not in result.output
