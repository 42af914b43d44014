"""Seen/unseen task splits as versioned data files plus typed, self-validating objects.

In the spirit of Meta-World's ``Benchmark`` (``train_tasks`` / ``test_tasks``): a split refuses
overlap, unknown tasks, and transfer links that do not point from unseen to seen tasks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from vlapro_bench.registry import SUITES, task_names

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
    suite: str
    version: int
    seen: tuple[str, ...]
    unseen: tuple[str, ...]
    transfer: dict[str, TransferLink]
    description: str = ""

    def __post_init__(self) -> None:
        if self.suite not in SUITES:
            raise SplitError(f"Unknown suite {self.suite!r}; expected one of {SUITES}")
        for name, tasks in (("seen", self.seen), ("unseen", self.unseen)):
            if len(set(tasks)) != len(tasks):
                raise SplitError(f"{self.suite} v{self.version}: duplicate tasks in {name}")
        overlap = set(self.seen) & set(self.unseen)
        if overlap:
            raise SplitError(f"{self.suite} v{self.version}: tasks in both seen and unseen: {sorted(overlap)}")
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
            raise SplitError(f"{self.suite} v{self.version} names unregistered tasks: {unknown}")

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
            )
        except (KeyError, TypeError) as exc:
            raise SplitError(f"Malformed split data: missing or invalid field {exc}") from exc


@cache
def load_split(suite: str, version: int = 0, check_registered: bool = True) -> Split:
    """The packaged split file ``data/splits/<suite>-v<version>.json``, validated.

    ``check_registered=False`` skips the registry cross-check; registration at import uses it
    so a half-installed task set cannot make ``import vlapro_bench`` fail (tests check it).
    """
    path = resources.files("vlapro_bench") / "data" / "splits" / f"{suite}-v{version}.json"
    if not path.is_file():
        have = sorted(v for s, v in available_splits() if s == suite)
        raise SplitError(f"No split file for suite {suite!r} version {version} (data/splits/{suite}-v{version}.json); "
                         f"versions available: {', '.join(map(str, have)) or 'none'}")
    split = Split.from_dict(json.loads(path.read_text()))
    if check_registered:
        split.check_registered()
    return split


def available_splits() -> list[tuple[str, int]]:
    folder = resources.files("vlapro_bench") / "data" / "splits"
    out = []
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            suite, _, version = entry.name[:-5].rpartition("-v")
            out.append((suite, int(version)))
    return sorted(out)
