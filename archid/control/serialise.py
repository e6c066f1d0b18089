"""The one mapping of the daemon's answers onto JSON values, for the control socket.

The daemon answers with frozen dataclasses (:mod:`archid.daemon.answers`);
the methods compose them; the server turns each result into JSON values
here, once, before :mod:`archid.control.protocol` writes the line.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


def to_json(value: Any) -> Any:
    """``value`` as JSON values (dicts, lists, strings, numbers, booleans, ``None``).

    * a dataclass: an object with a key per field, in the fields' order;
    * an enum: its value (``ExportType.ORDERS`` → ``"orders"``), as a key too;
    * a datetime or date: ISO 8601 text;
    * a mapping: an object, its keys as text;
    * a set: a sorted list; a list or tuple: a list.

    Anything else is returned as it is, for the JSON encoder to take or refuse.
    """
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if value is None or isinstance(value, str | int | float):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {_key(k): to_json(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(to_json(v) for v in value)
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def _key(key: object) -> str:
    """An object's key: an enum by its value, anything else as text (as the
    protocol writes every key)."""
    value = key.value if isinstance(key, enum.Enum) else key
    return value if isinstance(value, str) else str(value)
