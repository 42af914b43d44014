"""Seen/unseen task splits as versioned data files plus typed, self-validating objects.

In the spirit of Meta-World's ``Benchmark`` (``train_tasks`` / ``test_tasks``): a split refuses
overlap, unknown tasks, and transfer links that do not point from unseen to seen tasks.

A released split file is never edited. A new version either lists everything (as ``v0`` does) or
names its ``base`` version and states only what it changes (:class:`SplitChanges`): the tasks it
adds to ``seen`` or to ``unseen`` (with their transfer links), the tasks it removes, the tasks it
replaces by a newer version of the same task (``open_laptop`` -> ``open_laptop-v1``, in place,
links included), and the links it replaces. Adding a task to a version is then one line of that
file.

A split may also name **groups** of its tasks that reports average separately (AGNOSTOS'
level-1 and level-2 unseen tasks): each group lies on one side, and no task is in two groups.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vlapro_bench.registry import SUITES, parse_task_ref, task_names

PROCEDURAL_FIELDS = ("action_type", "object_geometry", "ee_orientation", "interaction_point")
SPLIT_NAMES = ("seen", "unseen")


class SplitError(ValueError):
    """A split file that breaks an invariant (overlap, unknown task, bad transfer link)."""


@dataclass(frozen=True)
class TransferLink:
    """How an unseen task relates to the seen tasks it can borrow procedure from."""

    target: str
    sources: tuple[str, ...]
    shared: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Split:
    """A seen/unseen partition of one suite's tasks.

    ``name`` tells split lines apart: ``""`` is the suite's own line (``robotwin`` v0, v1, ...),
    a name such as ``zw7`` is another community protocol's partition with its own versions
    (file ``<suite>-<name>-v<N>.json``, gym ids ``VLAPro-RoboTwin-ZW7-Seen-v<N>``).
    ``groups`` names subsets of one side that reports average on their own as well
    (``{"level-1": (...), "level-2": (...)}``), in the order reports show them.
    """

    suite: str
    version: int
    seen: tuple[str, ...]
    unseen: tuple[str, ...]
    transfer: dict[str, TransferLink]
    description: str = ""
    name: str = ""
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.suite not in SUITES:
            raise SplitError(f"Unknown suite {self.suite!r}; expected one of {SUITES}")
        if self.name and not self.name.isalnum():
            raise SplitError(f"split name must be letters and digits, got {self.name!r}")
        for name, tasks in (("seen", self.seen), ("unseen", self.unseen)):
            if len(set(tasks)) != len(tasks):
                raise SplitError(f"{self.label}: duplicate tasks in {name}")
        overlap = set(self.seen) & set(self.unseen)
        if overlap:
            raise SplitError(f"{self.label}: tasks in both seen and unseen: {sorted(overlap)}")
        for target, link in self.transfer.items():
            if target not in self.unseen:
                raise SplitError(f"Transfer target {target!r} is not an unseen task")
            bad = [s for s in link.sources if s not in self.seen]
            if bad or not link.sources:
                raise SplitError(f"Transfer sources of {target!r} must be seen tasks; bad: {bad}")
            unknown = set(link.shared) - set(PROCEDURAL_FIELDS)
            if unknown or not link.shared:
                raise SplitError(f"{target!r}: shared fields must be among {PROCEDURAL_FIELDS}; got {link.shared}")
        missing = set(self.unseen) - set(self.transfer)
        if missing:
            raise SplitError(f"Unseen tasks without a transfer link: {sorted(missing)}")
        self._check_groups()

    def _check_groups(self) -> None:
        """Each group is named like ``level-1``, holds tasks of one side only, and no task is in two."""
        owner: dict[str, str] = {}
        for group, tasks in self.groups.items():
            if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", group):
                raise SplitError(f"{self.label}: group names are lower-case words joined by '-', got {group!r}")
            if not tasks:
                raise SplitError(f"{self.label}: group {group!r} is empty")
            outside = sorted(set(tasks) - set(self.seen) - set(self.unseen))
            if outside:
                raise SplitError(f"{self.label}: group {group!r} names tasks the split does not have: {outside}")
            if not (set(tasks) <= set(self.seen) or set(tasks) <= set(self.unseen)):
                raise SplitError(f"{self.label}: group {group!r} mixes seen and unseen tasks; a group lies on one side")
            for task in tasks:
                if task in owner:
                    raise SplitError(f"{self.label}: {task!r} is in groups {owner[task]!r} and {group!r}; "
                                     f"groups do not overlap")
                owner[task] = group

    def groups_of(self, split: str) -> dict[str, tuple[str, ...]]:
        """The groups on one side (``seen`` or ``unseen``), in file order."""
        side = set(self.tasks(split))
        return {group: tasks for group, tasks in self.groups.items() if set(tasks) <= side}

    @property
    def transfer_sources(self) -> dict[str, tuple[str, ...]]:
        """Each unseen task's designated seen source tasks (what reports count retrieval hits against)."""
        return {task: tuple(link.sources) for task, link in self.transfer.items()}

    @property
    def label(self) -> str:
        """How messages and tables name the split: ``robotwin v1``, ``robotwin zw7 v0``."""
        return f"{self.suite}{f' {self.name}' if self.name else ''} v{self.version}"

    @property
    def train_tasks(self) -> tuple[str, ...]:
        return self.seen

    @property
    def test_tasks(self) -> tuple[str, ...]:
        return self.unseen

    def tasks(self, split: str) -> tuple[str, ...]:
        if split not in SPLIT_NAMES:
            raise SplitError(f"split must be one of {SPLIT_NAMES}, got {split!r}")
        return self.seen if split == "seen" else self.unseen

    def check_registered(self) -> None:
        """Every task of the split must be a registered task of the suite."""
        known = set(task_names(self.suite))
        unknown = sorted((set(self.seen) | set(self.unseen)) - known)
        if unknown:
            raise SplitError(f"{self.label} names unregistered tasks: {unknown}")

    @classmethod
    def from_dict(cls, data: dict) -> Split:
        try:
            transfer = {
                target: TransferLink(target, tuple(link["sources"]), tuple(link["shared"]), link.get("note", ""))
                for target, link in data["transfer"].items()
            }
            return cls(
                suite=data["suite"],
                version=int(data["version"]),
                seen=tuple(data["seen"]),
                unseen=tuple(data["unseen"]),
                transfer=transfer,
                description=data.get("description", ""),
                name=data.get("name", ""),
                groups={group: tuple(tasks) for group, tasks in data.get("groups", {}).items()},
            )
        except (KeyError, TypeError) as exc:
            raise SplitError(f"Malformed split data: missing or invalid field {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """The split as full split-file data (what :meth:`from_dict` reads)."""
        return {
            "suite": self.suite,
            **({"name": self.name} if self.name else {}),
            "version": self.version,
            "description": self.description,
            "seen": list(self.seen),
            "unseen": list(self.unseen),
            "transfer": {target: {"sources": list(link.sources), "shared": list(link.shared), "note": link.note}
                         for target, link in self.transfer.items()},
            **({"groups": {group: list(tasks) for group, tasks in self.groups.items()}} if self.groups else {}),
        }

    def derive(self, changes: Mapping[str, Any]) -> Split:
        """The next version: this split with ``changes`` (split-file data with a ``base``) applied."""
        try:
            delta = SplitChanges.model_validate(changes)
        except ValidationError as exc:
            raise SplitError(f"Malformed split changes: {exc}") from exc
        if delta.suite != self.suite or delta.base != self.version or delta.name != self.name:
            raise SplitError(f"Changes for {delta.suite}{f' {delta.name}' if delta.name else ''} v{delta.base} cannot "
                             f"apply to {self.label}")
        return Split.from_dict(delta.apply(self.to_dict()))


class LinkData(BaseModel):
    """A transfer link as a split file writes it."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(description="Seen tasks the unseen task borrows procedure from.")
    shared: list[str] = Field(description=f"Which of {PROCEDURAL_FIELDS} they share.")
    note: str = Field(default="", description="Free text: what carries over.")


class SplitChanges(BaseModel):
    """A split version written as changes to its ``base`` version instead of a full copy."""

    model_config = ConfigDict(extra="forbid")

    suite: str = Field(description="The suite; the same as the base's.")
    name: str = Field(default="", description="The split line's name; the same as the base's.")
    version: int = Field(ge=1, description="This version; above its base.")
    base: int = Field(ge=0, description="The version these changes apply to.")
    description: str | None = Field(default=None, description="This version's description (default: the base's).")
    add_seen: list[str] = Field(default_factory=list, description="Tasks added to seen.")
    add_unseen: dict[str, LinkData] = Field(
        default_factory=dict, description="Tasks added to unseen, each with its transfer link.")
    remove: list[str] = Field(default_factory=list, description="Tasks removed (from seen or unseen).")
    replace: dict[str, str] = Field(
        default_factory=dict,
        description="Tasks replaced in place by another version of the same task (old name -> new name, e.g. "
                    "open_laptop -> open_laptop-v1); transfer links that name the old one name the new one.")
    transfer: dict[str, LinkData] = Field(
        default_factory=dict, description="Transfer links replaced (or added) for the version's unseen tasks.")
    groups: dict[str, list[str]] | None = Field(
        default=None, description="This version's task groups (default: the base's, less removed tasks, with "
                                  "replaced tasks renamed).")

    def apply(self, base: dict[str, Any]) -> dict[str, Any]:
        """Full split-file data: ``base`` (full data of the base version) with these changes."""
        if self.version <= self.base:
            raise SplitError(f"{self.suite} v{self.version} must come after its base v{self.base}")
        present = set(base["seen"]) | set(base["unseen"])
        missing = sorted(set(self.remove) - present)
        if missing:
            raise SplitError(f"{self.suite} v{self.version} removes tasks that v{self.base} does not have: {missing}")
        again = sorted((set(self.add_seen) | set(self.add_unseen)) & (present - set(self.remove)))
        if again:
            raise SplitError(f"{self.suite} v{self.version} adds tasks that v{self.base} already has: {again}")
        self._check_replacements(present - set(self.remove))
        removed = set(self.remove)
        new = self.replace.get  # a task's name in this version (most keep theirs)
        transfer = {new(t, t): {**link, "sources": [new(x, x) for x in link["sources"]]}
                    for t, link in base["transfer"].items() if t not in removed}
        transfer.update({t: link.model_dump() for t, link in {**self.transfer, **self.add_unseen}.items()})
        if self.groups is not None:
            groups = self.groups
        else:
            groups = {group: [new(t, t) for t in tasks if t not in removed]
                      for group, tasks in base.get("groups", {}).items()}
            groups = {group: tasks for group, tasks in groups.items() if tasks}
        return {
            "suite": self.suite,
            "name": self.name,
            "version": self.version,
            "description": base.get("description", "") if self.description is None else self.description,
            "seen": [new(t, t) for t in base["seen"] if t not in removed] + self.add_seen,
            "unseen": [new(t, t) for t in base["unseen"] if t not in removed] + list(self.add_unseen),
            "transfer": transfer,
            "groups": groups,
        }

    def _check_replacements(self, kept: set[str]) -> None:
        """Each replacement swaps a task the base keeps for another version of that same task."""
        where = f"{self.suite} v{self.version}"
        for old, new in self.replace.items():
            if old not in kept:
                raise SplitError(f"{where} replaces {old!r}, which v{self.base} does not have "
                                 f"(or this version removes)")
            if parse_task_ref(new)[0] != parse_task_ref(old)[0] or parse_task_ref(new) == parse_task_ref(old):
                raise SplitError(f"{where} replaces {old!r} by {new!r}: a replacement must be another version of "
                                 f"the same task, e.g. {parse_task_ref(old)[0]}-v{parse_task_ref(old)[1] + 1}")
        clash = sorted(set(self.replace.values()) & (kept | set(self.add_seen) | set(self.add_unseen)))
        if clash:
            raise SplitError(f"{where} replaces tasks by versions it already has: {clash}")


def split_file(suite: str, version: int, name: str = "") -> str:
    """The packaged file name of a split: ``robotwin-v1.json``, ``robotwin-zw7-v0.json``."""
    return f"{suite}{f'-{name}' if name else ''}-v{version}.json"


@cache
def load_split(suite: str, version: int = 0, check_registered: bool = True, name: str = "") -> Split:
    """The packaged split file ``data/splits/<suite>[-<name>]-v<version>.json``, validated.

    ``check_registered=False`` skips the registry cross-check; registration at import uses it
    so a half-installed task set cannot make ``import vlapro_bench`` fail (tests check it).
    """
    file = split_file(suite, version, name)
    path = resources.files("vlapro_bench") / "data" / "splits" / file
    if not path.is_file():
        have = sorted(v for s, n, v in available_splits() if s == suite and n == name)
        lines = sorted({n for s, n, _ in available_splits() if s == suite and n})
        also = f"; other split lines: {', '.join(lines)}" if lines else ""
        raise SplitError(f"No split file for suite {suite!r}{f' split {name!r}' if name else ''} version {version} "
                         f"(data/splits/{file}); versions available: {', '.join(map(str, have)) or 'none'}{also}")
    data = json.loads(path.read_text())
    if isinstance(data, dict) and "base" in data:
        if data.get("suite") != suite or data.get("version") != version or data.get("name", "") != name:
            raise SplitError(f"data/splits/{file} says suite {data.get('suite')!r} name {data.get('name', '')!r} "
                             f"version {data.get('version')!r}")
        if not isinstance(data["base"], int) or not 0 <= data["base"] < version:
            raise SplitError(f"data/splits/{file}: base must be an earlier version, got {data['base']!r}")
        split = load_split(suite, data["base"], check_registered=False, name=name).derive(data)
    else:
        split = Split.from_dict(data)
        if (split.suite, split.version, split.name) != (suite, version, name):
            raise SplitError(f"data/splits/{file} says suite {split.suite!r} name {split.name!r} "
                             f"version {split.version}")
    if check_registered:
        split.check_registered()
    return split


def available_splits() -> list[tuple[str, str, int]]:
    """``(suite, name, version)`` of every packaged split file; name ``""`` is the suite's own line."""
    folder = resources.files("vlapro_bench") / "data" / "splits"
    out = []
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            stem, _, version = entry.name[:-5].rpartition("-v")
            suite, _, name = stem.partition("-")
            out.append((suite, name, int(version)))
    return sorted(out)


@dataclass(frozen=True)
class TaskPlacement:
    """Where a task stands in the packaged splits, for tables that label it.

    ``first_version`` is the oldest of the suite's own split versions that has the task (None if
    none does), ``first_side`` its side there and ``newest_side`` its side in the newest own
    version (``""`` if that version dropped it); ``lines`` lists ``(line, version, side)`` on the
    named split lines, zw7 first.
    """

    first_version: int | None
    first_side: str
    newest_side: str
    lines: tuple[tuple[str, int, str], ...]


def task_placement(suite: str, task: str) -> TaskPlacement:
    """:class:`TaskPlacement` of ``task`` across the suite's packaged split files."""

    def side(split: Split) -> str:
        return "seen" if task in split.seen else "unseen" if task in split.unseen else ""

    own = sorted(version for name, line, version in available_splits() if name == suite and not line)
    first = next((v for v in own if side(load_split(suite, v))), None)
    lines = tuple((line, version, side(load_split(suite, version, name=line)))
                  for name, line, version in sorted(available_splits(), key=lambda k: (k[1] != "zw7", k))
                  if name == suite and line and side(load_split(suite, version, name=line)))
    return TaskPlacement(first, side(load_split(suite, first)) if first is not None else "",
                         side(load_split(suite, own[-1])) if own else "", lines)
