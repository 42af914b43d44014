"""MP4 encoding and decoding of camera streams with PyAV (FFmpeg bundled in the wheel)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from vlapro_bench.datasets.lerobot_v3 import DatasetFormatError

#: H.264 first. LeRobot's default is SVT-AV1, but the SVT-AV1 that PyAV's wheel bundles can
#: deadlock inside ``svt_av1_enc_get_packet`` (we saw a collection stall there twice, idle, for
#: minutes; SVT-AV1 3.1.x hangs are reported upstream, e.g. linuxserver/docker-ffmpeg#116).
#: A dataset that already uses SVT-AV1 keeps it when reopened; pass ``codec=`` to choose.
PREFERRED_CODECS = ("libx264", "libsvtav1")
#: CRF per codec: LeRobot's 30 for SVT-AV1, FFmpeg's default 23 for x264.
DEFAULT_CRF = {"libsvtav1": 30, "libx264": 23}
#: Keyframe every 2 frames (LeRobot's ``g=2``): cheap random access into an episode.
DEFAULT_GOP = 2


def default_codec() -> str:
    available = av.codecs_available
    for codec in PREFERRED_CODECS:
        if codec in available:
            return codec
    raise RuntimeError(f"This PyAV build has none of the encoders {PREFERRED_CODECS}; reinstall 'av' from PyPI")


def encode_video(
    path: Path, frames: np.ndarray, fps: int, codec: str, crf: int | None = None, gop: int = DEFAULT_GOP
) -> None:
    """Write ``frames`` (T, H, W, 3) uint8 RGB as yuv420p MP4; frame i has pts i / fps."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"Video frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    # SVT-AV1 prints its configuration banner to stderr unless told otherwise; keep user settings.
    os.environ.setdefault("SVT_LOG", "1")
    time_base = Fraction(1, int(fps))
    options = {"g": str(gop), "crf": str(DEFAULT_CRF.get(codec, 23) if crf is None else crf)}
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(codec, rate=int(fps))
        stream.width, stream.height = int(frames.shape[2]), int(frames.shape[1])
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = time_base
        stream.options = options
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts, frame.time_base = i, time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def decode_video(path: Path, fps: float, from_timestamp: float = 0.0, to_timestamp: float | None = None) -> np.ndarray:
    """RGB frames (T, H, W, 3) uint8 whose time lies in ``[from_timestamp, to_timestamp)``.

    Frame times are matched with half a frame period of slack, as frames sit at i / fps.
    """
    half = 0.5 / float(fps)
    lo = from_timestamp - half
    hi = float("inf") if to_timestamp is None else to_timestamp - half
    out: list[np.ndarray] = []
    # One reformatter for the whole file: ``frame.to_ndarray(format=...)`` builds a new swscale
    # context (and its slice-thread pool) per frame, which made decoding 15-50x slower, and far
    # slower still on a busy CPU, where each new thread waits to be scheduled.
    reformatter = VideoReformatter()
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                raise DatasetFormatError(path, "the file has no video stream")
            stream = container.streams.video[0]
            if from_timestamp > half and stream.time_base is not None:
                container.seek(int(from_timestamp / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                t = float(frame.pts * frame.time_base) if frame.pts is not None else float(len(out)) / fps
                if t >= hi:
                    break
                if t >= lo:
                    out.append(reformatter.reformat(frame, format="rgb24").to_ndarray())
    except DatasetFormatError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise DatasetFormatError(path, f"cannot decode the video ({type(exc).__name__}: {exc})") from exc
    if not out:
        return np.zeros((0, 0, 0, 3), dtype=np.uint8)
    return np.stack(out)
