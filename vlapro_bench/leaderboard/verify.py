"""Verify an entry by re-running a sample of its recorded episodes.

The numbers of an entry can be consistent and still be made up. A policy that can be loaded
(a registry name, or a checkpoint / memory-bank folder the verifier holds) is re-run on a
sample of the recorded (task, seed) episodes that the submitter cannot predict (fresh seed,
weighted toward claimed successes, the whole run when it is small: see
:mod:`~vlapro_bench.leaderboard.sampling`) through the evaluator's own episode function
(:meth:`~vlapro_bench.evaluation.worker.EpisodeWorker.play`), with the same protocol, step
limits, environment settings and policy seeds, and every outcome (success, steps, instruction,
the env's episode seed) must match the record. The rebuilt policy must not be privileged (read
simulator state) if the entry says it is not. For the expert filter, the seeds an entry
excluded are re-checked: the scripted expert must really fail them.

Unlike validation, verification runs code: the policy. It never imports a ``module:factory``
or loads a folder because an entry says so; the verifier names those with ``policy=``. The
weights a registry policy loads are read from the entry's folder and must hash to the entry's
fingerprint (:mod:`vlapro_bench.leaderboard.weights`); no other argument of an entry may name a
file of the working directory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlapro_bench.evaluation.protocol import Protocol
from vlapro_bench.evaluation.records import EpisodeRecord
from vlapro_bench.evaluation.worker import EpisodeWorker, WorkerConfig
from vlapro_bench.leaderboard.safe_io import is_url
from vlapro_bench.leaderboard.sampling import draw_sample_seed, sample_size, select_episodes
from vlapro_bench.leaderboard.schema import LeaderboardEntry
from vlapro_bench.leaderboard.validate import resolve_protocol, validate_entry
from vlapro_bench.leaderboard.weights import WeightsError, published, resolve_weights, weights_args
from vlapro_bench.policy import is_registered
from vlapro_bench.registry import get_task_class

#: Compared between the record and the re-run (wall time and policy extras may differ).
COMPARED_FIELDS = ("success", "steps", "instruction", "episode_seed")


class VerifyError(ValueError):
    """An entry that cannot be verified (invalid, no records, a policy that cannot be loaded)."""


@dataclass(frozen=True)
class EpisodeCheck:
    task: str
    seed: int
    recorded: dict[str, Any]
    replayed: dict[str, Any]

    @property
    def match(self) -> bool:
        return self.recorded == self.replayed

    def describe(self) -> str:
        if self.match:
            return f"{self.task} seed {self.seed}: match (success={self.recorded['success']}, " \
                   f"steps={self.recorded['steps']})"
        diffs = ", ".join(f"{k}: recorded {self.recorded[k]!r}, re-run {self.replayed[k]!r}"
                          for k in self.recorded if self.recorded[k] != self.replayed[k])
        return f"{self.task} seed {self.seed}: MISMATCH ({diffs})"


@dataclass(frozen=True)
class ExcludedCheck:
    task: str
    seed: int
    expert_solves: bool

    @property
    def match(self) -> bool:
        return not self.expert_solves

    def describe(self) -> str:
        verdict = "MISMATCH: the expert solves it, so it must not be excluded" if self.expert_solves else \
            "the expert fails it, as recorded"
        return f"{self.task} excluded seed {self.seed}: {verdict}"


@dataclass
class VerifyResult:
    entry: LeaderboardEntry
    episodes: list[EpisodeCheck] = field(default_factory=list)
    excluded: list[ExcludedCheck] = field(default_factory=list)
    sample_seed: int | None = None  # the seed that drew the sample (repeat it with --sample-seed)
    recorded: int = 0  # episodes in the records

    @property
    def ok(self) -> bool:
        return all(c.match for c in [*self.episodes, *self.excluded])

    @property
    def mismatches(self) -> list[EpisodeCheck | ExcludedCheck]:
        return [c for c in [*self.episodes, *self.excluded] if not c.match]

    def text(self) -> str:
        checks = [*self.episodes, *self.excluded]
        head = (f"{self.entry.id}: {len(checks) - len(self.mismatches)}/{len(checks)} checks reproduce the record"
                + ("" if self.ok else f"; {len(self.mismatches)} MISMATCH(ES)"))
        return "\n".join([head, self.sample_text(), *(f"  {c.describe()}" for c in checks)])

    def sample_text(self) -> str:
        """Which episodes were re-run, and how to draw the same sample again."""
        claimed = sum(c.recorded["success"] for c in self.episodes)
        what = ("every recorded episode" if len(self.episodes) == self.recorded else
                f"a sample of {len(self.episodes)} of {self.recorded} recorded episodes")
        plural = "" if claimed == 1 else "es"
        return (f"  re-ran {what} ({claimed} claimed success{plural}); sample seed {self.sample_seed} "
                f"(repeat with --sample-seed {self.sample_seed})")


def _refuse_working_directory_files(entry: LeaderboardEntry, overrides: dict[str, Any]) -> None:
    """An entry's text arguments that are not declared weights must not name files of the working
    directory: a policy would read them from there (``ckpt``, ``secret.npy``), not from the entry."""
    weights = weights_args(entry.load)
    for key, value in sorted(entry.load.kwargs.items()):
        if key in weights or key in overrides or not isinstance(value, str) or is_url(value):
            continue
        if os.path.lexists(value):
            raise VerifyError(f"{entry.id}: load.kwargs.{key}={value!r} names a file or folder in the working "
                              f"directory, and verify never reads an entry's files from there; run verify from "
                              f"another folder, or pass --policy-arg {key}=... yourself")


def _policy_spec(entry: LeaderboardEntry, folder: Path, policy: str | None,
                 kwargs: dict[str, Any] | None) -> tuple[str, dict]:
    overrides = dict(kwargs or {})
    merged = {**entry.load.kwargs, **overrides}
    try:
        merged.update(resolve_weights(entry.load, entry.id, folder, overrides))
    except WeightsError as exc:
        raise VerifyError(str(exc)) from None
    _refuse_working_directory_files(entry, overrides)
    if policy is not None:
        return policy, merged
    if entry.load.kind == "registry":
        if not is_registered(entry.load.name):  # validation refuses it; a folder of that name is never loaded
            raise VerifyError(f"{entry.id}: load.name {entry.load.name!r} is not a registered policy")
        return entry.load.name, merged
    if entry.load.kind == "module":
        raise VerifyError(f"{entry.id} names code to import ({entry.load.name}); verify does not import what an "
                          f"entry names. If you trust it, pass --policy {entry.load.name}")
    raise VerifyError(f"{entry.id} was evaluated with a {entry.load.name} folder; pass it with --policy FOLDER "
                      f"(its weights must hash to {entry.load.fingerprint})")


def _worker(entry: LeaderboardEntry, protocol: Protocol, tasks: Sequence[str], spec: str, kwargs: dict,
            folder: str) -> EpisodeWorker:
    def registered(task: str) -> int:
        return get_task_class(entry.suite, task).spec.max_episode_steps

    settings = entry.evaluation
    env_kwargs = {"backend": settings.backend, "obs_mode": settings.obs_mode, "control_mode": settings.control_mode,
                  "camera_size": tuple(settings.camera_size),
                  "cameras": tuple(settings.cameras) if settings.cameras is not None else None}
    config = WorkerConfig(suite=entry.suite, tasks=tuple(tasks), env_kwargs=env_kwargs,
                          instruction_pool=protocol.instruction_pool,
                          step_limits={t: protocol.step_limit(t, registered) for t in tasks}, policy=spec,
                          policy_kwargs=kwargs, protocol_hash=entry.protocol.hash, run_folder=folder)
    return EpisodeWorker(config)


def _outcome(record: EpisodeRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in COMPARED_FIELDS}


def verify_entry(path: str | Path, episodes: int | None = None, *, policy: str | None = None,
                 policy_kwargs: dict[str, Any] | None = None, protocol: Protocol | None = None,
                 tasks: Sequence[str] | None = None, sample_seed: int | None = None,
                 check_excluded: bool = True) -> VerifyResult:
    """Re-run ``episodes`` recorded episodes of the entry at ``path`` and compare the outcomes.

    The entry must first pass validation with its records file (so the sample is drawn from the
    records the entry's hash vouches for). The sample (:mod:`~vlapro_bench.leaderboard.sampling`)
    is drawn with ``sample_seed``, by default a fresh one from OS entropy; ``episodes=None``
    re-runs a small run whole, else the default sample size. ``policy`` / ``policy_kwargs``
    override how the policy is built (required for module and folder policies); a folder's
    weights fingerprint must equal the entry's.
    """
    report = validate_entry(path, protocol=protocol, tasks=tasks, require_records=True)
    if not report.ok or report.entry is None or report.records is None:
        raise VerifyError(f"fix the entry before verifying it:\n{report.text()}")
    entry, records = report.entry, report.records
    resolved = resolve_protocol(entry.protocol.name, protocol)
    spec, kwargs = _policy_spec(entry, Path(path).parent, policy, policy_kwargs)
    try:
        k = sample_size(len(records), episodes)
    except ValueError as exc:
        raise VerifyError(str(exc)) from None
    seed = draw_sample_seed() if sample_seed is None else int(sample_seed)
    sample = select_episodes(records, k, seed)
    result = VerifyResult(entry, sample_seed=seed, recorded=len(records))
    with tempfile.TemporaryDirectory(prefix="vlapro-verify-") as scratch:
        worker = _worker(entry, resolved, sorted(entry.tasks), spec, kwargs, scratch)
        try:
            try:
                card = worker.policy_card()
            except (ValueError, TypeError, LookupError, OSError, ImportError) as exc:  # the env or policy refused
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise VerifyError(f"{entry.id}: cannot rebuild the entry's environment and policy: {first}") from None
            if card.get("privileged") and not entry.policy.privileged:
                raise VerifyError(f"{entry.id}: the rebuilt policy reads simulator state (privileged), but the entry "
                                  f"says privileged: false; set it to true (the entry is then an unranked reference)")
            folder_weights = entry.load.fingerprint is not None and not published(entry.load)  # else checked above
            if folder_weights and card.get("fingerprint") != entry.load.fingerprint:
                raise VerifyError(f"the policy's weights hash to {card.get('fingerprint')}, the entry was evaluated "
                                  f"with {entry.load.fingerprint}: not the same policy")
            for record in sample:
                replay = worker.play(record.task, record.seed)
                result.episodes.append(EpisodeCheck(record.task, record.seed, _outcome(record), _outcome(replay)))
            if check_excluded and resolved.expert_filter:
                for task, task_result in sorted(entry.tasks.items()):
                    for seed in task_result.excluded_seeds:
                        result.excluded.append(ExcludedCheck(task, seed, worker.expert_solves(task, seed)))
        finally:
            worker.close()
    return result
