"""Numbers other projects published on the protocols a split line reproduces, to print beside ours.

They were measured in the upstream simulators (RoboTwin 2.0 on SAPIEN, RLBench on CoppeliaSim),
with other robots' dynamics and rendering, so they are a reference for scale, not a result our engine's numbers can
be ranked against. Every report on such a split line says so next to them.

Sources (read 2026-12): Zero-WAM ``README.md`` and its issue #4 (the 43-to-7 hold-out); the
RoboTwin 2.0 leaderboard as copied in ``starVLA/starVLA.github.io``
(``src/content/docs/benchmarks/robotwin.md``; Easy = demo_clean, Hard = demo_randomized); for
AGNOSTOS, X-ICM's logs (``jiaming-zhou/X-ICM``,
``logs/XICM_Cross.ZS_Ranking.lang_vis.out_Qwen2.5.{72B,7B}.instruct_icl.18/unseen_summary.txt``:
the mean over runs of 25 episodes per task, 6 runs for 72B and 3 for 7B; level-1 is the first 13
unseen tasks of ``gather_score.py``, level-2 the last 10), measured in RLBench on CoppeliaSim.
"""

from __future__ import annotations

from dataclasses import dataclass

#: What every published-numbers line in a report or a docs page is prefixed with.
NOT_COMPARABLE = ("measured in the upstream simulator, not the embedded engine: a reference for scale, "
                  "not directly comparable")


@dataclass(frozen=True)
class PublishedAverage:
    """One method's published average success (percent) on a split line's evaluation tasks."""

    line: str  # the split line (``zw7``, ``all50``)
    method: str
    average: float
    setting: str = ""  # e.g. "Easy", "without pre-training"
    source: str = ""


_ZW7 = "robbyant-research/Zero-WAM README.md"
_XICM = "jiaming-zhou/X-ICM logs/*/unseen_summary.txt"
_LEADERBOARD = "RoboTwin 2.0 leaderboard (copy in starVLA/starVLA.github.io)"

PUBLISHED: tuple[PublishedAverage, ...] = (
    PublishedAverage("zw7", "Zero-WAM", 46.95, source=_ZW7),
    PublishedAverage("zw7", "Zero-WAM", 36.36, "without pre-training", "robbyant-research/Zero-WAM issue #4"),
    PublishedAverage("zw7", "LingBot-VA", 17.45, source=_ZW7),
    PublishedAverage("zw7", "WAN-Action", 10.98, source=_ZW7),
    PublishedAverage("all50", "pi0", 46.4, "Easy", _LEADERBOARD),
    PublishedAverage("all50", "pi0", 16.3, "Hard", _LEADERBOARD),
    PublishedAverage("all50", "RDT", 34.5, "Easy", _LEADERBOARD),
    PublishedAverage("all50", "RDT", 13.7, "Hard", _LEADERBOARD),
    PublishedAverage("all50", "ACT", 29.7, "Easy", _LEADERBOARD),
    PublishedAverage("all50", "ACT", 1.7, "Hard", _LEADERBOARD),
    PublishedAverage("all50", "DP", 28.0, "Easy", _LEADERBOARD),
    PublishedAverage("all50", "DP", 0.6, "Hard", _LEADERBOARD),
    PublishedAverage("all50", "DP3", 55.2, "Easy", _LEADERBOARD),
    PublishedAverage("all50", "DP3", 5.0, "Hard", _LEADERBOARD),
    PublishedAverage("agnostos", "X-ICM (72B)", 30.09, source=_XICM),
    PublishedAverage("agnostos", "X-ICM (72B)", 37.64, "level-1", _XICM),
    PublishedAverage("agnostos", "X-ICM (72B)", 20.27, "level-2", _XICM),
    PublishedAverage("agnostos", "X-ICM (7B)", 23.54, source=_XICM),
    PublishedAverage("agnostos", "X-ICM (7B)", 28.62, "level-1", _XICM),
    PublishedAverage("agnostos", "X-ICM (7B)", 16.93, "level-2", _XICM),
)

@dataclass(frozen=True)
class PublishedPerTask:
    """One method's published success (percent) per task on a split line, where the source has a
    per-task table; a report prints it as a column beside the runs'."""

    line: str
    method: str
    rates: dict[str, float]
    source: str = ""


#: X-ICM's per-task success on AGNOSTOS' 23 unseen tasks, (72B, 7B), in ``gather_score.py``'s order.
_XICM_TASKS: dict[str, tuple[float, float]] = {
    "put_toilet_roll_on_stand": (6.67, 1.33),
    "put_knife_on_chopping_board": (69.33, 26.67),
    "close_fridge": (12.67, 22.67),
    "close_microwave": (58.67, 45.33),
    "close_laptop_lid": (34.00, 33.33),
    "phone_on_base": (68.00, 57.33),
    "toilet_seat_down": (51.33, 48.00),
    "lamp_off": (86.67, 58.67),
    "lamp_on": (74.67, 50.67),
    "put_books_on_bookshelf": (2.00, 1.33),
    "put_umbrella_in_umbrella_stand": (1.33, 0.00),
    "open_grill": (5.33, 8.00),
    "put_rubbish_in_bin": (18.67, 18.67),
    "take_usb_out_of_computer": (98.67, 98.67),
    "take_lid_off_saucepan": (13.33, 20.00),
    "take_plate_off_colored_dish_rack": (4.67, 6.67),
    "basketball_in_hoop": (36.00, 9.33),
    "scoop_with_spatula": (0.67, 0.00),
    "straighten_rope": (16.00, 6.67),
    "turn_oven_on": (20.67, 16.00),
    "beat_the_buzz": (7.33, 2.67),
    "water_plants": (2.67, 5.33),
    "unplug_charger": (2.67, 4.00),
}

PUBLISHED_PER_TASK: tuple[PublishedPerTask, ...] = (
    PublishedPerTask("agnostos", "X-ICM (72B)", {t: r[0] for t, r in _XICM_TASKS.items()}, _XICM),
    PublishedPerTask("agnostos", "X-ICM (7B)", {t: r[1] for t, r in _XICM_TASKS.items()}, _XICM),
)


def published_per_task(line: str) -> list[PublishedPerTask]:
    """The per-task published tables on split line ``line`` (none for the suites' own lines)."""
    return [table for table in PUBLISHED_PER_TASK if table.line == line]


def published_average(line: str, method: str, setting: str = "") -> float | None:
    """``method``'s published average on ``line`` for ``setting`` (``""``: all the line's tasks;
    a group such as ``level-1``), or ``None`` where none was published."""
    return next((r.average for r in PUBLISHED if (r.line, r.method, r.setting) == (line, method, setting)), None)


def published_for(line: str) -> list[PublishedAverage]:
    """The published averages on split line ``line`` (none for the suites' own lines)."""
    return [row for row in PUBLISHED if row.line == line]


def published_note(line: str) -> str | None:
    """One report line with the published averages on ``line``, labelled as not comparable."""
    rows = published_for(line)
    if not rows:
        return None
    shown = "; ".join(f"{r.method}{f' ({r.setting})' if r.setting else ''} {r.average:.2f}%" for r in rows)
    return f"Published on split {line} ({NOT_COMPARABLE}): {shown}."
