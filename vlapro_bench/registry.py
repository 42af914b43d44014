"""The task registry: one typed spec and one registration call per task.

Everything else (gym ids, split views, docs tables, parametrised tests) is derived from this
registry, so adding a task is one file. Registering a name twice raises.

Tasks are keyed by their registry name, which carries the version from version 1 on
(``open_laptop`` is version 0, ``open_laptop-v1`` version 1): both versions of a changed task
are registered side by side, and a split or protocol names the one it uses.
"""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING, TypeVar

from vlapro_bench.task_spec import SUITES, ProceduralAnnotation, TaskSpec, parse_task_ref, task_ref

if TYPE_CHECKING:
    from vlapro_bench.task import Task

__all__ = ["SUITES", "ProceduralAnnotation", "TaskSpec", "UnknownTaskError", "all_specs", "get_task_class",
           "parse_task_ref", "register_task", "task_names", "task_ref", "task_versions"]


class UnknownTaskError(KeyError):
    """A task name that is not registered; the message lists the valid ones."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it readable
        return str(self.args[0])


T = TypeVar("T", bound="type[Task]")
_TASKS: dict[tuple[str, str], type[Task]] = {}


def register_task(cls: T) -> T:
    """Class decorator: add a task class (which carries a ``spec``) to the registry."""
    spec: TaskSpec = cls.spec
    key = (spec.suite, spec.name)
    if key in _TASKS:
        raise ValueError(f"Task {spec.suite}/{spec.name} is registered twice")
    _TASKS[key] = cls
    return cls


def _load_builtin_tasks() -> None:
    """Import every suite's task package (each imports its task modules, which register)."""
    for suite in SUITES:
        importlib.import_module(f"vlapro_bench.envs.{suite}")


def task_names(suite: str) -> list[str]:
    _load_builtin_tasks()
    return sorted(name for s, name in _TASKS if s == suite)


def task_versions(suite: str, base_name: str) -> list[str]:
    """Registry names of every registered version of a task, oldest first."""
    _load_builtin_tasks()
    return [task_ref(base, version) for base, version in
            sorted(parse_task_ref(name) for s, name in _TASKS if s == suite) if base == base_name]


def get_task_class(suite: str, name: str) -> type[Task]:
    """The task class registered as ``name`` (``<task>`` or ``<task>-v<N>``; ``-v0`` is the bare name)."""
    _load_builtin_tasks()
    key = task_ref(*parse_task_ref(name))
    try:
        return _TASKS[(suite, key)]
    except KeyError:
        valid = task_names(suite)
        elsewhere = [other for other in SUITES if other != suite and (other, key) in _TASKS]
        versions = task_versions(suite, parse_task_ref(name)[0])
        if elsewhere:
            hint = f" It is a task of the {elsewhere[0]} suite: pass --suite {elsewhere[0]} (suite={elsewhere[0]!r})."
        elif versions:
            hint = f" Its registered versions are {', '.join(versions)}."
        else:
            close = difflib.get_close_matches(name, valid, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownTaskError(
            f"Unknown {suite} task {name!r}.{hint} Valid tasks: {', '.join(valid)}"
        ) from None


def all_specs(suite: str | None = None) -> list[TaskSpec]:
    _load_builtin_tasks()
    return [cls.spec for (s, _), cls in sorted(_TASKS.items()) if suite is None or s == suite]
