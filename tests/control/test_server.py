"""The socket itself: limits, bad bytes, watchers, slow clients, the file's life."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archid.control import Client, ControlError
from archid.control.protocol import MAX_LINE
from archid.control.server import MAX_CONNECTIONS
from archid.sim.server import SimServer
from tests.control.conftest import control_section
from tests.daemon_process import Daemon, write_config


class Raw:
    """A bare connection: lines in, lines out, for what the Client would never send."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(os.fspath(path))
        self.buffer = b""

    def send(self, data: bytes | dict[str, Any]) -> None:
        if isinstance(data, dict):
            data = json.dumps({"jsonrpc": "2.0", **data}).encode() + b"\n"
        self.sock.sendall(data)

    def line(self) -> dict[str, Any] | None:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        message = json.loads(line)
        assert isinstance(message, dict)
        return message

    def closed(self) -> bool:
        """Whether the server closed (after any lines still to read)."""
        return self.line() is None

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(socket_path: Path) -> Iterator[Raw]:
    connection = Raw(socket_path)
    yield connection
    connection.close()


def test_bytes_that_are_not_json_get_an_error_and_a_close(raw: Raw) -> None:
    raw.send(b"\xff\xfe hello\n")
    answer = raw.line()
    assert answer is not None and answer["error"]["code"] == -32700 and answer["id"] is None
    assert raw.closed()


def test_json_that_is_no_request_gets_an_error_and_the_connection_stays(raw: Raw) -> None:
    for bad, code in [
        (b"[1, 2]\n", -32600),
        (b'{"jsonrpc": "2.0", "id": 3}\n', -32600),
        (b'{"jsonrpc": "1.0", "id": 4, "method": "status"}\n', -32600),
        (b'{"jsonrpc": "2.0", "id": 5, "method": "status", "params": [1]}\n', -32600),
        (b'{"jsonrpc": "2.0", "id": 6, "method": "nope"}\n', -32601),
    ]:
        raw.send(bad)
        answer = raw.line()
        assert answer is not None and answer["error"]["code"] == code, (bad, answer)
    raw.send({"id": 7, "method": "status"})
    answer = raw.line()
    assert answer is not None and answer["id"] == 7 and "result" in answer
    # A notification (no id) is carried out and never answered, not even an error.
    raw.send({"method": "nope"})
    raw.send({"id": 8, "method": "version"})
    answer = raw.line()
    assert answer is not None and answer["id"] == 8


def test_an_oversized_line_gets_an_error_and_a_close(raw: Raw) -> None:
    raw.send(b'{"jsonrpc": "2.0", "id": 1, "method": "status", "x": "' + b"a" * MAX_LINE)
    answer = raw.line()
    assert answer is not None and "longer than 65536" in answer["error"]["message"]
    assert raw.closed()


def test_a_line_just_under_the_limit_is_read(raw: Raw) -> None:
    head = b'{"jsonrpc": "2.0", "id": 1, "method": "version", "params": {"pad": "'
    tail = b'"}}'
    raw.send(head + b"a" * (MAX_LINE - len(head) - len(tail)) + tail + b"\n")
    answer = raw.line()
    assert answer is not None and "unknown param" in answer["error"]["message"]


def test_sixty_four_watchers_see_every_event_and_the_sixty_fifth_is_turned_away(
    socket_path: Path, daemon: Daemon
) -> None:
    watchers = [Raw(socket_path, timeout=60) for _ in range(MAX_CONNECTIONS)]
    try:
        for n, watcher in enumerate(watchers):
            watcher.send({"id": n, "method": "watch"})
            assert watcher.line() == {"jsonrpc": "2.0", "id": n, "result": {"watching": True}}
        extra = Raw(socket_path)
        answer = extra.line()
        assert answer is not None and "too many connections" in answer["error"]["message"]
        assert extra.closed()
        extra.close()

        # The first watcher asks for the sync: its answer comes after the run's events.
        watchers[0].send(
            {"id": "s", "method": "sync", "params": {"type": "customers", "wait": True}}
        )
        seen: list[list[tuple[Any, ...]]] = []
        for watcher in watchers:
            events: list[tuple[Any, ...]] = []
            while True:
                message = watcher.line()
                assert message is not None
                if message.get("id") == "s":
                    assert message["result"]["outcome"] == "ok", message
                    continue
                event = message["params"]
                assert event["kind"] != "dropped", event
                events.append((event["kind"], event["type"], event["run"], event["stage"]))
                if event["kind"] == "finished" and event["type"] == "customers":
                    break
            seen.append(events)
        kinds = [e[0] for e in seen[0]]
        assert "started" in kinds and "stage" in kinds and "progress" in kinds, kinds
        odd = [e for e in seen if e != seen[0]]
        assert not odd, "\n".join(map(str, [*odd[0], "----", *seen[0]]))
    finally:
        for watcher in watchers:
            watcher.close()
    # The daemon lets the watchers go (the next tests need the room).
    daemon.wait_until(lambda: _answers(socket_path), 10, "room for a connection")


def _answers(path: Path) -> bool:
    try:
        with Client(path, timeout=5) as c:
            c.version()
    except ControlError as exc:
        assert "too many connections" in exc.message
        return False
    return True


def test_a_client_that_stops_reading_does_not_hold_the_daemon_back(
    socket_path: Path, client: Client
) -> None:
    def burst(n: int) -> float:
        started = time.monotonic()
        for _ in range(n):
            client.pause("orders")
            client.resume("orders")
        return time.monotonic() - started

    baseline = burst(200)
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(os.fspath(socket_path))
    try:
        stuck.sendall(b'{"jsonrpc":"2.0","id":1,"method":"watch"}\n')
        # Far more events than the socket's buffers and the client's outbox hold.
        took = burst(1500)
        assert took < 7.5 * baseline * 2 + 2.0, (took, baseline)
        assert client.status()["paused"]["types"] == []
        # The stuck client, reading at last, is told what it lost.
        reader = Raw.__new__(Raw)
        reader.sock, reader.buffer = stuck, b""
        stuck.settimeout(10)
        dropped = None
        while dropped is None:
            message = reader.line()
            assert message is not None
            if message.get("params", {}).get("kind") == "dropped":
                dropped = message["params"]["data"]["count"]
            elif message.get("id") is None:
                continue
        assert dropped > 0
    finally:
        stuck.close()


def test_a_stale_socket_is_replaced_idle_clients_closed_and_the_file_goes_at_exit(
    daemon_factory: Callable[..., Daemon], sim: SimServer, tmp_path: Path, socket_dir: Path
) -> None:
    path = socket_dir / "second.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(os.fspath(path))
    stale.close()  # the file stays, nothing listens: what a killed daemon leaves
    config = write_config(tmp_path, sim.url, [], extra=control_section(path, idle_timeout="1s"))
    second = daemon_factory(config)
    second.receive(lambda m: m == "READY=1", 30, "READY=1")
    second.wait_until(lambda: "control socket listening" in second.log(), 10, "listening")
    assert "replaced a stale control socket" in second.log()

    idle, busy = Raw(path), Raw(path)
    started = time.monotonic()
    busy.send({"id": 1, "method": "watch"})
    assert busy.line() is not None
    answer = idle.line()
    assert answer is not None and "idle for 1 s" in answer["error"]["message"]
    assert idle.closed()
    assert 0.9 < time.monotonic() - started < 5
    with Client(path) as c:  # a watcher is not idle: still there
        assert c.version()["protocol"] == 1
        c.pause("orders")
        c.resume("orders")
    message = busy.line()
    assert message is not None and message["params"]["kind"] == "paused"
    idle.close()
    busy.close()

    second.stop()
    assert not path.exists()
