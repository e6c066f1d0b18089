"""A real ``archid run`` with its control socket, shared by the tests of a module.

Starting a daemon (and, at its first sync, Chromium) is the slow part, so
each module gets one simulator and one daemon (module-scoped fixtures);
the tests of a module leave the daemon as they found it (resumed, no
session open).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archid.control import Client
from archid.sim.server import SimServer
from tests.conftest import serving_sim
from tests.daemon_process import Daemon, quick_sim_options, start_daemon, write_config

#: the group whose members may read (a uid 65534 child has it as its primary group)
READ_GROUP = "nogroup"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    """One simulated portal for the module (the top conftest's is per test)."""
    with serving_sim(quick_sim_options()) as server:
        yield server


@pytest.fixture(scope="module")
def socket_dir() -> Iterator[Path]:
    """A short folder for the socket (sun_path holds 108 bytes), open to every user."""
    folder = Path(tempfile.mkdtemp(prefix="archid-ctl-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Daemon]]:
    yield from start_daemon(tmp_path_factory.mktemp("daemon"))


def control_section(socket: Path, idle_timeout: str = "10s") -> str:
    """The ``[control]`` section the tests use: any user may connect, the
    credentials decide (``mode`` 0666), ``nogroup`` reads."""
    return (
        f'[control]\nsocket = "{socket}"\nmode = "0666"\n'
        f'read_groups = ["{READ_GROUP}"]\nidle_timeout = "{idle_timeout}"\n'
    )


@pytest.fixture(scope="module")
def daemon(
    sim: SimServer,
    socket_dir: Path,
    daemon_factory: Callable[..., Daemon],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Daemon]:
    """A daemon with no schedule (only the tests' syncs run), listening at ``socket_dir``."""
    folder = tmp_path_factory.mktemp("config")
    config = write_config(folder, sim.url, [], extra=control_section(socket_dir / "control.sock"))
    process = daemon_factory(config)
    process.receive(lambda m: m == "READY=1", 30, "READY=1")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def socket_path(daemon: Daemon, socket_dir: Path) -> Path:
    path = socket_dir / "control.sock"
    daemon.wait_until(path.exists, 10, "the control socket")
    return path


@pytest.fixture
def client(socket_path: Path) -> Iterator[Client]:
    with Client(socket_path, timeout=30) as c:
        yield c


def run_as(uid: int, gid: int, groups: list[int], work: Callable[[], object]) -> object:
    """``work()`` in a forked child that dropped to ``uid``/``gid``/``groups``;
    what it returned, or the exception it raised (re-raised here)."""
    import pickle

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        try:
            os.close(read)
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
            try:
                answer: object = ("ok", work())
            except BaseException as exc:
                answer = ("raised", exc)
            with os.fdopen(write, "wb") as out:
                pickle.dump(answer, out)
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as incoming:
        data = incoming.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "raised":
        raise value
    return value
