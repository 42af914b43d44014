"""The LeRobotDataset v3.0 on-disk layout: paths, ``info.json``, feature schemas, errors.

What LeRobot v3.0 writes (read from ``huggingface/lerobot``: ``src/lerobot/datasets/utils.py``,
``dataset_metadata.py``, ``dataset_writer.py``, ``compute_stats.py``, and the format page
``docs/source/lerobot-dataset-v3.mdx``; lerobot 0.4.4 on PyPI has the same layout)::

    meta/info.json                        codebase_version "v3.0", robot_type, fps, features,
                                          total_episodes, total_frames, total_tasks,
                                          chunks_size (1000, files per chunk directory),
                                          data_files_size_in_mb (100), video_files_size_in_mb
                                          (200 or 500 depending on the release), splits
                                          {"train": "0:N"}, data_path and video_path templates
    meta/stats.json                       per feature {min, max, mean, std, count}; images per
                                          channel, shape (3, 1, 1), scaled to [0, 1]
    meta/tasks.parquet                    one row per task: the task string (pandas index named
                                          "task") and task_index (int64)
    meta/episodes/chunk-000/file-000.parquet
                                          one row per episode: episode_index, tasks (list of
                                          strings), length, dataset_from_index,
                                          dataset_to_index (global frame range, end exclusive),
                                          data/chunk_index, data/file_index,
                                          videos/<key>/{chunk_index, file_index, from_timestamp,
                                          to_timestamp} per camera, meta/episodes/chunk_index,
                                          meta/episodes/file_index, stats/<feature>/<stat>;
                                          LeRobot reads every ``meta/episodes/*/*.parquet``
    data/chunk-000/file-000.parquet       one row per frame: every non-video feature, plus
                                          timestamp (float32, frame_index / fps), frame_index,
                                          episode_index, index (global), task_index (int64)
    videos/<key>/chunk-000/file-000.mp4   one stream per camera; the frame at episode time t is
                                          at from_timestamp + t in the file

``data_path`` is ``data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet`` and
``video_path`` is ``videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4``.
The file index counts up to ``chunks_size - 1``, then the chunk index steps and the file index
restarts at 0. Features with shape ``(1,)`` are scalar columns; 1-d features are fixed-size
lists (``datasets.Sequence(length=n)``); ``string`` features are string columns and get no
stats; ``video`` features live only in the MP4 files. Camera features have shape
``[height, width, 3]`` with names ``["height", "width", "channels"]`` and an ``info`` block
(``video.codec``, ``video.pix_fmt``, ...). LeRobot's default encoder is ``libsvtav1``,
``yuv420p``, GOP 2, CRF 30; ours is ``libx264`` (CRF 23, same GOP and pixel format) because the
bundled SVT-AV1 can deadlock (see :mod:`vlapro_bench.datasets.video`).

Choices made here, all readable by LeRobot's loader (it locates every episode through
``meta/episodes``, never through file names): each episode gets its own data file, its own MP4
per camera and ``from_timestamp`` 0, which is what LeRobot itself does for the first episode of
every recording session; appending to an MP4 would need a remux of the whole file. Our extra
per-episode fields (``reset_seed``, ...) are extra columns in ``meta/episodes``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

CODEBASE_VERSION = "v3.0"
DEFAULT_CHUNKS_SIZE = 1000
DATA_FILES_SIZE_IN_MB = 100
VIDEO_FILES_SIZE_IN_MB = 200
INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_DIR = "meta/episodes"
CHUNK_FILE = "chunk-{chunk_index:03d}/file-{file_index:03d}"
DATA_PATH = "data/" + CHUNK_FILE + ".parquet"
VIDEO_PATH = "videos/{video_key}/" + CHUNK_FILE + ".mp4"
EPISODES_PATH = EPISODES_DIR + "/" + CHUNK_FILE + ".parquet"
#: Suffix of files being written; never matched by LeRobot's ``*/*.parquet`` globs.
PARTIAL_SUFFIX = ".partial"
#: Rows per ``meta/episodes`` file; a full file is never rewritten.
EPISODES_PER_META_FILE = 1000

#: FFmpeg encoder -> the codec name LeRobot records in ``video.codec``.
CODEC_NAMES = {"libsvtav1": "av1", "libx264": "h264"}
#: Columns LeRobot adds to every frame (``DEFAULT_FEATURES`` in lerobot).
DEFAULT_FEATURES: dict[str, dict[str, Any]] = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}
NUMERIC_DTYPES = ("bool", "uint8", "int16", "int32", "int64", "float16", "float32", "float64")
EPISODE_COLUMNS = {
    "episode_index": pa.int64(),
    "tasks": pa.list_(pa.string()),
    "length": pa.int64(),
    "dataset_from_index": pa.int64(),
    "dataset_to_index": pa.int64(),
    "data/chunk_index": pa.int64(),
    "data/file_index": pa.int64(),
}
VIDEO_EPISODE_COLUMNS = {
    "chunk_index": pa.int64(),
    "file_index": pa.int64(),
    "from_timestamp": pa.float64(),
    "to_timestamp": pa.float64(),
}


class DatasetFormatError(ValueError):
    """A dataset on disk that does not follow the layout; ``path`` is the offending file."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def chunk_file(episode_slot: int, chunks_size: int) -> tuple[int, int]:
    """The (chunk_index, file_index) of the ``episode_slot``-th file of a kind."""
    return divmod(int(episode_slot), int(chunks_size))


def slot_of(chunk_index: int, file_index: int, chunks_size: int) -> int:
    return int(chunk_index) * int(chunks_size) + int(file_index)


def is_video(feature: dict[str, Any]) -> bool:
    return feature["dtype"] in ("video", "image")


def arrow_type(name: str, feature: dict[str, Any]) -> pa.DataType:
    """The Parquet column type LeRobot (via ``datasets``) uses for a non-video feature."""
    dtype, shape = feature["dtype"], tuple(feature["shape"])
    if dtype == "string":
        if shape != (1,):
            raise ValueError(f"Feature {name!r}: string features must have shape [1], got {list(shape)}")
        return pa.string()
    if dtype not in NUMERIC_DTYPES:
        raise ValueError(f"Feature {name!r}: unsupported dtype {dtype!r}; use one of {NUMERIC_DTYPES}, string, video")
    item = pa.from_numpy_dtype(np.dtype(dtype))
    if shape == (1,):
        return item
    if len(shape) == 1 and shape[0] >= 1:
        return pa.list_(item, shape[0])
    raise ValueError(f"Feature {name!r}: only shapes [1] and [n] are supported for {dtype}, got {list(shape)}")


def data_schema(features: dict[str, dict[str, Any]]) -> pa.Schema:
    """Columns of a ``data/`` file: the non-video features in ``info.json`` order."""
    return pa.schema([(k, arrow_type(k, ft)) for k, ft in features.items() if not is_video(ft)])


def video_info(height: int, width: int, fps: int, codec: str) -> dict[str, Any]:
    return {
        "video.height": height,
        "video.width": width,
        "video.codec": CODEC_NAMES.get(codec, codec),
        "video.pix_fmt": "yuv420p",
        "video.is_depth_map": False,
        "video.fps": fps,
        "video.channels": 3,
        "has_audio": False,
    }


def camera_feature(height: int, width: int) -> dict[str, Any]:
    return {"dtype": "video", "shape": [int(height), int(width), 3], "names": ["height", "width", "channels"]}


def normalize_features(features: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """User features plus LeRobot's default columns, as JSON-ready dicts; validates them."""
    out: dict[str, dict[str, Any]] = {}
    for name, ft in features.items():
        if "/" in name:
            raise ValueError(f"Feature name {name!r} must not contain '/' (LeRobot uses it in meta column names)")
        if name in DEFAULT_FEATURES or name == "task":
            raise ValueError(f"Feature name {name!r} is reserved; LeRobot adds it itself")
        if not isinstance(ft, dict) or "dtype" not in ft or "shape" not in ft:
            raise ValueError(f"Feature {name!r} needs a dict with 'dtype' and 'shape', got {ft!r}")
        entry = {"dtype": str(ft["dtype"]), "shape": [int(s) for s in ft["shape"]], "names": ft.get("names")}
        if "info" in ft:
            entry["info"] = dict(ft["info"])
        if entry["dtype"] == "image":
            raise ValueError(f"Feature {name!r}: dtype 'image' (PNG in Parquet) is not supported; use 'video'")
        if entry["dtype"] == "video":
            h, w, c = (entry["shape"] + [0, 0, 0])[:3]
            if len(entry["shape"]) != 3 or c != 3:
                raise ValueError(f"Feature {name!r}: video shape must be [height, width, 3], got {entry['shape']}")
            if h % 2 or w % 2 or h < 8 or w < 8:
                raise ValueError(
                    f"Feature {name!r}: yuv420p video needs even height and width of at least 8, got {h}x{w}"
                )
        else:
            arrow_type(name, entry)
        out[name] = json.loads(json.dumps(entry))  # tuples become lists, as after a reload
    for name, ft in DEFAULT_FEATURES.items():
        out[name] = json.loads(json.dumps(ft))
    return out


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + PARTIAL_SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "w") as f:
        json.dump(data, f, indent=4)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
