"""Profiles, stage keys and the stage cache, without running any stage."""

import json

import pytest

from vlapro_bench.evaluation.protocol import load_protocol
from vlapro_bench.reproduce.cache import StageCache
from vlapro_bench.reproduce.paper import paper_rows
from vlapro_bench.reproduce.pipeline import StageClock
from vlapro_bench.reproduce.profile import ProfileError, load_profile, profile_from_dict
from vlapro_bench.reproduce.stages import build_plan

RLBENCH_CAMERAS = ("left_shoulder", "right_shoulder", "overhead", "wrist", "front")


@pytest.mark.parametrize("name", ["small", "full"])
@pytest.mark.parametrize("suite", ["robotwin", "rlbench"])
def test_packaged_profiles_load_with_the_suite_dimensions(name, suite):
    profile = load_profile(name, suite)
    assert profile.suite == suite and profile.eval.ks == (1, 2, 3)
    protocol = load_protocol(profile.eval.protocol)
    assert protocol.suite == suite
    model = profile.train["model"]
    if suite == "rlbench":
        assert tuple(model["cameras"]) == RLBENCH_CAMERAS and model["state_dim"] == model["action_dim"] == 8
        assert profile.eval.control_mode == "joint_delta"
    else:
        assert "cameras" not in model and profile.eval.control_mode == "qpos"
    if name == "full":  # the official protocols, on a GPU
        assert protocol.name == f"{suite}-v0" and profile.train["device"] == "cuda"
    else:
        assert protocol.name == f"{suite}-v0-small" and profile.train["device"] == "cpu"


def test_small_protocols_keep_the_rules_and_change_only_the_episode_count():
    for suite in ("robotwin", "rlbench"):
        full, small = load_protocol(f"{suite}-v0"), load_protocol(f"{suite}-v0-small")
        assert small.episodes_per_task < full.episodes_per_task
        assert small.protocol_hash() != full.protocol_hash()
        same = small.model_dump(exclude={"name", "description", "episodes_per_task"})
        assert same == full.model_dump(exclude={"name", "description", "episodes_per_task"})


def _data(**changes):
    data = {"collect": {"tasks": ["click_bell", "stack_blocks_two"], "episodes": 2},
            "train": {"steps": 5, "model": {"d_model": 16}}, "memory": {"base_steps": 3, "task_steps": 3},
            "eval": {"protocol": "robotwin-v0-small", "tasks": ["click_alarmclock"], "ks": [1, 2]},
            "suites": {"robotwin": {}}}
    for block, values in changes.items():
        data[block] = {**data[block], **values}
    return data


@pytest.mark.parametrize("data, message", [
    ({**_data(), "colect": {}}, "unknown keys ['colect']"),
    (_data(collect={"episode": 3}), "collect: unknown keys ['episode']"),
    (_data(train={"data": "somewhere"}), "train must not set ['data']"),
    (_data(eval={"ks": [0]}), "eval.ks must list memory counts >= 1"),
    (_data(collect={"episodes": 0}), "collect.episodes must be >= 1"),
])
def test_bad_profiles_are_refused_with_what_is_wrong(data, message):
    with pytest.raises(ProfileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        profile_from_dict(data, "robotwin")


def test_unknown_suite_and_missing_profile_file_are_refused(tmp_path):
    with pytest.raises(ProfileError, match="unknown suite 'maniskill'"):
        profile_from_dict(_data(), "maniskill")
    with pytest.raises(ProfileError, match="no settings for suite 'rlbench'"):
        profile_from_dict(_data(), "rlbench")
    with pytest.raises(ProfileError, match="profiles: .*small"):
        load_profile("huge", "robotwin")
    (tmp_path / "p.json").write_text("{not json")
    with pytest.raises(ProfileError, match="not valid JSON"):
        load_profile(tmp_path / "p.json", "robotwin")


def test_tasks_outside_the_split_and_k_above_the_bank_size_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not seen tasks"):
        build_plan(profile_from_dict(_data(collect={"tasks": ["click_alarmclock"]}), "robotwin"), tmp_path)
    with pytest.raises(ValueError, match="not unseen tasks"):
        build_plan(profile_from_dict(_data(eval={"tasks": ["click_bell"]}), "robotwin"), tmp_path)
    with pytest.raises(ValueError, match="bank will hold 2"):
        build_plan(profile_from_dict(_data(eval={"ks": [1, 3]}), "robotwin"), tmp_path)


def _keys(data, out, workers=None):
    return {s.name: s.key for s in build_plan(profile_from_dict(data, "robotwin"), out, workers)}


def test_a_changed_setting_changes_its_stage_and_everything_downstream_only(tmp_path):
    base = _keys(_data(), tmp_path)
    assert list(base) == ["collect", "train", "memory", "eval-plain", "eval-k1", "eval-k2"]
    assert len(set(base.values())) == len(base)
    train = _keys(_data(train={"steps": 6}), tmp_path)
    assert train["collect"] == base["collect"]
    assert all(train[s] != base[s] for s in ("train", "memory", "eval-plain", "eval-k1", "eval-k2"))
    memory = _keys(_data(memory={"task_steps": 4}), tmp_path)
    assert [s for s in base if memory[s] != base[s]] == ["memory", "eval-k1", "eval-k2"]
    collect = _keys(_data(collect={"episodes": 3}), tmp_path)
    assert all(collect[s] != base[s] for s in base)
    ks = _keys(_data(eval={"ks": [2]}), tmp_path)
    assert ks == {s: base[s] for s in ("collect", "train", "memory", "eval-plain", "eval-k2")}
    assert _keys(_data(), tmp_path, workers=2) == base  # speed settings never invalidate results


def test_stage_cache_resumes_the_same_key_and_discards_another(tmp_path):
    cache = StageCache(tmp_path)
    output = tmp_path / "train"
    assert cache.begin("train", "a", output) is False  # nothing to resume
    output.mkdir()
    (output / "checkpoint").write_text("partial")
    assert cache.begin("train", "a", output) is True and (output / "checkpoint").is_file()
    assert not cache.is_done("train", "a")
    cache.finish("train", "a", 1.5, {"note": "x"})
    assert cache.is_done("train", "a") and not cache.is_done("train", "b")
    assert json.loads((tmp_path / "stages" / "train.done.json").read_text())["wall_s"] == 1.5
    assert cache.begin("train", "b", output) is False
    assert not output.exists() and not cache.is_done("train", "a")  # stale output and marker removed


def test_eta_scales_the_estimates_by_the_measured_speed():
    clock = StageClock({"collect": 100, "train": 200, "eval": 50})
    assert clock.remaining(["collect", "train", "eval-k1", "eval-k2"]) == 400
    clock.record("collect", 50)  # twice as fast as estimated
    assert clock.remaining(["train", "eval-plain"]) == 125
    assert clock.estimate("report") == 60.0  # no estimate: the default


def test_paper_numbers_and_the_207_percent():
    robotwin = {r.model: r for r in paper_rows("robotwin")}
    assert robotwin["RDT"].relative == pytest.approx(2.07, abs=0.005)
    assert {r.k: r.method for r in paper_rows("rlbench") if r.k} == {1: 16.9, 2: 20.9, 3: 16.4}
