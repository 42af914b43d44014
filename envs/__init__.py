"""The embedded task suites; importing this package registers every task module."""

from vlapro_bench.envs import rlbench, robotwin  # noqa: F401
