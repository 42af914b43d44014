"""Render a leaderboard folder's entries as a Markdown table (``<folder>/README.md``).

Only entries that pass validation are rendered; a folder with an invalid entry is refused, so
the table never shows a number the validator has not recomputed. Entries are grouped by
protocol (results of different protocols are not comparable), sorted by average success (then
by the interval's lower bound, then by name), and privileged references (the scripted expert)
are marked and left unranked. Every text a submitter wrote is escaped before it reaches the
Markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from vlapro_bench.evaluation.protocol import Protocol, ProtocolError, available_protocols, load_protocol
from vlapro_bench.evaluation.published import NOT_COMPARABLE, published_for
from vlapro_bench.leaderboard.results import average_result
from vlapro_bench.leaderboard.safe_io import is_url
from vlapro_bench.leaderboard.schema import LeaderboardEntry
from vlapro_bench.leaderboard.validate import RENDERED_FILE, validate_folder
from vlapro_bench.leaderboard.weights import weights_args
from vlapro_bench.splits import SplitError, load_split

PRIVILEGED_MARK = "†"
SUITE_TITLES = {"robotwin": "RoboTwin", "rlbench": "RLBench"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]|#!~])")


class RenderError(ValueError):
    """A leaderboard folder that holds invalid entries."""


def escape(text: str) -> str:
    """Submitter text as inert Markdown: no HTML, links, images, emphasis or table breaks."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(" ".join(text.split()), quote=False))


def link(target: str, label: str) -> str:
    """A Markdown link to a validated URL or relative path; characters that could end it are encoded."""
    safe = quote(target, safe=":/?#=&%~+,;@-._") if is_url(target) else quote(target, safe="/-._~")
    return f"[{label}](<{safe}>)"


def percent(rate: float) -> str:
    return f"{100 * rate:.1f}"


def with_interval(rate: float, low: float, high: float) -> str:
    return f"{percent(rate)} [{percent(low)}, {percent(high)}]"


def parameters(count: int) -> str:
    if count == 0:
        return "–"
    for size, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if count >= size:
            return f"{count / size:.3g}{suffix}"
    return str(count)


def sort_key(entry: LeaderboardEntry) -> tuple:
    return (-entry.average.rate, -entry.average.low, entry.policy.name.casefold())


def _display(entry: LeaderboardEntry) -> str:
    return escape(entry.policy.name) + (f" {PRIVILEGED_MARK}" if entry.policy.privileged else "")


def split_groups_of(protocol_name: str) -> dict[str, tuple[str, ...]]:
    """The task groups of a packaged protocol's split (AGNOSTOS' level-1 and level-2), or none
    (also for a protocol this release does not ship); each becomes a column of the summary table,
    while ranks still follow the overall average."""
    if protocol_name not in available_protocols():  # a name from an entry is never read as a path
        return {}
    try:
        protocol = load_protocol(protocol_name)
        return dict(load_split(protocol.suite, protocol.split_version, name=protocol.split,
                               check_registered=False).groups)
    except (ProtocolError, SplitError):
        return {}


def _group_cell(entry: LeaderboardEntry, members: Sequence[str]) -> str:
    counts = [(entry.tasks[t].successes, entry.tasks[t].episodes) for t in members if t in entry.tasks]
    if len(counts) < len(members):  # a group average is over all its tasks or not shown
        return "–"
    avg = average_result(counts)
    return with_interval(avg.rate, avg.low, avg.high)


def _summary_table(entries: Sequence[LeaderboardEntry], groups: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    groups = groups or {}
    group_heads = "".join(f"{g}, % [95% CI] | " for g in groups)
    lines = [f"| Rank | Policy | Backbone | Parameters | {group_heads}Average success, % [95% CI] | Episodes | Code "
             "| Submitted |",
             "|---:|---|---|---:|" + "---|" * len(groups) + "---|---:|---|---|"]
    rank, ranked, previous = 0, 0, None
    for entry in entries:
        if entry.policy.privileged:
            shown = "–"
        else:
            ranked += 1
            tie = (entry.average.rate, entry.average.low)
            if tie != previous:  # equal average and lower bound share a rank ("1, 2, 2, 4")
                rank, previous = ranked, tie
            shown = str(rank)
        avg = entry.average
        lines.append(f"| {shown} | {_display(entry)} | {escape(entry.policy.backbone)} | "
                     f"{parameters(entry.policy.parameters)} | "
                     + "".join(f"{_group_cell(entry, members)} | " for members in groups.values())
                     + f"**{with_interval(avg.rate, avg.low, avg.high)}** | "
                     f"{entry.records.episodes} | {link(entry.policy.code, 'code')} | {entry.submitted} |")
    return lines


def _task_table(entries: Sequence[LeaderboardEntry]) -> list[str]:
    tasks = sorted({task for entry in entries for task in entry.tasks})
    lines = ["| Task | " + " | ".join(_display(e) for e in entries) + " |",
             "|---|" + "---|" * len(entries)]
    for task in tasks:
        cells = []
        for entry in entries:
            r = entry.tasks.get(task)
            cells.append(f"{r.successes}/{r.episodes} ({with_interval(r.rate, r.low, r.high)})" if r else "")
        lines.append(f"| `{task}` | " + " | ".join(cells) + " |")
    return lines


def _load_command(entry: LeaderboardEntry) -> str:
    """How ``leaderboard verify`` rebuilds the policy, as the ``--policy`` argument a reader would pass."""
    load = entry.load
    if load.kind == "folder":
        shown = f"{load.name} folder"
    else:
        weights = weights_args(load)
        args = " ".join(f"{k}={'(not published)' if v is None and k in weights else v}"
                        for k, v in sorted(load.kwargs.items()))
        shown = f"{load.name} {args}".strip()
    if load.fingerprint:
        shown += f", weights sha256 {load.fingerprint[:12]}"
    return shown


def _provenance_lines(entries: Sequence[LeaderboardEntry]) -> list[str]:
    """One paragraph per entry: what was run, with which settings and code version, and the card's description.
    Links in a card may point here (``README.md``) when the code has no public address of its own."""
    lines = []
    for entry in entries:
        ev, prov = entry.evaluation, entry.provenance
        version = prov.packages.get("vlapro-bench", "unknown")
        commit = f", commit `{prov.git_commit[:12]}`{' (dirty)' if prov.git_dirty else ''}" if prov.git_commit else ""
        cameras = ", ".join(ev.cameras) if ev.cameras else "all"
        lines += [f"- **{_display(entry)}** (`{entry.id}`): policy `{escape(_load_command(entry))}` "
                  f"({entry.load.kind}); {ev.backend} backend, {ev.obs_mode} {ev.camera_size[0]}x{ev.camera_size[1]} "
                  f"({escape(cameras)}), {ev.control_mode} control; vlapro-bench {escape(version)}{commit}. "
                  f"Training data: {escape(entry.policy.training_data)}."
                  + (f" {escape(entry.policy.description)}" if entry.policy.description else "")]
    return lines


def render_entries(board: str, entries: Sequence[LeaderboardEntry]) -> str:
    """The Markdown page of one leaderboard folder (``robotwin-unseen``, ``robotwin-zw7-unseen``)."""
    suite, _, rest = board.partition("-")
    line, _, split = rest.rpartition("-")
    title = f"# Leaderboard: {SUITE_TITLES.get(suite, suite)}{f' split {line}' if line else ''}, {split} tasks"
    lines = [title, "",
             "<!-- Generated by `vlapro-bench leaderboard render`; edit the JSON entries, not this file. -->", "",
             "Success rates in %, with 95% intervals: Wilson per task; for the average (the mean of per-task rates, "
             "every task weighted equally) a stratified bootstrap over episodes, or the pooled Wilson interval when "
             "every task is at 0% or 100% (where a bootstrap has nothing to resample). "
             f"{PRIVILEGED_MARK} privileged: the policy reads simulator state a deployed robot would not have; it is "
             "a reference, not ranked. How to submit: [leaderboards/README.md](../README.md).", ""]
    if not entries:
        return "\n".join([*lines, "No entries yet.", ""])
    groups: dict[tuple[str, str], list[LeaderboardEntry]] = {}
    for entry in entries:
        groups.setdefault((entry.protocol.name, entry.protocol.hash), []).append(entry)
    for (name, digest), group in sorted(groups.items()):
        group = sorted(group, key=sort_key)
        episodes = group[0].tasks[next(iter(group[0].tasks))].episodes
        lines += [f"## Protocol `{escape(name)}` (hash `{digest[:12]}`), {episodes} episodes per task", "",
                  *_summary_table(group, split_groups_of(name)), "", "### Per task", "",
                  *_task_table(group), "",
                  "### How each entry was produced", "", *_provenance_lines(group), ""]
    published = published_for(line)
    if published:
        lines += [f"## Published on split {line} (upstream simulator)", "",
                  f"Average success on the same tasks as reported by their authors, {NOT_COMPARABLE}.", "",
                  "| Method | Average success, % | Source |", "|---|---:|---|",
                  *(f"| {escape(r.method)}{f' ({escape(r.setting)})' if r.setting else ''} | {r.average:.2f} | "
                    f"{escape(r.source)} |" for r in published), ""]
    return "\n".join(lines)


def render_folder(folder: str | Path, *, protocol: Protocol | None = None, tasks: Sequence[str] | None = None,
                  require_records: bool = False) -> str:
    """Validate every entry of ``folder`` and render them; :class:`RenderError` if any is invalid."""
    folder = Path(folder)
    reports = validate_folder(folder, protocol=protocol, tasks=tasks, require_records=require_records)
    bad = [r for r in reports if not r.ok]
    if bad:
        raise RenderError("refusing to render invalid entries:\n" + "\n".join(r.text() for r in bad))
    return render_entries(folder.name, [r.entry for r in reports if r.entry is not None])


def write_rendered(folder: str | Path, *, check: bool = False, **kwargs) -> bool:
    """Write ``<folder>/README.md``; returns whether it changed. ``check``: only compare (for CI)."""
    folder = Path(folder)
    text = render_folder(folder, **kwargs)
    path = folder / RENDERED_FILE
    if path.is_symlink():  # validation refuses it too; never write through a link
        raise RenderError(f"{path} is a symlink; remove it and render again")
    changed = not path.is_file() or path.read_text(encoding="utf-8") != text
    if changed and not check:
        path.write_text(text, encoding="utf-8")
    return changed
