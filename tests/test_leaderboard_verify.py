"""Leaderboard verify: re-running recorded episodes reproduces an honest entry and exposes a forged one.

A forged entry here is one whose numbers and records hash are all consistent (it passes
validation), but whose records do not say what the policy really does: only a re-run shows it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from test_leaderboard_submit import TASKS, finished_runs, make_board, small_protocol, write_card

from vlapro_bench.evaluation import policy_spec
from vlapro_bench.evaluation.runner import EvalSettings, evaluate
from vlapro_bench.leaderboard.records import canonical_bytes, parse_records, records_sha256
from vlapro_bench.leaderboard.results import average_result, counts_by_task, task_result
from vlapro_bench.leaderboard.sampling import select_episodes
from vlapro_bench.leaderboard.submit import submit
from vlapro_bench.leaderboard.validate import validate_entry
from vlapro_bench.leaderboard.verify import VerifyError, verify_entry
from vlapro_bench.policy import make_policy

EPISODES_TOTAL = 2 * len(TASKS)


@pytest.fixture
def board(tmp_path, tmp_path_factory) -> Path:
    return make_board(tmp_path, finished_runs(tmp_path_factory.getbasetemp()))


def verify(path: Path, episodes: int = EPISODES_TOTAL, **kw):
    return verify_entry(path, episodes, protocol=small_protocol(), tasks=TASKS, **kw)


def forge(board: Path, name: str, edit_records, edit_entry=None) -> Path:
    """Edit an entry's records, then make the entry agree with them (numbers, hash): it stays valid."""
    entry_path = board / f"{name}.json"
    records_path = board / f"{name}.episodes.jsonl"
    records = edit_records(parse_records(records_path.read_bytes(), "records"))
    records_path.write_bytes(canonical_bytes(records))
    data = json.loads(entry_path.read_text())
    if edit_entry is not None:
        edit_entry(data)
    counts = counts_by_task(records)
    for task, (k, n) in counts.items():
        data["tasks"][task] = task_result(k, n, data["tasks"][task]["excluded_seeds"]).model_dump(mode="json")
    data["average"] = average_result(list(counts.values())).model_dump(mode="json")
    data["records"]["sha256"] = records_sha256(records)
    entry_path.write_text(json.dumps(data))
    report = validate_entry(entry_path, protocol=small_protocol(), tasks=TASKS, require_records=True)
    assert report.ok, report.text()
    return entry_path


@pytest.mark.parametrize("name", ["scripted-expert", "random"])
def test_verify_reproduces_every_recorded_episode(board, name):
    result = verify(board / f"{name}.json")
    assert result.ok, result.text()
    assert len(result.episodes) == EPISODES_TOTAL
    assert {(c.task, c.seed) for c in result.episodes} == {(r.task, r.seed) for r in
                                                           parse_records((board / f"{name}.episodes.jsonl")
                                                                         .read_bytes(), "r")}
    assert all(c.replayed["steps"] == c.recorded["steps"] for c in result.episodes)


def test_verify_reports_a_forged_success(board):
    def flip(records):
        first = records[0]
        return [first.model_copy(update={"success": not first.success}), *records[1:]]

    path = forge(board, "random", flip)
    result = verify(path)
    assert not result.ok
    [bad] = result.mismatches
    assert (bad.task, bad.seed) == (TASKS[0], 100000)
    assert bad.recorded["success"] != bad.replayed["success"]
    assert "MISMATCH" in result.text()


def test_verify_reports_forged_step_counts_on_a_sample(board):
    def shorten(records):
        return [r.model_copy(update={"steps": r.steps - 1}) for r in records]

    result = verify(forge(board, "scripted-expert", shorten), episodes=2)
    assert len(result.episodes) == 2  # drawn uniformly from the claimed successes (no longer one per task)
    assert len(result.mismatches) == 2


def test_verify_rechecks_the_seeds_an_entry_excluded(board):
    """Claiming the expert failed seed 100000 (and playing 100002 instead) is caught twice: the
    expert solves 100000, and the relabelled episode does not replay as recorded."""
    def relabel(records):
        return [r.model_copy(update={"seed": 100002}) if (r.task, r.seed) == (TASKS[0], 100000) else r
                for r in records]

    def exclude(data):
        data["tasks"][TASKS[0]]["excluded_seeds"] = [100000]

    result = verify(forge(board, "random", relabel, exclude))
    [excluded] = result.excluded
    assert (excluded.task, excluded.seed, excluded.expert_solves) == (TASKS[0], 100000, True)
    assert {(c.task, c.seed) for c in result.mismatches if hasattr(c, "replayed")} == {(TASKS[0], 100002)}


def test_verify_never_loads_code_or_folders_an_entry_names(board):
    path = board / "random.json"
    data = json.loads(path.read_text())
    data["load"] = {"kind": "module", "name": "vlapro_bench.policies.random_policy:make_policy", "kwargs": {}}
    path.write_text(json.dumps(data))
    with pytest.raises(VerifyError, match="--policy"):
        verify(path)
    assert verify(path, episodes=1, policy="random").ok  # the verifier chooses to run it

    data["load"] = {"kind": "folder", "name": "checkpoint", "kwargs": {}, "fingerprint": "0" * 64}
    path.write_text(json.dumps(data))
    with pytest.raises(VerifyError, match="FOLDER"):
        verify(path)
    with pytest.raises(VerifyError, match="not the same policy"):
        verify(path, policy="random")


def test_verify_refuses_an_invalid_entry(board):
    (board / "random.episodes.jsonl").unlink()
    with pytest.raises(VerifyError, match="records_missing"):
        verify(board / "random.json")


def test_select_episodes_is_seeded(board):
    """The sample's seed is drawn fresh by verify (test_leaderboard_trust covers that); given the
    seed, the sample is reproducible."""
    records = parse_records((board / "random.episodes.jsonl").read_bytes(), "r")
    assert select_episodes(records, 3, seed=5) == select_episodes(records, 3, seed=5)
    assert len(select_episodes(records, 99, seed=0)) == len(records)
    with pytest.raises(ValueError):
        select_episodes(records, 0, seed=0)


def _weights_folder(path: Path, content: bytes) -> Path:
    path.mkdir()
    (path / "weights.bin").write_bytes(content)
    return path


@pytest.fixture
def weights_kind(monkeypatch):
    """A policy-folder kind like a checkpoint: recognised by its weights file, fingerprinted by their
    sha256, acting as the (seeded) random policy, so the folder path of verify runs without torch."""
    kind = policy_spec.FolderKind(
        "weights",
        detect=lambda path: (path / "weights.bin").is_file(),
        check=lambda path, env: {"fingerprint": hashlib.sha256((path / "weights.bin").read_bytes()).hexdigest()},
        build=lambda path, env, kwargs: make_policy("random", env, **kwargs))
    monkeypatch.setattr(policy_spec, "FOLDER_KINDS", [kind, *policy_spec.FOLDER_KINDS])


def test_verify_a_folder_policy_by_its_fingerprint(weights_kind, tmp_path, tmp_path_factory):
    folder = _weights_folder(tmp_path / "model", b"trained weights")
    settings = EvalSettings(policy=str(folder), tasks=TASKS, protocol=small_protocol(), obs_mode="state")
    cache = tmp_path_factory.getbasetemp() / "leaderboard-runs" / "cache"
    evaluate(settings, tmp_path / "run", cache_dir=cache, progress=False)
    done = submit(tmp_path / "run", write_card(tmp_path, "random", name="Folder policy"), tmp_path / "lb",
                  protocol=small_protocol(), tasks=TASKS)
    load = done.entry.load
    assert (load.kind, load.name) == ("folder", "weights")
    assert load.fingerprint == hashlib.sha256(b"trained weights").hexdigest()
    assert str(folder) not in done.entry_path.read_text()  # the local path is not published

    with pytest.raises(VerifyError, match="--policy FOLDER"):
        verify(done.entry_path)
    assert verify(done.entry_path, episodes=2, policy=str(folder)).ok
    other = _weights_folder(tmp_path / "other", b"other weights")
    with pytest.raises(VerifyError, match="not the same policy"):
        verify(done.entry_path, policy=str(other))
