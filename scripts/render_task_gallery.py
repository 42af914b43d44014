"""Regenerate the task pictures and the README's task tables from the registry.

Each picture is a scene camera at the start of seed 0 beside two cameras halfway through the
expert's solution, so a reader sees both the layout and the procedure.
Run: ``python scripts/render_task_gallery.py [--suite robotwin|rlbench|all] [--table-only]``
(rewrites the block between the suite's README markers; prints the table when the markers are
missing; ``--table-only`` keeps the pictures and rewrites the table). The split column reads the
suite's newest split and names the version that added a task, then the named split lines (zw7);
the origin column says which benchmark a task comes from (the VLA-Pro paper's own tasks are not
RoboTwin 2.0 tasks). Tasks are grouped by procedure family (their action type) so a suite of 50+
tasks stays readable. Each suite's expert/random table is rendered too, from the measured counts in
``docs/data/<suite>_baselines.csv`` (one row per task: how and when it was measured).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from vlapro_bench.env import VLAProEnv  # noqa: E402
from vlapro_bench.registry import TaskSpec, all_specs  # noqa: E402
from vlapro_bench.splits import task_placement  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Gallery:
    """Which cameras a suite's pictures show, where they go, and the README markers."""

    start_camera: str
    mid_cameras: tuple[str, str]
    folder: str  # relative to the repository root
    marker: str
    size: tuple[int, int]
    baselines_marker: str  # the README block of the expert/random table
    baselines: str  # the measured expert/random counts it is rendered from, relative to the root


#: Object geometries that make a task articulated whatever its action type (a door pushed shut).
ARTICULATED_GEOMETRIES = ("hinged_door", "hinged_lid", "drawer")
ARTICULATED_FAMILY = "Articulated objects: hinges and drawers"
#: Procedure families, by the action types of their tasks, in the order the README shows them.
FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Press, reach and toggle", ("press", "toggle", "reach")),
    ("Pick and place", ("pick_place", "place", "pick_lift")),
    ("Stack and arrange", ("stack", "arrange")),
    (ARTICULATED_FAMILY, ("open_hinge", "close_hinge", "open_drawer_place", "push_closed", "pull_open")),
    ("Both arms together: hand-overs and joint lifts", ("handover", "dual_lift")),
)
OTHER_FAMILY = "Tools, shaking, turning and hanging"


def family(spec: TaskSpec) -> str:
    """The README family of a task, by its action type (and a hinge or drawer makes it articulated)."""
    if spec.procedure.object_geometry in ARTICULATED_GEOMETRIES:
        return ARTICULATED_FAMILY
    return next((title for title, types in FAMILIES if spec.procedure.action_type in types), OTHER_FAMILY)


def by_family(specs: list[TaskSpec]) -> list[tuple[str, list[TaskSpec]]]:
    """Specs grouped by :func:`family`, families in README order, tasks by name within each."""
    order = [title for title, _ in FAMILIES] + [OTHER_FAMILY]
    groups: dict[str, list[TaskSpec]] = {title: [] for title in order}
    for spec in sorted(specs, key=lambda s: s.name):
        groups[family(spec)].append(spec)
    return [(title, members) for title, members in groups.items() if members]


GALLERIES = {
    "robotwin": Gallery("head_camera", ("head_camera", "front_camera"), "docs/img", "tasks", (180, 240),
                        "baselines", "docs/data/robotwin_baselines.csv"),
    "rlbench": Gallery("front", ("front", "wrist"), "docs/img/rlbench", "rlbench-tasks", (200, 200),
                       "rlbench-baselines", "docs/data/rlbench_baselines.csv"),
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
    """``seen``/``unseen`` in the suite's newest split, with the version that added the task if not
    0; for a task only on named split lines, its side on each (``seen (zw7), seen (all50)``)."""
    where = task_placement(suite, task)
    if where.first_version is not None:
        which = where.newest_side or "-"
        return which if where.first_version == 0 else f"{which} (split v{where.first_version})"
    return ", ".join(f"{side} ({line})" for line, _, side in where.lines) or "-"


def replace_block(marker: str, lines: list[str]) -> None:
    """Write ``lines`` between the README's ``<!-- marker:start -->`` and ``:end`` comments."""
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    block = start + "\n" + "\n".join(lines) + "\n" + end
    if start in text and end in text:
        readme.write_text(re.sub(re.escape(start) + ".*" + re.escape(end), lambda _: block, text, flags=re.S))
    else:
        print(f"README.md has no {start} ... {end} markers; the block:\n{block}")


def render_suite(suite: str, pictures: bool = True) -> None:
    gallery = GALLERIES[suite]
    lines: list[str] = []
    for title, specs in by_family(all_specs(suite)):
        lines += ["", f"**{title}** ({len(specs)})", "",
                  "| Task | Split | Procedure | Origin | Seed 0: start, and the expert at work |",
                  "|---|---|---|---|---|"]
        for spec in specs:
            relative = f"{gallery.folder}/{spec.name}.png"
            path = ROOT / relative
            if pictures:
                path.parent.mkdir(parents=True, exist_ok=True)
                gallery_picture(suite, spec.name, path)
                print("rendered", path)
            p = spec.procedure
            lines.append(
                f"| `{spec.name}` | {split_label(suite, spec.name)} | {p.action_type}, {p.object_geometry}, "
                f"{p.ee_orientation} | {spec.origin} | ![{spec.name}]({relative}) |"
            )
    replace_block(gallery.marker, [*lines, ""])
    render_baselines(suite)


def render_baselines(suite: str) -> None:
    """The expert/random table, grouped like the gallery, from the measured counts."""
    gallery = GALLERIES[suite]
    with (ROOT / gallery.baselines).open() as f:
        measured = {row["task"]: row for row in csv.DictReader(f)}
    lines = ["| Task | Split | Expert (privileged) | Random | Measured |", "|---|---|---|---|---|"]
    for title, specs in by_family(all_specs(suite)):
        lines.append(f"| **{title}** | | | | |")
        for spec in specs:
            row = measured.get(spec.name)
            counts = (f"{row['expert']}/{row['episodes']} | {row['random']}/{row['episodes']} | {row['measured']}"
                      if row else "not measured | not measured | -")
            lines.append(f"| `{spec.name}` | {split_label(suite, spec.name)} | {counts} |")
    replace_block(gallery.baselines_marker, lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=[*GALLERIES, "all"], default="all")
    parser.add_argument("--table-only", action="store_true", help="Rewrite the README table, keep the pictures.")
    args = parser.parse_args()
    for suite in GALLERIES if args.suite == "all" else [args.suite]:
        render_suite(suite, pictures=not args.table_only)


if __name__ == "__main__":
    main()
