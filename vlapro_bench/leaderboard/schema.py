"""The leaderboard entry format: strict, versioned pydantic models.

An entry is untrusted input, so the models refuse anything they do not name (``extra="forbid"``),
refuse type coercion (``strict=True``: ``"12"`` is not a number), and bound every string and
collection. Parse entries with :func:`parse_entry` (JSON text in, strict JSON-mode parsing);
the semantic checks that need the protocol, the split or the records file live in
:mod:`vlapro_bench.leaderboard.validate`.

A change to this format bumps :data:`FORMAT_VERSION`; old entries keep validating under the
version they declare only if the validator still knows it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from vlapro_bench.evaluation.protocol import split_line_of
from vlapro_bench.leaderboard.names import displayable

FORMAT_VERSION = 1
#: The confidence level of every interval in an entry (Wilson per task, bootstrap for the average).
CONFIDENCE = 0.95

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
#: The entry's file stem: lower case, digits, ``._-``; never a path.
EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
#: One line of printable text (no control characters, so it cannot break a table row; no
#: invisible or bidirectional format characters, so it cannot hide or reorder text: see
#: :mod:`vlapro_bench.leaderboard.names`).
Text = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$"),
                 AfterValidator(displayable)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$"),
                 AfterValidator(displayable)]
Description = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$"),
                        AfterValidator(displayable)]
#: A URL or a path relative to the leaderboard folder; checked for traversal by the validator.
Link = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f\s]+$"),
                 AfterValidator(displayable)]
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:+-]{1,120}$")]
Scalar = str | int | float | bool | None


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PolicyCard(StrictModel):
    """Who made the policy and what it is: shown in the table, never executed."""

    name: Name = Field(description="Display name, unique within a leaderboard folder (compared after Unicode "
                                   "normalisation, with lookalike letters folded).")
    backbone: Text = Field(description="Backbone model (tinyvla, RDT-1B, pi0.5, 'scripted', ...).")
    parameters: int = Field(ge=0, le=10**13, description="Trainable + frozen parameters; 0 for scripted policies.")
    training_data: Text = Field(description="What it was trained on (tasks, demonstrations per task, sources).")
    code: Link = Field(description="Code link: an http(s) URL, or a path inside the leaderboard folder.")
    weights: Link | None = Field(default=None, description="Where the weights are (URL or path in the folder).")
    privileged: bool = Field(description="True if the policy reads simulator state (e.g. the scripted expert).")
    description: Description = ""


class CardFile(PolicyCard):
    """The ``--card`` file of ``leaderboard submit``: a policy card whose ``privileged`` flag may be
    left out (the run's manifest knows whether the policy reads simulator state)."""

    privileged: bool | None = None


class TaskResult(StrictModel):
    successes: int = Field(ge=0)
    episodes: int = Field(ge=1, le=100_000)
    rate: float = Field(ge=0.0, le=1.0, description="successes / episodes")
    low: float = Field(ge=0.0, le=1.0, description="Wilson 95% interval, lower bound")
    high: float = Field(ge=0.0, le=1.0, description="Wilson 95% interval, upper bound")
    excluded_seeds: list[int] = Field(default_factory=list, max_length=10_000,
                                      description="Candidate seeds the expert filter dropped (the expert failed them).")


class AverageResult(StrictModel):
    """Split average: the mean of per-task rates (tasks weighted equally, as the paper's tables)."""

    rate: float = Field(ge=0.0, le=1.0)
    low: float = Field(ge=0.0, le=1.0)
    high: float = Field(ge=0.0, le=1.0)
    method: Literal["stratified_bootstrap", "pooled_wilson"] = "stratified_bootstrap"
    resamples: int = Field(ge=1000, le=20_000, description="Bounded: a validator recomputes the interval.")
    seed: int = Field(ge=0, le=2**32 - 1)


class ProtocolRef(StrictModel):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
    hash: Sha256


class RecordsRef(StrictModel):
    file: Link = Field(description="The per-episode records (JSONL), relative to the leaderboard folder.")
    sha256: Sha256 = Field(description="sha256 of the canonical records (see leaderboard.records).")
    episodes: int = Field(ge=1, le=10_000_000)


class EvaluationSettings(StrictModel):
    """The observation settings the policy was evaluated with (verify rebuilds the same env)."""

    backend: Literal["mujoco", "robotwin", "rlbench"]
    obs_mode: Literal["rgb", "rgbd", "state"]
    control_mode: Literal["qpos", "ee", "joint_delta", "joint_position", "ee_pose"]
    camera_size: tuple[Annotated[int, Field(ge=8, le=4096)], Annotated[int, Field(ge=8, le=4096)]]
    cameras: list[Token] | None = Field(default=None, max_length=16)


class PolicyLoad(StrictModel):
    """How ``leaderboard verify`` rebuilds the policy. Never used by validation."""

    kind: Literal["registry", "module", "folder"] = Field(
        description="registry: a registered name; module: package.module:factory; folder: a checkpoint or "
                    "memory-bank folder the verifier passes with --policy (its fingerprint is checked).")
    name: Token = Field(description="Registry name, 'module:factory', or the folder kind (checkpoint, ...).")
    kwargs: dict[Token, Scalar] = Field(default_factory=dict, max_length=64)
    fingerprint: Sha256 | None = Field(default=None, description="sha256 of the weights, for folder policies.")


class Provenance(StrictModel):
    packages: dict[Token, Token] = Field(max_length=200, description="Versions of the packages that shape results.")
    git_commit: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")] | None = None
    git_dirty: bool | None = None
    python: Token | None = None


def board_name(suite: str, split: str, line: str = "") -> str:
    """A leaderboard folder's name: one per suite, split line and side."""
    return f"{suite}-{line}-{split}" if line else f"{suite}-{split}"


class LeaderboardEntry(StrictModel):
    """One submission: ``leaderboards/<suite>-<split>/<id>.json``."""

    format_version: Literal[1] = FORMAT_VERSION
    id: EntryId
    suite: Literal["robotwin", "rlbench"]
    split: Literal["seen", "unseen"]
    policy: PolicyCard
    protocol: ProtocolRef
    evaluation: EvaluationSettings
    load: PolicyLoad
    confidence: Literal[0.95] = CONFIDENCE
    tasks: dict[Token, TaskResult] = Field(min_length=1, max_length=200)  # bounds the bootstrap a validator reruns
    average: AverageResult
    records: RecordsRef
    provenance: Provenance
    submitted: dt.date

    @property
    def board(self) -> str:
        """The leaderboard folder name this entry belongs in: ``<suite>-<split>``, or
        ``<suite>-<line>-<split>`` for a protocol of a named split line (``robotwin-zw7-unseen``)."""
        return board_name(self.suite, self.split, split_line_of(self.protocol.name, self.suite))


def parse_entry(text: str | bytes) -> LeaderboardEntry:
    """Strict JSON-mode parsing (raises ``pydantic.ValidationError``)."""
    return LeaderboardEntry.model_validate_json(text)


def entry_json(entry: LeaderboardEntry) -> str:
    """The file text of an entry: indented, keys in model order, trailing newline."""
    return entry.model_dump_json(indent=2) + "\n"
