"""The store's public surface: what the daemon and readers may rely on."""

from __future__ import annotations

import archid.store


def test_public_names_are_exported() -> None:
    assert len(set(archid.store.__all__)) == len(archid.store.__all__)
    for name in archid.store.__all__:
        assert getattr(archid.store, name) is not None
    assert {
        "apply_sync",
        "open_database",
        "changes_since",
        "record_failed_run",
        "record_run",
        "OUTCOMES",
        "ListMark",
        "read_mark",
        "clear_mark",
    } <= set(archid.store.__all__)
