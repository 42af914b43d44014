"""`vlapro-bench collect`: expert demos on disk, resumable after SIGKILL without duplicates."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from vlapro_bench.collection import collect_demonstrations
from vlapro_bench.datasets import LeRobotV3Dataset

COMMAND = [sys.executable, "-m", "vlapro_bench.cli", "collect", "--task", "click_bell", "--size", "32x32"]


def _episodes_on_disk(root) -> int:
    info = root / "meta" / "info.json"
    return json.loads(info.read_text())["total_episodes"] if info.is_file() else 0


def test_collect_resumes_after_sigkill(tmp_path):
    out = tmp_path / "demos"
    args = [*COMMAND, "--out", str(out), "--episodes", "5"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    deadline = time.time() + 120
    while _episodes_on_disk(out) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "collection finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    interrupted_at = _episodes_on_disk(out)
    assert 2 <= interrupted_at < 5

    rerun = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "5 episodes" in rerun.stdout
    dataset = LeRobotV3Dataset(out)
    seeds = [row["reset_seed"] for row in dataset.episodes]
    assert sorted(seeds) == [0, 1, 2, 3, 4]  # each seed once, none lost, none repeated
    episode = dataset.episode(0)
    assert episode["action"].shape[1] == 14 and len(episode["action"]) > 10
    assert set(np.unique(episode["procedural_state.action_type"])) == {"press"}


def test_collect_in_state_mode_with_per_task_counts_and_another_action_space(tmp_path):
    """No images in state mode; the actions are recorded in the control mode asked for."""
    out = tmp_path / "state"
    total = collect_demonstrations(out, ["click_bell", "beat_block_hammer"], {"click_bell": 2, "beat_block_hammer": 1},
                                   obs_mode="state", control_mode="ee", progress=False)
    dataset = LeRobotV3Dataset(out)
    assert total == 3 and sorted(row["task_name"] for row in dataset.episodes) == ["beat_block_hammer",
                                                                                     "click_bell", "click_bell"]
    assert not any(k.startswith("observation.images.") for k in dataset.features)
    episode = dataset.episode(0)
    assert episode["action"].shape[1] == 16 and episode["observation.environment_state"].shape[1] == 28
    with pytest.raises(ValueError, match="turn_switch"):
        collect_demonstrations(tmp_path / "bad", ["click_bell"], {"click_bell": 1, "turn_switch": 1}, progress=False)


def test_collecting_in_two_processes_writes_the_dataset_one_process_writes(tmp_path):
    """Tasks recorded side by side are written in task order: the same files, byte for byte, and
    a re-run with another worker count resumes the same dataset."""
    tasks, counts = ["click_bell", "beat_block_hammer", "turn_switch"], {"click_bell": 2, "beat_block_hammer": 1,
                                                                         "turn_switch": 1}
    one = collect_demonstrations(tmp_path / "one", tasks, counts, obs_mode="state", progress=False)
    two = collect_demonstrations(tmp_path / "two", tasks, counts, obs_mode="state", workers=2, progress=False)
    assert one == two == 4

    def files(root):
        return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}

    assert files(tmp_path / "one") == files(tmp_path / "two")
    more = collect_demonstrations(tmp_path / "two", tasks, {**counts, "turn_switch": 2}, obs_mode="state", workers=2,
                                  progress=False)
    seeds = [(row["task_name"], row["reset_seed"]) for row in LeRobotV3Dataset(tmp_path / "two").episodes]
    assert more == 5 and seeds.count(("turn_switch", 0)) == 1 and len(set(seeds)) == 5
    with pytest.raises(ValueError, match="workers must be at least 1"):
        collect_demonstrations(tmp_path / "bad", tasks, 1, workers=0, progress=False)
