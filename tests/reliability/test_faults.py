"""Every simulator fault crossed with every export type, each to its documented end.

One real ``archid run`` process serves the whole module, driven only the
way an operator drives it: the control socket (``sync`` with ``wait``,
``deadletters.*``, ``resume``, ``status``) and the database file. Each case
changes one of the portal's records (so that a run which wrongly wrote
something would show), arms one fault in the simulator, syncs the type and
checks the ending that ``docs/portal.md`` ("When the portal fails")
promises: retried and then synced, a dead letter after the retries,
rejected by the store's guard, synced with warnings, the portal on hold,
the circuit breaker open. Every failed or rejected attempt must have its
``sync_runs`` row with the right class and stage, and nothing of it may be
in the record tables, their ``_seen`` tables or the change feed.

The retry delay is 0.1 s and there is one retry, the portal's page and
download timeouts are a few seconds, so a hang or a trickle ends by a
timeout quickly; the breaker's threshold (5) and its probe interval
(5 minutes) are the daemon's own, so the breaker case runs last and ends
with a restart, which closes the breaker.
"""

from __future__ import annotations

import enum
import itertools
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from archid.control import Client
from archid.portal.listviews import LIST_VIEWS
from archid.records import ExportType
from archid.sim.faults import FaultKind
from archid.sim.server import SimServer
from tests.conftest import serving_sim
from tests.daemon_process import (
    PASSWORD,
    Daemon,
    quick_sim_options,
    start_daemon,
    stored,
    truth,
    write_config,
)

pytestmark = [pytest.mark.reliability, pytest.mark.browser, pytest.mark.slow]

T = ExportType
K = FaultKind

#: a typed column of each export: the fault prints "?" in its first two rows
BAD_CELLS: dict[ExportType, str] = {
    T.CUSTOMERS: "CONTEGGI DEGLI ORDINI EFFETTIVI",
    T.PRODUCTS: "QTÀ MINIMA:",
    T.PRICES: "IMPORTO UNITARIO:",
    T.ORDERS: "APPLICA SCONTO %:",
    T.DDT: "DATA DI CONSEGNA",
    T.INVOICES: "SALDO VENDITE MST",
}

#: seconds a page (hang) or a download (trickle) may take: far above what
#: the simulator needs at this scale, far below the defaults
PAGE_TIMEOUT = 3
DOWNLOAD_TIMEOUT = 3


class Ending(enum.Enum):
    """What a fault leads to, as ``docs/portal.md`` says."""

    RETRIED = "retried"  # one failed attempt, then the retry syncs
    CLIENT = "exported again"  # the client exports again at once: one run, no failure
    DEAD_LETTER = "dead letter"  # every attempt failed: a dead letter
    REJECTED = "rejected"  # the store's guard refused the export (no retry)
    WARNINGS = "warnings"  # synced; the run's warnings name the bad cells
    HOLD = "portal hold"  # no retry, no dead letter: every login stops


@dataclass(frozen=True)
class Case:
    fault: FaultKind
    type: ExportType
    ending: Ending
    error: str  # the failed attempts' error_class
    stage: str  # and error_stage
    spec: dict[str, Any] = field(default_factory=dict)  # more of the fault's fields

    @property
    def id(self) -> str:
        return f"{self.fault}-{self.type}-{self.ending.name.lower()}"

    def arm(self) -> dict[str, Any]:
        scope: dict[str, Any] = {"type": str(self.type)}
        if self.fault in (K.HTTP_500, K.HANG):
            # Path faults: a type's pages are its list view's.
            scope = {"path": LIST_VIEWS[self.type]}
        times = None if self.ending is Ending.DEAD_LETTER else 1
        return {"kind": str(self.fault), **scope, "times": times, **self.spec}


#: the transient faults, how the client names them, and the type whose
#: fault persists until cleared (a dead letter after the retry); with every
#: other type it fires once (retried, then synced). HTTP 500 costs no
#: browser restart, so it is crossed with every type both ways.
TRANSIENT: dict[FaultKind, tuple[str, str, dict[str, Any], tuple[ExportType, ...]]] = {
    K.HTTP_500: ("PortalUnavailable", "page_load", {}, tuple(T)),
    K.HANG: ("ExportTimeout", "page_load", {}, (T.CUSTOMERS,)),
    # 100 bytes/s: the smallest export takes far longer than DOWNLOAD_TIMEOUT
    K.SLOW_DOWNLOAD: ("ExportTimeout", "download", {"rate": 100}, (T.PRODUCTS,)),
    K.TRUNCATED_PDF: ("InvalidDownload", "download", {}, (T.PRICES,)),
    K.NON_PDF: ("InvalidDownload", "download", {}, (T.ORDERS,)),
    K.ZERO_BYTES: ("InvalidDownload", "download", {}, (T.DDT,)),
    K.CUT_BODY: ("InvalidDownload", "download", {"keep": 0.4}, (T.INVOICES,)),
}

#: faults the client deals with inside one export when they fire once: a bad
#: or interrupted download is exported again at once, an answer that lands on
#: the login page logs in once and exports again
IN_THE_CLIENT = {K.TRUNCATED_PDF, K.NON_PDF, K.ZERO_BYTES, K.CUT_BODY, K.LOGIN_REDIRECT}


def _cases() -> list[Case]:
    cases = []
    for kind, (error, stage, spec, persisting) in TRANSIENT.items():
        once = Ending.CLIENT if kind in IN_THE_CLIENT else Ending.RETRIED
        for t in T:
            endings = [once] if t not in persisting or kind is K.HTTP_500 else []
            if t in persisting:
                endings.append(Ending.DEAD_LETTER)
            cases += [Case(kind, t, ending, error, stage, spec) for ending in endings]
    for t in T:
        # Persisting, it would spend a login per attempt: once only.
        cases.append(Case(K.LOGIN_REDIRECT, t, Ending.CLIENT, "", ""))
        cases.append(Case(K.SHRUNKEN_EXPORT, t, Ending.REJECTED, "ExportRejected", "apply"))
        cases.append(Case(K.EMPTY_EXPORT, t, Ending.REJECTED, "ExportRejected", "apply"))
        bad = {"column": BAD_CELLS[t], "rows": 2}
        cases.append(Case(K.BAD_CELLS, t, Ending.WARNINGS, "", "", bad))
    return cases


CASES = _cases()

#: the faults after which the client replaces its browser (its state is unknown)
NEW_BROWSER = {K.HANG, K.SLOW_DOWNLOAD}


@dataclass
class Snapshot:
    """What a run could write: the record tables, their ``_seen`` tables, the feed."""

    tables: dict[str, list[tuple[object, ...]]]
    seq: int
    run: int


class Mirror:
    """The module's daemon, its control socket and the simulator, side by side."""

    def __init__(self, sim: SimServer, start: Callable[[Path], Daemon], config: Path) -> None:
        self.sim = sim
        self._start = start
        self.config = config
        self.socket = config.parent / "control.sock"
        self.daemon = self._started()
        self.control = Client(self.socket, timeout=60)
        self._seeds = itertools.count(1)

    def _started(self) -> Daemon:
        daemon = self._start(self.config)
        daemon.receive(lambda m: m == "READY=1", 30, "READY=1")
        # The control socket listens just after READY=1.
        daemon.wait_until(self.socket.exists, 10, "the control socket")
        return daemon

    def restart(self) -> None:
        self.control.close()
        self.stop()
        self.daemon = self._started()

    def stop(self) -> None:
        self.daemon.stop()
        log = self.daemon.log()
        assert "Traceback" not in log and PASSWORD not in log

    def snapshot(self) -> Snapshot:
        tables = {}
        for t in T:
            for name in (str(t), f"{t}_seen"):
                tables[name] = self.daemon.rows(f"SELECT * FROM {name} ORDER BY key")
        ((seq,),) = self.daemon.rows("SELECT coalesce(max(seq), 0) FROM changes")
        ((run,),) = self.daemon.rows("SELECT coalesce(max(id), 0) FROM sync_runs")
        assert isinstance(seq, int) and isinstance(run, int)
        return Snapshot(tables, seq, run)

    def runs(self, after: int, count: int) -> list[dict[str, Any]]:
        """The ``count`` runs after id ``after``, waiting for them: a failed
        attempt's row is written off the event loop, just after its event."""
        query = "SELECT * FROM sync_runs WHERE id > ? ORDER BY id"

        def found() -> list[dict[str, Any]]:
            names = [
                str(name) for (_, name, *_rest) in self.daemon.rows("PRAGMA table_info(sync_runs)")
            ]
            return [dict(zip(names, row, strict=True)) for row in self.daemon.rows(query, after)]

        self.daemon.wait_until(lambda: len(found()) >= count, 10, f"{count} sync_runs rows")
        runs = found()
        assert len(runs) == count, runs
        return runs

    def change_portal(self, export_type: ExportType) -> None:
        """Change the portal's records as its export shows them (an update may
        touch a field the export leaves out), so that a run that wrongly wrote
        would show; delete none, or the guard would refuse the next export of
        a small table (5 invoices at this scale)."""
        dataset = self.sim.portal.dataset
        shown = truth(self.sim, export_type)
        while truth(self.sim, export_type) == shown:
            with self.sim.portal.lock:
                (change,) = dataset.mutate(export_type, next(self._seeds), 1)
                if change.op == "delete":
                    assert change.before is not None
                    dataset.add(export_type, change.before)

    def sync(self, export_type: ExportType) -> dict[str, Any]:
        result: dict[str, Any] = self.control.call("sync", type=str(export_type), wait=True)
        return result

    def feed_runs(self, after_seq: int) -> set[int]:
        """The runs the change feed's entries after ``after_seq`` belong to."""
        rows = self.daemon.rows("SELECT DISTINCT run_id FROM changes WHERE seq > ?", after_seq)
        return {int(run) for (run,) in rows}  # type: ignore[call-overload]

    def converged(self, export_type: ExportType) -> None:
        """Every record of the portal's is in the mirror as it is on the portal
        (a record deleted there stays live here until a second export misses it)."""
        held = stored(self.daemon.database, export_type)
        assert truth(self.sim, export_type).items() <= held.items()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirror]:
    with serving_sim(quick_sim_options()) as sim:
        yield from _mirror(sim, tmp_path_factory)


def _mirror(sim: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirror]:
    folder = tmp_path_factory.mktemp("faults")
    # A socket path must fit in sun_path (108 bytes): pytest's tmp_path may not.
    short = Path(tempfile.mkdtemp(prefix="archid-faults-"))
    config = write_config(short, sim.url, [], '[control]\nsocket = "control.sock"\n')
    text = config.read_text().replace(
        "verify_tls = false",
        f'verify_tls = false\npage_timeout = "{PAGE_TIMEOUT}s"\n'
        f'download_timeout = "{DOWNLOAD_TIMEOUT}s"',
    )
    text = text.replace('base_delay = "1s"', 'base_delay = "0.1s"')
    config.write_text(text.replace('max_delay = "2s"', 'max_delay = "0.2s"'))
    starter = start_daemon(folder)
    try:
        mirror = Mirror(sim, next(starter), config)
        for t in T:
            first = mirror.sync(t)
            assert first["outcome"] == "ok", first
        yield mirror
        mirror.control.close()
        mirror.stop()
    finally:
        next(starter, None)
        shutil.rmtree(short, ignore_errors=True)


@pytest.fixture
def fresh(mirror: Mirror) -> Iterator[Mirror]:
    """The mirror with nothing armed, no dead letter and no hold, before and after."""
    mirror.sim.portal.faults.clear()
    yield mirror
    mirror.sim.portal.faults.clear()
    for letter in mirror.control.deadletters_list():
        mirror.control.deadletters_drop(letter["id"])
    if mirror.control.status()["portal_hold"] is not None:  # a hold case that failed
        mirror.control.resume()


def _records(database: Path, export_type: ExportType) -> dict[str, dict[str, Any]]:
    """The mirror's records of ``export_type`` by key, as JSON objects."""
    return cast(dict[str, dict[str, Any]], stored(database, export_type))


def _unchanged(mirror: Mirror, before: Snapshot) -> None:
    after = mirror.snapshot()
    assert after.seq == before.seq, "a failed run wrote to the change feed"
    for name, rows in before.tables.items():
        assert after.tables[name] == rows, f"a failed run wrote to {name}"


def _failed(run: dict[str, Any], case: Case) -> None:
    assert run["type"] == str(case.type)
    assert run["outcome"] == "failed", run
    assert (run["error_class"], run["error_stage"]) == (case.error, case.stage), run
    assert run["first_seq"] is None and run["last_seq"] is None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_fault_ends_as_documented(fresh: Mirror, case: Case) -> None:
    mirror = fresh
    mirror.change_portal(case.type)
    before = mirror.snapshot()
    held = _records(mirror.daemon.database, case.type)
    browsers = set(mirror.daemon.browsers())
    logins_before = mirror.sim.portal.logins_today()
    mirror.sim.portal.faults.arm(case.arm())

    result = mirror.sync(case.type)

    if case.ending is Ending.RETRIED:
        assert result["outcome"] == "ok", result
        failed, ok = mirror.runs(before.run, 2)
        _failed(failed, case)
        assert ok["outcome"] == "ok" and ok["id"] == result["run"]
        # The portal's changes are in, each written by the run that succeeded.
        assert mirror.feed_runs(before.seq) == {ok["id"]}
        mirror.converged(case.type)
        if case.fault in NEW_BROWSER:
            assert browsers and not browsers & set(mirror.daemon.browsers())
    elif case.ending is Ending.CLIENT:
        assert result["outcome"] == "ok", result
        (ok,) = mirror.runs(before.run, 1)
        assert ok["outcome"] == "ok" and ok["id"] == result["run"]
        assert mirror.feed_runs(before.seq) <= {ok["id"]}
        mirror.converged(case.type)
        logins = mirror.sim.portal.logins_today() - logins_before
        assert logins == (1 if case.fault is K.LOGIN_REDIRECT else 0), logins
    elif case.ending is Ending.DEAD_LETTER:
        assert result["outcome"] == "dead_letter", result
        assert result["error"].startswith(case.error), result
        for run in mirror.runs(before.run, 2):
            _failed(run, case)
        _unchanged(mirror, before)
        (letter,) = mirror.control.deadletters_list()
        assert (letter["type"], letter["error"], letter["stage"]) == (
            str(case.type),
            case.error,
            case.stage,
        )
        assert [a["error"] for a in letter["attempts"]] == [case.error] * 2
        # Once the portal is well again, retrying the letter syncs the type;
        # the success also resets the breaker's count of failures in a row.
        mirror.sim.portal.faults.clear()
        mirror.control.deadletters_retry(letter["id"])
        (ok,) = mirror.runs(before.run + 2, 1)
        assert ok["outcome"] == "ok", ok
        mirror.converged(case.type)
    elif case.ending is Ending.REJECTED:
        assert result["outcome"] == "rejected", result
        (run,) = mirror.runs(before.run, 1)
        assert run["outcome"] == "rejected", run
        assert (run["error_class"], run["error_stage"]) == (case.error, case.stage), run
        _unchanged(mirror, before)
        (letter,) = mirror.control.deadletters_list()
        assert letter["error"] == "GuardRejected" and len(letter["attempts"]) == 1
    elif case.ending is Ending.WARNINGS:
        assert result["outcome"] == "ok", result
        (run,) = mirror.runs(before.run, 1)
        assert run["outcome"] == "ok"
        warnings = json.loads(run["warnings"])
        assert warnings["bad_cell_count"] == 2, warnings
        cells = {(c["column"], c["text"]) for c in warnings["bad_cells"]}
        assert cells == {(BAD_CELLS[case.type], "?")}, warnings
        assert mirror.feed_runs(before.seq) <= {run["id"]}
        # Everything is as on the portal but the unreadable cells' field,
        # which holds what it held before.
        (unread,) = {c["field"] for c in warnings["bad_cells"]}
        now = _records(mirror.daemon.database, case.type)
        kept = 0
        portal = cast(dict[str, dict[str, Any]], truth(mirror.sim, case.type))
        for key, record in portal.items():
            for name, value in record.items():
                if now[key][name] != value:
                    assert name == unread, (key, name)
                    assert now[key][name] == held.get(key, {}).get(name), (key, name)
                    kept += 1
        assert kept <= 2
    assert mirror.sim.portal.faults.as_json() == [], "the fault did not fire"


def test_a_wrong_password_holds_the_portal_until_an_admin_resumes(fresh: Mirror) -> None:
    # Crossed with one type only: the login is the same for every type, and
    # the portal asks for it only when the session has ended.
    mirror = fresh
    mirror.sim.portal.expire_sessions()
    mirror.change_portal(T.ORDERS)
    before = mirror.snapshot()
    logins = mirror.sim.portal.login_attempts
    mirror.sim.portal.faults.arm({"kind": str(K.WRONG_PASSWORD)})

    result = mirror.sync(T.ORDERS)

    # Not retried and no dead letter: the request waits for the hold to lift.
    assert result["outcome"] == "failed", result
    assert result["error"].startswith("WrongCredentials"), result
    (run,) = mirror.runs(before.run, 1)
    _failed(run, Case(K.WRONG_PASSWORD, T.ORDERS, Ending.HOLD, "WrongCredentials", "login"))
    _unchanged(mirror, before)
    assert mirror.control.deadletters_list() == []
    assert mirror.sim.portal.login_attempts == logins + 1
    status = mirror.control.status()
    assert status["portal_hold"] is not None and "portal hold" in status["line"], status
    assert [(q["type"], q["held"]) for q in mirror.control.queue()] == [("orders", True)]

    mirror.control.resume()
    (ok,) = mirror.runs(before.run + 1, 1)
    assert ok["outcome"] == "ok", ok
    mirror.converged(T.ORDERS)
    assert mirror.control.status()["portal_hold"] is None
    assert mirror.sim.portal.login_attempts == logins + 2


def test_maintenance_opens_the_breaker_after_five_transient_failures(fresh: Mirror) -> None:
    # Crossed with no type in particular: maintenance is the whole portal's
    # (every page answers 503), and what it leads to depends on how many
    # failures came in a row, not on the type. A success first: it sets
    # the breaker's count of failures in a row to zero.
    mirror = fresh
    assert mirror.sync(T.INVOICES)["outcome"] == "ok"
    before = mirror.snapshot()
    mirror.sim.portal.faults.arm({"kind": str(K.MAINTENANCE), "times": None})

    # Two failed attempts each (one retry), then a dead letter...
    assert mirror.sync(T.CUSTOMERS)["outcome"] == "dead_letter"
    assert mirror.sync(T.PRODUCTS)["outcome"] == "dead_letter"
    # ...and the fifth failure in a row opens the breaker: the request waits
    # for the portal, neither retried nor a dead letter.
    third = mirror.sync(T.PRICES)

    assert third["outcome"] == "failed", third
    assert third["error"].startswith("PortalUnavailable"), third
    runs = mirror.runs(before.run, 5)
    assert [r["type"] for r in runs] == ["customers"] * 2 + ["products"] * 2 + ["prices"]
    for run in runs:
        assert run["outcome"] == "failed", run
        assert (run["error_class"], run["error_stage"]) == ("PortalUnavailable", "page_load")
    _unchanged(mirror, before)
    status = mirror.control.status()
    assert status["breaker"] == "open" and "breaker open" in status["line"], status
    assert [letter["type"] for letter in mirror.control.deadletters_list()] == [
        "customers",
        "products",
    ]
    assert [q["type"] for q in mirror.control.queue()] == ["prices"]

    # The breaker probes every 5 minutes; a restart closes it sooner. The
    # request that waited for the portal runs first.
    mirror.sim.portal.faults.clear()
    mirror.restart()
    (ok,) = mirror.runs(before.run + 5, 1)
    assert (ok["type"], ok["outcome"]) == ("prices", "ok"), ok
    assert mirror.control.status()["breaker"] == "closed"
