"""Build a leaderboard entry from a finished evaluation run and a policy card.

The run folder (``vlapro-bench eval --out RUN``) already holds everything an entry needs: the
protocol and its hash, the policy's identity and card, the environment settings, the package
versions, the seeds the expert filter chose, and the per-episode records. ``submit`` takes the
protocol's episodes from it (refusing a partial or unfinished run), computes the numbers the
same way ``validate`` recomputes them, runs every validation check on the result, and only then
writes ``<board>/<id>.json`` and ``<board>/<id>.episodes.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vlapro_bench.evaluation.manifest import ManifestError, RunManifest
from vlapro_bench.evaluation.protocol import Protocol, split_line_of
from vlapro_bench.evaluation.records import EpisodeRecord, RecordsError
from vlapro_bench.evaluation.results import FILTER_FILE, NotAResultsFolderError, load_results
from vlapro_bench.leaderboard.records import canonical_bytes, records_sha256
from vlapro_bench.leaderboard.results import average_result, task_result
from vlapro_bench.leaderboard.safe_io import UnsafeFileError, is_url, link_problem, looks_like_path, read_json_file
from vlapro_bench.leaderboard.schema import CardFile, LeaderboardEntry, board_name, entry_json
from vlapro_bench.leaderboard.validate import Problem, ValidationReport, check_entry
from vlapro_bench.leaderboard.weights import weights_fingerprint
from vlapro_bench.policy import is_registered, policy_traits

RECORDS_NAME = "{id}.episodes.jsonl"


class SubmitError(ValueError):
    """A run or card that cannot become an entry; ``problems`` lists every reason."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()):
        details = "".join(f"\n  - {p}" for p in problems)
        super().__init__(message + details)
        self.problems = list(problems)


@dataclass
class Submission:
    entry: LeaderboardEntry
    records: list[EpisodeRecord]
    entry_path: Path
    records_path: Path
    report: ValidationReport


def slugify(name: str) -> str:
    """An entry id from a display name: 'tinyvla + VLA-Pro (k=2)' -> 'tinyvla-vla-pro-k-2'."""
    slug = re.sub(r"[^a-z0-9._]+", "-", name.casefold()).strip("-._")
    slug = re.sub(r"\.{2,}", ".", slug)[:64].strip("-._")
    if not slug:
        raise SubmitError(f"cannot make an entry id from the name {name!r}; pass --id")
    return slug


def read_card(path: str | Path) -> CardFile:
    """The submitter's policy card: a JSON file read with the same limits as an entry."""
    path = Path(path)
    try:
        data, _ = read_json_file(path)
    except UnsafeFileError as exc:
        raise SubmitError(f"card {path}: {exc}") from None
    try:
        return CardFile.model_validate_json(data)
    except ValidationError as exc:
        problems = [Problem("schema", f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}") for e in exc.errors()]
        raise SubmitError(f"card {path} does not match the policy card format", problems) from None


@dataclass
class FinishedRun:
    """What ``submit`` reads from a run folder."""

    manifest: RunManifest
    protocol: Protocol
    records: dict[str, list[EpisodeRecord]]  # the protocol's episodes, per task, in seed order
    excluded: dict[str, list[int]]


def read_run(run: str | Path) -> FinishedRun:
    run = Path(run)
    try:
        results = load_results(run)
        protocol = results.protocol()
    except (NotAResultsFolderError, ManifestError) as exc:
        raise SubmitError(str(exc)) from None
    except RecordsError as exc:
        raise SubmitError(f"{run}: {exc}") from None
    manifest, recorded, chosen = results.manifest, results.records, results.chosen_seeds
    if chosen is None:
        raise SubmitError(f"{run} has no {FILTER_FILE}: the run never chose its seeds. Finish it first.")
    n = protocol.episodes_per_task
    records: dict[str, list[EpisodeRecord]] = {}
    excluded: dict[str, list[int]] = {}
    for task in manifest.tasks:
        seeds = list(chosen[task].seeds if task in chosen else [])[:n]
        if len(seeds) < n:
            raise SubmitError(f"{run} is a partial run: {task} has {len(seeds)} of the protocol's {n} episodes per "
                              f"task. Re-run the same eval command without --episodes to finish it.")
        missing = [seed for seed in seeds if (task, seed) not in recorded]
        if missing:
            raise SubmitError(f"{run} is unfinished: {task} lacks {len(missing)} of its {n} episodes. Re-run the "
                              f"same eval command; it resumes where it stopped.")
        records[task] = [recorded[(task, seed)] for seed in seeds]
        excluded[task] = [int(s) for s in chosen[task].excluded]
    if not records:
        raise SubmitError(f"{run}/manifest.json lists no tasks")
    return FinishedRun(manifest, protocol, records, excluded)


def _policy_kwargs(recorded: dict[str, Any], replacements: dict[str, Any] | None,
                   weights: tuple[str, ...] = ()) -> dict[str, Any]:
    """The run's policy arguments, with local paths replaced where the submitter asks: a path
    such as ``/home/me/runs/bank`` means nothing on another machine and is refused by validation,
    so it may be recorded as a path inside the leaderboard folder, a download URL, or (for the
    ``weights`` arguments) null: not published. Only path-like arguments and the policy's
    declared weights arguments can be replaced; the others are what the policy ran with."""
    kwargs = dict(recorded)
    for key, value in (replacements or {}).items():
        if key not in kwargs:
            raise SubmitError(f"--policy-arg {key}: the run has no policy argument {key!r} "
                              f"(it has {sorted(kwargs) or 'none'})")
        if key not in weights and not (isinstance(kwargs[key], str) and looks_like_path(kwargs[key])):
            raise SubmitError(f"--policy-arg {key}: only path arguments can be replaced; {key}={kwargs[key]!r} is "
                              f"what the policy ran with")
        kwargs[key] = value
    return kwargs


def _weights_fingerprint(recorded: dict[str, Any], kwargs: dict[str, Any], weights: tuple[str, ...],
                         folder: Path | None) -> str | None:
    """The fingerprint of the weights as the entry publishes them: the copy in the leaderboard
    folder, or, for a download URL, what the run loaded. ``None`` when one of them is not there
    to hash (validation then says which)."""
    paths: dict[str, Path] = {}
    for key in weights:
        value = kwargs.get(key)
        if value is None:
            continue
        if isinstance(value, str) and is_url(value):
            path = Path(str(recorded.get(key))).expanduser()
            if not path.exists():
                raise SubmitError(f"--policy-arg {key}: to fingerprint the weights published at {value}, submit "
                                  f"hashes what the run loaded, {path}, which is not here; run submit where it is")
        elif folder is not None and isinstance(value, str) and link_problem(value, folder) is None:
            path = folder / value
        else:
            return None
        if not path.exists():
            return None
        paths[key] = path
    return weights_fingerprint(paths) if paths else None


def _load_spec(manifest: RunManifest, replacements: dict[str, Any] | None,
               folder: Path | None = None) -> dict[str, Any]:
    identity, card = manifest.identity, manifest.policy_card
    kind = card.get("kind", "registry")
    recorded = identity.get("policy_kwargs", {})
    registered = kind == "registry" and is_registered(identity["policy"])
    weights = policy_traits(identity["policy"]).weights if registered else ()
    kwargs = _policy_kwargs(recorded, replacements, weights)
    fingerprint = identity.get("policy_fingerprint")
    if weights:
        fingerprint = _weights_fingerprint(recorded, kwargs, weights, folder)
    if kind in ("registry", "module"):
        return {"kind": kind, "name": identity["policy"], "kwargs": kwargs, "fingerprint": fingerprint}
    return {"kind": "folder", "name": kind, "kwargs": kwargs, "fingerprint": fingerprint}


def _privileged(card: CardFile, manifest: RunManifest) -> bool:
    measured = manifest.privileged
    if card.privileged is False and measured:
        raise SubmitError("the card says privileged=false, but the evaluated policy reports privileged=True (it "
                          "reads simulator state); such a policy is listed as a privileged reference")
    return bool(card.privileged) or measured


def build_entry(run: FinishedRun, card: CardFile, split: str, entry_id: str | None = None,
                today: dt.date | None = None, policy_args: dict[str, Any] | None = None,
                folder: Path | None = None) -> tuple[LeaderboardEntry, list[EpisodeRecord]]:
    """The entry of ``run``; ``folder`` is the leaderboard folder it will sit in (where published
    weights are hashed)."""
    manifest, identity = run.manifest, run.manifest.identity
    tasks = {task: task_result(sum(r.success for r in recs), len(recs), run.excluded[task])
             for task, recs in sorted(run.records.items())}
    episodes = [r for recs in run.records.values() for r in recs]
    entry_id = entry_id or slugify(card.name)
    provenance, git = manifest.provenance, manifest.provenance.git
    data = {
        "id": entry_id,
        "suite": identity["suite"],
        "split": split,
        "policy": {**card.model_dump(mode="json"), "privileged": _privileged(card, manifest)},
        "protocol": {"name": run.protocol.name, "hash": manifest.protocol_hash},
        "evaluation": {key: identity[key] for key in ("backend", "obs_mode", "control_mode", "camera_size",
                                                      "cameras")},
        "load": _load_spec(manifest, policy_args, folder),
        "tasks": {task: result.model_dump(mode="json") for task, result in tasks.items()},
        "average": average_result([(r.successes, r.episodes) for r in tasks.values()]).model_dump(mode="json"),
        "records": {"file": RECORDS_NAME.format(id=entry_id), "sha256": records_sha256(episodes),
                    "episodes": len(episodes)},
        "provenance": {"packages": provenance.packages, "git_commit": git.commit if git else None,
                       "git_dirty": git.dirty if git else None, "python": provenance.python},
        "submitted": (today or dt.date.today()).isoformat(),
    }
    try:
        return LeaderboardEntry.model_validate_json(json.dumps(data)), episodes
    except ValidationError as exc:
        problems = [Problem("schema", f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}") for e in exc.errors()]
        raise SubmitError("the run and card do not make a valid entry", problems) from None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def submit(run: str | Path, card: str | Path | CardFile, leaderboards: str | Path = "leaderboards", *,
           split: str = "unseen", entry_id: str | None = None, protocol: Protocol | None = None,
           tasks: Sequence[str] | None = None, replace: bool = False, today: dt.date | None = None,
           policy_args: dict[str, Any] | None = None) -> Submission:
    """Make, validate and write the entry of ``run`` into ``leaderboards/<suite>-<split>/`` (or
    ``<suite>-<line>-<split>/`` under a named split line's protocol, such as robotwin-zw7-v0).

    Nothing is written unless the entry passes every check ``validate`` makes. ``protocol`` and
    ``tasks`` are the maintainer's overrides, as for ``validate``; ``policy_args`` records
    other values for the run's path arguments (local paths are refused in an entry).
    """
    finished = read_run(run)
    card = card if isinstance(card, CardFile) else read_card(card)
    suite = finished.manifest.identity["suite"]
    line = split_line_of(finished.protocol.name, suite)
    board = Path(leaderboards) / board_name(suite, split, line)
    entry, episodes = build_entry(finished, card, split, entry_id, today, policy_args, board)
    folder = Path(leaderboards) / entry.board
    entry_path = folder / f"{entry.id}.json"
    if entry_path.exists() and not replace:
        raise SubmitError(f"{entry_path} exists; pass --replace to overwrite it, or --id to add another entry")
    records_data = canonical_bytes(episodes)
    report = check_entry(entry, folder, own_path=entry_path, records_data=records_data,
                         records_name=entry.records.file, protocol=protocol, tasks=tasks, require_records=True,
                         today=today)
    if not report.ok:
        raise SubmitError(f"the entry for {run} would not pass validation; nothing was written", report.problems)
    folder.mkdir(parents=True, exist_ok=True)
    records_path = folder / entry.records.file
    _write_atomic(records_path, records_data)
    _write_atomic(entry_path, entry_json(entry).encode("utf-8"))
    return Submission(entry, episodes, entry_path, records_path, report)
