"""The AGNOSTOS line on the RLBench suite: its split, protocol and published numbers, and a report
that prints level-1, level-2 and overall averages with X-ICM's numbers beside ours."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest

from vlapro_bench.evaluation import report as report_module
from vlapro_bench.evaluation.export import write_report
from vlapro_bench.evaluation.protocol import load_protocol
from vlapro_bench.evaluation.published import (
    NOT_COMPARABLE,
    PublishedPerTask,
    published_average,
    published_per_task,
)
from vlapro_bench.evaluation.report import build_report, terminal_summary
from vlapro_bench.evaluation.runner import EvalSettings, evaluate
from vlapro_bench.leaderboard.render import render_folder, with_interval
from vlapro_bench.leaderboard.results import average_result
from vlapro_bench.registry import get_task_class
from vlapro_bench.splits import load_split

ROOT = Path(__file__).resolve().parents[1]
#: X-ICM's gather_score.py lists (jiaming-zhou/X-ICM), in its order: level-1 is the first 13.
PERACT_18 = {"put_item_in_drawer", "reach_and_drag", "turn_tap", "slide_block_to_color_target", "open_drawer",
             "put_groceries_in_cupboard", "place_shape_in_shape_sorter", "put_money_in_safe", "push_buttons",
             "close_jar", "stack_blocks", "place_cups", "place_wine_at_rack_location", "light_bulb_in",
             "sweep_to_dustpan_of_size", "insert_onto_square_peg", "meat_off_grill", "stack_cups"}
LEVEL_1 = ["put_toilet_roll_on_stand", "put_knife_on_chopping_board", "close_fridge", "close_microwave",
           "close_laptop_lid", "phone_on_base", "toilet_seat_down", "lamp_off", "lamp_on", "put_books_on_bookshelf",
           "put_umbrella_in_umbrella_stand", "open_grill", "put_rubbish_in_bin"]
LEVEL_2 = ["take_usb_out_of_computer", "take_lid_off_saucepan", "take_plate_off_colored_dish_rack",
           "basketball_in_hoop", "scoop_with_spatula", "straighten_rope", "turn_oven_on", "beat_the_buzz",
           "water_plants", "unplug_charger"]


def test_the_split_is_agnostos_lists_with_its_levels():
    split = load_split("rlbench", 0, name="agnostos")
    assert set(split.seen) == PERACT_18 and len(split.seen) == 18
    assert list(split.unseen) == LEVEL_1 + LEVEL_2
    assert {g: list(m) for g, m in split.groups.items()} == {"level-1": LEVEL_1, "level-2": LEVEL_2}
    for side in ("Seen", "Unseen"):
        assert f"VLAPro-RLBench-AGNOSTOS-{side}-v0" in gym.registry


def test_the_protocol_plays_agnostos_episode_count_with_every_registered_step_limit():
    protocol = load_protocol("rlbench-agnostos-v0")
    assert (protocol.suite, protocol.split, protocol.episodes_per_task) == ("rlbench", "agnostos", 25)
    assert set(protocol.step_limits) == PERACT_18 | set(LEVEL_1) | set(LEVEL_2)
    for task, limit in protocol.step_limits.items():
        assert limit == get_task_class("rlbench", task).spec.max_episode_steps, task
    small = load_protocol("rlbench-agnostos-v0-small")
    assert small.step_limits == protocol.step_limits and small.episodes_per_task < 25


@pytest.mark.parametrize(("method", "overall", "level_1", "level_2"),
                         [("X-ICM (72B)", 30.09, 37.64, 20.27), ("X-ICM (7B)", 23.54, 28.62, 16.93)])
def test_published_per_task_numbers_average_to_the_published_levels(method, overall, level_1, level_2):
    table = next(t for t in published_per_task("agnostos") if t.method == method)
    assert set(table.rates) == set(LEVEL_1) | set(LEVEL_2)
    mean = lambda tasks: sum(table.rates[t] for t in tasks) / len(tasks)  # noqa: E731
    assert mean(LEVEL_1) == pytest.approx(level_1, abs=0.01)
    assert mean(LEVEL_2) == pytest.approx(level_2, abs=0.01)
    assert mean(LEVEL_1 + LEVEL_2) == pytest.approx(overall, abs=0.01)
    assert published_average("agnostos", method, "level-1") == level_1
    assert published_average("agnostos", method) == overall


def test_an_agnostos_report_has_both_levels_and_xicm_beside_ours(tmp_path, monkeypatch):
    played = ("lamp_off", "take_usb_out_of_computer")  # one task of each level
    settings = EvalSettings(policy="random", tasks=played, protocol=load_protocol("rlbench-agnostos-v0"),
                            obs_mode="state", episodes=1)
    evaluate(settings, tmp_path / "run", cache_dir=tmp_path / "cache", progress=False)
    report = build_report([tmp_path / "run"], resamples=200)
    assert report.summary_rows == ["average (level-1)", "average (level-2)", "average"]
    table = report.table().set_index("Task")
    column = "X-ICM (72B) published % ‡"
    assert table.loc["lamp_off", column] == "86.7" and table.loc["take_usb_out_of_computer", column] == "98.7"
    # Two of 23 tasks played: the published means are over other tasks, so they are not shown.
    assert (table.loc[report.summary_rows, column] == "-").all()
    text = terminal_summary(report)
    assert "average (level-2)" in text and f"‡ Published on split agnostos ({NOT_COMPARABLE})" in text
    write_report(report, tmp_path / "report")
    assert r"X-ICM (72B) published \% $^\ddagger$" in (tmp_path / "report" / "report.tex").read_text()

    # Where the runs cover every task a published mean is over, the mean sits in its row.
    covered = PublishedPerTask("agnostos", "X-ICM (72B)", {"lamp_off": 86.67, "take_usb_out_of_computer": 98.67})
    monkeypatch.setattr(report_module, "published_per_task", lambda line: [covered])
    table = build_report([tmp_path / "run"], resamples=200).table().set_index("Task")
    assert table.loc["average", column] == "30.1" and table.loc["average (level-1)", column] == "-"


def test_the_agnostos_leaderboard_shows_each_level_beside_the_average():
    folder = ROOT / "leaderboards" / "rlbench-agnostos-unseen"
    page = render_folder(folder)
    assert "| level-1, % [95% CI] | level-2, % [95% CI] | Average success, % [95% CI] |" in page
    entry = json.loads((folder / "random.json").read_text())
    cells = []
    for members in (LEVEL_1, LEVEL_2):
        counts = [(entry["tasks"][t]["successes"], entry["tasks"][t]["episodes"]) for t in members]
        level = average_result(counts)
        cells.append(with_interval(level.rate, level.low, level.high))
    row = next(line for line in page.splitlines() if line.startswith("| ") and "| Random |" in line)
    assert f"| {cells[0]} | {cells[1]} | **" in row
    assert page == (folder / "README.md").read_text()  # the committed page is the rendered one
