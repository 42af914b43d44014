"""Adapters that run our task names on the real upstream simulators.

- ``backend="robotwin"``: RoboTwin 2.0, branch ``stable_2.0``, on SAPIEN (:mod:`.robotwin`).
- ``backend="rlbench"``: RLBench 1.2.0 on PyRep and CoppeliaSim 4.1.0 (:mod:`.rlbench`).

Nothing upstream is imported until an environment is made. A missing or misconfigured install
raises :class:`~vlapro_bench.errors.BackendNotAvailableError` with one message that says what to
install or set (:mod:`.messages`). Observations and actions are translated to the embedded
engine's spaces by pure functions (:mod:`.robotwin_translate`, :mod:`.rlbench_translate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym

#: Which suite each upstream backend serves.
UPSTREAM_SUITES = {"robotwin": "robotwin", "rlbench": "rlbench"}


def make_backend_env(backend: str, tasks: str | Sequence[str], suite: str, **kwargs: Any) -> gym.Env:
    """Build ``tasks`` of ``suite`` on an upstream ``backend`` (called by ``make_env``)."""
    if backend not in UPSTREAM_SUITES:
        raise ValueError(f"Unknown upstream backend {backend!r}; choose one of {sorted(UPSTREAM_SUITES)}")
    if suite != UPSTREAM_SUITES[backend]:
        raise ValueError(
            f"backend={backend!r} runs the {UPSTREAM_SUITES[backend]!r} suite's tasks, not {suite!r}; "
            f"use backend='mujoco' for the embedded {suite!r} suite."
        )
    if backend == "robotwin":
        from vlapro_bench.backends.robotwin import make_robotwin_env  # noqa: PLC0415  (keeps imports lazy)

        return make_robotwin_env(tasks, **kwargs)
    from vlapro_bench.backends.rlbench import make_rlbench_env  # noqa: PLC0415

    return make_rlbench_env(tasks, **kwargs)


def __getattr__(name: str) -> Any:
    """Lazy exports, so ``import vlapro_bench.backends`` stays cheap."""
    if name in ("RoboTwinEnv", "UnsolvableSeedError", "make_robotwin_env"):
        from vlapro_bench.backends import robotwin  # noqa: PLC0415

        return getattr(robotwin, name)
    if name in ("RLBenchEnv", "make_rlbench_env"):
        from vlapro_bench.backends import rlbench  # noqa: PLC0415

        return getattr(rlbench, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RLBenchEnv", "RoboTwinEnv", "UnsolvableSeedError", "make_backend_env", "make_rlbench_env",
           "make_robotwin_env"]
