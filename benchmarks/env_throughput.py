"""Overhead of ``env.step`` over raw MuJoCo on the same model, cameras and image size.

Two ratios, measured in one process on one model per task:

* state mode: ``env.step`` rate / raw rate of ``ctrl`` write + ``mj_step`` x the same substeps;
* rgb mode: ``env.step`` rate / raw rate of that physics step plus ``update_scene`` + ``render``
  for the same cameras at the same size. The raw loop steps the physics too because an rgb
  ``env.step`` must: against rendering alone, a task whose physics is expensive (RLBench's
  stack_blocks, 12 resting cubes: physics is a fifth of a step) would fail the bar on MuJoCo's
  cost, not the wrapper's.

Targets: state >= 0.8, rgb >= 0.9. Run: ``python benchmarks/env_throughput.py [--suite rlbench]
[--tasks all | TASK...] [--steps N]`` (every camera of the suite, at 128x128 by default).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from vlapro_bench.env import VLAProEnv  # noqa: E402
from vlapro_bench.registry import task_names  # noqa: E402
from vlapro_bench.sim.suites import suite_profile  # noqa: E402

DEFAULT_TASKS = {"robotwin": ["click_bell", "stack_blocks_two"], "rlbench": ["push_button", "open_drawer"]}


def _rates(reference, candidate, n: int, repeats: int = 5) -> tuple[float, float]:
    """Best-of-``repeats`` rates (calls/s) of two loops, interleaved so that background load
    on a shared machine hits both alike."""
    best = [0.0, 0.0]
    for _ in range(repeats):
        for i, fn in enumerate((reference, candidate)):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            best[i] = max(best[i], n / (time.perf_counter() - start))
    return best[0], best[1]


def measure(suite: str, task: str, steps: int, size: tuple[int, int]) -> dict:
    profile = suite_profile(suite)
    cameras = profile.robot.cameras
    state_env = VLAProEnv(task, suite=suite, obs_mode="state")
    state_env.reset(seed=0)
    hold = state_env.control_spec.hold(state_env._target, state_env.control).astype(np.float32)
    model, data = state_env.sim.model, state_env.sim.data
    ctrl = data.ctrl.copy()

    def raw_physics():
        data.ctrl[:] = ctrl
        mujoco.mj_step(model, data, nstep=profile.control_substeps)

    raw_physics_rate, env_state_rate = _rates(raw_physics, lambda: state_env.step(hold), steps)
    state_env.close()

    rgb_env = VLAProEnv(task, suite=suite, obs_mode="rgb", camera_size=size, cameras=cameras)
    rgb_env.reset(seed=0)
    rmodel, rdata = rgb_env.sim.model, rgb_env.sim.data
    renderer = mujoco.Renderer(rmodel, *size)

    rctrl = rdata.ctrl.copy()

    def raw_render():
        rdata.ctrl[:] = rctrl
        mujoco.mj_step(rmodel, rdata, nstep=profile.control_substeps)
        for cam in cameras:
            renderer.update_scene(rdata, camera=cam)
            renderer.render()

    frames = max(10, steps // 20)
    raw_render_rate, env_rgb_rate = _rates(raw_render, lambda: rgb_env.step(hold), frames)
    renderer.close()
    rgb_env.close()
    return {
        "task": task,
        "raw physics (steps/s)": raw_physics_rate,
        "env state (steps/s)": env_state_rate,
        "state ratio": env_state_rate / raw_physics_rate,
        "raw physics+render (obs/s)": raw_render_rate,
        "env rgb (steps/s)": env_rgb_rate,
        "rgb ratio": env_rgb_rate / raw_render_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=sorted(DEFAULT_TASKS), default="robotwin")
    parser.add_argument("--tasks", nargs="+", default=None, help="task names, or all; default: two tasks of the suite")
    parser.add_argument("--steps", type=int, default=1000, help="control steps per state-mode timing")
    parser.add_argument("--size", type=int, nargs=2, default=(128, 128), metavar=("H", "W"))
    args = parser.parse_args()
    tasks = args.tasks or DEFAULT_TASKS[args.suite]
    if tasks == ["all"]:
        tasks = sorted(task_names(args.suite))
    rows = [measure(args.suite, task, args.steps, tuple(args.size)) for task in tasks]
    table = pd.DataFrame(rows).set_index("task")
    h, w = args.size
    profile = suite_profile(args.suite)
    print(f"{args.suite}: {profile.control_substeps} physics substeps per control step; "
          f"{len(profile.robot.cameras)} cameras at {h}x{w}")
    print(table.round(2).to_string())
    print(f"min state ratio {table['state ratio'].min():.2f} (target >= 0.80); "
          f"min rgb ratio {table['rgb ratio'].min():.2f} (target >= 0.90)")


if __name__ == "__main__":
    main()
