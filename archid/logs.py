"""Logging for every archid command: a terminal, journald's stream, or its native socket.

:func:`configure` picks one destination for the process's log records:

- **the native journal socket** when stderr is connected to journald (its
  ``JOURNAL_STREAM`` names stderr's device and inode, as systemd sets it for
  a service) and ``/run/systemd/journal/socket`` exists: each record is one
  datagram of journal fields (``MESSAGE``, ``PRIORITY``,
  ``SYSLOG_IDENTIFIER=archid``, ``CODE_FILE``/``CODE_LINE``/``CODE_FUNC``,
  ``LOGGER``, every ``archid_*`` attribute of the record as ``ARCHID_*``,
  and ``MESSAGE_ID`` for an alert). Nothing is written to stderr as well
  (journald would keep the record twice), except a record the socket
  refuses, which goes to stderr as below;
- **journald's stream** (stderr under journald, no native socket): one line
  per record, ``<N>`` (its syslog priority, sd-daemon(3)) first, no
  timestamp (journald adds its own), newlines inside the message or a
  traceback written as the two characters ``\\n`` so that a record is one
  journal entry;
- **a terminal or a file**: ``time LEVEL logger: message``, as ever.

Every record that names a sync run (``archid_run``) ends with ``[run N]``
in its text, whatever the destination, so that plain ``journalctl`` output
still ties the lines of one sync together.

Levels: archid's own loggers (``archid.*``) log at INFO in the daemon and
at WARNING in the one-shot commands; libraries stay at WARNING.
``-v`` puts archid's loggers at DEBUG, ``-vv`` adds the libraries' INFO,
``-vvv`` is DEBUG for everything (pdfminer then writes a line per token)
but Selenium, whose DEBUG lines carry the password: it stays at WARNING.
"""

from __future__ import annotations

import array
import enum
import errno
import fcntl
import logging
import os
import re
import socket
import stat
import struct
import sys
import threading
from collections.abc import Iterable, Mapping
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Final, TextIO

if TYPE_CHECKING:
    from archid.records import ExportType

#: between WARNING and INFO: a clean stop, a reload (syslog's ``notice``)
NOTICE: Final = 25
logging.addLevelName(NOTICE, "NOTICE")

#: where journald listens for native datagrams; tests point a handler elsewhere
JOURNAL_SOCKET = "/run/systemd/journal/socket"
IDENTIFIER: Final = "archid"

#: loggers of the libraries archid drives, quiet (WARNING) unless ``-vv``
LIBRARIES: Final = ("httpx", "httpcore", "urllib3", "pdfminer", "trio", "hpack")
#: at WARNING whatever ``-v`` says: Selenium's DEBUG lines carry every
#: WebDriver payload, the typed password and the session cookies among them
HELD: Final = ("selenium",)

HUMAN_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"

VERBOSE_HELP: Final = (
    "more log output: -v archid's debug lines, -vv also the libraries' info lines, "
    "-vvv everything at debug (Selenium's, which carry secrets, never)"
)


class Alert(enum.StrEnum):
    """What an operator is paged for; each kind has its own journal ``MESSAGE_ID``."""

    FAILURES_IN_A_ROW = "failures_in_a_row"
    EXPORT_REJECTED = "export_rejected"
    BREAKER_OPEN = "breaker_open"
    PORTAL_HOLD = "portal_hold"
    TYPE_STALE = "type_stale"


#: fixed for good: ``journalctl MESSAGE_ID=…`` and alert rules match on them
MESSAGE_IDS: Final[Mapping[Alert, str]] = MappingProxyType(
    {
        Alert.FAILURES_IN_A_ROW: "e1e946309f494501a248a27b6626d7b4",
        Alert.EXPORT_REJECTED: "161f89dff36e4034b9fb9f512c94ffcd",
        Alert.BREAKER_OPEN: "f34bc7c6d5454f008bedd84879b69609",
        Alert.PORTAL_HOLD: "0f7438a268ec4be29e3dc65eaf44a6c4",
        Alert.TYPE_STALE: "2a457f77ba4f4028923e9b6bc1112099",
    }
)


def fields(
    *,
    type: ExportType | str | None = None,
    run: int | None = None,
    stage: str | None = None,
    alert: Alert | None = None,
) -> dict[str, object]:
    """The ``extra=`` of a log call about a sync: its type, run id, stage, alert.

    Unset values are left out; under journald they become ``ARCHID_TYPE``,
    ``ARCHID_RUN``, ``ARCHID_STAGE``, ``ARCHID_ALERT`` and ``MESSAGE_ID``.
    """
    given = {"archid_type": type, "archid_run": run, "archid_stage": stage, "archid_alert": alert}
    return {key: str(value) for key, value in given.items() if value is not None}


def priority(levelno: int) -> int:
    """The syslog priority of a level: 2 crit, 3 err, 4 warning, 5 notice, 6 info, 7 debug."""
    for floor, value in (
        (logging.CRITICAL, 2),
        (logging.ERROR, 3),
        (logging.WARNING, 4),
        (NOTICE, 5),
        (logging.INFO, 6),
    ):
        if levelno >= floor:
            return value
    return 7


class Destination(enum.StrEnum):
    TERMINAL = "terminal"
    JOURNAL_STREAM = "journal stream"
    JOURNAL_NATIVE = "journal native"


def under_journald(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether ``stream`` is the one systemd connected to journald (``JOURNAL_STREAM``)."""
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False  # closed, or not a file (pytest's capture)
    return (status.st_dev, status.st_ino) == (int(device), int(inode))


def native_socket_exists(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


class _Formatter(logging.Formatter):
    """Appends ``[run N]`` to a record about a sync run."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        run = getattr(record, "archid_run", None)
        return text if run is None else f"{text} [run {run}]"


class StreamFormatter(_Formatter):
    """``<N>logger: message``, one line (journald's stream, SyslogLevelPrefix)."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return f"<{priority(record.levelno)}>{one_line(super().format(record))}"


def one_line(text: str) -> str:
    r"""``text`` with its line breaks as the two characters ``\n`` (CR dropped)."""
    return text.replace("\r\n", "\n").replace("\r", "").replace("\n", "\\n")


_EXTRA = re.compile(r"archid_[a-z0-9_]+")
_FIELD = re.compile(r"[A-Z0-9][A-Z0-9_]*")


def encode(entries: Iterable[tuple[str, str]]) -> bytes:
    """Journal fields in the native protocol: ``KEY=value\\n``, or for a value
    holding a newline ``KEY\\n``, its length as 64-bit little endian, the
    value, ``\\n``. Keys must be journal field names (``A-Z0-9_``)."""
    out = bytearray()
    for key, value in entries:
        if not _FIELD.fullmatch(key):
            raise ValueError(f"not a journal field name: {key!r}")
        data = value.encode("utf-8", "backslashreplace")
        if b"\n" in data:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key.encode() + b"=" + data + b"\n"
    return bytes(out)


class JournalHandler(logging.Handler):
    """Sends each record to journald's native socket as one datagram of fields.

    A record too big for one datagram goes in a sealed memfd passed over the
    socket, as sd-journal does. A record the socket refuses otherwise
    (journald restarting, its queue full) is handed to ``fallback``
    instead of being lost.
    """

    def __init__(
        self,
        fallback: logging.Handler,
        path: str | None = None,
        identifier: str = IDENTIFIER,
    ) -> None:
        super().__init__()
        self.path = path if path is not None else JOURNAL_SOCKET
        self.identifier = identifier
        self.fallback = fallback
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.setFormatter(_Formatter("%(message)s"))

    def record_fields(self, record: logging.LogRecord) -> list[tuple[str, str]]:
        """The journal fields of ``record``, ``MESSAGE`` first."""
        entries = [
            ("MESSAGE", self.format(record)),
            ("PRIORITY", str(priority(record.levelno))),
            ("SYSLOG_IDENTIFIER", self.identifier),
            ("LOGGER", record.name),
            ("CODE_FILE", record.pathname),
            ("CODE_LINE", str(record.lineno)),
        ]
        if record.funcName:  # None for a record made by hand
            entries.append(("CODE_FUNC", record.funcName))
        for name, value in sorted(vars(record).items()):
            if value is not None and _EXTRA.fullmatch(name):
                entries.append((name.upper(), str(value)))
        alert = getattr(record, "archid_alert", None)
        if isinstance(alert, str) and alert in MESSAGE_IDS:
            entries.append(("MESSAGE_ID", MESSAGE_IDS[Alert(alert)]))
        return entries

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = encode(self.record_fields(record))
        except Exception:
            self.handleError(record)
            return
        try:
            self._socket.sendto(data, self.path)
        except OSError as exc:
            if exc.errno not in (errno.EMSGSIZE, errno.ENOBUFS) or not self._send_memfd(data):
                self.fallback.handle(record)

    def _send_memfd(self, data: bytes) -> bool:
        try:
            fd = os.memfd_create("archid-journal", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        except OSError:
            return False
        try:
            os.write(fd, data)
            seals = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
            # Not socket.send_fds: before Python 3.12 it drops the address.
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
            self._socket.sendmsg([], rights, 0, self.path)
        except OSError:
            return False
        finally:
            os.close(fd)
        return True

    def close(self) -> None:
        self._socket.close()
        super().close()


#: marks the root handler :func:`configure` installed
_OURS: Final = "_archid_logs"


def levels(verbosity: int, *, daemon: bool) -> tuple[int, int]:
    """(archid's level, the libraries' level) for ``-v`` given ``verbosity`` times."""
    own = logging.DEBUG if verbosity >= 1 else logging.INFO if daemon else logging.WARNING
    libraries = (
        logging.DEBUG if verbosity >= 3 else logging.INFO if verbosity == 2 else logging.WARNING
    )
    return own, libraries


def configure(
    verbosity: int = 0,
    *,
    daemon: bool = False,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    journal_socket: str | None = None,
    force: bool = False,
) -> Destination | None:
    """Set up the root logger's one handler and the levels; returns where records go.

    As :func:`logging.basicConfig` does, this leaves alone (and returns
    ``None``) a process whose root logger has handlers that this function
    did not install, unless ``force``: a program (or a test run) that calls
    :func:`archid.cli.main` keeps its own logging.
    ``daemon`` is for ``archid run``, whose routine lines are INFO.
    ``stream`` defaults to stderr, ``environ`` to the process's,
    ``journal_socket`` to :data:`JOURNAL_SOCKET`. Under journald the
    uncaught exceptions of the process and its threads, and Python's
    warnings, are logged as records too (one entry each).
    """
    root = logging.getLogger()
    if not force and any(not getattr(h, _OURS, False) for h in root.handlers):
        return None
    stream = stream if stream is not None else sys.stderr
    environ = environ if environ is not None else os.environ
    path = journal_socket if journal_socket is not None else JOURNAL_SOCKET
    handler: logging.Handler = logging.StreamHandler(stream)
    if under_journald(stream, environ):
        handler.setFormatter(StreamFormatter())
        destination = Destination.JOURNAL_STREAM
        if native_socket_exists(path):
            handler = JournalHandler(handler, path)
            destination = Destination.JOURNAL_NATIVE
    else:
        handler.setFormatter(_Formatter(HUMAN_FORMAT))
        destination = Destination.TERMINAL
    setattr(handler, _OURS, True)
    own, libraries = levels(verbosity, daemon=daemon)
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(libraries)
    logging.getLogger("archid").setLevel(own)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(libraries)
    for name in HELD:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Its retries are Selenium talking to the local chromedriver, which a stop
    # or a cancelled sync has just killed: a real failure comes back as
    # Selenium's exception, which archid logs with what it meant.
    logging.getLogger("urllib3.connectionpool").setLevel(
        logging.ERROR if libraries >= logging.WARNING else libraries
    )
    if destination is not Destination.TERMINAL:
        _log_uncaught()
        logging.captureWarnings(True)
    return destination


def _log_uncaught() -> None:
    crashed = logging.getLogger("archid")

    def process_hook(
        kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        crashed.critical("archid crashed: %s: %s", kind.__name__, value, exc_info=(kind, value, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or isinstance(args.exc_value, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "?"
        crashed.critical(
            "thread %s crashed: %s: %s",
            name,
            args.exc_type.__name__,
            args.exc_value,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = process_hook
    threading.excepthook = thread_hook
