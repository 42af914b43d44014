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

    @property
    def relative(self) -> float | None:
        if self.base is None or self.method is None or self.base == 0:
            return None
        return (self.method - self.base) / self.base


PAPER_ROWS: tuple[PaperRow, ...] = (
    PaperRow("robotwin", "X-VLA", 17.0, 30.0),
    PaperRow("robotwin", "RDT", 11.1, 34.1),
    PaperRow("robotwin", "pi0.5", 40.4, 59.3),
    PaperRow("rlbench", "RDT", 10.2, None),
    PaperRow("rlbench", "pi0.5", 13.8, None),
    PaperRow("rlbench", "VLA-Pro", None, 16.9, k=1),
    PaperRow("rlbench", "VLA-Pro", None, 20.9, k=2),
    PaperRow("rlbench", "VLA-Pro", None, 16.4, k=3),
)

PAPER_SOURCE = ("VLA-Pro project page (geniusLouis/VLA-Pro index.html); "
                "RoboTwin: held-out tasks, episodes per task not published; RLBench: zero-shot, averaged over "
                "the 9 tasks on which some method succeeds (per a secondary summary); no intervals published")


def paper_rows(suite: str) -> list[PaperRow]:
    return [row for row in PAPER_ROWS if row.suite == suite]


__all__ = ["PAPER_ROWS", "PAPER_SOURCE", "PaperRow", "paper_rows"]
