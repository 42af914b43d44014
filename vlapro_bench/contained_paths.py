"""Paths that data files name relative to their own folder, kept inside that folder.

A dataset's ``meta/info.json`` holds the templates of its file paths and a memory bank's
``index.json`` lists its files; both are data anyone can edit or ship. A path that is absolute
or climbs out with ``..`` would make a reader open a file elsewhere on the machine, so readers
refuse such a path before opening anything. The check is on the text alone: a symlink inside the
folder (the Hugging Face cache links snapshot files to its blob store) is the owner's choice.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath


def escape_problem(relative: str) -> str | None:
    """Why ``relative`` could lead outside its folder (``None`` when it stays inside)."""
    if not isinstance(relative, str) or not relative.strip():
        return "is not a path"
    if "\\" in relative or "\0" in relative:
        return "holds a backslash or NUL; use '/' between folder names"
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).drive or relative.startswith("~"):
        return "is absolute; it must be relative to the folder"
    if ".." in PurePosixPath(relative).parts:
        return "climbs out of the folder with '..'"
    return None
