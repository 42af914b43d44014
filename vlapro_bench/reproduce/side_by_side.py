"""The reproduction report: the seen-task gate, every arm, the contrasts with their power, the paper's numbers.

All statistics come from the evaluator (:mod:`vlapro_bench.evaluation.report` and
:mod:`~vlapro_bench.evaluation.stats`): per-task Wilson intervals, bootstrap intervals for
averages, and for each contrast the paired difference over the (task, seed) episodes both arms
played, its interval, the exact McNemar test and the minimum detectable difference (80% power,
5% level) for those pairs. The report leads with the gate: a backbone that cannot do its seen
tasks has nothing to transfer, and then no unseen-task number is evidence either way.

Contrasts, in order: the profile's primary one (VLA-Pro at the paper's best k against the base
LoRA alone: the same training budget, with and without retrieval), every other memory arm
against the base LoRA, the controls (random memories, oracle retrieval, the own-task ceiling)
against it, VLA-Pro against random memories (does the retrieval choose well?), and the paper's
comparison, VLA-Pro against the plain backbone. When the plain backbone's average is 0% the
relative improvement is undefined and the report says so instead of printing a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from vlapro_bench.evaluation.records import read_records
from vlapro_bench.evaluation.report import (
    AVERAGE,
    PRIVILEGED_NOTE,
    Comparison,
    RunData,
    check_same_protocol,
    compare,
    fmt_interval,
    load_run,
    task_rates,
    to_markdown,
)
from vlapro_bench.evaluation.stats import wilson_interval
from vlapro_bench.reproduce.paper import PAPER_SOURCE, REAL_WORLD_NOTE, paper_rows
from vlapro_bench.reproduce.profile import GateSpec, arm_memories

UNDEFINED = "undefined (base 0%)"
#: The detectable difference (points) the profiles size their primary contrast for.
TARGET_MDE_PP = 10.0


@dataclass(frozen=True)
class Contrast:
    """``method`` against ``base`` (arm names) and why it is in the report."""

    method: str
    base: str
    role: str


def contrasts(arms: list[str], primary: tuple[str, str]) -> list[Contrast]:
    """The report's contrasts, primary first; each pair once."""
    base = primary[1]
    why = "VLA-Pro vs the base LoRA alone (same training budget)" if base == "k0" else "the profile's choice"
    out = [Contrast(*primary, f"primary: {why}")]
    memory = [a for a in arms if a.startswith("k") and a != base]
    for arm in memory:
        out.append(Contrast(arm, base, "memory vs base LoRA alone"))
    for arm in arms:
        if arm.startswith(("random-", "oracle-")) or arm == "ceiling":
            out.append(Contrast(arm, base, "control vs base LoRA alone"))
    for arm in arms:
        if arm.startswith("random-") and f"k{arm_memories(arm)}" in arms:
            out.append(Contrast(f"k{arm_memories(arm)}", arm, "retrieval vs random memories (same k)"))
    if "plain" in arms:
        for arm in [a for a in arms if a.startswith("k")]:
            out.append(Contrast(arm, "plain", "the paper's comparison: + memory vs the plain backbone"))
    seen: set[tuple[str, str]] = set()
    unique = []
    for c in out:
        if (c.method, c.base) not in seen and c.method in arms and c.base in arms and c.method != c.base:
            seen.add((c.method, c.base))
            unique.append(c)
    return unique


def gate_verdict(gate: GateSpec, run: RunData) -> tuple[bool, str]:
    """``(passed, first line of the report)``."""
    rates = task_rates(run).set_index("task")
    avg = rates.loc[AVERAGE]
    per_task = ", ".join(f"{t} {100 * r:.0f}%" for t, r in rates["rate"].items() if t != AVERAGE)
    pool = run.manifest["protocol"].get("instruction_pool")
    templates = {"seen": "its training instruction templates", "unseen": "unseen instruction templates"}.get(
        str(pool), f"{pool} instructions")
    measured = (f"{100 * avg['rate']:.1f}% [{100 * avg['low']:.1f}, {100 * avg['high']:.1f}] over "
                f"{int(avg['episodes'])} held-out episodes with {templates} ({per_task})")
    if avg["rate"] >= gate.threshold:
        return True, (f"**Seen-task gate passed:** the plain backbone averages {measured} on the tasks it was "
                      f"trained on (gate: at least {100 * gate.threshold:.0f}%), so it has skill to transfer.")
    return False, (f"**No skill to transfer:** the plain backbone averages {measured} on the tasks it was trained "
                   f"on, under the profile's gate of {100 * gate.threshold:.0f}%. The unseen-task numbers below "
                   f"are not evidence either way.")


def _average(run: RunData) -> pd.Series:
    return task_rates(run).set_index("task").loc[AVERAGE]


def arms_table(runs: dict[str, RunData]) -> pd.DataFrame:
    rows = []
    for arm, run in runs.items():
        avg = _average(run)
        pooled = wilson_interval(int(avg["successes"]), int(avg["episodes"]))
        rows.append({"arm": arm, "policy": run.display, "average SR % [95% CI]":
                     fmt_interval((avg["rate"], avg["low"], avg["high"])), "pooled Wilson 95%": fmt_interval(pooled),
                     "successes / episodes": f"{int(avg['successes'])} / {int(avg['episodes'])}"})
    return pd.DataFrame(rows)


def contrast_rows(runs: dict[str, RunData], chosen: list[Contrast]) -> tuple[pd.DataFrame, dict[Contrast, Comparison]]:
    rows, done = [], {}
    for c in chosen:
        comparison = compare(runs[c.base], runs[c.method])
        done[c] = comparison
        o = comparison.overall
        rel = UNDEFINED if math.isnan(o.relative.estimate) else fmt_interval(o.relative, signed=True)
        rows.append({"contrast": f"{c.method} vs {c.base}", "role": c.role,
                     "difference pp [95% CI]": fmt_interval(o.difference, signed=True),
                     "relative % [95% CI]": rel, "McNemar p": f"{o.p_value:.3g}",
                     "MDE pp (80% power)": f"{100 * o.mde:.1f}", "pairs": o.pairs,
                     "method-only / base-only": f"{o.method_only} / {o.base_only}"})
    return pd.DataFrame(rows), done


def per_task_table(runs: dict[str, RunData]) -> pd.DataFrame:
    frames = []
    for arm, run in runs.items():
        rates = task_rates(run).set_index("task")
        frames.append((100 * rates["rate"]).round(1).rename(arm))
    return pd.concat(frames, axis=1).reset_index().rename(columns={"index": "task"})


def retrieval_table(runs: dict[str, RunData], sources: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Per memory arm: how often the top memory is one of the task's designated transfer sources
    (the split's transfer map), and how often it changes between consecutive chunks of an episode.

    Together with the oracle and ceiling arms this says where transfer is lost: a retrieval that
    rarely picks a source, or picks the same memory all episode long, cannot adapt to the stage.
    """
    rows = []
    for arm, run in runs.items():
        records = read_records(run.folder, run.protocol_hash)
        chunks = hits = changes = pairs = 0
        tops: dict[str, dict[str, int]] = {}
        for record in records:
            tops_of_episode = [chunk[0]["memory"] for chunk in record.extras.get("retrievals", []) if chunk]
            if not tops_of_episode:
                continue
            chunks += len(tops_of_episode)
            hits += sum(top in sources.get(record.task, ()) for top in tops_of_episode)
            changes += sum(a != b for a, b in zip(tops_of_episode, tops_of_episode[1:]))
            pairs += len(tops_of_episode) - 1
            counts = tops.setdefault(record.task, {})
            for top in tops_of_episode:
                counts[top] = counts.get(top, 0) + 1
        if not chunks:
            continue
        most = "; ".join(f"{task}: {max(c, key=c.get)} {100 * max(c.values()) / sum(c.values()):.0f}%"
                         for task, c in sorted(tops.items()))
        rows.append({"arm": arm, "chunks": chunks, "top memory is a transfer source %": f"{100 * hits / chunks:.1f}",
                     "top memory changes between chunks %": f"{100 * changes / max(pairs, 1):.1f}",
                     "most retrieved per task": most})
    return pd.DataFrame(rows)


def interpretation(chosen: list[Contrast], done: dict[Contrast, Comparison]) -> list[str]:
    """Plain statements of what the contrasts show, the primary one first."""
    lines = []
    for c in chosen:
        o = done[c].overall
        verdict = ("a significant difference at the 5% level" if o.p_value < 0.05 else
                   f"no detectable difference (the test would find {100 * o.mde:.1f} points or more with 80% power)")
        lines.append(f"{c.method} vs {c.base} ({c.role}): {fmt_interval(o.difference, signed=True)} pp over "
                     f"{o.pairs} paired episodes, McNemar p = {o.p_value:.3g}: {verdict}.")
    primary = done[chosen[0]].overall
    meets = "meets" if 100 * primary.mde <= TARGET_MDE_PP else "misses"
    lines.insert(1, f"The primary contrast's minimum detectable difference is {100 * primary.mde:.1f} points: it "
                    f"{meets} the {TARGET_MDE_PP:.0f}-point target the profiles are sized for.")
    return lines


def plot_paired_differences(runs: dict[str, RunData], base: str, path: Path) -> Path:
    """Per task (and over all tasks), each arm's paired difference against ``base``, with 95% intervals."""
    others = [a for a in runs if a != base]
    comparisons = {a: compare(runs[base], runs[a]) for a in others}
    tasks = sorted(next(iter(comparisons.values())).per_task) if comparisons else []
    labels = [*tasks, AVERAGE]
    fig = Figure(figsize=(max(6.0, 1.1 * len(labels) + 2.5), 4.2), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(labels))
    width = 0.8 / max(len(others), 1)
    for i, arm in enumerate(others):
        c = comparisons[arm]
        cells = [c.per_task[t].difference for t in tasks] + [c.overall.difference]
        est = np.array([d.estimate for d in cells]) * 100
        err = np.vstack([est - np.array([d.low for d in cells]) * 100, np.array([d.high for d in cells]) * 100 - est])
        marker = "s" if runs[arm].privileged else "o"
        ax.errorbar(x + (i - (len(others) - 1) / 2) * width, est, yerr=np.clip(err, 0, None), fmt=marker, capsize=2,
                    color=f"C{i % 10}", label=runs[arm].display)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(len(labels) - 1.5, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xticks(x, [label.replace("_", "_\u200b") for label in labels], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel(f"success difference vs {base} (pp)")
    ax.set_title(f"Paired difference against {runs[base].display}, per task and over all tasks\n"
                 f"whiskers: 95% CI (Newcombe per task; paired bootstrap over tasks)", fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.savefig(path, dpi=130)
    return path


def paper_table(suite: str) -> pd.DataFrame:
    rows = []
    for r in paper_rows(suite):
        rel = r.relative
        rows.append({"setting": r.setting, "model": r.model + (f" (k={r.k})" if r.k is not None else ""),
                     "base SR %": _pct(r.base), "+ VLA-Pro SR %": _pct(r.method),
                     "relative %": "-" if rel is None else f"{100 * rel:+.0f}",
                     "abs. diff. pp": "-" if r.base is None or r.method is None else f"{r.method - r.base:+.1f}"})
    return pd.DataFrame(rows)


def _pct(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def write_side_by_side(arm_folders: dict[str, Path], out: Path, suite: str, title: str, primary: tuple[str, str],
                       gate: tuple[GateSpec, Path] | None = None, notes: list[str] | None = None,
                       sources: dict[str, tuple[str, ...]] | None = None) -> dict:
    """Write ``out/reproduce.md`` (and CSVs, the figure); return paths and a terminal summary."""
    runs = {arm: load_run(folder) for arm, folder in arm_folders.items()}
    check_same_protocol(list(runs.values()))
    out.mkdir(parents=True, exist_ok=True)
    head: list[str] = []
    gate_info: dict = {}
    if gate is not None:
        passed, line = gate_verdict(gate[0], load_run(gate[1]))
        head.append(line)
        gate_info = {"gate_passed": passed, "gate": line}
    chosen = contrasts(list(runs), primary)
    arms = arms_table(runs)
    contrast_table, done = contrast_rows(runs, chosen)
    lines = interpretation(chosen, done)
    per_task = per_task_table(runs)
    retrieval = retrieval_table(runs, sources or {})
    figure = plot_paired_differences(runs, primary[1], out / "paired_differences.png")
    protocol = next(iter(runs.values())).manifest["protocol"]["name"]
    privileged = any(run.privileged for run in runs.values())
    text = "\n".join([
        f"# {title}", "", *head, "", *[f"- {n}" for n in notes or []], "",
        f"## Arms (protocol {protocol}; every arm on the same seeds)", "", to_markdown(arms), "",
        *([PRIVILEGED_NOTE, ""] if privileged else []),
        "## Contrasts (paired over the same (task, seed) episodes)", "", to_markdown(contrast_table), "",
        *[f"- {line}" for line in lines], "",
        "MDE: the minimum detectable difference, the smallest difference in average success the McNemar test "
        "would find with 80% power at the 5% level given the pairs played and how often the arms disagreed "
        "(Connor 1987). A contrast that finds nothing rules out only differences larger than it.", "",
        "![paired differences](paired_differences.png)", "",
        "## Per task (success %)", "", to_markdown(per_task), "",
        *(["## Where the memory arms retrieve", "", to_markdown(retrieval), "",
           "Transfer sources are the split's transfer map (`vlapro-bench list`).", ""] if len(retrieval) else []),
        "## The paper's", "", to_markdown(paper_table(suite)), "", f"Source: {PAPER_SOURCE}. {REAL_WORLD_NOTE}", "",
    ])
    (out / "reproduce.md").write_text(text)
    arms.to_csv(out / "arms.csv", index=False)
    contrast_table.to_csv(out / "contrasts.csv", index=False)
    per_task.to_csv(out / "per_task.csv", index=False)
    if len(retrieval):
        retrieval.to_csv(out / "retrieval.csv", index=False)
    summary = "\n".join([*head, "", "ARMS", to_markdown(arms), "", "CONTRASTS", to_markdown(contrast_table), "",
                         *lines, "", "PAPER", to_markdown(paper_table(suite))])
    primary_overall = done[chosen[0]].overall
    return {"markdown": str(out / "reproduce.md"), "figure": str(figure), "summary": summary, **gate_info,
            "primary": {"contrast": f"{primary[0]} vs {primary[1]}",
                        "difference_pp": 100 * primary_overall.difference.estimate,
                        "low_pp": 100 * primary_overall.difference.low,
                        "high_pp": 100 * primary_overall.difference.high,
                        "mcnemar_p": primary_overall.p_value, "mde_pp": 100 * primary_overall.mde,
                        "pairs": primary_overall.pairs}}


__all__ = ["Contrast", "TARGET_MDE_PP", "UNDEFINED", "arms_table", "contrasts", "gate_verdict", "interpretation",
           "paper_table", "per_task_table", "plot_paired_differences", "retrieval_table", "write_side_by_side"]
