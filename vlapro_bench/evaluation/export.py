"""Writing a report's files: Markdown, LaTeX and CSV tables and the figures.

The report's data (:class:`~vlapro_bench.evaluation.report.Report`) is built without writing
anything; this module turns it into files. Kept apart so the data layer never imports the
writers (and matplotlib through the figures), and the figures can import the data they draw.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from vlapro_bench.evaluation.figures import plot_relative_improvement, plot_success_rates
from vlapro_bench.evaluation.report import AVERAGE, Report, to_markdown

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "$": r"\$",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "†": r"$^\dagger$", "‡": r"$^\ddagger$", "∞": r"$\infty$"}
_LATEX_PATTERN = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIAL))


def _latex_escape(text: str) -> str:
    """One pass, so replacements are never escaped again."""
    return _LATEX_PATTERN.sub(lambda m: _LATEX_SPECIAL[m.group(0)], text)


def to_latex(table: pd.DataFrame, caption: str) -> str:
    """A booktabs table (``\\usepackage{booktabs}``) with the average rows set off by a rule."""
    cols = "l" + "c" * (len(table.columns) - 1)
    lines = [r"\begin{table}[t]", r"\centering", r"\small", rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
             " & ".join(_latex_escape(str(c)) for c in table.columns) + r" \\", r"\midrule"]
    ruled = False
    for row in table.itertuples(index=False):
        if str(row[0]).startswith(AVERAGE) and not ruled:  # the group averages and the average
            lines.append(r"\midrule")
            ruled = True
        lines.append(" & ".join(_latex_escape(str(v)) for v in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{_latex_escape(caption)}}}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_report(report: Report, out: str | Path) -> list[Path]:
    """Write report.md, report.tex, success_rates.csv, comparisons.csv and the figures into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = report.table()
    notes = report.notes()
    written = []
    md = ["# Evaluation report", "", to_markdown(table), "", *[f"- {note}" for note in notes], ""]
    figures = [plot_success_rates(report, out / "success_per_task.png")]
    if report.comparisons:
        figures.append(plot_relative_improvement(report, out / "relative_improvement.png"))
    md += [f"![{path.stem}]({path.name})" for path in figures]
    (out / "report.md").write_text("\n".join(md) + "\n")
    (out / "report.tex").write_text(to_latex(table, " ".join(notes)))
    report.long_rates().to_csv(out / "success_rates.csv", index=False)
    written += [out / "report.md", out / "report.tex", out / "success_rates.csv"]
    if report.comparisons:
        report.long_comparisons().to_csv(out / "comparisons.csv", index=False)
        written.append(out / "comparisons.csv")
    return written + figures
