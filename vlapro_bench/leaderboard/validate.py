"""Validate leaderboard entries: untrusted JSON in, a list of problems out, no code run.

Checks, in order: the file (``.json``, regular file, at most :data:`MAX_ENTRY_BYTES`, strict
JSON), the schema (pydantic, extra fields forbidden), where it sits (``<suite>-<split>/<id>.json``),
every path-like field (no traversal, no absolute paths, no symlink escapes), the protocol (a
packaged protocol, or one the maintainer passes, whose hash equals the entry's), completeness
(every task of the split, the protocol's episode count per task), the numbers (rates and
intervals recomputed), the records file when present (canonical hash, counts, and that its
seeds are the protocol's seeds), unique names within the folder (after Unicode normalisation,
lookalikes folded), a registry policy that is registered, and a ``privileged: false`` that the
registered policy's declared traits (:class:`~vlapro_bench.policy.PolicyTraits`) or the records
do not contradict.

Validation never builds or runs a policy and never imports code an entry names (for a registry
policy it reads the traits the registered package declares), never opens anything outside the
leaderboard folder except files the maintainer names on the command line, and reports every
problem it finds at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

from pydantic import ValidationError

from vlapro_bench.env import MAX_CAMERA_SIZE
from vlapro_bench.evaluation.protocol import Protocol, ProtocolError, available_protocols, load_protocol
from vlapro_bench.evaluation.records import EpisodeRecord
from vlapro_bench.leaderboard.names import name_key
from vlapro_bench.leaderboard.records import RecordsFileError, parse_records, records_sha256
from vlapro_bench.leaderboard.results import average_problems, counts_by_task, expected_seeds, task_problems
from vlapro_bench.leaderboard.safe_io import (
    MAX_ENTRY_BYTES,
    MAX_RECORDS_BYTES,
    UnsafeFileError,
    link_problem,
    looks_like_path,
    read_json_file,
    read_limited,
    relative_path_problem,
)
from vlapro_bench.leaderboard.schema import LeaderboardEntry, board_name, parse_entry
from vlapro_bench.leaderboard.weights import weights_args, weights_problems
from vlapro_bench.policy import is_registered, policy_names, policy_traits
from vlapro_bench.sim.suites import suite_profile
from vlapro_bench.splits import SplitError, available_splits, load_split

#: Files a leaderboard folder may hold besides entries: the rendered table and the records.
RENDERED_FILE = "README.md"
RECORDS_SUFFIX = ".jsonl"
EARLIEST_DATE = dt.date(2024, 1, 1)
#: The leaderboard folders a leaderboards root may hold: one per suite and split (``LeaderboardEntry.board``).
#: A named split line (zw7) has its own folders, ``robotwin-zw7-unseen``.
BOARD_NAMES = frozenset(board_name(suite, split, line)
                        for suite in get_args(LeaderboardEntry.model_fields["suite"].annotation)
                        for split in get_args(LeaderboardEntry.model_fields["split"].annotation)
                        for line in ["", *sorted({n for s, n, _ in available_splits() if s == suite and n})])

__all__ = ["MAX_ENTRY_BYTES", "Problem", "ValidationReport", "board_folders", "check_entry", "validate_entry",
           "validate_folder", "validate_path"]


@dataclass(frozen=True)
class Problem:
    """One reason an entry is refused: a stable ``code`` (tests and tools match on it) and a
    message that says what is wrong and what to do."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


@dataclass
class ValidationReport:
    path: Path
    entry: LeaderboardEntry | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    records: list[EpisodeRecord] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def codes(self) -> set[str]:
        return {p.code for p in self.problems}

    def text(self) -> str:
        head = f"{self.path}: {'OK' if self.ok else f'{len(self.problems)} problem(s)'}"
        lines = [head, *(f"  - {p}" for p in self.problems), *(f"  note: {n}" for n in self.notes)]
        return "\n".join(lines)


def split_tasks(suite: str, split: str, version: int, line: str = "") -> tuple[str, ...]:
    """The tasks an entry for ``suite``/``split`` must cover (a seam tests may replace); ``line``
    is the protocol's split line (``""``, ``zw7``, ...)."""
    return load_split(suite, version, name=line).tasks(split)


def resolve_protocol(name: str, override: Protocol | None) -> Protocol:
    """The protocol an entry names: the maintainer's ``override``, or a packaged protocol by name.
    A protocol file path inside an entry is never followed."""
    if override is not None:
        return override
    if name not in available_protocols():
        raise ProtocolError(f"unknown protocol {name!r}; packaged protocols: {', '.join(available_protocols())}. "
                            f"A maintainer can pass another with --protocol FILE.")
    return load_protocol(name)


def load_entry(path: Path) -> tuple[LeaderboardEntry | None, list[Problem]]:
    """Read and schema-check one entry file; never raises for bad content."""
    try:
        data, _ = read_json_file(path, MAX_ENTRY_BYTES)
    except UnsafeFileError as exc:
        return None, [Problem(exc.code, str(exc))]
    try:
        return parse_entry(data), []
    except ValidationError as exc:
        return None, [Problem("schema", f"{path.name}: {_describe(err)}") for err in exc.errors()]


def _describe(err: dict) -> str:
    where = ".".join(str(part) for part in err["loc"]) or "entry"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown field (the format forbids extra fields; remove it)"
    if err["type"] == "missing":
        return f"{where}: required field is missing"
    return f"{where}: {err['msg']}"


def _path_problems(entry: LeaderboardEntry, folder: Path) -> list[Problem]:
    checks: list[tuple[str, str | None]] = [("policy.code", link_problem(entry.policy.code, folder)),
                                             ("records.file", relative_path_problem(entry.records.file, folder))]
    if entry.policy.weights is not None:
        checks.append(("policy.weights", link_problem(entry.policy.weights, folder)))
    weights = weights_args(entry.load)
    for key, value in entry.load.kwargs.items():
        if key not in weights and isinstance(value, str) and looks_like_path(value):
            checks.append((f"load.kwargs.{key}", link_problem(value, folder)))
    if looks_like_path(entry.load.name):
        checks.append(("load.name", relative_path_problem(entry.load.name, folder)))
    problems = [Problem("path", f"{where}: {why}") for where, why in checks if why]
    problems += [Problem(code, f"{where}: {why}") for code, where, why in weights_problems(entry.load, folder)]
    if not entry.records.file.endswith(RECORDS_SUFFIX):
        problems.append(Problem("file_type", f"records.file: {entry.records.file!r} must be a {RECORDS_SUFFIX} file"))
    return problems


def _load_problems(entry: LeaderboardEntry) -> list[Problem]:
    name, kind = entry.load.name, entry.load.kind
    if kind == "registry" and ":" not in name and not is_registered(name):
        return [Problem("load", f"load.name: {name!r} is not a registered policy ({', '.join(policy_names())}); "
                                f"a registry name is only ever looked up in the registry (a folder of that name is "
                                f"never loaded in its place). Use kind 'folder' with a fingerprint for weights")]
    if kind == "module" and name.count(":") != 1:
        return [Problem("schema", f"load.name: a module policy is 'package.module:factory', got {name!r}")]
    if kind != "module" and ":" in name:
        return [Problem("schema", f"load.name: {name!r} looks like module:factory but load.kind is {kind!r}")]
    if kind == "folder" and entry.load.fingerprint is None:
        return [Problem("schema", "load.fingerprint: a folder policy (checkpoint, bank) needs the sha256 of its "
                                  "weights so verify can tell it got the same ones")]
    return []


def _privileged_problems(entry: LeaderboardEntry) -> list[Problem]:
    """A registered policy that declares it reads simulator state cannot be listed as one that does not."""
    if entry.policy.privileged or entry.load.kind != "registry" or not is_registered(entry.load.name):
        return []
    if policy_traits(entry.load.name).reads_simulator(entry.load.kwargs):
        return [Problem("privileged", f"policy.privileged: false, but {entry.load.name!r} with these arguments reads "
                                      f"simulator state; set privileged to true (the entry is then listed as an "
                                      f"unranked reference)")]
    return []


def _settings_problems(entry: LeaderboardEntry) -> list[Problem]:
    """Evaluation settings the environment refuses: verify could not rebuild what the entry ran
    (the upstream backends keep the embedded suites' camera and control-mode names)."""
    settings, profile = entry.evaluation, suite_profile(entry.suite)
    problems = []
    if settings.control_mode not in profile.control_modes:
        problems.append(Problem("settings", f"evaluation.control_mode: {settings.control_mode!r} is not a control mode "
                                            f"of the {entry.suite} suite ({', '.join(profile.control_modes)})"))
    if settings.cameras is not None:
        unknown = sorted(set(settings.cameras) - set(profile.robot.cameras))
        if unknown or not settings.cameras:
            problems.append(Problem("settings", f"evaluation.cameras: {unknown or 'none'} are not cameras of the "
                                                f"{entry.suite} suite ({', '.join(profile.robot.cameras)})"))
    if max(settings.camera_size) > MAX_CAMERA_SIZE:
        problems.append(Problem("settings", f"evaluation.camera_size: {list(settings.camera_size)} is larger than "
                                            f"the environment renders ({MAX_CAMERA_SIZE} pixels a side)"))
    return problems


def _protocol_problems(entry: LeaderboardEntry, protocol: Protocol) -> list[Problem]:
    problems = []
    if protocol.name != entry.protocol.name:
        problems.append(Problem("protocol", f"protocol.name: entry names {entry.protocol.name!r}, the protocol "
                                            f"checked against is {protocol.name!r}"))
    actual = protocol.protocol_hash()
    if actual != entry.protocol.hash:
        problems.append(Problem("protocol", f"protocol.hash: {entry.protocol.hash[:12]}... is not the hash of "
                                            f"protocol {protocol.name} ({actual[:12]}...); the results were made "
                                            f"under other rules. Re-evaluate under {protocol.name}."))
    if protocol.suite != entry.suite:
        problems.append(Problem("protocol", f"protocol {protocol.name} is for suite {protocol.suite}, "
                                            f"the entry for {entry.suite}"))
    return problems


def _completeness_problems(entry: LeaderboardEntry, protocol: Protocol, tasks: Sequence[str]) -> list[Problem]:
    problems = [Problem("task_missing", f"tasks: {task} is missing; an entry covers every task of the "
                                        f"{entry.split} split (evaluate it and submit again)")
                for task in tasks if task not in entry.tasks]
    problems += [Problem("task_unknown", f"tasks: {task} is not a task of the {entry.suite} {entry.split} split")
                 for task in entry.tasks if task not in tasks]
    n = protocol.episodes_per_task
    for task, result in entry.tasks.items():
        if result.episodes != n:
            code = "too_few_episodes" if result.episodes < n else "episodes"
            problems.append(Problem(code, f"tasks.{task}.episodes: {result.episodes}, but protocol {protocol.name} "
                                          f"plays {n} episodes per task (a partial run cannot be submitted)"))
        if not protocol.expert_filter and result.excluded_seeds:
            problems.append(Problem("seeds", f"tasks.{task}.excluded_seeds: protocol {protocol.name} has no expert "
                                             f"filter, so no seed may be excluded"))
        if len(result.excluded_seeds) > protocol.max_expert_failures:
            problems.append(Problem("seeds", f"tasks.{task}.excluded_seeds: {len(result.excluded_seeds)} seeds, more "
                                             f"than the protocol's max_expert_failures={protocol.max_expert_failures}"))
    return problems


def _number_problems(entry: LeaderboardEntry) -> list[Problem]:
    problems = [Problem("numbers", f"tasks.{msg}") for task, result in entry.tasks.items()
                for msg in task_problems(task, result)]
    problems += [Problem("numbers", msg) for msg in average_problems(entry.tasks, entry.average)]
    total = sum(r.episodes for r in entry.tasks.values())
    if entry.records.episodes != total:
        problems.append(Problem("numbers", f"records.episodes: {entry.records.episodes}, but the tasks add up to "
                                           f"{total} episodes"))
    return problems


def _date_problems(entry: LeaderboardEntry, today: dt.date) -> list[Problem]:
    if not EARLIEST_DATE <= entry.submitted <= today + dt.timedelta(days=1):
        return [Problem("schema", f"submitted: {entry.submitted} is not a plausible submission date")]
    return []


def _records_problems(entry: LeaderboardEntry, records_data: bytes, name: str,
                      protocol: Protocol | None) -> tuple[list[Problem], list[EpisodeRecord] | None]:
    try:
        records = parse_records(records_data, name, entry.protocol.hash)
    except RecordsFileError as exc:
        return [Problem("records_content", str(exc))], None
    problems = []
    if not entry.policy.privileged and any(r.extras.get("privileged") is True for r in records):
        problems.append(Problem("privileged", f"policy.privileged: false, but {name} records episodes of a policy "
                                              f"that reported privileged: true; set privileged to true"))
    digest = records_sha256(records)
    if digest != entry.records.sha256:
        problems.append(Problem("records_hash", f"records.sha256: the entry says {entry.records.sha256[:12]}..., "
                                                f"{name} hashes to {digest[:12]}...; the records were changed after "
                                                f"the entry was made (or belong to another entry)"))
    counts = counts_by_task(records)
    for task in sorted(set(counts) | set(entry.tasks)):
        result = entry.tasks.get(task)
        k, n = counts.get(task, (0, 0))
        if result is None or (result.successes, result.episodes) != (k, n):
            claimed = f"{result.successes}/{result.episodes}" if result else "nothing"
            problems.append(Problem("records_content", f"{task}: the records hold {k}/{n} successes, the entry "
                                                       f"claims {claimed}"))
    if protocol is not None:
        by_task: dict[str, set[int]] = {}
        for record in records:
            by_task.setdefault(record.task, set()).add(record.seed)
        for task, result in entry.tasks.items():
            wanted = expected_seeds(protocol, result.episodes, result.excluded_seeds)
            if by_task.get(task, set()) != set(wanted):
                problems.append(Problem("seeds", f"{task}: the recorded seeds are not the protocol's first "
                                                 f"{result.episodes} seeds after the excluded ones "
                                                 f"({_seed_span(wanted)}); seeds cannot be chosen by the submitter"))
    return problems, records


def _seed_span(seeds: list[int]) -> str:
    return f"{seeds[0]}..{seeds[-1]}" if seeds else "none"


def _duplicate_problems(entry: LeaderboardEntry, folder: Path, own_path: Path | None) -> list[Problem]:
    problems = []
    mine = name_key(entry.policy.name)
    for other in sorted(folder.glob("*.json")):
        if own_path is not None and other.resolve() == own_path.resolve():
            continue
        try:
            _, data = read_json_file(other, MAX_ENTRY_BYTES)
        except UnsafeFileError:
            continue  # reported when that file is validated
        policy = data.get("policy")
        name = policy.get("name") if isinstance(policy, dict) else None
        if isinstance(name, str) and name_key(name) == mine:
            problems.append(Problem("duplicate", f"policy.name: {entry.policy.name!r} is already used by "
                                                 f"{other.name} (names are compared after Unicode normalisation, "
                                                 f"case and lookalike letters folded); pick another name, or "
                                                 f"replace that entry"))
        elif data.get("id") == entry.id:
            problems.append(Problem("duplicate", f"id: {entry.id!r} is already used by {other.name}"))
    return problems


def check_entry(entry: LeaderboardEntry, folder: Path, *, own_path: Path | None = None,
                records_data: bytes | None = None, records_name: str = "records",
                records_problem: Problem | None = None, protocol: Protocol | None = None,
                tasks: Sequence[str] | None = None, require_records: bool = False,
                today: dt.date | None = None) -> ValidationReport:
    """The semantic checks on a parsed entry that belongs in ``folder`` (also used by ``submit``
    before it writes anything). ``protocol`` and ``tasks`` override the packaged protocol and the
    split's task list (a maintainer's choice, never the entry's)."""
    report = ValidationReport(own_path or folder / f"{entry.id}.json", entry)
    add = report.problems.extend
    if folder.name != entry.board:
        add([Problem("folder", f"the entry is for {entry.board}/ but sits in {folder.name}/")])
    if own_path is not None and own_path.stem != entry.id:
        add([Problem("entry_id", f"id: {entry.id!r} but the file is {own_path.name}; name it {entry.id}.json")])
    add(_path_problems(entry, folder))
    add(_load_problems(entry))
    add(_privileged_problems(entry))
    add(_settings_problems(entry))
    add(_date_problems(entry, today or dt.date.today()))
    if "vlapro-bench" not in entry.provenance.packages:
        add([Problem("schema", "provenance.packages: the vlapro-bench version is missing")])
    resolved: Protocol | None = None
    try:
        resolved = resolve_protocol(entry.protocol.name, protocol)
    except ProtocolError as exc:
        add([Problem("protocol", f"protocol.name: {exc}")])
    if resolved is not None:
        add(_protocol_problems(entry, resolved))
        try:
            expected = tuple(tasks) if tasks is not None else split_tasks(entry.suite, entry.split,
                                                                          resolved.split_version, resolved.split)
        except SplitError as exc:
            add([Problem("task_unknown", f"no {entry.split} split for {entry.suite}: {exc}")])
        else:
            add(_completeness_problems(entry, resolved, expected))
    add(_number_problems(entry))
    if records_data is not None:
        problems, report.records = _records_problems(entry, records_data, records_name, resolved)
        add(problems)
    elif records_problem is not None:
        add([records_problem])
    elif require_records:
        add([Problem("records_missing", f"records.file: {entry.records.file} is not in the folder; publish the "
                                        f"per-episode records beside the entry")])
    else:
        report.notes.append(f"records file {entry.records.file} not found: its hash and seeds were not checked")
    add(_duplicate_problems(entry, folder, own_path))
    return report


def _read_records(entry: LeaderboardEntry, folder: Path,
                  given: Path | None) -> tuple[bytes | None, str, Problem | None]:
    """The records bytes: the file the maintainer names, else the entry's file if its path is safe."""
    if given is not None:
        path = given
    elif relative_path_problem(entry.records.file, folder) is None:
        path = folder / entry.records.file
        if not path.exists() and not path.is_symlink():
            return None, path.name, None
    else:
        return None, entry.records.file, None  # the unsafe path is reported by the path checks
    try:
        return read_limited(path, MAX_RECORDS_BYTES, (RECORDS_SUFFIX,)), path.name, None
    except UnsafeFileError as exc:
        return None, path.name, Problem(exc.code, f"records: {exc}")


def validate_entry(path: str | Path, *, records: str | Path | None = None, protocol: Protocol | None = None,
                   tasks: Sequence[str] | None = None, require_records: bool = False) -> ValidationReport:
    """Validate the entry file ``path`` inside its leaderboard folder."""
    path = Path(path)
    entry, problems = load_entry(path)
    if entry is None:
        return ValidationReport(path, None, problems)
    folder = path.parent
    data, name, problem = _read_records(entry, folder, Path(records) if records is not None else None)
    return check_entry(entry, folder, own_path=path, records_data=data, records_name=name, records_problem=problem,
                       protocol=protocol, tasks=tasks, require_records=require_records)


def validate_folder(folder: str | Path, *, protocol: Protocol | None = None, tasks: Sequence[str] | None = None,
                    require_records: bool = False) -> list[ValidationReport]:
    """Every entry of a leaderboard folder, plus a report for each file that does not belong there."""
    folder = Path(folder)
    if not folder.is_dir():
        return [ValidationReport(folder, None, [Problem("folder", f"{folder} is not a leaderboard folder")])]
    reports = [validate_entry(path, protocol=protocol, tasks=tasks, require_records=require_records)
               for path in sorted(folder.glob("*.json"))]
    referenced = {r.entry.records.file for r in reports if r.entry is not None}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".json" or path.name == ".gitkeep":
            continue
        regular = path.is_file() and not path.is_symlink()
        if regular and (path.name == RENDERED_FILE or (path.suffix == RECORDS_SUFFIX and path.name in referenced)):
            continue
        why = ("records file no entry refers to" if regular and path.suffix == RECORDS_SUFFIX
               else "only JSON entries, their .jsonl records and the rendered README.md belong here, as regular "
                    "files (no symlinks, folders or hidden files)")
        reports.append(ValidationReport(path, None, [Problem("file_type", f"{path.name}: {why}")]))
    return reports


def board_folders(root: str | Path) -> list[Path]:
    """The leaderboard folders (``<suite>-<split>``) directly under the leaderboards ``root``."""
    root = Path(root)
    return sorted(p for p in root.iterdir() if p.name in BOARD_NAMES and p.is_dir() and not p.is_symlink())


def is_leaderboards_root(path: str | Path) -> bool:
    """A folder that holds leaderboard folders rather than entries (``leaderboards/`` itself)."""
    path = Path(path)
    return path.is_dir() and path.name not in BOARD_NAMES and bool(board_folders(path))


def validate_path(path: str | Path, *, protocol: Protocol | None = None, tasks: Sequence[str] | None = None,
                  require_records: bool = False) -> list[ValidationReport]:
    """An entry file, a leaderboard folder, or the leaderboards root: every board under it, plus
    a report for each other visible folder there (it is not a leaderboard, so nothing in it counts)."""
    path = Path(path)
    options = {"protocol": protocol, "tasks": tasks, "require_records": require_records}
    if not is_leaderboards_root(path):
        return validate_folder(path, **options) if path.is_dir() else [validate_entry(path, **options)]
    reports = [report for board in board_folders(path) for report in validate_folder(board, **options)]
    for other in sorted(path.iterdir()):
        if other.is_dir() and other.name not in BOARD_NAMES and not other.name.startswith("."):
            reports.append(ValidationReport(other, None, [Problem("folder", f"{other.name}/ is not a leaderboard "
                                                                            f"folder; they are named "
                                                                            f"{', '.join(sorted(BOARD_NAMES))}")]))
    return reports
