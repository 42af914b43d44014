"""A random policy that can be told to stall or die, so a test can kill an evaluation mid-run
without racing it: with ``VLAPRO_TEST_STALL_AFTER=N`` set, each process plays N episodes and then
waits forever in the next ``reset``; with ``VLAPRO_TEST_DIE_AFTER=N``, its process SIGKILLs itself
there instead (a worker killed by the OOM killer). Unset, it is exactly the built-in random policy
(same seeds, same actions), so a resumed run can be compared with an uninterrupted one."""

from __future__ import annotations

import os
import signal
import time

import gymnasium as gym

from vlapro_bench.policies.random_policy import RandomPolicy
from vlapro_bench.registry import TaskSpec

STALL_VARIABLE = "VLAPRO_TEST_STALL_AFTER"
DIE_VARIABLE = "VLAPRO_TEST_DIE_AFTER"


class StallingRandomPolicy(RandomPolicy):
    def __init__(self, action_space: gym.spaces.Box, seed: int | None = None):
        super().__init__(action_space, seed)
        self.episodes_started = 0

    def reset(self, instruction: str, task_spec: TaskSpec | None) -> None:
        die_after = os.environ.get(DIE_VARIABLE)
        if die_after is not None and self.episodes_started >= int(die_after):
            os.kill(os.getpid(), signal.SIGKILL)
        stall_after = os.environ.get(STALL_VARIABLE)
        if stall_after is not None and self.episodes_started >= int(stall_after):
            while True:  # killed from outside
                time.sleep(1.0)
        self.episodes_started += 1


def make_policy(env: gym.Env, seed: int | None = 0) -> StallingRandomPolicy:
    return StallingRandomPolicy(env.action_space, seed=seed)
