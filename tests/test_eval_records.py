"""Per-episode JSONL records: durable appends, crash repair, and refusal of untrustworthy files."""

import json

import pytest

from vlapro_bench.evaluation.manifest import (
    RunLockedError,
    folder_lock,
    provenance,
    read_manifest,
    write_manifest,
)
from vlapro_bench.evaluation.records import RECORDS_FILE, EpisodeRecord, RecordLog, RecordsError

HASH = "a" * 64


def record(task="click_bell", seed=100000, success=True, protocol_hash=HASH, **kw) -> EpisodeRecord:
    return EpisodeRecord(task=task, seed=seed, success=success, steps=12, instruction="Ring the bell.",
                         episode_seed=7, policy_seed=9, wall_time_s=0.5, protocol_hash=protocol_hash, **kw)


def test_append_then_reload(tmp_path):
    with RecordLog(tmp_path, HASH) as log:
        assert log.load() == {}
        log.append(record(seed=100000))
        log.append(record(seed=100001, success=False, extras={"retrieved": ["click_bell"]}))
    loaded = RecordLog(tmp_path, HASH).load()
    assert sorted(loaded) == [("click_bell", 100000), ("click_bell", 100001)]
    assert loaded[("click_bell", 100001)].extras == {"retrieved": ["click_bell"]}
    assert (tmp_path / RECORDS_FILE).read_bytes().count(b"\n") == 2


def test_truncated_last_line_is_cut_off_and_appending_continues(tmp_path):
    with RecordLog(tmp_path, HASH) as log:
        log.load()
        log.append(record(seed=100000))
    path = tmp_path / RECORDS_FILE
    whole = path.read_bytes()
    path.write_bytes(whole + record(seed=100001).to_line()[:25])  # a crash in the middle of a write
    log = RecordLog(tmp_path, HASH)
    assert list(log.load()) == [("click_bell", 100000)]
    assert path.read_bytes() == whole  # repaired in place
    log.append(record(seed=100001))
    log.close()
    assert len(RecordLog(tmp_path, HASH).load()) == 2


def test_a_whole_last_record_without_its_newline_is_kept(tmp_path):
    path = tmp_path / RECORDS_FILE
    path.write_bytes(record(seed=100000).to_line() + record(seed=100001).to_line().rstrip(b"\n"))
    assert len(RecordLog(tmp_path, HASH).load()) == 2
    assert path.read_bytes().endswith(b"\n")


def test_read_only_loading_never_modifies_the_file(tmp_path):
    path = tmp_path / RECORDS_FILE
    data = record().to_line() + b'{"task": "cl'
    path.write_bytes(data)
    assert len(RecordLog(tmp_path, HASH).load(repair=False)) == 1
    assert path.read_bytes() == data


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([b"garbage", record(seed=100001).to_line()], "line 1: not a valid episode record"),
        ([record().to_line(), record().to_line()], "recorded twice"),
        ([record(protocol_hash="b" * 64).to_line()], "another|recorded under protocol"),
    ],
)
def test_untrustworthy_files_are_refused(tmp_path, lines, message):
    (tmp_path / RECORDS_FILE).write_bytes(b"".join(line if line.endswith(b"\n") else line + b"\n"
                                                   for line in lines))
    with pytest.raises(RecordsError, match=message):
        RecordLog(tmp_path, HASH).load()


def test_append_refuses_duplicates_and_foreign_protocols(tmp_path):
    log = RecordLog(tmp_path, HASH)
    log.load()
    log.append(record())
    with pytest.raises(RecordsError, match="already recorded"):
        log.append(record())
    with pytest.raises(RecordsError, match="protocol"):
        log.append(record(seed=5, protocol_hash="c" * 64))
    log.close()


def test_manifest_round_trip_and_provenance(tmp_path):
    info = provenance()
    assert "numpy" in info["packages"] and "vlapro-bench" in info["packages"]
    write_manifest(tmp_path, {"provenance": info, "x": 1})
    assert read_manifest(tmp_path) == json.loads(json.dumps({"provenance": info, "x": 1}))
    assert not list(tmp_path.glob("*.tmp"))


def test_folder_lock_is_exclusive(tmp_path):
    with folder_lock(tmp_path):
        with pytest.raises(RunLockedError, match="Another evaluation"):
            with folder_lock(tmp_path):
                pass
    with folder_lock(tmp_path):  # released
        pass
