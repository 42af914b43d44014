"""The evaluation protocol: a versioned data file plus a typed, self-validating object.

A success rate means nothing without the rules that produced it, so every rule that changes
which episodes are played or how they are scored lives here, and its hash goes into every
episode record and run manifest. Two runs can be compared only when their hashes agree.

RoboTwin's protocol, which ``robotwin-v0`` follows (RoboTwin 2.0's ``script/eval_policy.py`` on
branch ``stable_2.0`` of RoboTwin-Platform/RoboTwin, and the ``instruction_type: unseen`` of its
shipped ``deploy_policy.yml`` files):
100 episodes per task, evaluation seeds disjoint from the collection seeds, a scripted-expert
pre-check per seed (a seed counts only if the expert solves it), a per-task step limit, the
first success ends the episode, and instructions drawn from the *unseen* template pool.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vlapro_bench.config_files import read_json_object

#: The one success rule the environments implement: ``terminated`` on the first step whose
#: success predicate holds; an episode is a success iff that happens before the step limit.
FIRST_SUCCESS = "first_success"


class ProtocolError(ValueError):
    """A protocol file or object that is malformed or breaks an invariant."""


#: Protocol fields added after protocols were first published: absent from the hash at their default.
ADDED_LATER = ("instruction_set", "split")


class Protocol(BaseModel):
    """Everything that decides which episodes are played and how they are scored.

    Observation settings (camera size, observation mode, control mode) are *not* part of the
    protocol: they are inputs a policy chooses, recorded in each run's manifest.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Protocol id, '<suite>-v<version>', e.g. 'robotwin-v0'.")
    version: int = Field(ge=0, description="Bumped whenever a rule changes; old results keep their hash.")
    suite: Literal["robotwin", "rlbench"] = Field(description="Task suite the protocol applies to.")
    split: str = Field(
        default="", pattern=r"^[a-z0-9]*$",
        description="Split line: '' for the suite's own (data/splits/<suite>-v<N>.json), or a named line such as "
                    "'zw7' (data/splits/<suite>-zw7-v<N>.json); a named line's protocols are '<suite>-<split>-v<N>'.")
    split_version: int = Field(default=0, ge=0, description="Version of the seen/unseen split file.")
    description: str = Field(default="", description="Free text; excluded from the hash.")
    episodes_per_task: int = Field(default=100, ge=1, description="Episodes (seeds) per task, 100 as RoboTwin.")
    seed_start: int = Field(default=100000, ge=0, description="First candidate evaluation seed.")
    seeds: tuple[int, ...] | None = Field(
        default=None, description="Explicit candidate seeds (in order); overrides seed_start when given.")
    collection_seed_limit: int = Field(
        default=100000, ge=0,
        description="Seeds below this are reserved for demonstration collection; evaluation seeds must not use them.")
    expert_filter: bool = Field(
        default=True, description="Count a seed only if the scripted expert solves it (RoboTwin's pre-check).")
    max_expert_failures: int = Field(
        default=50, ge=0,
        description="Give up on a task when the expert has failed this many candidate seeds (a broken expert).")
    step_limits: dict[str, int] = Field(
        default_factory=dict, description="Per-task step limits; tasks not listed use their registered limit.")
    success_rule: Literal["first_success"] = Field(
        default=FIRST_SUCCESS, description="The first step that satisfies the success predicate ends the episode.")
    instruction_pool: Literal["seen", "unseen"] = Field(
        default="unseen", description="Instruction templates used at evaluation (RoboTwin evaluates on unseen).")
    instruction_set: Literal[0, 1] = Field(
        default=0, description="Instruction set: 0, each task's original templates; 1, RoboTwin 2.0's scale (50+ "
                               "seen and 10+ unseen templates, object descriptions drawn per episode).")

    @model_validator(mode="after")
    def _check(self) -> Protocol:
        expected = f"{self.suite}-{self.split}-v{self.version}" if self.split else f"{self.suite}-v{self.version}"
        if self.name != expected and not self.name.startswith(f"{expected}-"):
            raise ValueError(f"name must be {expected!r} (or '{expected}-<variant>'), got {self.name!r}")
        if self.seeds is not None:
            if not self.seeds:
                raise ValueError("seeds, when given, must list at least one seed")
            if len(set(self.seeds)) != len(self.seeds):
                raise ValueError("seeds must be distinct")
            if len(self.seeds) < self.episodes_per_task:
                raise ValueError(f"seeds lists {len(self.seeds)} seeds, fewer than episodes_per_task="
                                 f"{self.episodes_per_task}")
        low = min(self.seeds) if self.seeds is not None else self.seed_start
        if low < self.collection_seed_limit:
            raise ValueError(
                f"evaluation seeds must be >= collection_seed_limit={self.collection_seed_limit} so they never "
                f"overlap the demonstration seeds; got a seed {low}")
        bad = {task: limit for task, limit in self.step_limits.items() if limit < 1}
        if bad:
            raise ValueError(f"step limits must be >= 1, got {bad}")
        return self

    # -- seeds and limits -------------------------------------------------------------------
    def candidate_seeds(self) -> Iterator[int]:
        """Candidate seeds in protocol order; the expert filter keeps the solvable ones."""
        if self.seeds is not None:
            yield from self.seeds
            return
        seed = self.seed_start
        while True:
            yield seed
            seed += 1

    def step_limit(self, task: str, registered: Callable[[str], int]) -> int:
        """The protocol's limit for ``task``, else ``registered(task)`` (the task spec's limit)."""
        return int(self.step_limits.get(task, registered(task)))

    # -- identity ---------------------------------------------------------------------------
    def canonical_json(self) -> str:
        """Sorted-key, whitespace-free JSON of every field except ``description``.

        Fields added after the v0 protocols were published are left out while they hold their
        default (which is what those protocols meant), so a published protocol keeps its hash.
        """
        data = self.model_dump(mode="json", exclude={"description"})
        for name in ADDED_LATER:
            if data.get(name) == type(self).model_fields[name].default:
                data.pop(name)
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def protocol_hash(self) -> str:
        """sha256 of :meth:`canonical_json`: equal hashes mean the same rules."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def with_overrides(self, **changes: object) -> Protocol:
        """A validated copy with some fields changed (a variant protocol has another hash)."""
        try:
            return Protocol.model_validate({**self.model_dump(), **changes})
        except ValidationError as exc:
            raise ProtocolError(f"Invalid protocol override {changes}: {exc}") from exc

    def changes_from(self, base: Protocol) -> dict[str, object]:
        """Protocol-file data that states only what differs from the packaged ``base`` (see
        :func:`resolve_base`): the changed fields, and of ``step_limits`` the changed entries."""
        mine, theirs = self.model_dump(mode="json"), base.model_dump(mode="json")
        out: dict[str, object] = {"base": base.name}
        for key, value in mine.items():
            if key == "step_limits":
                limits = {t: v for t, v in value.items() if theirs["step_limits"].get(t) != v}
                if set(theirs["step_limits"]) - set(value):
                    raise ProtocolError(f"{self.name} drops step limits of {base.name}; write it in full instead")
                if limits:
                    out[key] = limits
            elif value != theirs[key] or key in ("name", "version"):
                out[key] = value
        return out

    def save(self, path: str | Path, base: Protocol | None = None) -> Path:
        """Write the protocol as a JSON file that ``load_protocol(path)`` and ``eval --protocol``
        read back (a variant for a new split version, say); refuses to overwrite a file. With a
        packaged ``base``, the file states only what this protocol changes (:meth:`changes_from`)."""
        path = Path(path)
        if path.exists():
            raise ProtocolError(f"{path} exists; a protocol file is never overwritten (its hash is in results)")
        data = self.model_dump(mode="json") if base is None else self.changes_from(base)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: dict) -> Protocol:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ProtocolError(f"Malformed protocol: {exc}") from exc


def split_line_of(protocol_name: str, suite: str) -> str:
    """The split line a protocol name says it belongs to: ``robotwin-zw7-v0-small`` -> ``zw7``,
    ``robotwin-v1`` -> ``""`` (protocol names follow :class:`Protocol`'s naming rule)."""
    rest = protocol_name.removeprefix(f"{suite}-")
    line = rest.partition("-v")[0] if not re.match(r"v\d", rest) else ""
    return line if line.isalnum() else ""


def available_protocols() -> list[str]:
    """Names of the protocol files shipped with the package."""
    folder = resources.files("vlapro_bench") / "data" / "protocols"
    return sorted(entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".json"))


#: Packaged protocols whose base chain is being resolved (a chain that loops is refused).
_RESOLVING: set[str] = set()


def resolve_base(data: dict) -> dict:
    """Full protocol data from a file that may name a packaged ``base`` protocol.

    A new protocol version states what it changes instead of copying its base: every field it
    gives replaces the base's, except ``step_limits``, whose entries are added to (or replace)
    the base's. The result, not the file, is what is validated and hashed, so a protocol written
    as changes has the same hash as the same protocol written in full.
    """
    if "base" not in data:
        return data
    changes = dict(data)
    base_name = changes.pop("base")
    if not isinstance(base_name, str) or base_name not in available_protocols():
        raise ProtocolError(f"base {base_name!r} is not a packaged protocol; "
                            f"packaged: {', '.join(available_protocols())}")
    if base_name == changes.get("name") or base_name in _RESOLVING:
        raise ProtocolError(f"protocol {changes.get('name')!r}: its base {base_name!r} leads back to itself")
    _RESOLVING.add(base_name)
    try:
        merged = _packaged_protocol(base_name).model_dump(mode="json")
    finally:
        _RESOLVING.discard(base_name)
    limits = changes.pop("step_limits", {})
    if not isinstance(limits, dict):
        raise ProtocolError(f"step_limits must be an object of task: limit, got {limits!r}")
    merged.update(changes)
    merged["step_limits"] = {**merged["step_limits"], **limits}
    return merged


@cache
def _packaged_protocol(name: str) -> Protocol:
    path = resources.files("vlapro_bench") / "data" / "protocols" / f"{name}.json"
    return Protocol.from_dict(resolve_base(json.loads(path.read_text())))


def load_protocol(name_or_path: str | Path) -> Protocol:
    """A packaged protocol by name (``robotwin-v0``) or a protocol JSON file by path."""
    text = str(name_or_path)
    if text in available_protocols():
        return _packaged_protocol(text)
    path = Path(text)
    if path.suffix == ".json" or path.exists():
        if not path.is_file():
            raise ProtocolError(f"Protocol file {path} does not exist")
        return Protocol.from_dict(resolve_base(read_json_object(path, "Protocol file", ProtocolError)))
    raise ProtocolError(
        f"Unknown protocol {text!r}; packaged protocols: {', '.join(available_protocols())}, or pass a JSON file path")
