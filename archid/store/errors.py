"""What the store raises.

Every error is a :class:`StoreError`. Errors of SQLite itself (a full disk,
a lock held past the busy timeout, a corrupt file) are ``apsw`` exceptions
and pass through unchanged: the store never hides them, and a run they
interrupt leaves nothing behind (see :func:`archid.store.apply_sync`).

A rejected run is not an error: :func:`archid.store.apply_sync` returns it
with ``outcome == "rejected"`` and the reason.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's own errors."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer archid (its ``user_version`` is
    higher than any migration this code knows); it is left untouched."""

    def __init__(self, path: str, found: int, supported: int) -> None:
        super().__init__(
            f"{path}: database schema version {found} is newer than this archid supports"
            f" ({supported}); upgrade archid or use a matching database"
        )
        self.found = found
        self.supported = supported


class SchemaMismatchError(StoreError):
    """A table's columns differ from the record fields this code expects
    (the records changed without a migration); raised when opening."""


class ExportTypeError(StoreError, TypeError):
    """A record passed to the apply is not of the run's export type."""


class UnreadFieldError(StoreError, ValueError):
    """A record says a field could not be read that the store cannot do
    without: a field of its key, a field that is not optional, or a name
    that is not one of its fields. Raised before anything is written."""
