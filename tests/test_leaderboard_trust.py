"""Leaderboard trust (issue 17): the ways a hostile submitter got a false entry accepted, each refused now.

Every case starts from the valid entries ``submit`` built from real runs (the shared setup of
``test_leaderboard_submit``), makes the one change the attack needs, and checks that validate or
verify refuses it, or that the verification sample finds it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_leaderboard_submit import TASKS, finished_runs, make_board, small_protocol

from vlapro_bench.evaluation.records import EpisodeRecord
from vlapro_bench.leaderboard.records import records_sha256
from vlapro_bench.leaderboard.safe_io import UnsafeFileError, parse_json_text
from vlapro_bench.leaderboard.validate import validate_entry

RANDOM = "random.json"
EXPERT = "scripted-expert.json"


@pytest.fixture
def board(tmp_path, tmp_path_factory) -> Path:
    return make_board(tmp_path, finished_runs(tmp_path_factory.getbasetemp()))


def check(path: Path, **kw):
    return validate_entry(path, protocol=kw.pop("protocol", small_protocol()), tasks=kw.pop("tasks", TASKS), **kw)


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def save(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False))


# -- numbers that overflow to infinity -------------------------------------------------------------------------------
@pytest.mark.parametrize("number", [b"1e999", b"-1e999", b"1.5E+400"])
def test_a_number_that_overflows_a_float_is_not_json(number):
    with pytest.raises(UnsafeFileError, match="too large"):
        parse_json_text(b'{"wall_time_s": ' + number + b"}", "records")


def test_an_infinite_records_value_with_a_matching_hash_is_refused(board):
    """Python's parser reads ``1e999`` as infinity; the canonical form writes it as null, so the
    submitter can publish a hash that matches. The records file is refused before any hash."""
    records_path = board / "random.episodes.jsonl"
    lines = records_path.read_bytes().splitlines()
    first = json.loads(lines[0])
    first["wall_time_s"] = "INF"
    lines[0] = json.dumps(first, sort_keys=True, separators=(",", ":")).replace('"INF"', "1e999").encode()
    records_path.write_bytes(b"\n".join(lines) + b"\n")
    tolerant = [EpisodeRecord.model_validate(json.loads(line), strict=True) for line in lines]  # the old reading
    data = load(board / RANDOM)
    data["records"]["sha256"] = records_sha256(tolerant)
    save(board / RANDOM, data)
    report = check(board / RANDOM, require_records=True)
    assert report.codes == {"records_content"}, report.text()
    assert "too large" in report.text()
