"""Evaluation throughput with 1 and 2 local workers and with the Ray executor, in one run.

    python benchmarks/eval_scaling.py [--episodes 16] [--split unseen] [--policy random] [--workers 2]

The same evaluation (policy, tasks, protocol seeds) runs three times into fresh folders: one
worker in-process, a local pool of ``--workers`` processes, and ``--workers`` Ray actors. Times
are wall-clock from the call to the last record, start-up included (spawning workers, compiling
scenes, starting Ray), so the ratios are what a user gets. The expert-filter checks run once
beforehand into a shared cache and are not timed. The three runs must give identical records;
the script checks that too. State observations keep the work per episode in the physics and the
policy (no rendering, whose llvmpipe threads would blur a per-process scaling measurement).

CPU seconds per episode (local runs) show whether the pool adds work. On a shared machine the
wall-clock ratio also depends on what else runs, so the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from vlapro_bench.evaluation.protocol import load_protocol  # noqa: E402
from vlapro_bench.evaluation.runner import EvalSettings, evaluate  # noqa: E402
from vlapro_bench.splits import load_split  # noqa: E402


def cpu_seconds() -> float:
    """CPU time of this process plus its reaped children (the local pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(settings: EvalSettings, out: Path, cache: Path, executor: str, workers: int) -> tuple[float, float, list]:
    """Wall seconds, CPU seconds (local executor only: Ray's workers are not our children), records."""
    start, cpu = time.perf_counter(), cpu_seconds()
    result = evaluate(settings, out, executor=executor, workers=workers, cache_dir=cache, progress=False)
    return time.perf_counter() - start, cpu_seconds() - cpu, result.records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=16, help="episodes per task")
    parser.add_argument("--split", default="unseen", help="seen or unseen")
    parser.add_argument("--policy", default="random", help="policy spec (random: seeded, full-length episodes)")
    parser.add_argument("--workers", type=int, default=2, help="workers for the pool and Ray runs")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray executor")
    parser.add_argument("--repeats", type=int, default=1, help="interleaved repeats; the best time of each counts")
    args = parser.parse_args()

    protocol = load_protocol("robotwin-v0")
    tasks = load_split(protocol.suite).tasks(args.split)
    settings = EvalSettings(policy=args.policy, tasks=tasks, protocol=protocol, obs_mode="state",
                            episodes=args.episodes)
    total = len(tasks) * args.episodes
    print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    print(f"workload: {args.policy} on {len(tasks)} {args.split} tasks x {args.episodes} episodes = {total}, "
          f"state observations, protocol {protocol.name}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warm = time.perf_counter()
        # Untimed: the expert pass fills the expert-filter cache (shared by every policy under the
        # protocol) and warms this process's imports.
        evaluate(replace(settings, policy="expert"), root / "warmup", cache_dir=root / "cache", progress=False)
        print(f"untimed warm-up (expert filter + expert pass): {time.perf_counter() - warm:.1f} s")
        runs = [("local", 1), ("local", args.workers)] + ([] if args.no_ray else [("ray", args.workers)])
        best: dict[tuple[str, int], float] = {}
        reference = None
        for repeat in range(args.repeats):  # interleaved, so slow phases of a shared machine hit every setting
            for executor, workers in runs:
                out = root / f"{executor}-{workers}-{repeat}"
                seconds, cpu, records = timed(settings, out, root / "cache", executor, workers)
                stripped = [r.model_dump(exclude={"wall_time_s"}) for r in records]
                reference = stripped if reference is None else reference
                cpu_note = f", {cpu / total:.3f} CPU s/episode" if executor == "local" else ""
                print(f"[{repeat + 1}/{args.repeats}] {executor:>5} x{workers}: {seconds:6.1f} s, "
                      f"{total / seconds:6.2f} episodes/s{cpu_note}, records identical to the first run: "
                      f"{stripped == reference}")
                best[(executor, workers)] = min(best.get((executor, workers), float("inf")), seconds)
    base = best[("local", 1)]
    for (executor, workers), seconds in best.items():
        print(f"best of {args.repeats}: {executor:>5} x{workers}: {total / seconds:6.2f} episodes/s, "
              f"{base / seconds:.2f}x local x1")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
