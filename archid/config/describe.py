"""How error messages quote a value read from TOML: :func:`show` and :func:`kind`.

Every message about a bad value goes through these two, so that the user
sees the value as they wrote it (``true``, ``"5"``, ``660``) and its TOML
type in TOML's words, never Python's (``True``, ``'5'``, ``int``).
"""

from __future__ import annotations

import json
from datetime import time


def show(value: object) -> str:
    """Render *value* as it would be written in TOML (a table or array by its kind)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def kind(value: object) -> str:
    """The TOML type of *value*, with its article (``"an integer"``)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, time):
        return "a time"
    # What tomllib returns is now exhausted but for date and datetime.
    return "a date"
