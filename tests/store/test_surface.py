"""The store's public surface: what the daemon and readers may rely on.

The surface is written out here, not read back from ``archid.store``: a name
that leaves it, joins it or changes kind fails this test, and the change is
one to make on purpose (and in ``docs/database.md``).
"""

from __future__ import annotations

import enum
import inspect

import archid.store
from archid.records import ExportType
from archid.store import StoreError

FUNCTIONS = {
    "apply_sync",
    "changes_since",
    "clear_mark",
    "latest_seq",
    "list_runs",
    "open_database",
    "open_from_config",
    "read_mark",
    "record_failed_run",
    "record_run",
    "system_clock",
    "utc_text",
    "warnings_summary",
}
CLASSES = {"Database", "FeedEntry", "ListMark", "RunCounts", "RunMeta", "RunResult", "TableSpec"}
ENUMS = {"Mode", "Outcome", "Trigger"}
#: every error the store raises is a StoreError, which is what its callers catch
ERRORS = {
    "StoreError",
    "DatabaseError",
    "DatabaseBusy",
    "DatabaseCorrupt",
    "DatabaseIOError",
    "DatabaseReadOnly",
    "DiskFull",
    "ExportTypeError",
    "SchemaMismatchError",
    "SchemaTooNewError",
    "UnreadFieldError",
}
CONSTANTS = {"OUTCOMES", "SCHEMA_VERSION", "TABLES"}
TYPE_ALIASES = {"ChangeOp", "Clock"}


def test_public_names_are_exported() -> None:
    exported = archid.store.__all__
    assert len(set(exported)) == len(exported)
    expected = FUNCTIONS | CLASSES | ENUMS | ERRORS | CONSTANTS | TYPE_ALIASES
    assert sorted(set(exported) - expected) == [], "new in the surface"
    assert sorted(expected - set(exported)) == [], "gone from the surface"
    store = vars(archid.store)
    for name in FUNCTIONS:
        assert inspect.isfunction(store[name]), name
    for name in CLASSES:
        assert inspect.isclass(store[name]) and not issubclass(store[name], BaseException), name
    for name in ENUMS:
        assert inspect.isclass(store[name]) and issubclass(store[name], enum.Enum), name
    for name in ERRORS:
        assert inspect.isclass(store[name]) and issubclass(store[name], StoreError), name
    for name in TYPE_ALIASES:
        assert name in store, name
    assert isinstance(archid.store.SCHEMA_VERSION, int)
    assert set(archid.store.TABLES) == set(ExportType)  # one table per export type
    # The outcomes a reader finds in sync_runs.outcome.
    assert set(archid.store.OUTCOMES) == {
        "ok",
        "unchanged",
        "rejected",
        "failed",
        "cancelled",
        "preempted",
        "interrupted",
    }
