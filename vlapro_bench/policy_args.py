"""Checking the keyword arguments of a policy factory (``--policy-arg key=value``) before the call.

Called with a wrong name or type, a factory fails somewhere inside with a message about a Python
function (``make_random_policy() got an unexpected keyword argument``) or a value deep below
(``'str' object cannot be interpreted as an integer``). Checked against the factory's signature
and its simple annotations first, the error names the argument the user gave, and what it takes.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Annotations checked; an argument annotated with anything else is left to the factory.
_SIMPLE_TYPES = (bool, int, float, str, Path, type(None))


class PolicyArgumentError(ValueError):
    """Policy arguments (``--policy-arg``) that the policy's factory does not take, or misses."""


def _accepts(kind: type, value: Any) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is Path:
        return isinstance(value, str | Path)
    return isinstance(value, kind)


def _type_problem(name: str, value: Any, hint: Any) -> str | None:
    """Why ``value`` does not fit the annotation ``hint`` (``None`` if it fits or is not checked)."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if union else (hint,)
    if not options or not all(option in _SIMPLE_TYPES for option in options):
        return None
    if any(_accepts(option, value) for option in options):
        return None
    names = " or ".join("null" if option is type(None) else option.__name__ for option in options)
    return f"{name} must be {names}, got {value!r}"


def check_policy_arguments(spec: str, target: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """Refuse ``kwargs`` that ``target(env, **kwargs)`` would not take: unknown names, missing
    required ones, and values of the wrong simple type (int, float, str, bool, path, null)."""
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # a builtin or C callable: nothing to check against
        return
    takes = [p.name for p in list(signature.parameters.values())[1:]
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    hint = f"it takes {', '.join(takes) or 'no arguments'} (give them as --policy-arg key=value)"
    try:
        signature.bind(None, **kwargs)  # the environment is the first positional argument
    except TypeError as exc:
        raise PolicyArgumentError(f"policy {spec!r}: {exc}; {hint}") from None
    try:
        hints = typing.get_type_hints(target.__init__ if inspect.isclass(target) else target)
    except Exception:  # annotations that do not resolve here (TYPE_CHECKING names): the factory checks values
        return
    for name, value in kwargs.items():
        problem = _type_problem(name, value, hints.get(name))
        if problem is not None:
            raise PolicyArgumentError(f"policy {spec!r}: {problem} (--policy-arg {name}=...)")
