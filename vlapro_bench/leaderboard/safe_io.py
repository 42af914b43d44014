"""Reading untrusted submission files, and checking the paths they name.

A leaderboard entry arrives in a pull request from a stranger. Nothing in it may make the
maintainer's machine read outside the leaderboard folder, run code, or spend unbounded memory:

- files are read only if they are regular files with the expected extension, and only up to a
  size limit checked *before* parsing (and enforced while reading, in case the file grows);
- JSON is parsed with Python's ``json`` module (data only, never code), refusing duplicate keys
  (ambiguous: two parsers can disagree on which value wins), ``NaN``/``Infinity`` (not JSON),
  numbers too large for a float (``1e999`` is valid JSON that Python reads as infinity), and
  nesting deep enough to exhaust the parser;
- every path-like string must be a plain relative path without ``..`` that stays inside the
  folder after symlinks are resolved; http(s) URLs are allowed only where a field is a link.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

#: Entry and card files; a real entry is a few kB (a 200-task entry is ~60 kB).
MAX_ENTRY_BYTES = 256 * 1024
#: Per-episode records: ~400 bytes an episode, more with per-chunk memory-retrieval extras.
MAX_RECORDS_BYTES = 32 * 1024 * 1024
MAX_JSON_DEPTH = 32

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeFileError(ValueError):
    """A file that must not be read (wrong type, too large, a symlink, not JSON)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def read_limited(path: Path, limit: int, suffixes: tuple[str, ...]) -> bytes:
    """The bytes of ``path`` if it is a regular, non-symlink file with one of ``suffixes`` and at
    most ``limit`` bytes; the size is checked before reading and again while reading."""
    if path.suffix.lower() not in suffixes:
        raise UnsafeFileError("file_type", f"{path.name}: only {', '.join(suffixes)} files are accepted, "
                                           f"got {path.suffix or 'no extension'!r}")
    if path.is_symlink():
        raise UnsafeFileError("path", f"{path}: symlinks are refused; commit the file itself")
    if not path.is_file():
        raise UnsafeFileError("file_type", f"{path}: not a regular file (or it does not exist)")
    size = path.stat().st_size
    if size > limit:
        raise UnsafeFileError("file_size", f"{path.name}: {size} bytes, more than the limit of {limit} bytes")
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UnsafeFileError("file_size", f"{path.name}: grew past the limit of {limit} bytes while being read")
    return data


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    """A JSON number as a float, refusing overflow: ``1e999`` would otherwise become infinity and
    pass every check written for NaN/Infinity literals."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is too large for a float")
    return value


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json_text(data: bytes, name: str) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity (written or by overflow), bounded nesting."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeFileError("not_json", f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                          f"an entry must be a JSON file") from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse_constant,
                           parse_float=_finite_float)
    except RecursionError:
        raise UnsafeFileError("not_json", f"{name}: JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError, as are the hooks' refusals
        raise UnsafeFileError("not_json", f"{name}: not valid JSON ({exc})") from None
    if _depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise UnsafeFileError("not_json", f"{name}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def read_json_file(path: Path, limit: int = MAX_ENTRY_BYTES) -> tuple[bytes, dict[str, Any]]:
    """An untrusted JSON object file: its raw bytes and its parsed value."""
    data = read_limited(path, limit, (".json",))
    value = parse_json_text(data, path.name)
    if not isinstance(value, dict):
        raise UnsafeFileError("not_json", f"{path.name}: the top level must be a JSON object, got "
                                          f"{type(value).__name__}")
    return data, value


def is_url(value: str) -> bool:
    return bool(_SCHEME.match(value)) and not _DRIVE.match(value)


def looks_like_path(value: str) -> bool:
    """Strings in free-form fields (policy arguments) that name a file or folder."""
    return ("/" in value or "\\" in value or value.startswith((".", "~")) or value == ".."
            or bool(_DRIVE.match(value)) or value.lower().startswith("file:"))


def url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https"):
        return f"{value!r}: only http(s) URLs are accepted, not {parts.scheme!r}:"
    if not parts.netloc or parts.username or parts.password:
        return f"{value!r}: a URL needs a host and no credentials"
    return None


def relative_path_problem(value: str, folder: Path) -> str | None:
    """Why ``value`` is not a safe path relative to ``folder`` (None if it is).

    Safe: relative, POSIX separators, no ``..`` component (also when percent-encoded), no home
    or drive prefix, and, if it exists, it resolves inside ``folder`` (no symlink escapes).
    """
    decoded = unquote(value)
    if not value or any(ord(c) < 32 for c in decoded):
        return f"{value!r}: empty or contains control characters"
    if "\\" in decoded:
        return f"{value!r}: backslashes are refused; use '/' separators"
    if decoded.startswith(("/", "~")) or _DRIVE.match(decoded):
        return f"{value!r}: absolute paths are refused; give a path relative to the leaderboard folder"
    if any(part == ".." for part in decoded.split("/")):
        return f"{value!r}: '..' would leave the leaderboard folder (path traversal)"
    if is_url(decoded):
        return f"{value!r}: a URL is not accepted here; give a path relative to the leaderboard folder"
    root = folder.resolve()
    target = folder / decoded
    try:
        if target.exists() or target.is_symlink():
            resolved = target.resolve(strict=True)
            if resolved != root and root not in resolved.parents:
                return f"{value!r}: resolves to {resolved}, outside the leaderboard folder (a symlink escape)"
    except (OSError, RuntimeError) as exc:  # a dangling link, a link loop, a name too long
        return f"{value!r}: cannot be resolved inside the leaderboard folder ({exc.__class__.__name__})"
    return None


def link_problem(value: str, folder: Path) -> str | None:
    """A card link: an http(s) URL, or a safe path inside the leaderboard folder."""
    return url_problem(value) if is_url(value) else relative_path_problem(value, folder)
