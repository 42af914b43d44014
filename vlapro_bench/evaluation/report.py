"""Reports over evaluation runs: the data (rates, paired comparisons, tables) and a terminal summary.

Writing the report's files (Markdown, LaTeX, CSV, figures) is :mod:`vlapro_bench.evaluation.export`,
which builds on this module; this one writes nothing, so its data can be used without the writers.

Runs are results folders of ``vlapro-bench eval``. All runs of one report must share a protocol
hash; comparisons against ``--baseline`` are paired over the (task, seed) episodes both runs
played. Tables follow the paper's layout (base, method, relative gain per task, then the
average), with intervals: Wilson 95% per task, stratified bootstrap for averages (pooled Wilson
where every task is at 0% or 100%), a paired bootstrap for gains over tasks (Newcombe's paired score
interval for the difference within one task, or where every task's pairs agree), and an exact
McNemar p-value per comparison. Where the protocol's split names groups of tasks (AGNOSTOS'
level-1 and level-2), each group gets its own average and paired gain, as rows above the overall
average.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vlapro_bench.evaluation.manifest import ProtocolMismatchError
from vlapro_bench.evaluation.published import published_average, published_note, published_per_task
from vlapro_bench.evaluation.results import load_results
from vlapro_bench.evaluation.stats import (
    DEFAULT_RESAMPLES,
    Interval,
    PairedComparison,
    paired_comparison,
    split_average,
    wilson_interval,
)
from vlapro_bench.splits import SplitError, load_split

AVERAGE = "average"
PRIVILEGED_MARK = "†"
#: Marks the columns of numbers published on the protocol's split line (upstream simulator).
PUBLISHED_MARK = "‡"
PRIVILEGED_NOTE = (f"{PRIVILEGED_MARK} privileged: the policy reads simulator state a deployed robot would not have "
                   f"(e.g. the scripted expert); it is a reference, not a competitor.")


@dataclass
class RunData:
    """One results folder, loaded: its manifest and one row per (task, seed)."""

    folder: Path
    manifest: dict
    episodes: pd.DataFrame  # columns task, seed, success

    @property
    def label(self) -> str:
        return str(self.manifest.get("label") or self.manifest["identity"]["policy"])

    @property
    def privileged(self) -> bool:
        return bool(self.manifest.get("privileged"))

    @property
    def display(self) -> str:
        return self.label + (PRIVILEGED_MARK if self.privileged else "")

    @property
    def protocol_hash(self) -> str:
        return str(self.manifest["protocol_hash"])

    @property
    def tasks(self) -> list[str]:
        return sorted(self.episodes["task"].unique())


def load_run(folder: str | Path) -> RunData:
    folder = Path(folder)
    results = load_results(folder)
    if not results.records:
        raise ValueError(f"{folder} holds no finished episodes yet")
    rows = [{"task": r.task, "seed": r.seed, "success": r.success} for r in results.records.values()]
    return RunData(folder, results.manifest.model_dump(mode="json"),
                   pd.DataFrame(rows).sort_values(["task", "seed"], ignore_index=True))


def check_same_protocol(runs: Sequence[RunData]) -> None:
    hashes = {run.protocol_hash for run in runs}
    if len(hashes) > 1:
        listing = "; ".join(f"{run.folder}: {run.manifest['protocol']['name']} {run.protocol_hash[:12]}"
                            for run in runs)
        raise ProtocolMismatchError(f"Runs of different protocols cannot be compared ({listing}). "
                                    f"Re-evaluate them under one protocol.")


def group_row(group: str) -> str:
    """The table row of a task group's average: ``average (level-1)``."""
    return f"{AVERAGE} ({group})"


def split_groups(protocol: dict, tasks: Sequence[str] | None) -> dict[str, list[str]]:
    """The groups of the protocol's split that hold tasks among ``tasks``, each cut to those tasks
    (``None``: every group whole).

    A protocol whose split file is not shipped (a variant from a newer release) has no groups here:
    the report still has every task and the overall average.
    """
    try:
        split = load_split(protocol["suite"], int(protocol.get("split_version", 0)), check_registered=False,
                           name=protocol.get("split", ""))
    except (SplitError, KeyError):
        return {}
    if tasks is None:
        return {group: list(members) for group, members in split.groups.items()}
    played = set(tasks)
    groups = {group: [t for t in members if t in played] for group, members in split.groups.items()}
    return {group: members for group, members in groups.items() if members}


def task_rates(run: RunData, resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
               groups: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Per task: successes, episodes, rate and Wilson interval; then each group's average and the
    overall average (:func:`split_average`)."""
    rows = []
    counts: dict[str, tuple[int, int]] = {}
    for task, group in run.episodes.groupby("task", sort=True):
        k, n = int(group["success"].sum()), len(group)
        ci = wilson_interval(k, n)
        counts[str(task)] = (k, n)
        rows.append({"task": task, "successes": k, "episodes": n, "rate": ci.estimate, "low": ci.low,
                     "high": ci.high})
    averages = [(group_row(g), [counts[t] for t in members if t in counts]) for g, members in (groups or {}).items()]
    averages.append((AVERAGE, list(counts.values())))
    for label, group_counts in averages:
        if not group_counts:
            continue
        avg, _ = split_average(group_counts, resamples=resamples, seed=seed)
        rows.append({"task": label, "successes": sum(k for k, _ in group_counts),
                     "episodes": sum(n for _, n in group_counts), "rate": avg.estimate, "low": avg.low,
                     "high": avg.high})
    return pd.DataFrame(rows)


@dataclass
class Comparison:
    """A method run against the baseline: one paired comparison per task, one over all tasks."""

    base: RunData
    method: RunData
    per_task: dict[str, PairedComparison]
    overall: PairedComparison
    notes: list[str] = field(default_factory=list)
    per_group: dict[str, PairedComparison] = field(default_factory=dict)

    def result(self, row: str) -> PairedComparison | None:
        """The comparison of one table row: a task, a group's average or the overall average."""
        if row == AVERAGE:
            return self.overall
        group = next((g for g in self.per_group if group_row(g) == row), None)
        return self.per_group[group] if group is not None else self.per_task.get(row)


def compare(base: RunData, method: RunData, resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
            groups: dict[str, list[str]] | None = None) -> Comparison:
    merged = base.episodes.merge(method.episodes, on=["task", "seed"], suffixes=("_a", "_b"))
    if merged.empty:
        raise ValueError(f"{base.folder} and {method.folder} share no (task, seed) episodes to compare")
    pairs: dict[str, tuple[Sequence[bool], Sequence[bool]]] = {
        str(task): (g["success_a"].astype(bool).tolist(), g["success_b"].astype(bool).tolist())
        for task, g in merged.groupby("task")}
    notes = []
    for run in (base, method):
        unpaired = len(run.episodes) - len(merged)
        if unpaired:
            notes.append(f"{run.display}: {unpaired} episodes without a partner in the other run are left out "
                         f"of the comparison")
    per_task = {task: paired_comparison({task: pair}, resamples, seed=seed) for task, pair in pairs.items()}
    per_group = {}
    for group, members in (groups or {}).items():
        group_pairs = {task: pairs[task] for task in members if task in pairs}
        if group_pairs:
            per_group[group] = paired_comparison(group_pairs, resamples, seed=seed)
    return Comparison(base, method, per_task, paired_comparison(pairs, resamples, seed=seed), notes, per_group)


# -- formatting -------------------------------------------------------------------------------
def pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:.1f}"


def fmt_interval(ci: Interval | tuple[float, float, float], signed: bool = False) -> str:
    est, low, high = (ci.estimate, ci.low, ci.high) if isinstance(ci, Interval) else ci
    if math.isnan(est):
        return "n/a"

    def one(v: float) -> str:
        if math.isinf(v):
            return "+∞" if v > 0 else "-∞"
        return f"{100 * v:+.1f}" if signed else f"{100 * v:.1f}"

    return f"{one(est)} [{one(low)}, {one(high)}]"


def _rate_cell(rates: pd.DataFrame, task: str) -> str:
    row = rates[rates["task"] == task]
    if row.empty:
        return "-"
    r = row.iloc[0]
    return fmt_interval((r["rate"], r["low"], r["high"]))


def _gain_cell(comparison: Comparison | None, task: str) -> str:
    if comparison is None:
        return "-"
    result = comparison.result(task)
    if result is None:
        return "-"
    if math.isnan(result.relative.estimate):
        return "n/a (base 0%)"
    return fmt_interval(result.relative, signed=True) + " %"


@dataclass
class Report:
    runs: list[RunData]
    baseline: RunData | None
    rates: dict[str, pd.DataFrame]  # by run folder
    comparisons: list[Comparison]
    groups: dict[str, list[str]] = field(default_factory=dict)  # the split's task groups the runs played
    split_groups_full: dict[str, list[str]] = field(default_factory=dict)  # the same groups, every member

    @property
    def tasks(self) -> list[str]:
        return sorted(set().union(*(run.tasks for run in self.runs)))

    @property
    def summary_rows(self) -> list[str]:
        """The rows below the tasks: each group's average, then the overall average."""
        return [*(group_row(g) for g in self.groups), AVERAGE]

    def table(self) -> pd.DataFrame:
        """The paper-style wide table (strings): Task | run SR [CI] ... | gain vs baseline ..."""
        comparisons = {str(c.method.folder): c for c in self.comparisons}
        rows = []
        for task in [*self.tasks, *self.summary_rows]:
            row = {"Task": task}
            for run in self.runs:
                row[f"{run.display} SR % [95% CI]"] = _rate_cell(self.rates[str(run.folder)], task)
                if self.baseline is not None and run is not self.baseline:
                    row[f"{run.display} gain vs {self.baseline.display} % [95% CI]"] = _gain_cell(
                        comparisons.get(str(run.folder)), task)
            for column, cell in self._published_cells(task).items():
                row[column] = cell
            rows.append(row)
        return pd.DataFrame(rows)

    def _published_cells(self, row: str) -> dict[str, str]:
        """The published per-task columns of the protocol's split line (upstream simulator, marked
        marked ``PUBLISHED_MARK``) for one table row. A summary row gets the published average only when the
        runs played every task it was published over, so a partial run never sits beside a full mean."""
        line = self.runs[0].manifest["protocol"].get("split", "")
        cells = {}
        for table in published_per_task(line):
            if row in table.rates:
                value: float | None = table.rates[row]
            else:
                group = next((g for g in self.groups if group_row(g) == row), None)
                members = table.rates if row == AVERAGE else self.split_groups_full.get(group or "", [])
                covered = bool(members) and set(members) <= set(self.tasks)
                value = published_average(line, table.method, group or "") if covered else None
            cells[f"{table.method} published % {PUBLISHED_MARK}"] = "-" if value is None else f"{value:.1f}"
        return cells

    def long_rates(self) -> pd.DataFrame:
        frames = []
        for run in self.runs:
            frame = self.rates[str(run.folder)].copy()
            frame.insert(0, "run", run.label)
            frame.insert(1, "privileged", run.privileged)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def long_comparisons(self) -> pd.DataFrame:
        rows = []
        for c in self.comparisons:
            summaries = [(group_row(g), r) for g, r in c.per_group.items()]
            for task, result in [*sorted(c.per_task.items()), *summaries, (AVERAGE, c.overall)]:
                rows.append({"base": c.base.label, "method": c.method.label, "task": task, "pairs": result.pairs,
                             "base_rate": result.base, "method_rate": result.method,
                             "difference": result.difference.estimate, "difference_low": result.difference.low,
                             "difference_high": result.difference.high, "relative": result.relative.estimate,
                             "relative_low": result.relative.low, "relative_high": result.relative.high,
                             "base_only": result.base_only, "method_only": result.method_only,
                             "mcnemar_p": result.p_value})
        return pd.DataFrame(rows)

    def notes(self) -> list[str]:
        protocol = self.runs[0].manifest["protocol"]
        out = [f"Protocol {protocol['name']} (hash {self.runs[0].protocol_hash[:12]}): "
               f"{protocol['episodes_per_task']} episodes per task, seeds from {protocol['seed_start']}, "
               f"expert filter {'on' if protocol['expert_filter'] else 'off'}, "
               f"{protocol['instruction_pool']} instructions (set {protocol.get('instruction_set', 0)})."]
        for run in self.runs:
            counts = run.episodes.groupby("task").size()
            if counts.min() < protocol["episodes_per_task"]:
                played = str(counts.min()) if counts.min() == counts.max() else f"{counts.min()}-{counts.max()}"
                out.append(f"{run.display} is partial: {played} of {protocol['episodes_per_task']} protocol "
                           f"episodes per task.")
        if len({tuple(run.tasks) for run in self.runs}) > 1:
            out.append("The runs cover different tasks: each run's average is over its own tasks; gains use the "
                       "tasks both runs played.")
        for c in self.comparisons:
            out.append(f"{c.method.display} vs {c.base.display}: {c.overall.pairs} paired episodes; absolute "
                       f"difference {fmt_interval(c.overall.difference, signed=True)} points; exact McNemar "
                       f"p = {c.overall.p_value:.3g} ({c.overall.method_only} pairs only the method solved, "
                       f"{c.overall.base_only} only the base).")
            out += c.notes
        for group, members in self.groups.items():
            out.append(f"{group_row(group)}: the mean over the {len(members)} {group} tasks played "
                       f"({', '.join(members)}).")
        if any(run.privileged for run in self.runs):
            out.append(PRIVILEGED_NOTE)
        published = published_note(protocol.get("split", ""))
        if published is not None:
            out.append(f"{PUBLISHED_MARK} {published}" if published_per_task(protocol.get("split", "")) else published)
        out.append("Intervals: Wilson 95% per task; stratified bootstrap 95% for averages (mean of per-task rates; the "
                   "pooled Wilson interval for one task or when every task is at 0% or 100%); "
                   "paired bootstrap 95% for gains over tasks; Newcombe's paired score interval for a difference "
                   "within one task or where every task's pairs agree.")
        return out


def build_report(runs: Sequence[str | Path], baseline: str | Path | None = None,
                 resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Report:
    folders = [Path(p) for p in runs]
    if baseline is not None and Path(baseline) not in folders:
        folders.insert(0, Path(baseline))
    if not folders:
        raise ValueError("report needs at least one run folder")
    loaded = [load_run(folder) for folder in dict.fromkeys(folders)]
    check_same_protocol(loaded)
    base = next((run for run in loaded if run.folder == Path(baseline)), None) if baseline is not None else None
    if base is not None:  # the baseline's column comes first, as in the paper
        loaded = [base, *[run for run in loaded if run is not base]]
    groups = split_groups(loaded[0].manifest["protocol"], sorted(set().union(*(run.tasks for run in loaded))))
    rates = {str(run.folder): task_rates(run, resamples, seed, groups) for run in loaded}
    comparisons = [compare(base, run, resamples, seed, groups) for run in loaded
                   if base is not None and run is not base]
    full = split_groups(loaded[0].manifest["protocol"], None)
    return Report(loaded, base, rates, comparisons, groups, full)


# -- text tables ----------------------------------------------------------------------------------
def to_markdown(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def terminal_summary(report: Report) -> str:
    return "\n".join([to_markdown(report.table()), "", *report.notes()])
