"""The run manifest: what was evaluated, under which protocol, with which code.

``manifest.json`` sits beside the records. It holds the protocol (and its hash), the run's
identity (policy spec and arguments, policy card, environment settings), the expert filter's
result, and provenance (package versions, git commit). A re-run into the same folder must have
the same protocol hash and identity, otherwise it would mix results of different experiments.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
#: Distributions whose versions can change results; missing ones are left out.
TRACKED_PACKAGES = ("vlapro-bench", "gymnasium", "mujoco", "numpy", "scipy", "torch", "transformers", "peft",
                    "safetensors", "ray", "av", "pydantic", "mink", "gym-aloha")


class ProtocolMismatchError(ValueError):
    """A results folder (or a run to compare) made under another protocol."""


class RunMismatchError(ValueError):
    """A results folder made by another policy or with other environment settings."""


class RunLockedError(RuntimeError):
    """Another evaluation is writing to the same results folder."""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    out = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_state(folder: Path | None = None) -> dict[str, Any] | None:
    """Commit and dirty flag of the checkout the package runs from, or None outside git."""
    folder = folder or Path(__file__).resolve().parent

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True,
                              timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


def provenance() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "git": git_state(),
    }


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    path = Path(folder) / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); it is written atomically, so it was edited by hand. "
                         f"Restore it or evaluate into a new folder.") from exc


def write_manifest(folder: str | Path, manifest: dict[str, Any]) -> None:
    """Atomic write: a temporary file, fsync, then rename over the old manifest."""
    path = Path(folder) / MANIFEST_FILE
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w") as fh:
        fh.write(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def check_same_protocol(folder: str | Path, manifest: dict[str, Any], protocol_hash: str, protocol_name: str) -> None:
    found = manifest.get("protocol_hash")
    if found != protocol_hash:
        theirs = manifest.get("protocol", {}).get("name", "?")
        raise ProtocolMismatchError(
            f"{folder} holds results of protocol {theirs} (hash {str(found)[:12]}), but this evaluation uses "
            f"{protocol_name} (hash {protocol_hash[:12]}). Results of different protocols must not be mixed: "
            f"evaluate into another --out folder, or pass the folder's protocol (its manifest.json has it).")


def check_same_identity(folder: str | Path, manifest: dict[str, Any], identity: dict[str, Any]) -> None:
    found = manifest.get("identity", {})
    differ = sorted(key for key in set(found) | set(identity) if found.get(key) != identity.get(key))
    if differ:
        details = "; ".join(f"{k}: folder has {found.get(k)!r}, now {identity.get(k)!r}" for k in differ)
        raise RunMismatchError(
            f"{folder} holds an evaluation of another policy or setting ({details}). A results folder belongs to "
            f"one policy and one environment setting; evaluate into another --out folder.")


@contextlib.contextmanager
def folder_lock(folder: str | Path) -> Iterator[None]:
    """Exclusive lock on a results folder; released by the OS even when the process is killed."""
    path = Path(folder) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLockedError(f"Another evaluation is writing to {folder}; wait for it or use another folder.") \
                from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
