"""Leaderboard validate: entries are untrusted input; every way to break one is refused, with a reason.

Each case starts from a valid entry that ``submit`` built from a real evaluation run, breaks one
thing, and checks the problem code the validator reports (the unbroken entry is checked valid
first, so a refusal is caused by the break and nothing else).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from test_leaderboard_submit import TASKS, finished_runs, make_board, small_protocol

from vlapro_bench.leaderboard.records import canonical_bytes, parse_records, records_sha256
from vlapro_bench.leaderboard.results import average_result, task_result
from vlapro_bench.leaderboard.safe_io import MAX_ENTRY_BYTES
from vlapro_bench.leaderboard.validate import validate_entry, validate_folder

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


def refresh_numbers(data: dict) -> None:
    """Make an edited entry's numbers self-consistent again (so only the intended break remains)."""
    for task, result in data["tasks"].items():
        data["tasks"][task] = task_result(result["successes"], result["episodes"],
                                          result["excluded_seeds"]).model_dump(mode="json")
    counts = [(r["successes"], r["episodes"]) for r in data["tasks"].values()]
    data["average"] = average_result(counts).model_dump(mode="json")
    data["records"]["episodes"] = sum(n for _, n in counts)


# -- one break per case: (id, expected problem code, edit of the entry's JSON data) ---------------------------------
def _set(dotted: str, value) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


def _delete(dotted: str) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node[key]
        del node[last]

    return edit


def _drop_task(data: dict) -> None:
    del data["tasks"]["press_stapler"]
    refresh_numbers(data)


def _unknown_task(data: dict) -> None:
    data["tasks"]["click_bell"] = dict(data["tasks"]["press_stapler"])  # a seen task in an unseen entry
    refresh_numbers(data)


def _too_few_episodes(data: dict) -> None:
    data["tasks"]["press_stapler"].update(successes=0, episodes=1)
    refresh_numbers(data)


def _rate(data: dict) -> None:
    data["tasks"]["click_alarmclock"]["rate"] = 0.75


def _wilson(data: dict) -> None:
    data["tasks"]["click_alarmclock"]["low"] = 0.0


def _average_rate(data: dict) -> None:
    data["average"]["rate"] = min(1.0, data["average"]["rate"] + 0.1)


def _average_interval(data: dict) -> None:
    data["average"]["high"] = 1.0
    data["average"]["low"] = 0.0


def _average_method(data: dict) -> None:  # the other method's name on the same numbers
    data["average"]["method"] = "pooled_wilson" if data["average"]["method"] == "stratified_bootstrap" else \
        "stratified_bootstrap"


def _more_successes_than_episodes(data: dict) -> None:
    data["tasks"]["click_alarmclock"]["successes"] = 3


def _claim_successes(data: dict) -> None:  # consistent numbers, but not what the records say
    for result in data["tasks"].values():
        result["successes"] = result["episodes"]
    refresh_numbers(data)


BREAKS = [
    ("wrong type", "schema", _set("tasks.click_alarmclock.successes", "2")),
    ("bool for int", "schema", _set("policy.parameters", True)),
    ("missing field", "schema", _delete("protocol")),
    ("extra top-level field", "schema", _set("leaderboard_rank", 1)),
    ("extra nested field", "schema", _set("policy.homepage", "https://example.org")),
    ("unknown format version", "schema", _set("format_version", 2)),
    ("control character in name", "schema", _set("policy.name", "x\ny")),
    ("missing task", "task_missing", _drop_task),
    ("task outside the split", "task_unknown", _unknown_task),
    ("too few episodes", "too_few_episodes", _too_few_episodes),
    ("protocol hash mismatch", "protocol", _set("protocol.hash", "0" * 64)),
    ("protocol name mismatch", "protocol", _set("protocol.name", "robotwin-v0")),
    ("record hash mismatch", "records_hash", _set("records.sha256", "f" * 64)),
    ("successes the records do not hold", "records_content", _claim_successes),
    ("rate is not successes/episodes", "numbers", _rate),
    ("interval is not Wilson", "numbers", _wilson),
    ("average is not the mean", "numbers", _average_rate),
    ("average interval is not the bootstrap", "numbers", _average_interval),
    ("average interval method is not the one the counts take", "numbers", _average_method),
    ("more successes than episodes", "numbers", _more_successes_than_episodes),
    ("chosen seeds", "seeds", _set("tasks.click_alarmclock.excluded_seeds", [100000])),
    ("id is not the file name", "entry_id", _set("id", "someone-else")),
    ("wrong leaderboard folder", "folder", _set("split", "seen")),
    ("future date", "schema", _set("submitted", "2999-01-01")),
    ("module policy without a factory", "schema", _set("load", {"kind": "module", "name": "os", "kwargs": {}})),
    ("folder policy without fingerprint", "schema", _set("load", {"kind": "folder", "name": "checkpoint"})),
]

PATH_BREAKS = [
    ("records.file", "../../outside.jsonl"),
    ("records.file", "/tmp/records.jsonl"),
    ("records.file", "sub/%2e%2e/%2e%2e/x.jsonl"),
    ("policy.code", "../../../etc/passwd"),
    ("policy.code", "/etc/passwd"),
    ("policy.code", "file:///etc/passwd"),
    ("policy.code", "~/secrets"),
    ("policy.weights", "..\\..\\weights.safetensors"),
    ("policy.weights", "C:/weights.safetensors"),
    ("load.kwargs.checkpoint", "../../runs/tinyvla"),
    ("load.kwargs.bank", "/abs/bank"),
]


def test_the_unbroken_entries_are_valid(board):
    for name in (RANDOM, EXPERT):
        report = check(board / name, require_records=True)
        assert report.ok, report.text()
        assert report.records is not None and len(report.records) == len(TASKS) * 2


@pytest.mark.parametrize(("code", "edit"), [(code, edit) for _, code, edit in BREAKS],
                         ids=[name for name, _, _ in BREAKS])
def test_a_broken_entry_is_refused(board, code, edit):
    path = board / RANDOM
    data = load(path)
    edit(data)
    save(path, data)
    report = check(path)
    assert not report.ok
    assert code in report.codes, report.text()


@pytest.mark.parametrize(("field", "value"), PATH_BREAKS, ids=[f"{f}={v}" for f, v in PATH_BREAKS])
def test_path_traversal_is_refused_in_every_path_field(board, field, value):
    path = board / RANDOM
    data = load(path)
    _set(field, value)(data)
    save(path, data)
    report = check(path)
    assert "path" in report.codes, report.text()
    assert any(p.message.startswith(field) for p in report.problems if p.code == "path")


def test_urls_and_inner_paths_are_accepted_as_links(board):
    path = board / RANDOM
    data = load(path)
    data["policy"]["code"] = "code/README.md"  # a relative path inside the folder
    data["policy"]["weights"] = "https://huggingface.co/org/model"
    data["load"]["kwargs"] = {"execute": 8, "note": "plain text"}
    save(path, data)
    assert check(path).ok, check(path).text()


def test_a_symlink_out_of_the_folder_is_refused(board, tmp_path):
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_bytes((board / "random.episodes.jsonl").read_bytes())
    os.symlink(outside, board / "linked.jsonl")
    path = board / RANDOM
    data = load(path)
    data["records"]["file"] = "linked.jsonl"
    save(path, data)
    report = check(path)
    assert "path" in report.codes and "outside the leaderboard folder" in report.text()


def test_a_symlinked_entry_is_refused(board, tmp_path):
    real = tmp_path / "real.json"
    real.write_bytes((board / RANDOM).read_bytes())
    (board / RANDOM).unlink()
    os.symlink(real, board / RANDOM)
    assert check(board / RANDOM).codes == {"path"}


def test_an_oversized_file_is_refused_before_parsing(board):
    path = board / RANDOM
    path.write_bytes(path.read_bytes() + b" " * MAX_ENTRY_BYTES)
    report = check(path)
    assert report.codes == {"file_size"} and report.entry is None


@pytest.mark.parametrize(("suffix", "content", "code"), [
    (".json", b"name: random\ntasks: {}\n", "not_json"),  # YAML is not JSON
    (".json", b"\x80\x04\x95 pickle bytes", "not_json"),
    (".json", b'{"id": "random", "id": "other"}', "not_json"),  # duplicate keys are ambiguous
    (".json", b'{"average": {"rate": NaN}}', "not_json"),
    (".json", b"[1, 2, 3]", "not_json"),
    (".json", b"[" * 5000 + b"]" * 5000, "not_json"),
    (".yaml", b"{}", "file_type"),
    (".py", b"import os", "file_type"),
])
def test_non_json_content_or_extension_is_refused(board, suffix, content, code):
    path = board / f"random{suffix}"
    path.write_bytes(content)
    assert check(path).codes == {code}


def test_duplicate_names_in_a_folder_are_refused(board):
    data = load(board / RANDOM)
    data["id"] = "random-copy"
    data["policy"]["name"] = "  RANDOM "  # case and spacing do not make a new name
    save(board / "random-copy.json", data)
    report = check(board / "random-copy.json")
    assert report.codes == {"duplicate"}, report.text()
    assert "random.json" in report.text()


def test_records_files_are_checked_line_by_line(board):
    records_path = board / "random.episodes.jsonl"
    lines = records_path.read_bytes().splitlines(keepends=True)
    records_path.write_bytes(b"".join(lines[::-1]))  # another order is the same canonical records
    assert check(board / RANDOM).ok
    records_path.write_bytes(lines[0] + lines[0])
    assert "records_content" in check(board / RANDOM).codes  # an episode twice
    records_path.write_bytes(lines[0] + lines[1].replace(b'"steps":', b'"steps": "x", "s":'))
    assert "records_content" in check(board / RANDOM).codes  # a line that is not a record


def test_tampered_records_are_caught_by_the_hash(board):
    records_path = board / "random.episodes.jsonl"
    records = parse_records(records_path.read_bytes(), "r")
    changed = [records[0].model_copy(update={"steps": records[0].steps - 1}), *records[1:]]
    records_path.write_bytes(canonical_bytes(changed))
    assert records_sha256(changed) != load(board / RANDOM)["records"]["sha256"]
    assert check(board / RANDOM).codes == {"records_hash"}


def test_records_are_optional_unless_required(board, tmp_path):
    moved = tmp_path / "moved.jsonl"
    (board / "random.episodes.jsonl").rename(moved)
    report = check(board / RANDOM)
    assert report.ok and "not found" in report.notes[0]
    assert check(board / RANDOM, require_records=True).codes == {"records_missing"}
    assert check(board / RANDOM, records=moved).ok  # the maintainer names it
    assert "file_type" in check(board / RANDOM, records=board / EXPERT).codes


def test_the_protocol_comes_from_the_package_or_the_maintainer(board):
    report = check(board / RANDOM, protocol=None)  # a test variant is not a packaged protocol
    assert report.codes == {"protocol"} and "unknown protocol" in report.text()
    other = small_protocol().with_overrides(episodes_per_task=3)
    assert "protocol" in check(board / RANDOM, protocol=other).codes


def test_completeness_is_against_the_split_by_default(board):
    report = check(board / RANDOM, tasks=None)
    missing = {p.message.split()[1] for p in report.problems if p.code == "task_missing"}
    assert missing == {"turn_switch", "stack_blocks_three", "stack_bowls_two", "place_phone_stand",
                       "place_apple_stand", "place_a2b_right", "open_laptop", "close_microwave"}


def test_a_folder_holds_only_entries_records_and_the_table(board):
    (board / "README.md").write_text("# table\n")
    (board / "notes.txt").write_text("hi")
    (board / "stray.episodes.jsonl").write_text("")
    (board / "sub").mkdir()
    (board / ".hidden.py").write_text("import os")
    os.symlink(board / "README.md", board / "linked.episodes.jsonl")
    reports = validate_folder(board, protocol=small_protocol(), tasks=TASKS)
    bad = sorted(r.path.name for r in reports if not r.ok)
    assert bad == [".hidden.py", "linked.episodes.jsonl", "notes.txt", "stray.episodes.jsonl", "sub"]
    assert all(r.ok for r in reports if r.path.suffix == ".json")


SHIPPED = Path(__file__).resolve().parents[1] / "leaderboards"
SEEDED = {"expert-small", "random-small", "tinyvla-small", "tinyvla-vlapro-k1-small", "tinyvla-vlapro-k2-small",
          "tinyvla-vlapro-k3-small"}


@pytest.mark.parametrize("board_name", ["robotwin-unseen", "rlbench-unseen"])
def test_every_shipped_entry_validates_and_its_table_is_current(board_name):
    """The project's own entries pass the checks a submission must pass (packaged protocol,
    records present and hashed, seeds the protocol's), and the committed table is what render
    makes of them."""
    from vlapro_bench.leaderboard.render import write_rendered  # noqa: PLC0415

    folder = SHIPPED / board_name
    reports = validate_folder(folder, require_records=True)
    assert [r.text() for r in reports if not r.ok] == []
    ids = {r.entry.id for r in reports}
    assert SEEDED <= ids, f"seeded entries missing from {folder}: {sorted(SEEDED - ids)}"
    assert any(r.entry.policy.privileged for r in reports if r.entry.id.startswith("expert"))
    assert write_rendered(folder, check=True) is False, "run `vlapro-bench leaderboard render` and commit"


@pytest.mark.parametrize("board_name", ["robotwin-zw7-unseen", "rlbench-agnostos-unseen"])
def test_every_split_line_board_validates_with_its_expert_and_random_and_a_current_table(board_name):
    """A named split line's board starts with the scripted expert (privileged) and the random
    floor under the line's full protocol; both pass a submission's checks and the table is current."""
    from vlapro_bench.leaderboard.render import write_rendered  # noqa: PLC0415

    folder = SHIPPED / board_name
    reports = validate_folder(folder, require_records=True)
    assert [r.text() for r in reports if not r.ok] == []
    entries = {r.entry.id: r.entry for r in reports if r.entry is not None}
    assert {"expert", "random"} <= set(entries)
    assert entries["expert"].policy.privileged and not entries["random"].policy.privileged
    assert write_rendered(folder, check=True) is False, "run `vlapro-bench leaderboard render` and commit"
