"""Random bytes and random JSON at the socket while the daemon syncs.

Runs for ``ARCHID_FUZZ_SECONDS``: 10 in the default test run, a minute in
``bash .ci/reliability``. Every answer must be well-formed
JSON-RPC, none an internal error; meanwhile a customer sync after another
runs and each ends ``ok``; afterwards the daemon answers ``status``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archid.control import Client
from archid.control.methods import METHODS
from tests.daemon_process import Daemon

SECONDS = float(os.environ.get("ARCHID_FUZZ_SECONDS", "10"))

# Commands that would rightly stop the syncs the test counts on are left out.
_SPARED = {"pause", "cancel", "reload"}
_methods = st.sampled_from(sorted(set(METHODS) - _SPARED)) | st.text(max_size=20)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
_ids = st.none() | st.integers() | st.text(max_size=10) | st.floats() | st.booleans()


@st.composite
def _requests(draw: st.DrawFn) -> bytes:
    message: dict[str, Any] = {}
    if draw(st.booleans()):
        message["jsonrpc"] = draw(st.sampled_from(["2.0", "2.0", "1.0", 2]))
    if draw(st.booleans()):
        message["id"] = draw(_ids)
    if draw(st.integers(0, 9)):
        message["method"] = draw(_methods)
    if draw(st.booleans()):
        params = draw(st.dictionaries(st.text(max_size=12), _json, max_size=4) | _json)
        if isinstance(params, dict):
            params.pop("wait", None)  # a waiting sync would keep the fuzzer waiting
        message["params"] = params
    return json.dumps(message).encode()


_lines = st.lists(
    st.one_of(_requests(), st.binary(max_size=300), _json.map(lambda v: json.dumps(v).encode())),
    min_size=1,
    max_size=6,
)


def _throw(path: Path, lines: list[bytes], cut: bool) -> list[dict[str, Any]]:
    """Send the lines (the last one maybe without its newline), then read every answer."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    try:
        sock.connect(os.fspath(path))
        data = b"\n".join(lines) + (b"" if cut else b"\n")
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    except (BrokenPipeError, ConnectionResetError):
        return []  # closed on us after an error line: fine, checked elsewhere
    finally:
        sock.close()
    answers = [json.loads(line) for line in received.splitlines()]
    for answer in answers:
        assert answer["jsonrpc"] == "2.0", answer
        if "method" in answer:
            assert answer["method"] == "event" and "id" not in answer, answer
            continue
        assert ("result" in answer) != ("error" in answer), answer
        if "error" in answer:
            assert isinstance(answer["error"]["message"], str)
            assert answer["error"]["code"] != -32603, answer  # no internal error
    return answers


def test_random_bytes_and_json_do_not_disturb_the_daemon(socket_path: Path, daemon: Daemon) -> None:
    outcomes: list[str] = []
    stop = threading.Event()

    def keep_syncing() -> None:
        with Client(socket_path, timeout=60) as syncer:
            while not stop.is_set():
                outcomes.append(syncer.sync("customers", wait=True)["outcome"])

    syncing = threading.Thread(target=keep_syncing)
    syncing.start()
    thrown = 0

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(lines=_lines, cut=st.booleans())
    def fuzz(lines: list[bytes], cut: bool) -> None:
        nonlocal thrown
        _throw(socket_path, lines, cut)
        thrown += 1

    deadline = time.monotonic() + SECONDS
    try:
        while time.monotonic() < deadline:
            fuzz()
    finally:
        stop.set()
        syncing.join(timeout=60)
    assert not syncing.is_alive()
    assert thrown > 50
    assert outcomes and set(outcomes) == {"ok"}, outcomes
    with Client(socket_path) as client:
        status = client.status()
        for session in client.session_list():
            client.session_close(session["id"])
    assert status["breaker"] == "closed"
    assert daemon.process.poll() is None
    assert "control connection of" not in daemon.log()  # no connection task failed
    assert "Traceback" not in daemon.log()
