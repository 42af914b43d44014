"""Writing episodes into a LeRobotDataset v3.0 folder, crash-safe and resumable.

``add_episode`` writes one whole episode: its data Parquet file and one MP4 per camera go to
``*.partial`` files that are renamed into place, then its row is added to ``meta/episodes``
(rewritten to a partial file and renamed: the commit point), then ``meta/stats.json`` and
``meta/info.json`` are rewritten the same way. A crash at any moment leaves the committed
episodes readable; reopening the folder with a ``DatasetWriter`` deletes partial files and
files no committed episode points at, and rebuilds ``info.json`` and ``stats.json`` from
``meta/episodes`` if the crash came between the commit and their update. One writer per folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vlapro_bench.datasets import stats as stats_mod
from vlapro_bench.datasets.lerobot_v3 import (
    CODEBASE_VERSION,
    CODEC_NAMES,
    DATA_FILES_SIZE_IN_MB,
    DATA_PATH,
    DEFAULT_CHUNKS_SIZE,
    DEFAULT_FEATURES,
    EPISODE_COLUMNS,
    EPISODES_PATH,
    EPISODES_PER_META_FILE,
    INFO_PATH,
    PARTIAL_SUFFIX,
    STATS_PATH,
    TASKS_PATH,
    VIDEO_EPISODE_COLUMNS,
    VIDEO_FILES_SIZE_IN_MB,
    VIDEO_PATH,
    DatasetFormatError,
    chunk_file,
    data_schema,
    is_video,
    normalize_features,
    slot_of,
    video_info,
    write_json_atomic,
)
from vlapro_bench.datasets.meta import read_episode_rows, read_info, read_tasks
from vlapro_bench.datasets.video import default_codec, encode_video

_SLOT = re.compile(r"chunk-(\d+)/file-(\d+)\.(parquet|mp4)$")
_EXTRA_TYPES = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}


class DatasetWriter:
    """Creates ``root`` as a LeRobot v3.0 dataset, or reopens it to append (resume).

    Arguments:
        root: the dataset folder.
        fps: frames per second of the recording (the env's control rate).
        features: ``{name: {"dtype", "shape", "names"}}`` without LeRobot's default columns;
            cameras have dtype ``"video"`` and shape ``[H, W, 3]``.
        robot_type: free text for ``info.json``.
        codec, crf, gop: MP4 encoding (default: ``libx264`` CRF 23, GOP 2 as LeRobot; LeRobot's
            own default codec, ``libsvtav1`` CRF 30, can deadlock in PyAV's bundled build, see
            :data:`~vlapro_bench.datasets.video.PREFERRED_CODECS`).
        episode_key: names of ``extra_meta`` fields that identify an episode, such as
            ``("task_name", "reset_seed")``; adding an episode whose key is taken raises.
    """

    def __init__(
        self,
        root: str | Path,
        fps: int,
        features: Mapping[str, Mapping[str, Any]],
        robot_type: str | None = None,
        codec: str | None = None,
        crf: int | None = None,
        gop: int = 2,
        chunks_size: int = DEFAULT_CHUNKS_SIZE,
        episode_key: Sequence[str] = (),
    ):
        self.root = Path(root)
        self.codec = codec or self._codec_of_existing() or default_codec()
        self.crf, self.gop = crf, gop
        self.episode_key = tuple(episode_key)
        wanted = normalize_features({k: dict(v) for k, v in features.items()})
        self.video_keys = [k for k, ft in wanted.items() if is_video(ft)]
        for key in self.video_keys:
            h, w, _ = wanted[key]["shape"]
            wanted[key]["info"] = video_info(h, w, int(fps), self.codec)
        if (self.root / INFO_PATH).is_file():
            self._open_existing(int(fps), wanted)
        else:
            if self.root.is_dir():
                self._remove_partials()  # a crash while creating the dataset leaves only these
            if self.root.exists() and any(p.is_file() for p in self.root.rglob("*")):
                raise ValueError(f"{self.root} exists, is not empty and has no {INFO_PATH}; choose an empty folder")
            self.info = {
                "codebase_version": CODEBASE_VERSION,
                "robot_type": robot_type,
                "total_episodes": 0,
                "total_frames": 0,
                "total_tasks": 0,
                "chunks_size": int(chunks_size),
                "data_files_size_in_mb": DATA_FILES_SIZE_IN_MB,
                "video_files_size_in_mb": VIDEO_FILES_SIZE_IN_MB,
                "fps": int(fps),
                "splits": {},
                "data_path": DATA_PATH,
                "video_path": VIDEO_PATH if self.video_keys else None,
                "features": wanted,
            }
            self.tasks: list[str] = []
            self._rows: list[dict[str, Any]] = []
            write_json_atomic(self.root / INFO_PATH, self.info)
        self.features: dict[str, dict[str, Any]] = self.info["features"]
        self._schema = data_schema(self.features)

    # -- reopening ----------------------------------------------------------------------------
    def _codec_of_existing(self) -> str | None:
        """Keep encoding a resumed dataset with the encoder its ``info.json`` records."""
        try:
            info = read_info(self.root)
        except DatasetFormatError:
            return None
        names = {v: k for k, v in CODEC_NAMES.items()}
        for ft in info["features"].values():
            codec = names.get((ft.get("info") or {}).get("video.codec"))
            if ft["dtype"] == "video" and codec in av.codecs_available:
                return codec
        return None

    def _open_existing(self, fps: int, wanted: dict[str, dict[str, Any]]) -> None:
        info = read_info(self.root)
        if info["fps"] != fps:
            raise ValueError(f"{self.root / INFO_PATH}: the dataset was recorded at {info['fps']} fps, not {fps}")
        have = {k: {f: v for f, v in ft.items() if f != "info"} for k, ft in info["features"].items()}
        want = {k: {f: v for f, v in ft.items() if f != "info"} for k, ft in wanted.items()}
        if have != want:
            diff = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
            raise ValueError(f"{self.root / INFO_PATH}: the dataset's features differ from these in {diff}")
        self._remove_partials()
        self.info = info
        self._rows = read_episode_rows(self.root, info)
        for row in self._rows:
            row.pop("_meta_file")
        self.tasks = read_tasks(self.root) if (self.root / TASKS_PATH).is_file() else []
        self._remove_orphans()
        if self.info["total_episodes"] != len(self._rows) or not (self.root / STATS_PATH).is_file():
            self._write_info_and_stats()  # the crash came after the commit: rebuild from meta/episodes

    def _remove_partials(self) -> None:
        for path in self.root.rglob("*" + PARTIAL_SUFFIX):
            path.unlink()

    def _remove_orphans(self) -> None:
        """Delete data and video files that no committed episode points at (a crash's leftovers)."""
        size = self.info["chunks_size"]
        last = {"data": max((self._data_slot(r) for r in self._rows), default=-1)}
        for key in self.video_keys:
            last[key] = max((self._video_slot(r, key) for r in self._rows), default=-1)
        folders = {"data": self.root / "data"} | {k: self.root / "videos" / k for k in self.video_keys}
        for kind, folder in folders.items():
            for path in folder.glob("chunk-*/file-*.*"):
                m = _SLOT.search(path.as_posix())
                if m and slot_of(int(m.group(1)), int(m.group(2)), size) > last[kind]:
                    path.unlink()

    def _data_slot(self, row: Mapping[str, Any]) -> int:
        return slot_of(row["data/chunk_index"], row["data/file_index"], self.info["chunks_size"])

    def _video_slot(self, row: Mapping[str, Any], key: str) -> int:
        return slot_of(row[f"videos/{key}/chunk_index"], row[f"videos/{key}/file_index"], self.info["chunks_size"])

    # -- resume -------------------------------------------------------------------------------
    def finished_episodes(self) -> list[dict[str, Any]]:
        """Committed episodes: index, task, length and the ``extra_meta`` they were added with."""
        out = []
        for row in self._rows:
            item = {k: v for k, v in row.items() if not k.startswith(("stats/", "videos/", "data/", "meta/"))}
            item["task"] = row["tasks"][0] if row["tasks"] else None
            out.append(item)
        return out

    def finished_keys(self, *fields: str) -> set[tuple]:
        """``{(row[f] for f in fields)}`` over committed episodes, e.g. ``("task_name", "reset_seed")``."""
        fields = fields or self.episode_key
        if not fields:
            raise ValueError("finished_keys needs field names (or an episode_key on the writer)")
        return {tuple(row.get(f) for f in fields) for row in self._rows}

    @property
    def num_episodes(self) -> int:
        return len(self._rows)

    # -- writing ------------------------------------------------------------------------------
    def add_episode(
        self, frames: Sequence[Mapping[str, Any]], task: str, extra_meta: Mapping[str, Any] | None = None
    ) -> int:
        """Write one whole episode (a sequence of per-frame dicts); returns its episode_index."""
        if not isinstance(task, str) or not task:
            raise ValueError(f"task must be a non-empty string (the instruction), got {task!r}")
        extra = self._check_extra(dict(extra_meta or {}))
        if self.episode_key:
            key = tuple(extra.get(f) for f in self.episode_key)
            if key in self.finished_keys(*self.episode_key):
                raise ValueError(f"An episode with {dict(zip(self.episode_key, key))} is already in {self.root}")
        columns = self._stack(frames)
        length = len(frames)
        index = len(self._rows)
        start = self._rows[-1]["dataset_to_index"] if self._rows else 0
        if task not in self.tasks:
            self.tasks.append(task)
            self._write_tasks()
        columns["timestamp"] = (np.arange(length) / self.info["fps"]).astype(np.float32)
        columns["frame_index"] = np.arange(length, dtype=np.int64)
        columns["episode_index"] = np.full(length, index, dtype=np.int64)
        columns["index"] = np.arange(start, start + length, dtype=np.int64)
        columns["task_index"] = np.full(length, self.tasks.index(task), dtype=np.int64)

        size = self.info["chunks_size"]
        row: dict[str, Any] = {"episode_index": index, "tasks": [task], "length": length,
                               "dataset_from_index": start, "dataset_to_index": start + length}
        chunk, file = chunk_file(max((self._data_slot(r) for r in self._rows), default=-1) + 1, size)
        row["data/chunk_index"], row["data/file_index"] = chunk, file
        self._write_data(self.root / DATA_PATH.format(chunk_index=chunk, file_index=file), columns)
        for key in self.video_keys:
            chunk, file = chunk_file(max((self._video_slot(r, key) for r in self._rows), default=-1) + 1, size)
            path = self.root / VIDEO_PATH.format(video_key=key, chunk_index=chunk, file_index=file)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + PARTIAL_SUFFIX)
            encode_video(partial, columns[key], self.info["fps"], self.codec, self.crf, self.gop)
            os.replace(partial, path)
            row |= {f"videos/{key}/chunk_index": chunk, f"videos/{key}/file_index": file,
                    f"videos/{key}/from_timestamp": 0.0, f"videos/{key}/to_timestamp": length / self.info["fps"]}
        meta_chunk, meta_file = chunk_file(index // EPISODES_PER_META_FILE, size)
        row["meta/episodes/chunk_index"], row["meta/episodes/file_index"] = meta_chunk, meta_file
        for name, ft in self.features.items():
            if ft["dtype"] != "string":
                for stat, value in stats_mod.feature_stats(columns[name], is_video(ft)).items():
                    row[f"stats/{name}/{stat}"] = value.tolist()
        row |= extra
        self._write_episode_rows(row)  # the commit point
        self._rows.append(row)
        self._write_info_and_stats()
        return index

    def _check_extra(self, extra: dict[str, Any]) -> dict[str, Any]:
        reserved = set(EPISODE_COLUMNS) | {"task"}
        for k, v in extra.items():
            if not isinstance(k, str) or "/" in k or k in reserved:
                raise ValueError(f"extra_meta key {k!r} is reserved or contains '/'")
            if type(v) not in _EXTRA_TYPES and not isinstance(v, np.generic):
                raise ValueError(f"extra_meta[{k!r}] must be a bool, int, float or str, got {type(v).__name__}")
        extra = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in extra.items()}
        if self._rows:
            first = self._rows[0]
            known = {k for k in first if k not in EPISODE_COLUMNS and not k.startswith(("stats/", "videos/", "meta/"))}
            known -= {"tasks"}
            if set(extra) != known:
                raise ValueError(f"extra_meta keys {sorted(extra)} differ from earlier episodes' {sorted(known)}")
            for k, v in extra.items():
                if first[k] is not None and type(v) is not type(first[k]):
                    raise ValueError(f"extra_meta[{k!r}] is {type(v).__name__}, earlier episodes have "
                                     f"{type(first[k]).__name__}")
        return extra

    def _stack(self, frames: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
        if len(frames) == 0:
            raise ValueError("An episode needs at least one frame")
        names = [k for k in self.features if k not in DEFAULT_FEATURES]
        for i, frame in enumerate(frames):
            if set(frame) != set(names):
                missing, extra = sorted(set(names) - set(frame)), sorted(set(frame) - set(names))
                raise ValueError(f"Frame {i}: missing features {missing}, unknown features {extra}")
        out: dict[str, np.ndarray] = {}
        for name in names:
            ft = self.features[name]
            values = [frame[name] for frame in frames]
            if ft["dtype"] == "string":
                bad = [i for i, v in enumerate(values) if not isinstance(v, str)]
                if bad:
                    raise ValueError(
                        f"Feature {name!r} must be a str in every frame; frame {bad[0]} has {values[bad[0]]!r}"
                    )
                out[name] = np.array(values, dtype=object)
                continue
            dtype = np.uint8 if is_video(ft) else np.dtype(ft["dtype"])
            array = np.asarray(values)
            shape = tuple(ft["shape"])
            if shape == (1,) and array.shape == (len(frames),):
                array = array.reshape(len(frames), 1)
            if array.shape[1:] != shape:
                raise ValueError(f"Feature {name!r} must have shape {shape} per frame, got {array.shape[1:]}")
            if is_video(ft) and array.dtype != np.uint8:
                raise ValueError(f"Camera feature {name!r} must be uint8 RGB, got {array.dtype}")
            if not np.can_cast(array.dtype, dtype, casting="same_kind"):
                raise ValueError(f"Feature {name!r} is declared {dtype}; values of dtype {array.dtype} do not fit")
            out[name] = array.astype(dtype).reshape((len(frames),) if shape == (1,) else array.shape)
        return out

    def _write_data(self, path: Path, columns: dict[str, np.ndarray]) -> None:
        arrays = []
        for field in self._schema:
            values = columns[field.name]
            if pa.types.is_fixed_size_list(field.type):
                flat = pa.array(values.reshape(-1), type=field.type.value_type)
                arrays.append(pa.FixedSizeListArray.from_arrays(flat, field.type.list_size))
            else:
                arrays.append(pa.array(values, type=field.type))
        table = pa.Table.from_arrays(arrays, schema=self._schema)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + PARTIAL_SUFFIX)
        pq.write_table(table, partial, compression="snappy")
        os.replace(partial, path)

    def _write_tasks(self) -> None:
        path = self.root / TASKS_PATH
        frame = pd.DataFrame({"task_index": np.arange(len(self.tasks), dtype=np.int64)},
                             index=pd.Index(self.tasks, name="task", dtype=object))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + PARTIAL_SUFFIX)
        frame.to_parquet(partial, engine="pyarrow")
        os.replace(partial, path)

    def _write_episode_rows(self, new_row: dict[str, Any]) -> None:
        """Rewrite the ``meta/episodes`` file that ``new_row`` belongs to, atomically."""
        chunk, file = new_row["meta/episodes/chunk_index"], new_row["meta/episodes/file_index"]
        same_file = ("meta/episodes/chunk_index", "meta/episodes/file_index")
        rows = [r for r in self._rows if (r[same_file[0]], r[same_file[1]]) == (chunk, file)]
        rows.append(new_row)
        fields = []
        for name in new_row:
            if name in EPISODE_COLUMNS:
                typ = EPISODE_COLUMNS[name]
            elif name.startswith("videos/"):
                typ = VIDEO_EPISODE_COLUMNS[name.rsplit("/", 1)[1]]
            elif name.startswith("meta/"):
                typ = pa.int64()
            elif name.startswith("stats/"):
                typ = _stats_type(name, self.features)
            else:
                typ = _EXTRA_TYPES[type(new_row[name])]
            fields.append(pa.field(name, typ))
        table = pa.Table.from_pylist(rows, schema=pa.schema(fields))
        path = self.root / EPISODES_PATH.format(chunk_index=chunk, file_index=file)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + PARTIAL_SUFFIX)
        pq.write_table(table, partial, compression="snappy")
        os.replace(partial, path)

    def _write_info_and_stats(self) -> None:
        per_episode = []
        for row in self._rows:
            ep: dict[str, dict[str, np.ndarray]] = {}
            for col, value in row.items():
                if col.startswith("stats/"):
                    _, name, stat = col.split("/")
                    ep.setdefault(name, {})[stat] = np.asarray(value)
            per_episode.append(ep)
        if per_episode:
            write_json_atomic(self.root / STATS_PATH, stats_mod.to_json(stats_mod.aggregate(per_episode)))
        n = len(self._rows)
        self.info.update(
            total_episodes=n,
            total_frames=self._rows[-1]["dataset_to_index"] if self._rows else 0,
            total_tasks=len(self.tasks),
            splits={"train": f"0:{n}"} if n else {},
        )
        write_json_atomic(self.root / INFO_PATH, self.info)


def _stats_type(column: str, features: Mapping[str, Mapping[str, Any]]) -> pa.DataType:
    name, stat = column[len("stats/"):].rsplit("/", 1)
    item = pa.int64() if stat == "count" else pa.float64()
    if stat != "count" and is_video(features[name]):
        return pa.list_(pa.list_(pa.list_(item)))  # (3, 1, 1) per channel
    return pa.list_(item)

