"""The packaged split lines and protocols beyond the suites' own: split v2 (upstream versions of
three tasks), zw7 (the 43-to-7 hold-out) and all50 (RoboTwin's single-task table); the RLBench
agnostos line has its own tests (test_agnostos.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gymnasium as gym
import pytest

from vlapro_bench.evaluation.protocol import available_protocols, load_protocol
from vlapro_bench.evaluation.published import NOT_COMPARABLE, PUBLISHED, published_note
from vlapro_bench.evaluation.report import build_report, terminal_summary
from vlapro_bench.evaluation.runner import EvalSettings, evaluate
from vlapro_bench.registry import all_specs, get_task_class, parse_task_ref
from vlapro_bench.splits import load_split, task_placement

ROOT = Path(__file__).resolve().parents[1]
ZW7_UNSEEN = {"place_object_scale", "stamp_seal", "open_microwave", "move_stapler_pad", "place_bread_basket",
              "place_empty_cup", "stack_blocks_three"}
UPSTREAM_VERSIONS = {"stack_blocks_two": "stack_blocks_two-v1", "open_laptop": "open_laptop-v1",
                     "handover_block": "handover_block-v1", "place_shoe": "place_shoe-v1"}


def robotwin2_tasks() -> set[str]:
    """Every RoboTwin 2.0 task, each in the version that follows upstream's procedure."""
    names = {spec.name for spec in all_specs("robotwin") if spec.origin == "RoboTwin 2.0" and spec.version == 0}
    return {UPSTREAM_VERSIONS.get(name, name) for name in names}


def _procedure(task: str) -> dict[str, str]:
    return dataclasses.asdict(get_task_class("robotwin", task).spec.procedure)


def test_all_fifty_robotwin2_tasks_are_registered():
    assert len(robotwin2_tasks()) == 50


def test_split_v2_swaps_three_tasks_for_their_upstream_versions_only():
    v1, v2 = load_split("robotwin", 1), load_split("robotwin", 2)
    renamed = {UPSTREAM_VERSIONS.get(t, t) for t in v1.seen}
    assert set(v2.seen) == renamed and set(v2.unseen) == {UPSTREAM_VERSIONS.get(t, t) for t in v1.unseen}
    assert "open_laptop-v1" in v2.unseen and "stack_blocks_two-v1" in v2.seen and "handover_block-v1" in v2.seen
    assert "place_shoe-v1" in v2.unseen
    protocol = load_protocol("robotwin-v2")
    assert protocol.split_version == 2 and protocol.instruction_set == 1
    for task in UPSTREAM_VERSIONS.values():
        assert protocol.step_limits[task] == get_task_class("robotwin", task).spec.max_episode_steps
    # v1's protocol still names the original tasks.
    assert "open_laptop-v1" not in load_protocol("robotwin-v1").step_limits


def test_zw7_holds_out_the_seven_and_trains_on_the_other_43():
    split = load_split("robotwin", 0, name="zw7")
    assert set(split.unseen) == ZW7_UNSEEN
    assert set(split.seen) | set(split.unseen) == robotwin2_tasks() and len(split.seen) == 43
    env = gym.make("VLAPro-RoboTwin-ZW7-Unseen-v0", obs_mode="state")
    try:
        _, info = env.reset(seed=100000)
        assert info["task"] in ZW7_UNSEEN
    finally:
        env.close()


def test_zw7_links_share_what_they_say():
    """Every shared field of a zw7 link holds for at least one of its sources, by the labels."""
    split = load_split("robotwin", 0, name="zw7")
    for target, link in split.transfer.items():
        assert "action_type" in link.shared or "object_geometry" in link.shared, target
        for field in link.shared:
            assert any(_procedure(src)[field] == _procedure(target)[field] for src in link.sources), (target, field)


def test_all50_is_every_task_on_the_seen_side():
    split = load_split("robotwin", 0, name="all50")
    assert set(split.seen) == robotwin2_tasks() and not split.unseen
    assert "VLAPro-RoboTwin-ALL50-Seen-v0" in gym.registry
    assert "VLAPro-RoboTwin-ALL50-Unseen-v0" not in gym.registry


@pytest.mark.parametrize("name", ["robotwin-zw7-v0", "robotwin-all50-v0"])
def test_community_protocols_use_upstream_step_limits_for_every_task(name: str):
    protocol = load_protocol(name)
    split = load_split("robotwin", protocol.split_version, name=protocol.split)
    assert set(protocol.step_limits) == set(split.seen) | set(split.unseen)
    lines = (ROOT / "tests" / "data" / "robotwin2_step_limits.txt").read_text().splitlines()
    upstream = dict(line.split(": ") for line in lines if not line.startswith("#"))
    for task, limit in protocol.step_limits.items():
        assert limit == int(upstream[parse_task_ref(task)[0]]), task


def test_every_packaged_protocol_names_a_loadable_split_and_known_tasks():
    for name in available_protocols():
        protocol = load_protocol(name)
        split = load_split(protocol.suite, protocol.split_version, name=protocol.split)
        for task in protocol.step_limits:
            get_task_class(protocol.suite, task)
        assert split.seen, name


def test_published_numbers_are_labelled_and_in_the_docs():
    page = (ROOT / "docs" / "concepts" / "splits.md").read_text()
    for row in PUBLISHED:
        assert f"{row.average:g}" in page or f"{row.average:.2f}" in page, row
    note = published_note("zw7")
    assert note is not None and NOT_COMPARABLE in note and "Zero-WAM 46.95%" in note
    assert published_note("") is None


def test_a_report_on_a_zw7_run_prints_the_published_numbers_labelled(tmp_path):

    settings = EvalSettings(policy="random", tasks=("stamp_seal",), protocol=load_protocol("robotwin-zw7-v0"),
                            obs_mode="state", episodes=1)
    evaluate(settings, tmp_path / "run", cache_dir=tmp_path / "cache", progress=False)
    text = terminal_summary(build_report([tmp_path / "run"], resamples=200))
    assert "Published on split zw7" in text and NOT_COMPARABLE in text and "LingBot-VA 17.45%" in text
    # The suite's own protocols have no published line.
    evaluate(dataclasses.replace(settings, protocol=load_protocol("robotwin-v1")), tmp_path / "own",
             cache_dir=tmp_path / "cache", progress=False)
    assert "Published on" not in terminal_summary(build_report([tmp_path / "own"], resamples=200))


def test_task_placement_says_where_a_task_stands_in_every_split():
    laptop = task_placement("robotwin", "open_laptop-v1")
    assert (laptop.first_version, laptop.first_side, laptop.newest_side) == (2, "unseen", "unseen")
    assert laptop.lines == (("zw7", 0, "seen"), ("all50", 0, "seen"))
    mug = task_placement("robotwin", "hanging_mug")  # only on the named lines
    assert mug.first_version is None and mug.lines[0][0] == "zw7"
    lamp = task_placement("rlbench", "lamp_on")  # only on the agnostos line
    assert lamp.first_version is None and lamp.lines == (("agnostos", 0, "unseen"),)
