"""Task versions side by side, split versions that swap a task for its next version, and named
split lines (zw7, all50) with their own files, gym ids and protocols."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import pytest

from vlapro_bench import registry
from vlapro_bench.env import VLAProEnv
from vlapro_bench.evaluation.protocol import Protocol, ProtocolError, load_protocol, split_line_of
from vlapro_bench.leaderboard.schema import board_name
from vlapro_bench.registration import split_id
from vlapro_bench.registry import (
    TaskSpec,
    UnknownTaskError,
    get_task_class,
    parse_task_ref,
    task_names,
    task_ref,
    task_versions,
)
from vlapro_bench.splits import Split, SplitError, load_split, split_file


def _spec(**over) -> TaskSpec:
    spec = get_task_class("robotwin", "click_bell").spec
    return dataclasses.replace(spec, **over)


def test_registry_names_carry_the_version_from_version_one_on():
    assert task_ref("open_laptop", 0) == "open_laptop"
    assert task_ref("open_laptop", 2) == "open_laptop-v2"
    assert parse_task_ref("open_laptop-v2") == ("open_laptop", 2)
    assert parse_task_ref("open_laptop-v0") == ("open_laptop", 0)
    assert parse_task_ref("open_laptop") == ("open_laptop", 0)
    spec = _spec(name="click_bell-v3", version=3)
    assert spec.base_name == "click_bell"
    assert spec.gym_id == "VLAPro-RoboTwin/click_bell-v3"
    assert get_task_class("robotwin", "click_bell").spec.gym_id == "VLAPro-RoboTwin/click_bell-v0"


@pytest.mark.parametrize(("name", "version"), [("click_bell", 1), ("click_bell-v1", 0), ("click_bell-v0", 0),
                                               ("click_bell-v2", 1)])
def test_a_name_that_does_not_match_its_version_is_refused(name: str, version: int):
    with pytest.raises(ValueError, match="does not match version"):
        _spec(name=name, version=version)


@pytest.fixture
def click_bell_v9(monkeypatch: pytest.MonkeyPatch):
    """A version 9 of click_bell registered beside version 0 for one test (a longer step limit)."""
    base = get_task_class("robotwin", "click_bell")
    cls = type("ClickBellV9", (base,), {"spec": _spec(name="click_bell-v9", version=9, max_episode_steps=300)})
    monkeypatch.setitem(registry._TASKS, ("robotwin", "click_bell-v9"), cls)
    return cls


def test_two_versions_of_a_task_are_registered_side_by_side(click_bell_v9):
    assert {"click_bell", "click_bell-v9"} <= set(task_names("robotwin"))
    assert task_versions("robotwin", "click_bell") == ["click_bell", "click_bell-v9"]
    assert get_task_class("robotwin", "click_bell-v9") is click_bell_v9
    assert get_task_class("robotwin", "click_bell-v0") is get_task_class("robotwin", "click_bell")
    env = VLAProEnv("click_bell-v9", obs_mode="state")
    try:
        _, info = env.reset(seed=3)
        assert info["task"] == "click_bell-v9"
        assert env.max_episode_steps == 300
    finally:
        env.close()
    old = VLAProEnv("click_bell-v0", obs_mode="state")  # read as version 0's own name
    try:
        assert old.reset(seed=3)[1]["task"] == "click_bell"
    finally:
        old.close()


def test_an_unregistered_version_names_the_registered_ones():
    with pytest.raises(UnknownTaskError, match="registered versions are click_bell"):
        get_task_class("robotwin", "click_bell-v7")


def test_every_registered_version_has_its_own_gym_id():
    ids = [cls.spec.gym_id for cls in (get_task_class("robotwin", n) for n in task_names("robotwin"))]
    assert len(ids) == len(set(ids))
    for name in task_names("robotwin"):
        spec = get_task_class("robotwin", name).spec
        assert gym.spec(spec.gym_id).kwargs["tasks"] == name


def _changes(**over) -> dict:
    return {"suite": "robotwin", "version": 2, "base": 1, **over}


def test_a_split_version_replaces_a_task_by_its_next_version_in_place():
    v1 = load_split("robotwin", 1)
    v2 = v1.derive(_changes(replace={"stack_blocks_two": "stack_blocks_two-v1", "open_laptop": "open_laptop-v1"}))
    assert v2.seen.index("stack_blocks_two-v1") == v1.seen.index("stack_blocks_two")
    assert v2.unseen.index("open_laptop-v1") == v1.unseen.index("open_laptop")
    assert "stack_blocks_two" not in v2.seen and "open_laptop" not in v2.transfer
    assert v2.transfer["open_laptop-v1"].sources == v1.transfer["open_laptop"].sources
    # A link from another task that named the old version names the new one.
    assert "stack_blocks_two" in v1.transfer["blocks_ranking_size"].sources
    assert "stack_blocks_two-v1" in v2.transfer["blocks_ranking_size"].sources
    assert load_split("robotwin", 1).seen == v1.seen  # the released version is untouched


@pytest.mark.parametrize(("replace", "message"), [
    ({"stack_blocks_nine": "stack_blocks_nine-v1"}, "does not have"),
    ({"stack_blocks_two": "stack_blocks_three-v1"}, "another version of the same task"),
    ({"stack_blocks_two": "stack_blocks_two-v0"}, "another version of the same task"),
    ({"stack_blocks_two": "click_bell"}, "another version of the same task"),
])
def test_a_bad_replacement_is_refused(replace: dict, message: str):
    with pytest.raises(SplitError, match=message):
        load_split("robotwin", 1).derive(_changes(replace=replace))


def test_a_replacement_clashing_with_an_added_task_is_refused():
    with pytest.raises(SplitError, match="already has"):
        load_split("robotwin", 1).derive(_changes(replace={"open_laptop": "open_laptop-v1"},
                                                  add_seen=["open_laptop-v1"]))


def test_named_split_lines_have_their_own_files_ids_and_labels():
    assert split_file("robotwin", 1) == "robotwin-v1.json"
    assert split_file("robotwin", 0, "zw7") == "robotwin-zw7-v0.json"
    assert split_id("robotwin", "unseen", 0, "zw7") == "VLAPro-RoboTwin-ZW7-Unseen-v0"
    assert split_id("robotwin", "seen", 1) == "VLAPro-RoboTwin-Seen-v1"
    line = Split(suite="robotwin", version=0, seen=("click_bell",), unseen=(), transfer={}, name="all50")
    assert line.label == "robotwin all50 v0"
    assert Split.from_dict(line.to_dict()) == line
    with pytest.raises(SplitError, match="letters and digits"):
        Split(suite="robotwin", version=0, seen=("click_bell",), unseen=(), transfer={}, name="zw-7")
    with pytest.raises(SplitError, match="cannot apply"):
        line.derive({"suite": "robotwin", "version": 1, "base": 0, "name": "zw7"})


def test_a_missing_split_line_is_one_clear_error():
    with pytest.raises(SplitError, match="split 'nosuchline' version 0"):
        load_split("robotwin", 0, name="nosuchline")


def test_a_protocol_on_a_named_line_is_named_after_it():
    base = load_protocol("robotwin-v1").model_dump()
    zw = Protocol.from_dict({**base, "name": "robotwin-zw7-v0", "version": 0, "split": "zw7"})
    assert zw.split == "zw7"
    with pytest.raises(ProtocolError, match="robotwin-zw7-v0"):
        Protocol.from_dict({**base, "name": "robotwin-v0", "version": 0, "split": "zw7"})
    # The field came later: the published protocols keep their hashes (it is left out at its default).
    assert '"split"' not in load_protocol("robotwin-v0").canonical_json()
    assert '"split":"zw7"' in zw.canonical_json()


@pytest.mark.parametrize(("name", "line"), [("robotwin-v0", ""), ("robotwin-v0-small", ""), ("robotwin-zw7-v0", "zw7"),
                                            ("robotwin-zw7-v0-small", "zw7"), ("rlbench-v0", "")])
def test_a_protocol_name_says_its_split_line_and_so_its_leaderboard_folder(name: str, line: str):

    suite = name.split("-", maxsplit=1)[0]
    assert split_line_of(name, suite) == line
    assert board_name(suite, "unseen", line) == (f"{suite}-{line}-unseen" if line else f"{suite}-unseen")
