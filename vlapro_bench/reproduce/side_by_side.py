"""The reproduction report: our plain-vs-memory table beside the paper's numbers.

All statistics come from the evaluator (:mod:`vlapro_bench.evaluation.report`): per-task Wilson
intervals, bootstrap intervals for averages, and, for each k, the paired comparison against the
plain backbone over the (task, seed) episodes both arms played: absolute difference and relative
improvement ``(SR_b - SR_a) / SR_a`` with the evaluator's paired intervals and the exact McNemar test.
When the plain backbone's average is 0% the relative improvement is undefined and the report
says so instead of printing a number; the absolute difference is still reported.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from vlapro_bench.evaluation.report import AVERAGE, Report, build_report, fmt_interval, to_markdown, write_report
from vlapro_bench.evaluation.stats import wilson_interval
from vlapro_bench.reproduce.paper import PAPER_SOURCE, paper_rows

UNDEFINED = "undefined (plain 0%)"


def _pct(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def ours_table(report: Report) -> pd.DataFrame:
    """One row per arm: average success with its interval and, for memory arms, the paired gains."""
    assert report.baseline is not None
    comparisons = {str(c.method.folder): c for c in report.comparisons}
    rows = []
    for run in report.runs:
        avg = report.rates[str(run.folder)].set_index("task").loc[AVERAGE]
        pooled = wilson_interval(int(avg["successes"]), int(avg["episodes"]))
        row = {"arm": run.display, "average SR % [95% CI]": fmt_interval((avg["rate"], avg["low"], avg["high"])),
               "pooled Wilson 95%": fmt_interval(pooled), "episodes": int(avg["episodes"])}
        c = comparisons.get(str(run.folder))
        if c is None:
            row.update({"abs. diff. pp [95% CI]": "-", "relative % [95% CI]": "-", "McNemar p": "-",
                        "method-only / base-only pairs": "-"})
        else:
            o = c.overall
            rel = UNDEFINED if math.isnan(o.relative.estimate) else fmt_interval(o.relative, signed=True)
            row.update({"abs. diff. pp [95% CI]": fmt_interval(o.difference, signed=True),
                        "relative % [95% CI]": rel, "McNemar p": f"{o.p_value:.3g}",
                        "method-only / base-only pairs": f"{o.method_only} / {o.base_only}"})
        rows.append(row)
    return pd.DataFrame(rows)


def paper_table(suite: str) -> pd.DataFrame:
    rows = []
    for r in paper_rows(suite):
        rel = r.relative
        rows.append({"model": r.model + (f" (k={r.k})" if r.k is not None else ""), "base SR %": _pct(r.base),
                     "+ VLA-Pro SR %": _pct(r.method),
                     "relative %": "-" if rel is None else f"{100 * rel:+.0f}",
                     "abs. diff. pp": "-" if r.base is None or r.method is None else f"{r.method - r.base:+.1f}"})
    return pd.DataFrame(rows)


def long_csv(report: Report, suite: str) -> pd.DataFrame:
    """Ours and the paper's in one long table (one row per source, model and arm)."""
    comparisons = {str(c.method.folder): c for c in report.comparisons}
    rows = []
    for run in report.runs:
        avg = report.rates[str(run.folder)].set_index("task").loc[AVERAGE]
        c = comparisons.get(str(run.folder))
        row = {"source": "ours", "suite": suite, "model": run.label, "privileged": run.privileged,
               "average_sr": 100 * avg["rate"], "average_low": 100 * avg["low"], "average_high": 100 * avg["high"],
               "episodes": int(avg["episodes"])}
        if c is not None:
            o = c.overall
            row.update({"difference_pp": 100 * o.difference.estimate, "difference_low": 100 * o.difference.low,
                        "difference_high": 100 * o.difference.high, "relative": o.relative.estimate,
                        "relative_low": o.relative.low, "relative_high": o.relative.high,
                        "mcnemar_p": o.p_value, "pairs": o.pairs})
        rows.append(row)
    for r in paper_rows(suite):
        rows.append({"source": "paper", "suite": suite, "model": r.model + (f" k={r.k}" if r.k else ""),
                     "base_sr": r.base, "average_sr": r.method if r.method is not None else r.base,
                     "difference_pp": None if r.base is None or r.method is None else r.method - r.base,
                     "relative": r.relative})
    return pd.DataFrame(rows)


def interpretation(report: Report) -> list[str]:
    """Plain statements of what the numbers say, including when the relative gain is undefined."""
    lines = []
    for c in report.comparisons:
        o = c.overall
        name = c.method.label
        if o.base == 0 and o.method == 0:
            lines.append(f"{name}: both arms solved nothing; the relative improvement is undefined and the absolute "
                         f"difference is 0 pp.")
        elif o.base == 0:
            lines.append(f"{name}: the plain backbone solved nothing, so the relative improvement is undefined; the "
                         f"absolute difference is {fmt_interval(o.difference, signed=True)} pp.")
        else:
            significant = "" if o.p_value < 0.05 else " (not significant at 5%: the interval/test cannot tell it " \
                                                       "from no change)"
            lines.append(f"{name}: relative {fmt_interval(o.relative, signed=True)} %, absolute "
                         f"{fmt_interval(o.difference, signed=True)} pp, McNemar p = {o.p_value:.3g}{significant}.")
    return lines


def write_side_by_side(runs: list[Path], out: Path, suite: str, title: str, resamples: int = 10_000) -> dict:
    """Evaluator report (tables, CSV, figures) in ``out/evaluator``; the side-by-side in ``out``.

    ``runs[0]`` is the plain backbone (the baseline); the others are the memory arms.
    """
    report = build_report(runs, baseline=runs[0], resamples=resamples)
    out.mkdir(parents=True, exist_ok=True)
    written = write_report(report, out / "evaluator")
    ours, paper = ours_table(report), paper_table(suite)
    notes = interpretation(report)
    text = "\n".join([
        f"# {title}", "",
        "## Ours (same protocol seeds for every arm; gains paired against the plain backbone)", "",
        to_markdown(ours), "", *[f"- {line}" for line in notes], "",
        "The average's interval is the evaluator's stratified bootstrap, or, when every task is at 0% or 100% "
        "(where the bootstrap would collapse to a point), the pooled Wilson interval of all the arm's "
        "episodes.", "",
        "## The paper's", "", to_markdown(paper), "", f"Source: {PAPER_SOURCE}.", "",
        "## Per task (evaluator report)", "", to_markdown(report.table()), "",
        *[f"- {note}" for note in report.notes()], "",
        *[f"![{p.stem}](evaluator/{p.name})" for p in written if p.suffix == ".png"], "",
    ])
    (out / "reproduce.md").write_text(text)
    long_csv(report, suite).to_csv(out / "reproduce.csv", index=False)
    summary = "\n".join(["OURS", to_markdown(ours), "", *notes, "", "PAPER", to_markdown(paper)])
    return {"markdown": str(out / "reproduce.md"), "csv": str(out / "reproduce.csv"),
            "evaluator": [str(p) for p in written], "summary": summary}


__all__ = ["UNDEFINED", "interpretation", "long_csv", "ours_table", "paper_table", "write_side_by_side"]
