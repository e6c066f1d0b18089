"""Failure drills: hold a sync at a chosen point to see what a signal does there.

``ARCHID_FAILPOINTS`` holds comma-separated names from :data:`KNOWN`. The
end-to-end tests use them to stop a real daemon in the middle of an apply,
which otherwise lasts milliseconds; an operator can use them the same way
to rehearse a shutdown. A production unit never sets the variable, and the
daemon warns at start when one is armed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

#: the apply has written every row and waits before COMMIT until cancelled
STALL_BEFORE_COMMIT: Final = "stall-before-commit"

KNOWN: Final = frozenset({STALL_BEFORE_COMMIT})


def armed(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """The failpoints named in ``ARCHID_FAILPOINTS``; raises ``ValueError`` for unknown ones."""
    value = (os.environ if environ is None else environ).get("ARCHID_FAILPOINTS", "")
    names = frozenset(name.strip() for name in value.split(",") if name.strip())
    unknown = names - KNOWN
    if unknown:
        raise ValueError(
            f"ARCHID_FAILPOINTS: unknown {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(KNOWN))})"
        )
    return names
