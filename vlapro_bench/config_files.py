"""Reading the project's JSON configuration files (training, memory build, profiles, protocols)
with one set of error messages: which file, and whether it is missing, not JSON, or not an object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json_object(path: str | Path, what: str, error: type[Exception] = ValueError) -> dict[str, Any]:
    """The JSON object in ``path``; ``what`` names the file in messages ("Training config").

    A missing file raises ``FileNotFoundError``; invalid JSON or a non-object top level raises
    ``error`` (each caller's own exception type, so its callers catch what they already catch).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {path} does not exist") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{what} {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise error(f"{what} {path} must hold a JSON object")
    return data
