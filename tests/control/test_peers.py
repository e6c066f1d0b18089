"""Who may do what, from the peer's credentials: children that drop to another user."""

from __future__ import annotations

import grp
from pathlib import Path
from typing import Any

import pytest

from archid.control import Client, NotAuthorised
from tests.control.conftest import READ_GROUP, run_as
from tests.daemon_process import Daemon

NOBODY = 65534
OTHER_GROUP = grp.getgrnam("daemon").gr_gid


def test_a_stranger_is_refused_and_logged(socket_path: Path, daemon: Daemon) -> None:
    def status() -> Any:
        with Client(socket_path) as client:
            return client.status()

    with pytest.raises(NotAuthorised, match="may not use archid's control socket") as raised:
        run_as(NOBODY, OTHER_GROUP, [], status)
    assert raised.value.code == -32001
    daemon.wait_until(lambda: f"refused uid {NOBODY} (pid " in daemon.log(), 5, "the refusal")


def test_a_reader_reads_and_opens_sessions_but_may_not_pause(
    socket_path: Path, daemon: Daemon, client: Client
) -> None:
    reader_gid = grp.getgrnam(READ_GROUP).gr_gid

    def read_then_pause() -> Any:
        seen: dict[str, Any] = {}
        with Client(socket_path) as reader:
            seen["role"] = reader.version()["role"]
            seen["state"] = reader.status()["state"]
            seen["health"] = reader.health()["healthy"]
            seen["history"] = reader.history(limit=1)
            seen["queue"] = reader.queue()
            seen["letters"] = reader.deadletters_list()
            opened = reader.session_open("app")
            seen["sessions"] = [s["id"] for s in reader.session_list()]
            seen["closed"] = reader.session_close(opened["id"])["closed"] == opened["id"]
            seen["opened"] = opened["id"]
            for forbidden in ("pause", "resume", "reload", "cancel"):
                try:
                    reader.call(forbidden)
                except NotAuthorised as exc:
                    seen[forbidden] = exc.code
            try:
                reader.sync("customers")
            except NotAuthorised as exc:
                seen["sync"] = exc.code
            seen["still"] = reader.version()["protocol"]
        return seen

    seen = run_as(NOBODY, reader_gid, [], read_then_pause)
    assert isinstance(seen, dict)
    assert seen["role"] == "read"
    assert seen["opened"] in seen["sessions"] and seen["closed"]
    for forbidden in ("pause", "resume", "reload", "cancel", "sync"):
        assert seen[forbidden] == -32001, forbidden
    assert seen["still"] == 1  # refusals do not end the connection
    assert client.status()["paused"] == {"everything": False, "types": []}
    assert f"uid {NOBODY} (pid" in daemon.log() and "may not call pause" in daemon.log()


def test_a_supplementary_group_counts(socket_path: Path) -> None:
    reader_gid = grp.getgrnam(READ_GROUP).gr_gid

    def role() -> Any:
        with Client(socket_path) as reader:
            return reader.version()["role"]

    assert run_as(NOBODY, OTHER_GROUP, [reader_gid], role) == "read"
