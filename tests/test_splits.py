"""Split files: loading, validation errors and the transfer links between seen and unseen tasks."""

import pytest

from vlapro_bench.registration import split_id
from vlapro_bench.splits import Split, SplitError, TransferLink, load_split


def _split(**over):
    base = dict(
        suite="robotwin",
        version=9,
        seen=("click_bell", "stack_blocks_two"),
        unseen=("click_alarmclock",),
        transfer={"click_alarmclock": TransferLink("click_alarmclock", ("click_bell",), ("action_type",))},
    )
    base.update(over)
    return Split(**base)


def test_packaged_split_is_valid_and_registered():
    split = load_split("robotwin")
    split.check_registered()
    assert set(split.train_tasks).isdisjoint(split.test_tasks)
    for name in ("click_bell", "place_object_stand", "open_microwave"):
        assert name in split.seen
    for name in ("click_alarmclock", "press_stapler", "place_phone_stand", "open_laptop"):
        assert name in split.unseen
    assert "click_bell" in split.transfer["click_alarmclock"].sources
    assert "place_object_stand" in split.transfer["place_phone_stand"].sources
    assert "open_microwave" in split.transfer["open_laptop"].sources


def test_overlap_refused():
    with pytest.raises(SplitError, match="both seen and unseen"):
        _split(unseen=("click_alarmclock", "click_bell"))


def test_transfer_source_must_be_seen():
    link = TransferLink("click_alarmclock", ("press_stapler",), ("action_type",))
    with pytest.raises(SplitError, match="must be seen tasks"):
        _split(transfer={"click_alarmclock": link})


def test_shared_fields_checked():
    link = TransferLink("click_alarmclock", ("click_bell",), ("colour",))
    with pytest.raises(SplitError, match="shared fields"):
        _split(transfer={"click_alarmclock": link})


def test_every_unseen_task_needs_a_link():
    with pytest.raises(SplitError, match="without a transfer link"):
        _split(unseen=("click_alarmclock", "press_stapler"))


def test_unregistered_task_refused():
    with pytest.raises(SplitError, match="unregistered"):
        _split(seen=("click_bell", "fly_to_moon")).check_registered()


def test_malformed_file_data():
    with pytest.raises(SplitError, match="Malformed"):
        Split.from_dict({"suite": "robotwin", "version": 0, "seen": []})


def test_split_ids():
    assert split_id("robotwin", "unseen") == "VLAPro-RoboTwin-Unseen-v0"


def test_groups_are_named_subsets_of_one_side_that_do_not_overlap():
    split = _split(seen=("click_bell", "stack_blocks_two", "place_a2b_left"),
                   groups={"presses": ("click_bell",), "level-2": ("stack_blocks_two", "place_a2b_left")})
    assert split.groups_of("seen") == {"presses": ("click_bell",), "level-2": ("stack_blocks_two", "place_a2b_left")}
    assert split.groups_of("unseen") == {}
    assert Split.from_dict(split.to_dict()) == split
    with pytest.raises(SplitError, match="mixes seen and unseen"):
        _split(groups={"level-1": ("click_bell", "click_alarmclock")})
    with pytest.raises(SplitError, match="does not have"):
        _split(groups={"level-1": ("press_stapler",)})
    with pytest.raises(SplitError, match="groups do not overlap"):
        _split(groups={"a": ("click_bell",), "b": ("click_bell",)})
    with pytest.raises(SplitError, match="lower-case words"):
        _split(groups={"Level 1": ("click_bell",)})
    with pytest.raises(SplitError, match="is empty"):
        _split(groups={"level-1": ()})


def test_a_new_version_keeps_its_base_groups_less_removed_tasks_and_renamed():
    base = _split(seen=("click_bell", "stack_blocks_two", "open_laptop"),
                  groups={"level-1": ("click_bell", "open_laptop"), "level-2": ("stack_blocks_two",)})
    changes = {"suite": "robotwin", "version": 10, "base": 9, "remove": ["stack_blocks_two"],
               "replace": {"open_laptop": "open_laptop-v1"}}
    assert base.derive(changes).groups == {"level-1": ("click_bell", "open_laptop-v1")}
    regrouped = base.derive({**changes, "groups": {"all": ["click_bell", "open_laptop-v1"]}})
    assert regrouped.groups == {"all": ("click_bell", "open_laptop-v1")}
