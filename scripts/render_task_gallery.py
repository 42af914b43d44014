"""Regenerate the task pictures and the README's task tables from the registry.

Each picture is a scene camera at the start of seed 0 beside two cameras halfway through the
expert's solution, so a reader sees both the layout and the procedure.
Run: ``python scripts/render_task_gallery.py [--suite robotwin|rlbench|all] [--table-only]``
(rewrites the block between the suite's README markers; prints the table when the markers are
missing; ``--table-only`` keeps the pictures and rewrites the table). The split column reads the
suite's newest split and names the version that added a task; the origin column says which
benchmark a task comes from (the VLA-Pro paper's own tasks are not RoboTwin 2.0 tasks).
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from vlapro_bench.env import VLAProEnv  # noqa: E402
from vlapro_bench.registry import all_specs  # noqa: E402
from vlapro_bench.splits import available_splits, load_split  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Gallery:
    """Which cameras a suite's pictures show, where they go, and the README markers."""

    start_camera: str
    mid_cameras: tuple[str, str]
    folder: str  # relative to the repository root
    marker: str
    size: tuple[int, int]


GALLERIES = {
    "robotwin": Gallery("head_camera", ("head_camera", "front_camera"), "docs/img", "tasks", (180, 240)),
    "rlbench": Gallery("front", ("front", "wrist"), "docs/img/rlbench", "rlbench-tasks", (200, 200)),
}


def gallery_picture(suite: str, task: str, path: Path) -> None:
    gallery = GALLERIES[suite]
    cameras = list(dict.fromkeys([gallery.start_camera, *gallery.mid_cameras]))
    env = VLAProEnv(task, suite=suite, camera_size=gallery.size, cameras=cameras)
    obs, _ = env.reset(seed=0)
    start = obs["images"][gallery.start_camera]
    # The expert reads the live state, so count its actions on a state-mode twin first.
    twin = VLAProEnv(task, suite=suite, obs_mode="state")
    twin.reset(seed=0)
    length = sum(1 for _ in twin.expert_actions())
    twin.close()
    mid = obs
    for i, action in enumerate(env.expert_actions()):
        mid, *_ = env.step(action.astype(np.float32))
        if i >= int(length * 0.6):
            break
    first, second = gallery.mid_cameras
    canvas = Image.fromarray(np.concatenate([start, mid["images"][first], mid["images"][second]], 1))
    draw = ImageDraw.Draw(canvas)
    width = gallery.size[1]
    for x, label in ((0, "start"), (width, f"expert, {first.removesuffix('_camera')}"),
                     (2 * width, f"expert, {second.removesuffix('_camera')}")):
        draw.rectangle([x, 0, x + 7 * len(label) + 8, 14], fill=(0, 0, 0))
        draw.text((x + 4, 2), label, fill=(255, 255, 255))
    canvas.save(path, optimize=True)
    env.close()


def split_label(suite: str, task: str) -> str:
    """``seen``/``unseen`` in the suite's newest split, with the version that added the task if not 0."""
    versions = sorted(version for name, line, version in available_splits() if name == suite and not line)
    for version in versions:
        split = load_split(suite, version)
        if task in split.seen or task in split.unseen:
            newest = load_split(suite, versions[-1])
            which = "seen" if task in newest.seen else "unseen" if task in newest.unseen else "-"
            return which if version == 0 else f"{which} (split v{version})"
    return "-"


def render_suite(suite: str, pictures: bool = True) -> None:
    gallery = GALLERIES[suite]
    rows = ["| Task | Split | Procedure | Origin | Seed 0: start, and the expert at work |", "|---|---|---|---|---|"]
    for spec in all_specs(suite):
        relative = f"{gallery.folder}/{spec.name}.png"
        path = ROOT / relative
        if pictures:
            path.parent.mkdir(parents=True, exist_ok=True)
            gallery_picture(suite, spec.name, path)
            print("rendered", path)
        p = spec.procedure
        rows.append(
            f"| `{spec.name}` | {split_label(suite, spec.name)} | {p.action_type}, {p.object_geometry}, "
            f"{p.ee_orientation} | {spec.origin} | ![{spec.name}]({relative}) |"
        )
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = f"<!-- {gallery.marker}:start -->", f"<!-- {gallery.marker}:end -->"
    block = start + "\n" + "\n".join(rows) + "\n" + end
    if start in text and end in text:
        readme.write_text(re.sub(re.escape(start) + ".*" + re.escape(end), lambda _: block, text, flags=re.S))
    else:
        print(f"README.md has no {start} ... {end} markers; the table:\n{block}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=[*GALLERIES, "all"], default="all")
    parser.add_argument("--table-only", action="store_true", help="Rewrite the README table, keep the pictures.")
    args = parser.parse_args()
    for suite in GALLERIES if args.suite == "all" else [args.suite]:
        render_suite(suite, pictures=not args.table_only)


if __name__ == "__main__":
    main()
