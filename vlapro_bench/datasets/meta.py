"""Reading and checking ``meta/``: ``info.json``, ``tasks.parquet`` and ``meta/episodes``.

Every problem found raises :class:`DatasetFormatError` naming the offending file.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vlapro_bench.contained_paths import escape_problem
from vlapro_bench.datasets.lerobot_v3 import (
    CODEBASE_VERSION,
    EPISODE_COLUMNS,
    EPISODES_DIR,
    INFO_PATH,
    TASKS_PATH,
    VIDEO_EPISODE_COLUMNS,
    DatasetFormatError,
    arrow_type,
    is_video,
)

_TEMPLATE_KEYS = {
    "data_path": ("{chunk_index", "{file_index"),
    "video_path": ("{video_key", "{chunk_index", "{file_index"),
}


_FORMAT_SPEC = re.compile(r"(0?[1-9])?d?")


def _template_problem(template: str, video_keys: list[str]) -> str | None:
    """Why a path template could name a file outside the dataset folder (or fail to format)."""
    try:
        parsed = [(name, spec) for _, name, spec, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        return f"is not a format template ({exc})"
    unknown = sorted({name for name, _ in parsed} - {"chunk_index", "file_index", "video_key"})
    if unknown:  # also refuses attribute and index access such as {chunk_index.__class__}
        return f"has fields {unknown}; only chunk_index, file_index and video_key may appear"
    if any(not _FORMAT_SPEC.fullmatch(spec or "") for _, spec in parsed):
        return "has a format spec other than a zero-padded width such as :03d"
    for key in video_keys or [""]:
        try:
            example = template.format(chunk_index=0, file_index=0, video_key=key)
        except (ValueError, IndexError, KeyError) as exc:
            return f"does not format ({exc})"
        problem = escape_problem(example)
        if problem is not None:
            return f"gives {example!r}, which {problem}"
    return None


def read_info(root: Path) -> dict[str, Any]:
    path = root / INFO_PATH
    if not path.is_file():
        raise DatasetFormatError(path, "missing; a LeRobot v3 dataset needs meta/info.json")
    try:
        info = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetFormatError(path, f"not valid JSON ({exc})") from exc
    if not isinstance(info, dict):
        raise DatasetFormatError(path, "must hold a JSON object")
    if info.get("codebase_version") != CODEBASE_VERSION:
        raise DatasetFormatError(
            path, f"codebase_version is {info.get('codebase_version')!r}; this reader handles {CODEBASE_VERSION!r}"
        )
    for key, kind in (("fps", (int, float)), ("total_episodes", int), ("total_frames", int), ("features", dict)):
        if not isinstance(info.get(key), kind) or isinstance(info.get(key), bool):
            raise DatasetFormatError(path, f"field {key!r} is missing or has the wrong type ({info.get(key)!r})")
    if info["fps"] <= 0:
        raise DatasetFormatError(path, f"fps must be positive, got {info['fps']}")
    for key, needed in _TEMPLATE_KEYS.items():
        template = info.get(key)
        if key == "video_path" and template is None and not any(is_video(f) for f in info["features"].values()):
            continue
        if not isinstance(template, str) or not all(n in template for n in needed):
            raise DatasetFormatError(path, f"{key} must be a template with {', '.join(n + '}' for n in needed)}")
        video_keys = [k for k, ft in info["features"].items() if isinstance(ft, dict) and ft.get("dtype") == "video"]
        problem = _template_problem(template, video_keys if key == "video_path" else [])
        if problem is not None:
            raise DatasetFormatError(path, f"{key} {template!r} {problem}: a dataset reads only files inside its "
                                           "folder")
    for name, ft in info["features"].items():
        if not isinstance(ft, dict) or "dtype" not in ft or not isinstance(ft.get("shape"), list):
            raise DatasetFormatError(path, f"feature {name!r} needs 'dtype' and a 'shape' list, got {ft!r}")
        if ft["dtype"] == "image":
            raise DatasetFormatError(path, f"feature {name!r}: PNG-in-Parquet 'image' features are not supported")
        if not is_video(ft):
            try:
                arrow_type(name, ft)
            except ValueError as exc:
                raise DatasetFormatError(path, str(exc)) from exc
    info.setdefault("chunks_size", 1000)
    return info


def read_parquet(path: Path, what: str) -> pa.Table:
    if not path.is_file():
        raise DatasetFormatError(path, f"missing ({what})")
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DatasetFormatError(path, f"unreadable Parquet, truncated or corrupt ({exc})") from exc


def read_tasks(root: Path) -> list[str]:
    """Task strings, position = task_index."""
    path = root / TASKS_PATH
    table = read_parquet(path, "the task table")
    if "task" not in table.column_names or "task_index" not in table.column_names:
        raise DatasetFormatError(path, f"needs columns 'task' and 'task_index', has {table.column_names}")
    index_type, task_type = table.schema.field("task_index").type, table.schema.field("task").type
    if not pa.types.is_integer(index_type):
        raise DatasetFormatError(path, f"column 'task_index' must be integer, is {index_type}")
    if not pa.types.is_string(task_type):
        raise DatasetFormatError(path, f"column 'task' must be string, is {task_type}")
    pairs = sorted(zip(table.column("task_index").to_pylist(), table.column("task").to_pylist()))
    if [i for i, _ in pairs] != list(range(len(pairs))):
        raise DatasetFormatError(path, "task_index values must be 0..n-1 without gaps or repeats")
    return [t for _, t in pairs]


def _check_column(path: Path, schema: pa.Schema, name: str, check, expected: str) -> None:
    if name not in schema.names:
        raise DatasetFormatError(path, f"missing column {name!r}")
    if not check(schema.field(name).type):
        raise DatasetFormatError(path, f"column {name!r} has type {schema.field(name).type}, expected {expected}")


def read_episode_rows(root: Path, info: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of ``meta/episodes``, sorted by episode_index, checked for structure."""
    files = sorted((root / EPISODES_DIR).glob("*/*.parquet"))
    if not files:
        if info["total_episodes"]:
            raise DatasetFormatError(root / EPISODES_DIR, f"no episode files, info.json lists {info['total_episodes']}")
        return []
    video_keys = [k for k, ft in info["features"].items() if is_video(ft)]
    rows: list[dict[str, Any]] = []
    for path in files:
        table = read_parquet(path, "episode index")
        for name, typ in EPISODE_COLUMNS.items():
            if pa.types.is_list(typ):
                _check_column(path, table.schema, name, lambda t: pa.types.is_list(t) or pa.types.is_large_list(t),
                              "a list of strings")
            else:
                _check_column(path, table.schema, name, pa.types.is_integer, "an integer type")
        for key in video_keys:
            for col, typ in VIDEO_EPISODE_COLUMNS.items():
                check = pa.types.is_floating if pa.types.is_floating(typ) else pa.types.is_integer
                _check_column(path, table.schema, f"videos/{key}/{col}", check, str(typ))
        for row in table.to_pylist():
            row["_meta_file"] = path
            rows.append(row)
    rows.sort(key=lambda r: r["episode_index"])
    start = 0
    for i, row in enumerate(rows):
        path = row["_meta_file"]
        if row["episode_index"] != i:
            raise DatasetFormatError(path, f"episode indices must be 0..n-1; found {row['episode_index']} at {i}")
        if row["dataset_from_index"] != start or row["dataset_to_index"] - start != row["length"] or row["length"] < 1:
            raise DatasetFormatError(path, f"episode {i}: frame range or length does not follow the previous episode")
        start = row["dataset_to_index"]
    return rows
