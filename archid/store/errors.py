"""What the store raises.

Every error is a :class:`StoreError`, and each says whether trying again
later may help: ``transient`` is a class attribute, so a caller decides on
the failure, not on a list of classes. Errors of SQLite itself are mapped
onto :class:`DatabaseError` and its branches in one place,
:func:`sqlite_errors` (the ``apsw`` exception is the ``__cause__``):

* :class:`DatabaseBusy`: another connection held the lock past the busy
  timeout (transient: the lock will be released);
* :class:`DiskFull`: the disk, a quota or a file size limit is full
  (transient: an operator frees space, nothing is half written);
* :class:`DatabaseIOError`: the operating system failed a read or write
  (transient: a disk being remounted, a flaky device);
* :class:`DatabaseCorrupt`: the file is not a database or is damaged;
  and :class:`DatabaseError` itself for everything else (not transient).

Opening a database (:func:`archid.store.open_database`) is the exception:
its ``apsw`` errors pass through, since nothing has been written yet and
the message names the file's problem directly.

A rejected run is not an error: :func:`archid.store.apply_sync` returns it
with ``outcome == "rejected"`` and the reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from typing import Any

import apsw

from archid.failures import ArchidError


class StoreError(ArchidError):
    """Base class of the store's own errors: ``transient`` when the same
    call may succeed later without anyone changing the data; never the
    portal's fault (:mod:`archid.failures`)."""


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


class DatabaseError(StoreError):
    """SQLite failed a read or a write; the transaction, if any, rolled back."""


class DatabaseBusy(DatabaseError):
    """Another connection held the database's lock longer than the busy timeout."""

    transient = True


class DiskFull(DatabaseError):
    """The disk (or a quota, or the process's file size limit) has no room left."""

    transient = True


class DatabaseIOError(DatabaseError):
    """The operating system failed a read or a write of the database file."""

    transient = True


class DatabaseReadOnly(DatabaseError):
    """The file system holding the database is read-only (remounted so after
    a disk error, or mounted so): nothing can be written until it is fixed."""

    transient = True


class DatabaseCorrupt(DatabaseError):
    """The file is not a database, or its pages are damaged."""


#: errno values that mean "no room", whatever SQLite calls them
_NO_ROOM = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def sqlite_error(exc: apsw.Error, connection: Any, doing: str) -> DatabaseError:
    """The store's error for ``exc``, raised by ``connection`` while ``doing``
    (a few words, e.g. ``"applying the customers export"``).

    SQLite reports a write refused by a file size limit as an I/O error;
    the operating system's errno (read from ``connection`` right after the
    failure) tells it apart from a real I/O error.
    """
    os_errno = _system_errno(connection)
    reason = f"{type(exc).__name__}: {exc}"
    if os_errno:
        reason += f" ({os.strerror(os_errno)})"
    kind: type[DatabaseError]
    if isinstance(exc, apsw.BusyError | apsw.LockedError):
        kind, what = DatabaseBusy, "database busy"
    elif isinstance(exc, apsw.FullError) or os_errno in _NO_ROOM:
        kind, what = DiskFull, "disk full"
    elif isinstance(exc, apsw.ReadOnlyError) or os_errno == errno.EROFS:
        kind, what = DatabaseReadOnly, "database read-only"
    elif isinstance(exc, apsw.IOError):
        kind, what = DatabaseIOError, "database I/O error"
    elif isinstance(exc, apsw.CorruptError | apsw.NotADBError):
        kind, what = DatabaseCorrupt, "database corrupt"
    else:
        kind, what = DatabaseError, "database error"
    return kind(f"{what} while {doing}: {reason}")


@contextlib.contextmanager
def sqlite_errors(connection: Any, doing: str) -> Iterator[None]:
    """Raise the store's error (:func:`sqlite_error`) for an ``apsw`` error in the block."""
    try:
        yield
    except apsw.Error as exc:
        raise sqlite_error(exc, connection, doing) from exc


def _system_errno(connection: Any) -> int:
    try:
        return int(connection.system_errno)
    except (AttributeError, apsw.Error, TypeError, ValueError):
        return 0
