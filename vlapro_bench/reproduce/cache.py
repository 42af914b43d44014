"""The stage cache: one marker JSON per stage in ``OUT/stages/``, keyed by a hash of its inputs.

A stage's key hashes its own settings together with the keys of the stages it reads from, so a
changed setting invalidates that stage and everything downstream of it, and nothing else.

Two markers per stage:

* ``<stage>.started.json`` is written before the stage runs. If a re-run finds it with the same
  key, the stage's output folder belongs to this very configuration and the stage *resumes*
  into it (collect, train and eval resume themselves). With another key the folder is stale
  and is deleted first, so a resumable step never mixes two configurations.
* ``<stage>.done.json`` is written when the stage finished; with a matching key the stage is
  skipped on a re-run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STAGES_DIR = "stages"


def stage_key(settings: Any, upstream: list[str]) -> str:
    """sha256 over canonical JSON of ``settings`` and the upstream stages' keys."""
    text = json.dumps({"settings": settings, "upstream": list(upstream)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StageCache:
    """Markers of the stages of one reproduction folder."""

    root: Path

    @property
    def folder(self) -> Path:
        return self.root / STAGES_DIR

    def _path(self, stage: str, kind: str) -> Path:
        return self.folder / f"{stage}.{kind}.json"

    def _read(self, stage: str, kind: str) -> dict[str, Any] | None:
        path = self._path(stage, kind)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            return None  # a marker cut short by a kill: treat as absent
        return data if isinstance(data, dict) else None

    def _write(self, stage: str, kind: str, data: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(stage, kind)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        tmp.replace(path)  # atomic: a marker is either the old one or the whole new one

    def done(self, stage: str) -> dict[str, Any] | None:
        return self._read(stage, "done")

    def is_done(self, stage: str, key: str) -> bool:
        marker = self.done(stage)
        return marker is not None and marker.get("key") == key

    def begin(self, stage: str, key: str, output: Path | None) -> bool:
        """Record that ``stage`` starts with ``key``; return True when it resumes earlier work.

        Output left by another configuration (or by a run that left no started marker) is
        deleted, so resumable steps never continue somebody else's folder.
        """
        started = self._read(stage, "started")
        resuming = started is not None and started.get("key") == key and output is not None and output.exists()
        if not resuming and output is not None and output.exists():
            shutil.rmtree(output) if output.is_dir() else output.unlink()
        done = self._path(stage, "done")
        if done.exists():
            done.unlink()
        self._write(stage, "started", {"stage": stage, "key": key, "started": time.time(),
                                       "output": str(output) if output else None})
        return resuming

    def finish(self, stage: str, key: str, wall_s: float, info: dict[str, Any]) -> dict[str, Any]:
        marker = {"stage": stage, "key": key, "finished": time.time(), "wall_s": wall_s, **info}
        self._write(stage, "done", marker)
        return marker


__all__ = ["STAGES_DIR", "StageCache", "stage_key"]
