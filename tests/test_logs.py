"""archid's logs: journald's stream, its native socket, the alerts' ids, ``-v``.

The native protocol is read back here with a parser of its own (not the
module's encoder run backwards), from a real ``AF_UNIX`` datagram socket
standing in for ``/run/systemd/journal/socket``. The stream format is
checked on a real ``archid run`` process whose stderr is a file named by
``JOURNAL_STREAM``, as systemd names the journal's pipe.
"""

from __future__ import annotations

import array
import fcntl
import io
import logging
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trio
import trio.testing

from archid import logs
from archid.cli import build_parser
from archid.config import Secret
from archid.daemon.queue import Request
from archid.daemon.sync import GuardRejected
from archid.daemon.worker import SyncResult
from archid.portal.errors import PortalUnavailable, Stage, WrongCredentials
from archid.portal.hold import PortalHold, save_hold
from archid.portal.session import AsyncPortal
from archid.records import ExportType
from archid.sim.cache import ExportCache
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.layouts import FULL_VIEW, build_grid
from archid.sim.pdfwriter import write_grid_pdf
from archid.sim.portal import Portal
from archid.sim.server import SimServer
from tests.conftest import ROOT, SIM_CACHE, SIM_SCALE, SIM_SEED
from tests.daemon.helpers import Script, running
from tests.daemon_process import PASSWORD, Daemon, quick_sim_options, start_daemon, write_config

CUSTOMERS, ORDERS = ExportType.CUSTOMERS, ExportType.ORDERS

#: the ids as first released: alert rules and saved journalctl queries match on them
PINNED_IDS = {
    "failures_in_a_row": "e1e946309f494501a248a27b6626d7b4",
    "export_rejected": "161f89dff36e4034b9fb9f512c94ffcd",
    "breaker_open": "f34bc7c6d5454f008bedd84879b69609",
    "portal_hold": "0f7438a268ec4be29e3dc65eaf44a6c4",
    "type_stale": "2a457f77ba4f4028923e9b6bc1112099",
}


# -- a journald stand-in ----------------------------------------------------------


def parse_native(data: bytes) -> dict[str, str]:
    """Fields of one native-protocol entry: ``KEY=value\\n`` or ``KEY\\n<u64 le><value>\\n``."""
    entry: dict[str, str] = {}
    at = 0
    while at < len(data):
        end = data.index(b"\n", at)
        line = data[at:end]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            at = end + 1
        else:
            key = line
            (size,) = struct.unpack_from("<Q", data, end + 1)
            start = end + 1 + 8
            value = data[start : start + size]
            assert data[start + size : start + size + 1] == b"\n", "a binary value ends in \\n"
            at = start + size + 1
        assert re.fullmatch(rb"[A-Z0-9_]+", key), key
        entry[key.decode()] = value.decode()
    return entry


@dataclass
class Received:
    fields: dict[str, str]
    raw: bytes
    #: the seals of the memfd the entry came in, or None for a plain datagram
    seals: int | None = None


@dataclass
class Journal:
    """A bound datagram socket read by a thread, as journald reads its own."""

    path: str
    sock: socket.socket
    entries: queue.Queue[Received] = field(default_factory=queue.Queue)

    def take(self, count: int, timeout: float = 5.0) -> list[Received]:
        return [self.entries.get(timeout=timeout) for _ in range(count)]

    def until_sentinel(self, timeout: float = 10.0) -> list[Received]:
        """Everything up to a sentinel datagram sent now (so, everything sent before)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"SENTINEL=1\n", self.path)
        got = []
        while (entry := self.entries.get(timeout=timeout)).fields.get("SENTINEL") != "1":
            got.append(entry)
        return got


def _read(sock: socket.socket, entries: queue.Queue[Received]) -> None:
    while True:
        try:
            data, ancillary, _, _ = sock.recvmsg(1 << 20, socket.CMSG_SPACE(4))
        except OSError:
            return
        seals = None
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                fd = fds[0]
                seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
                with os.fdopen(fd, "rb") as memfd:
                    memfd.seek(0)
                    data = memfd.read()
        if not data and seals is None:
            return
        entries.put(Received(parse_native(data), data, seals))


@pytest.fixture
def journal() -> Iterator[Journal]:
    # A socket path must fit in sun_path (108 bytes): pytest's tmp_path may not.
    folder = Path(tempfile.mkdtemp(prefix="archid-journal-"))
    path = str(folder / "socket")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    journal = Journal(path, sock)
    reader = threading.Thread(target=_read, args=(sock, journal.entries), daemon=True)
    reader.start()
    yield journal
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.sendto(b"", path)  # the reader's signal to end
    reader.join(5)
    sock.close()
    os.unlink(path)
    folder.rmdir()


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Undo what :func:`archid.logs.configure` does to the process."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = ("archid", *logs.LIBRARIES, *logs.HELD)
    levels = {name: logging.getLogger(name).level for name in names}
    hooks = sys.excepthook, threading.excepthook
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    sys.excepthook, threading.excepthook = hooks
    logging.captureWarnings(False)


@pytest.fixture
def to_journal(journal: Journal) -> Iterator[tuple[logs.JournalHandler, io.StringIO]]:
    """archid's loggers sending to ``journal``; the handler's fallback writes to the StringIO."""
    fallback = logging.StreamHandler(io.StringIO())
    fallback.setFormatter(logs.StreamFormatter())
    handler = logs.JournalHandler(fallback, journal.path)
    archid = logging.getLogger("archid")
    level = archid.level
    archid.addHandler(handler)
    archid.setLevel(logging.DEBUG)
    archid.propagate = False  # pytest's capture would keep (and print) every record too
    yield handler, fallback.stream
    archid.propagate = True
    archid.removeHandler(handler)
    archid.setLevel(level)
    handler.close()


# -- the native protocol ----------------------------------------------------------------


def test_a_native_record_carries_message_priority_code_place_and_the_sync_fields(
    journal: Journal, to_journal: tuple[logs.JournalHandler, io.StringIO]
) -> None:
    _, fallback = to_journal
    log = logging.getLogger("archid.daemon")
    extra = logs.fields(type=CUSTOMERS, run=7, stage="apply", alert=logs.Alert.EXPORT_REJECTED)
    line = sys._getframe().f_lineno + 1
    log.warning("customers sync failed at apply: GuardRejected: two\nlines", extra=extra)
    log.log(logs.NOTICE, "archid stopped")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("could not report a %s event", "finished")

    rejected, stopped, crashed = journal.take(3)
    assert rejected.fields == {
        "MESSAGE": "customers sync failed at apply: GuardRejected: two\nlines [run 7]",
        "PRIORITY": "4",
        "SYSLOG_IDENTIFIER": "archid",
        "LOGGER": "archid.daemon",
        "CODE_FILE": __file__,
        "CODE_LINE": str(line),
        "CODE_FUNC": "test_a_native_record_carries_message_priority_code_place_and_the_sync_fields",
        "ARCHID_TYPE": "customers",
        "ARCHID_RUN": "7",
        "ARCHID_STAGE": "apply",
        "ARCHID_ALERT": "export_rejected",
        "MESSAGE_ID": PINNED_IDS["export_rejected"],
    }
    # The message with a newline went in the length-prefixed form.
    size = len(rejected.fields["MESSAGE"].encode())
    assert rejected.raw.startswith(b"MESSAGE\n" + struct.pack("<Q", size))
    assert rejected.seals is None
    assert stopped.fields["PRIORITY"] == "5" and stopped.fields["MESSAGE"] == "archid stopped"
    assert "MESSAGE_ID" not in stopped.fields and "ARCHID_RUN" not in stopped.fields
    assert crashed.fields["PRIORITY"] == "3"
    assert crashed.fields["MESSAGE"].startswith("could not report a finished event\nTraceback")
    assert crashed.fields["MESSAGE"].endswith("ValueError: boom")
    assert fallback.getvalue() == "", "nothing goes to stderr when the socket takes it"


def test_a_record_too_big_for_a_datagram_goes_in_a_sealed_memfd(
    journal: Journal, to_journal: tuple[logs.JournalHandler, io.StringIO]
) -> None:
    _, fallback = to_journal
    huge = "x" * (4 << 20)  # far over the default datagram limit (wmem_default)
    logging.getLogger("archid.sync").warning("a parse warning: %s", huge)
    (entry,) = journal.take(1)
    assert entry.seals is not None, "not passed as a file descriptor"
    wanted = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL
    assert entry.seals & wanted == wanted, "journald takes sealed memfds only"
    assert entry.fields["MESSAGE"] == f"a parse warning: {huge}"
    assert fallback.getvalue() == ""


def test_a_record_the_socket_refuses_goes_to_stderr_as_one_prefixed_line(
    tmp_path: Path,
) -> None:
    stream = io.StringIO()
    fallback = logging.StreamHandler(stream)
    fallback.setFormatter(logs.StreamFormatter())
    handler = logs.JournalHandler(fallback, str(tmp_path / "no-journald-here"))
    record = logging.LogRecord("archid.worker", logging.ERROR, __file__, 1, "a\nb", None, None)
    record.archid_run = 3
    handler.handle(record)
    handler.close()
    assert stream.getvalue() == "<3>archid.worker: a\\nb [run 3]\n"


def test_field_names_the_journal_would_refuse_are_refused_here() -> None:
    assert logs.encode([("ARCHID_RUN", "1")]) == b"ARCHID_RUN=1\n"
    for bad in ("", "_PID", "lower", "WITH-DASH", "SPACE D"):
        with pytest.raises(ValueError, match="journal field name"):
            logs.encode([(bad, "x")])


# -- the alerts ----------------------------------------------------------------------------


def test_alert_message_ids_are_pinned_128_bit_and_distinct() -> None:
    assert {str(kind): value for kind, value in logs.MESSAGE_IDS.items()} == PINNED_IDS
    assert set(logs.MESSAGE_IDS) == set(logs.Alert)
    assert len(set(PINNED_IDS.values())) == len(PINNED_IDS)
    for value in PINNED_IDS.values():
        assert re.fullmatch(r"[0-9a-f]{32}", value) and uuid.UUID(value).hex == value


@dataclass
class Failing(Script):
    """Orders: the portal is down (transient); customers: the guard rejects every export."""

    async def __call__(self, request: Request, run_id: int, attempt: int) -> SyncResult:
        if request.type is ORDERS:
            await trio.sleep(self.seconds)
            raise PortalUnavailable("https://erp.example.com/ is unreachable: refused", Stage.PROBE)
        if request.type is CUSTOMERS:
            await trio.sleep(self.seconds)
            raise GuardRejected("customers export rejected: 12 rows, 10 % of the stored 120")
        return await super().__call__(request, run_id, attempt)


async def test_each_daemon_alert_reaches_the_journal_with_its_message_id_and_level(
    autojump_clock: trio.testing.MockClock,
    journal: Journal,
    to_journal: tuple[logs.JournalHandler, io.StringIO],
) -> None:
    async with running(Failing()):
        # Orders every 10 min: three of its intervals pass without a success.
        await trio.sleep(4 * 3600)
    entries = [e.fields for e in journal.until_sentinel()]
    alerts = [e for e in entries if "ARCHID_ALERT" in e]
    assert {e["ARCHID_ALERT"] for e in alerts} == set(PINNED_IDS) - {"portal_hold"}
    for entry in alerts:
        assert entry["MESSAGE_ID"] == PINNED_IDS[entry["ARCHID_ALERT"]]
        assert int(entry["PRIORITY"]) <= 4, f"an alert below warning: {entry}"
    assert "MESSAGE_ID" not in {key for e in entries if e not in alerts for key in e}

    def alerted(kind: str, export_type: str) -> list[dict[str, str]]:
        return [
            e for e in alerts if (e["ARCHID_ALERT"], e.get("ARCHID_TYPE")) == (kind, export_type)
        ]

    assert alerted("failures_in_a_row", "orders")
    (stale,) = alerted("type_stale", "orders")  # once, not once a minute
    assert "orders is stale" in stale["MESSAGE"]
    rejected = alerted("export_rejected", "customers")
    assert rejected and all(e["ARCHID_RUN"].isdigit() for e in rejected)
    # A failure names what failed and why, with the run it belongs to.
    failed = next(e for e in entries if "orders sync failed" in e["MESSAGE"])
    assert (
        "PortalUnavailable" in failed["MESSAGE"]
        and "https://erp.example.com/" in (failed["MESSAGE"])
    )
    assert failed["MESSAGE"].endswith(f"[run {failed['ARCHID_RUN']}]")
    assert failed["PRIORITY"] == "4"
    gave_up = next(e for e in entries if "failed for good" in e["MESSAGE"])
    assert gave_up["PRIORITY"] == "3" and gave_up["ARCHID_RUN"].isdigit()
    # Routine at info, one event per record, each with its run.
    started = [e for e in entries if " sync started " in e["MESSAGE"]]
    assert started and all(e["PRIORITY"] == "6" and "ARCHID_RUN" in e for e in started)


def test_a_portal_hold_carried_over_is_an_alert(
    tmp_path: Path, journal: Journal, to_journal: tuple[logs.JournalHandler, io.StringIO]
) -> None:
    url = "https://erp.example.com/Archibald/"
    hold = PortalHold(
        WrongCredentials("the portal rejected the password", Stage.LOGIN),
        datetime(2026, 5, 28, 10, tzinfo=UTC),
        None,
    )
    save_hold(tmp_path / "hold.json", hold, {"portal": url, "user": "agent"})
    AsyncPortal(url, "agent", Secret("not-this"), hold_path=tmp_path / "hold.json")
    (entry,) = journal.take(1)
    assert entry.fields["MESSAGE_ID"] == PINNED_IDS["portal_hold"]
    assert entry.fields["PRIORITY"] == "3"
    assert "WrongCredentials" in entry.fields["MESSAGE"]


# -- choosing the destination, and -v --------------------------------------------------------


@pytest.mark.usefixtures("restored_logging")
def test_the_destination_follows_journal_stream_and_the_native_socket(
    tmp_path: Path, journal: Journal
) -> None:
    with (tmp_path / "stderr").open("w") as stream:
        status = os.fstat(stream.fileno())
        named = {"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"}
        other = {"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino + 1}"}
        missing = str(tmp_path / "no-socket")

        def configure(environ: dict[str, str], socket_path: str) -> logs.Destination | None:
            return logs.configure(
                0,
                daemon=True,
                stream=stream,
                environ=environ,
                journal_socket=socket_path,
                force=True,  # over pytest's capture handlers
            )

        assert configure({}, journal.path) is logs.Destination.TERMINAL
        assert configure(other, journal.path) is logs.Destination.TERMINAL
        assert configure({"JOURNAL_STREAM": "junk"}, journal.path) is logs.Destination.TERMINAL
        logging.getLogger("archid.daemon").info("on a terminal")
        assert configure(named, journal.path) is logs.Destination.JOURNAL_NATIVE
        logging.getLogger("archid.daemon").info("to the socket")
        assert configure(named, missing) is logs.Destination.JOURNAL_STREAM
        logging.getLogger("archid.daemon").info("to the stream", extra=logs.fields(run=4))
        try:
            raise OSError("disk full")
        except OSError:
            logging.getLogger("archid.state").exception("not saved:\nstill trying")
    human, *prefixed = (tmp_path / "stderr").read_text().splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO archid.daemon: on a terminal", human
    )
    assert prefixed[0] == "<6>archid.daemon: to the stream [run 4]"
    assert prefixed[1].startswith("<3>archid.state: not saved:\\nstill trying\\nTraceback")
    assert prefixed[1].endswith("\\nOSError: disk full")
    assert len(prefixed) == 2
    (native,) = journal.take(1)
    assert native.fields["MESSAGE"] == "to the socket"


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize(
    ("verbosity", "daemon", "own", "library"),
    [
        (0, True, logging.INFO, logging.WARNING),
        (0, False, logging.WARNING, logging.WARNING),
        (1, False, logging.DEBUG, logging.WARNING),
        (2, True, logging.DEBUG, logging.INFO),
        (3, False, logging.DEBUG, logging.DEBUG),
    ],
)
def test_v_raises_archids_loggers_first_and_the_libraries_only_when_repeated(
    verbosity: int, daemon: bool, own: int, library: int
) -> None:
    logs.configure(verbosity, daemon=daemon, stream=io.StringIO(), environ={}, force=True)
    assert logging.getLogger("archid.daemon.worker").getEffectiveLevel() == own
    for name in ("pdfminer.psparser", "httpx", "httpcore.http11"):
        assert logging.getLogger(name).getEffectiveLevel() == library, name
    # Selenium's retries to a chromedriver a stop killed: quiet until -vv.
    pool = logging.getLogger("urllib3.connectionpool").getEffectiveLevel()
    assert pool == (logging.ERROR if library >= logging.WARNING else library)
    assert logging.getLogger("some.other.library").getEffectiveLevel() == library
    # Selenium's DEBUG carries the typed password: never below WARNING.
    assert logging.getLogger("selenium.webdriver.remote").getEffectiveLevel() == logging.WARNING


@pytest.mark.usefixtures("restored_logging")
def test_a_process_whose_logging_is_set_up_keeps_it_and_help_says_what_v_does() -> None:
    root = logging.getLogger()
    before = root.handlers[:]
    assert before, "pytest's capture handlers"
    assert logs.configure(3, stream=io.StringIO(), environ={}) is None
    assert root.handlers == before
    assert logging.getLogger("pdfminer").level == logging.NOTSET
    # Once archid's own handler is there, configuring again replaces it.
    assert logs.configure(0, stream=io.StringIO(), environ={}, force=True) is not None
    assert logs.configure(1, stream=io.StringIO(), environ={}) is logs.Destination.TERMINAL
    assert len(root.handlers) == 1
    assert logging.getLogger("archid").level == logging.DEBUG
    text = " ".join(build_parser().format_help().split())
    assert "-v archid's debug lines, -vv also the libraries' info lines, -vvv" in text


@pytest.fixture(scope="module")
def customers_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "customers.pdf"
    dataset = Dataset.generate(SIM_SEED, SIM_SCALE)
    with path.open("wb") as out:
        grid = build_grid(CUSTOMERS, dataset.records(CUSTOMERS), FULL_VIEW)
        write_grid_pdf(out, grid, load_font(None))
    return path


@pytest.mark.parametrize(("flag", "most", "least"), [("-vv", 0, 0), ("-vvv", None, 100)])
def test_archid_parse_with_vv_writes_no_pdfminer_flood(
    customers_pdf: Path, flag: str, most: int | None, least: int
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "archid", flag, "parse", "customers", str(customers_pdf)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("\n") > 10, "records on stdout"
    pdfminer = sum(" pdfminer." in line for line in done.stderr.splitlines())
    assert pdfminer >= least
    if most is not None:
        assert pdfminer <= most, done.stderr[:2000]


# -- a real daemon under journald's stream -----------------------------------------------------

#: ``python -c`` that runs archid with the native socket somewhere that does not
#: exist, so the stream is used even on a host with journald
LAUNCH = (
    "import sys, archid.logs; archid.logs.JOURNAL_SOCKET = sys.argv.pop(1); "
    "from archid.cli import main; sys.exit(main())"
)


@dataclass
class JournaledRun:
    log: str
    daemon: Daemon


@pytest.fixture(scope="module")
def journaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JournaledRun]:
    """One ``archid -v run`` with stderr named by JOURNAL_STREAM: a sync, a reload, a stop."""
    folder = tmp_path_factory.mktemp("journaled")
    dataset = Dataset.generate(SIM_SEED, SIM_SCALE)
    portal = Portal(dataset=dataset, options=quick_sim_options(), seed=SIM_SEED)
    server = SimServer(portal, ExportCache(SIM_CACHE, load_font(None)), test_api=True)
    server.start()
    starter = start_daemon(folder)
    start: Callable[..., Daemon] = next(starter)
    try:
        config = write_config(folder, server.url, [CUSTOMERS])
        # The harness writes the daemon's output to daemon-0.log; opening it
        # for writing truncates it but keeps its inode, so it can be named now.
        log_file = folder / "daemon-0.log"
        log_file.touch()
        status = log_file.stat()
        daemon = start(
            config,
            env={"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"},
            python=("-c", LAUNCH, str(folder / "no-journal-socket"), "-v"),
        )
        daemon.receive(lambda m: m == "READY=1", 30, "READY=1")
        daemon.wait_until(lambda: daemon.ok_runs() == {"customers"}, 60, "a customers sync")
        daemon.wait_until(lambda: "sync finished" in daemon.log(), 10, "the finished line")
        daemon.process.send_signal(signal.SIGHUP)
        daemon.wait_until(lambda: "configuration reloaded" in daemon.log(), 10, "a reload")
        daemon.stop()
        yield JournaledRun(daemon.log(), daemon)
    finally:
        next(starter, None)
        server.close()


def test_under_journald_every_line_starts_with_its_priority_and_has_no_timestamp(
    journaled: JournaledRun,
) -> None:
    lines = journaled.log.splitlines()
    assert len(lines) > 10, journaled.log
    for line in lines:
        assert re.match(r"<[2-7]>[\w.]+: \S", line), f"not a prefixed record: {line!r}"
    assert not re.search(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d", journaled.log), "a timestamp"
    assert not re.search(r"\b(DEBUG|INFO|WARNING|ERROR|NOTICE)\b", journaled.log)


def test_under_journald_the_levels_are_debug_info_notice_for_what_they_say(
    journaled: JournaledRun,
) -> None:
    lines = journaled.log.splitlines()
    finished = next(line for line in lines if "customers sync finished" in line)
    assert re.fullmatch(r"<6>archid\.daemon: customers sync finished: .* \[run \d+\]", finished)
    started = r"<6>archid\.daemon: customers sync started \(attempt 1\) \[run 1\]"
    assert any(re.fullmatch(started, line) for line in lines)
    assert any(line.startswith("<7>archid.") for line in lines), "-v shows archid's debug"
    assert any(line.startswith("<5>archid.daemon: configuration reloaded") for line in lines)
    assert "<5>archid.daemon: SIGTERM received: stopping" in lines
    assert lines[-1] == "<5>archid.daemon: archid stopped"
    assert not [line for line in lines if line.startswith(("<3>", "<2>"))], "no error"


def test_the_password_is_in_no_log_line(journaled: JournaledRun) -> None:
    assert PASSWORD not in journaled.log
    assert "selenium" not in journaled.log


async def test_a_daemon_its_owner_cancels_stops_at_notice_not_as_a_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The demo's Ctrl-C, a benchmark or a test ends ``serve`` by cancelling
    # it: a stop that was asked for. (No sync is due: no browser starts.)
    from tests.inprocess import with_daemon

    config = write_config(tmp_path, "https://127.0.0.1:9/Archibald/", [])

    async def body(daemon: object, events: object) -> None:
        pass

    with caplog.at_level(logging.INFO, logger="archid"):
        await with_daemon(config, body)
    [stopped] = [r for r in caplog.records if r.getMessage() == "archid stopped"]
    assert stopped.levelno == logs.NOTICE
