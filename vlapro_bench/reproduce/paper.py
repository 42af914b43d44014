"""The VLA-Pro paper's headline numbers, to print beside ours.

Source: the VLA-Pro project page (GitHub ``geniusLouis/VLA-Pro``, ``index.html``): RoboTwin unseen
tasks, average success % of each backbone without and with VLA-Pro; RLBench zero-shot average
success % (k = memories fused per chunk). The per-task tables and the exact task lists were not
published in a form we could read, so only averages are compared.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperRow:
    """One reported average success rate (percent)."""

    suite: str
    model: str
    base: float | None  # the backbone alone
    method: float | None  # backbone + VLA-Pro
    k: int | None = None  # memories fused, where the paper says
    setting: str = ""  # which table: held-out tasks, zero-shot, real world

    @property
    def relative(self) -> float | None:
        if self.base is None or self.method is None or self.base == 0:
            return None
        return (self.method - self.base) / self.base


_ROBOTWIN = "RoboTwin held-out tasks"
_RLBENCH = "RLBench zero-shot"
_REAL = "real world (pi0.5, 6 held-out tasks)"

PAPER_ROWS: tuple[PaperRow, ...] = (
    PaperRow("robotwin", "X-VLA", 17.0, 30.0, setting=_ROBOTWIN),
    PaperRow("robotwin", "RDT", 11.1, 34.1, setting=_ROBOTWIN),
    PaperRow("robotwin", "pi0.5", 40.4, 59.3, setting=_ROBOTWIN),
    PaperRow("rlbench", "RDT", 10.2, None, setting=_RLBENCH),
    PaperRow("rlbench", "pi0.5", 13.8, None, setting=_RLBENCH),
    PaperRow("rlbench", "AtomicVLA (skill-expert baseline)", 14.7, None, setting=_RLBENCH),
    PaperRow("rlbench", "VLA-Pro", None, 16.9, k=1, setting=_RLBENCH),
    PaperRow("rlbench", "VLA-Pro", None, 20.9, k=2, setting=_RLBENCH),
    PaperRow("rlbench", "VLA-Pro", None, 16.4, k=3, setting=_RLBENCH),
    # Real world: the page gives the base only as the 6-task average (5.8%, best task 15.0%).
    PaperRow("real", "pi0.5, average of 6 tasks", 5.8, 65.0, setting=_REAL),
    PaperRow("real", "pi0.5, bottle box", None, 20.0, setting=_REAL),
    PaperRow("real", "pi0.5, microphone", None, 85.0, setting=_REAL),
    PaperRow("real", "pi0.5, cup box", None, 95.0, setting=_REAL),
    PaperRow("real", "pi0.5, shake chem.", None, 75.0, setting=_REAL),
    PaperRow("real", "pi0.5, flick bottle", None, 50.0, setting=_REAL),
    PaperRow("real", "pi0.5, tap chips", None, 65.0, setting=_REAL),
)

PAPER_SOURCE = ("VLA-Pro project page (geniusLouis/VLA-Pro index.html); "
                "RoboTwin: held-out tasks, episodes per task not published; RLBench: zero-shot, averaged over "
                "the 9 tasks on which some method succeeds (per a secondary summary), AtomicVLA is the strongest "
                "baseline the paper compares against; no intervals published")
REAL_WORLD_NOTE = ("Real-world rows (pi0.5 on a physical arm, 20 trials per task per a secondary summary) are "
                   "printed with every suite; no embedded task reproduces them.")


def paper_rows(suite: str) -> list[PaperRow]:
    """The suite's rows, then the real-world rows (printed beside either suite)."""
    return [row for row in PAPER_ROWS if row.suite == suite] + [row for row in PAPER_ROWS if row.suite == "real"]


__all__ = ["PAPER_ROWS", "PAPER_SOURCE", "REAL_WORLD_NOTE", "PaperRow", "paper_rows"]
