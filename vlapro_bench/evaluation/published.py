"""Numbers other projects published on the protocols a split line reproduces, to print beside ours.

They were measured in the upstream simulators (RoboTwin 2.0 on SAPIEN), with other robots'
dynamics and rendering, so they are a reference for scale, not a result our engine's numbers can
be ranked against. Every report on such a split line says so next to them.

Sources (read 2026-12): Zero-WAM ``README.md`` and its issue #4 (the 43-to-7 hold-out); the
RoboTwin 2.0 leaderboard as copied in ``starVLA/starVLA.github.io``
(``src/content/docs/benchmarks/robotwin.md``; Easy = demo_clean, Hard = demo_randomized).
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
)


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
