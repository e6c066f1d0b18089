"""Metrics as an operator's Prometheus sees them: files, HTTP, node_exporter, rules, dashboard.

Two real ``archid run`` processes share one textfile folder, as two
accounts on one host do: ``komet-napoli`` syncs customers from the
simulator (and serves HTTP), ``komet-roma`` syncs nothing. What they write
is checked by Debian's ``promtool`` and served by a real
``prometheus-node-exporter``; the figures are checked against the
databases the daemons wrote. The rules are checked and unit-tested by
``promtool``, and every name the rules and the dashboard query is one the
daemons wrote. The last test restarts komet-napoli.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from prometheus_client.parser import text_string_to_metric_families

from archid.config import load_config, summarize_config
from archid.daemon.breaker import BreakerState
from archid.daemon.clock import WallClock
from archid.daemon.events import EventKind
from archid.daemon.service import Daemon as InProcessDaemon
from archid.daemon.state import MemoryState
from archid.metrics import MetricsExporter, write_atomically
from archid.metrics.registry import OPS, OUTCOMES, TYPES, LiveFigures, live_figures
from archid.portal.errors import LoginBudgetSpent, Stage
from archid.portal.hold import PortalHold
from archid.records import ExportType
from archid.sim.cache import ExportCache
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer
from archid.store.schema import TABLES
from tests.conftest import ROOT, SIM_CACHE, SIM_SCALE, SIM_SEED
from tests.daemon.helpers import ANCHOR, Script, always_up
from tests.daemon.helpers import config as daemon_config
from tests.daemon_process import (
    CUSTOMERS,
    PASSWORD,
    Daemon,
    quick_sim_options,
    start_daemon,
    write_config,
)
from tests.inprocess import Events, with_daemon

MONITORING = ROOT / "docs" / "monitoring"
RULES = MONITORING / "archid.rules.yml"
RULE_TESTS = MONITORING / "archid.test.yml"
DASHBOARD = MONITORING / "archid-dashboard.json"
PROMTOOL = "/usr/bin/promtool"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
#: what node_exporter itself writes that the rules may read
NODE_EXPORTER_NAMES = {"node_textfile_mtime_seconds"}

needs_promtool = pytest.mark.skipif(
    not os.access(PROMTOOL, os.X_OK), reason="promtool is not installed (Debian: prometheus)"
)
needs_node_exporter = pytest.mark.skipif(
    not os.access(NODE_EXPORTER, os.X_OK), reason="prometheus-node-exporter is not installed"
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of Prometheus text: (name, labels) → value."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def metrics_section(textfile: Path, instance: str, listen: str = "") -> str:
    """``[metrics]`` as given, and a control socket of the daemon's own (two run at once)."""
    lines = ["[metrics]", f'textfile = "{textfile}"', f'instance = "{instance}"']
    if listen:
        lines.append(f'listen = "{listen}"')
    lines += ["", "[control]", 'socket = "control.sock"']
    return "\n".join(lines) + "\n"


@dataclass
class Host:
    """Two daemons on one host, their textfile folder and napoli's HTTP port."""

    start: Any
    napoli: Daemon
    roma: Daemon
    napoli_config: Path
    folder: Path
    port: int

    @property
    def napoli_file(self) -> Path:
        return self.folder / "archid-komet-napoli.prom"

    @property
    def roma_file(self) -> Path:
        return self.folder / "archid-komet-roma.prom"


def read_samples(path: Path) -> Samples:
    try:
        return samples(path.read_text())
    except FileNotFoundError:
        return {}


def ok_runs(path: Path) -> float:
    found = read_samples(path)
    return (
        value(
            found,
            "archid_sync_runs_total",
            archid_instance="komet-napoli",
            type="customers",
            outcome="ok",
        )
        or 0.0
    )


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    root = tmp_path_factory.mktemp("metrics")
    folder = root / "node-exporter"
    folder.mkdir()
    portal = Portal(
        dataset=Dataset.generate(SIM_SEED, SIM_SCALE), options=quick_sim_options(), seed=SIM_SEED
    )
    sim = SimServer(portal, ExportCache(SIM_CACHE, load_font(None)), test_api=True)
    sim.start()
    starter = start_daemon(root)
    start = next(starter)
    try:
        port = free_port()
        (root / "napoli").mkdir()
        (root / "roma").mkdir()
        napoli_config = write_config(
            root / "napoli",
            sim.url,
            [CUSTOMERS],
            metrics_section(
                folder / "archid-komet-napoli.prom", "komet-napoli", f"127.0.0.1:{port}"
            ),
        )
        roma_config = write_config(
            root / "roma",
            sim.url,
            [],
            metrics_section(folder / "archid-komet-roma.prom", "komet-roma"),
        )
        napoli = start(napoli_config)
        roma = start(roma_config)
        found = Host(start, napoli, roma, napoli_config, folder, port)
        napoli.wait_until(lambda: ok_runs(found.napoli_file) >= 1, 90, "a customers sync counted")
        roma.wait_until(lambda: found.roma_file.exists(), 10, "komet-roma's metrics file")
        yield found
    finally:
        for daemon in (found.napoli, found.roma) if "found" in locals() else ():
            if daemon.process.poll() is None:
                daemon.stop()
        with contextlib.suppress(StopIteration):
            next(starter)
        sim.close()


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMTOOL, *args], input=stdin, capture_output=True, text=True, timeout=30, check=False
    )


# --------------------------------------------------------------------------
# What a daemon writes


@needs_promtool
def test_the_written_files_pass_promtool_and_say_what_the_mirror_holds(host: Host) -> None:
    text = host.napoli_file.read_text()
    for path in (host.napoli_file, host.roma_file):
        checked = promtool("check", "metrics", stdin=path.read_text())
        assert checked.returncode == 0, f"{path.name}: {checked.stdout}{checked.stderr}"
    assert PASSWORD not in text
    assert not list(host.folder.glob(".*")), "a temporary file was left behind"

    found = samples(text)
    napoli = host.napoli
    me = {"archid_instance": "komet-napoli"}
    customers = {**me, "type": "customers"}
    assert value(found, "archid_up", **me) == 1
    ((version, python),) = [
        (dict(labels)["version"], dict(labels)["python"])
        for name, labels in found
        if name == "archid_build_info"
    ]
    assert version and python
    # Every series carries the daemon's label, none lacks it.
    assert all(dict(labels).get("archid_instance") == "komet-napoli" for _, labels in found)

    ((runs, inserted, ended),) = napoli.rows(
        "SELECT count(*), sum(inserted), max(ended_at) FROM sync_runs"
        " WHERE type = 'customers' AND outcome = 'ok'"
    )
    assert isinstance(runs, int) and runs >= 1
    assert value(found, "archid_sync_runs_total", **customers, outcome="ok") == runs
    for outcome in OUTCOMES[1:]:
        assert value(found, "archid_sync_runs_total", **customers, outcome=outcome) == 0
    for op in OPS:
        assert value(found, "archid_records_changed_total", **customers, op=op) is not None
    assert value(found, "archid_records_changed_total", **customers, op="inserted") == inserted
    table = TABLES[CUSTOMERS].name
    ((live,),) = napoli.rows(f'SELECT count(*) FROM "{table}" WHERE deleted_at IS NULL')
    assert isinstance(live, int) and live > 0
    assert value(found, "archid_records", **customers) == live
    assert value(found, "archid_records", **me, type="orders") == 0

    last = value(found, "archid_sync_last_success_timestamp_seconds", **customers)
    assert isinstance(ended, str) and last is not None
    assert abs(last - datetime.fromisoformat(ended).timestamp()) < 0.01
    attempt = value(found, "archid_sync_last_attempt_timestamp_seconds", **customers)
    assert attempt is not None and attempt >= last
    assert value(found, "archid_sync_last_success_timestamp_seconds", **me, type="orders") is None
    assert value(found, "archid_sync_interval_seconds", **customers) == 3600
    assert value(found, "archid_sync_interval_seconds", **me, type="orders") is None

    total = {**customers, "stage": "total"}
    assert value(found, "archid_sync_duration_seconds_count", **total) == runs
    assert value(found, "archid_sync_duration_seconds_bucket", **total, le="+Inf") == runs
    stages = {
        dict(labels)["stage"]
        for name, labels in found
        if name == "archid_sync_duration_seconds_count"
    }
    assert {"export", "export_login", "parse", "apply", "total"} <= stages

    logins = value(found, "archid_portal_logins_total", **me)
    assert logins is not None and logins >= 1
    assert value(found, "archid_login_budget_remaining", **me) == 10 - logins
    for name in (
        "archid_queue_depth",
        "archid_breaker_open",
        "archid_portal_hold",
        "archid_dead_letters",
        "archid_order_form_sessions",
    ):
        assert value(found, name, **me) == 0, name
    for export_type in ExportType:
        assert value(found, "archid_paused", **me, type=str(export_type)) == 0
        assert value(found, "archid_consecutive_failures", **me, type=str(export_type)) == 0
        assert value(found, "archid_export_rejected_total", **me, type=str(export_type)) == 0
        assert value(found, "archid_parse_warnings_total", **me, type=str(export_type)) == 0

    other = read_samples(host.roma_file)
    roma = {"archid_instance": "komet-roma"}
    assert value(other, "archid_up", **roma) == 1
    assert value(other, "archid_sync_runs_total", **roma, type="customers", outcome="ok") == 0
    assert value(other, "archid_portal_logins_total", **roma) == 0


def test_the_http_endpoint_serves_the_same_metrics_and_refuses_the_rest(host: Host) -> None:
    base = f"http://127.0.0.1:{host.port}"
    with httpx.Client(base_url=base, timeout=10) as client:
        answer = client.get("/metrics")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
        served = samples(answer.text)
        written = read_samples(host.napoli_file)
        assert {name for name, _ in served} == {name for name, _ in written}
        assert value(served, "archid_up", archid_instance="komet-napoli") == 1
        assert PASSWORD not in answer.text

        head = client.head("/metrics")
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) > 1000
        assert client.get("/").status_code == 404
        assert client.post("/metrics", content=b"x").status_code == 405

    def raw(request: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", host.port), timeout=10) as connection:
            connection.sendall(request)
            connection.shutdown(socket.SHUT_WR)
            return b"".join(iter(lambda: connection.recv(65536), b""))

    assert raw(b"hello\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw(b"GET /metrics HTTP/1.1\r\n" + b"X: " + b"y" * 9000).startswith(b"HTTP/1.1 431 ")
    assert raw(b"GET /met") == b""  # closed before the request ended: no answer
    assert raw(b"GET /metrics HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 200 ")
    assert host.napoli.process.poll() is None


@needs_node_exporter
def test_node_exporter_serves_both_daemons_told_apart_by_their_label(host: Host) -> None:
    port = free_port()
    exporter = subprocess.Popen(
        [
            NODE_EXPORTER,
            f"--web.listen-address=127.0.0.1:{port}",
            "--collector.disable-defaults",
            "--collector.textfile",
            f"--collector.textfile.directory={host.folder}",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        text = _scrape(f"http://127.0.0.1:{port}/metrics", exporter)
    finally:
        exporter.terminate()
        exporter.wait(timeout=10)
    found = samples(text)
    assert value(found, "node_textfile_scrape_error") == 0
    mtimes = {
        dict(labels)["file"] for name, labels in found if name == "node_textfile_mtime_seconds"
    }
    assert mtimes == {str(host.napoli_file), str(host.roma_file)}
    ups = {
        dict(labels)["archid_instance"]: v
        for (name, labels), v in found.items()
        if name == "archid_up"
    }
    assert ups == {"komet-napoli": 1, "komet-roma": 1}
    napoli = {"archid_instance": "komet-napoli", "type": "customers", "outcome": "ok"}
    roma = {**napoli, "archid_instance": "komet-roma"}
    assert (value(found, "archid_sync_runs_total", **napoli) or 0) >= 1
    assert value(found, "archid_sync_runs_total", **roma) == 0


def _scrape(url: str, process: subprocess.Popen[bytes]) -> str:
    """The first answer of a process that is starting to listen."""
    deadline = time.monotonic() + 10
    while True:
        try:
            answer = httpx.get(url, timeout=5)
            answer.raise_for_status()
            return answer.text
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"node_exporter does not answer at {url}\n{stderr}") from None
            time.sleep(0.05)


# --------------------------------------------------------------------------
# Rules and dashboard


@needs_promtool
def test_the_rules_pass_promtool_check_and_their_unit_tests() -> None:
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", RULE_TESTS.name],
        cwd=MONITORING,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    alerts = re.findall(r"^\s*- alert: (\w+)$", RULES.read_text(), re.MULTILINE)
    assert len(alerts) >= 8
    checks = re.findall(
        r"alertname: (\w+)\n\s*exp_alerts:( \[\])?", RULE_TESTS.read_text(), re.MULTILINE
    )
    firing = {name for name, empty in checks if not empty}
    quiet = {name for name, empty in checks if empty}
    assert set(alerts) == firing == quiet


#: PromQL words that are not metric names
_PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "and", "or", "unless", "le", "inf", "nan",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads (strings, label matchers, ranges,
    grouping lists and function names taken out)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\$\w+", " ", expr)
    names = set(re.findall(r"(?<![\w.:])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()", expr))
    return {n for n in names if n.lower() not in _PROMQL_WORDS}


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                queries.append(node["expr"])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(dashboard["panels"])
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            # label_values(metric, label): the metric is what it reads
            match = re.fullmatch(r"label_values\((\w+),\s*\w+\)", query["query"])
            assert match, query
            queries.append(match[1])
    return queries


def written_names(*paths: Path) -> set[str]:
    return {name for path in paths for name, _ in read_samples(path)}


@needs_promtool
def test_every_dashboard_and_rule_query_names_only_metrics_archid_writes(
    host: Host, tmp_path: Path
) -> None:
    written = written_names(host.napoli_file, host.roma_file)
    assert "archid_sync_duration_seconds_bucket" in written
    queries = dashboard_queries()
    assert len(queries) >= 20
    read = set()
    for query in queries:
        names = metric_names(query)
        assert names, f"no metric in {query!r}"
        assert names <= written, f"{query!r} reads {names - written}, which archid never writes"
        read |= names
    # The dashboard shows every family archid writes (histogram parts count once).
    families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in written}
    shown = {re.sub(r"_(bucket|sum|count)$", "", n) for n in read}
    assert families <= shown, f"not on the dashboard: {families - shown}"

    rule_exprs = _rule_expressions(RULES.read_text())
    for expr in rule_exprs:
        names = metric_names(expr)
        assert names and names <= written | NODE_EXPORTER_NAMES, (expr, names)

    # Each dashboard query parses as PromQL (Grafana's variables filled in).
    rules = ["groups:", "  - name: dashboard", "    rules:"]
    for number, query in enumerate(queries):
        filled = query.replace("$__rate_interval", "5m").replace("$instance", ".*")
        rules += [f"      - record: dashboard:query{number}", f"        expr: {json.dumps(filled)}"]
    (tmp_path / "dashboard.rules.yml").write_text("\n".join(rules) + "\n")
    checked = promtool("check", "rules", str(tmp_path / "dashboard.rules.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _rule_expressions(text: str) -> list[str]:
    """Each rule's ``expr:``, one line or a ``|`` block."""
    exprs: list[str] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^(\s*)expr: (.*)$", line)
        if match is None:
            continue
        if match[2].strip() != "|":
            exprs.append(match[2])
            continue
        block = []
        for following in lines[index + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= len(match[1]):
                break
            block.append(following)
        exprs.append("\n".join(block))
    return exprs


def test_the_name_finder_sees_names_and_skips_the_rest() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, type) (rate(a_bucket{stage="total"}[5m])))'
        " / on(type) group_left b_total unless c and time() - d offset 5m"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c", "d"}


def test_check_config_names_the_metrics_outputs(tmp_path: Path) -> None:
    config = write_config(tmp_path, "https://127.0.0.1:9/Archibald/", [])
    assert "metrics: off" in summarize_config(load_config(config))
    config = write_config(
        tmp_path,
        "https://127.0.0.1:9/Archibald/",
        [],
        metrics_section(tmp_path / "archid.prom", "komet-napoli", "[::1]:9464"),
    )
    line = next(
        line
        for line in summarize_config(load_config(config)).splitlines()
        if line.startswith("metrics:")
    )
    assert line == (
        f"metrics: textfile {tmp_path / 'archid.prom'} and http://[::1]:9464/metrics"
        " (archid_instance='komet-napoli')"
    )


# --------------------------------------------------------------------------
# Writing the file


def test_a_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "archid.prom"
    versions = [bytes([letter]) * 400_000 + b"\n# end\n" for letter in b"ab"]
    write_atomically(path, versions[0])
    done = threading.Event()
    seen: list[bytes] = []

    def read() -> None:
        while not done.is_set():
            seen.append(path.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for round_ in range(40):
            write_atomically(path, versions[round_ % 2])
    finally:
        done.set()
        reader.join()
    assert seen
    assert all(content in versions for content in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archid.prom"]


def test_a_failed_write_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "taken.prom").mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomically(tmp_path / "taken.prom", b"archid_up 1\n")
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "missing" / "archid.prom", b"archid_up 1\n")
    assert [p.name for p in tmp_path.iterdir()] == ["taken.prom"]
    old = os.umask(0o077)
    try:
        write_atomically(tmp_path / "archid.prom", b"archid_up 1\n")
    finally:
        os.umask(old)
    assert (tmp_path / "archid.prom").stat().st_mode & 0o777 == 0o644


async def test_an_unwritable_file_and_a_taken_port_are_logged_once_and_archid_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="archid.metrics")
    (tmp_path / "blocker").write_text("a file where a folder should be\n")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    config_path = write_config(
        tmp_path,
        "https://127.0.0.1:9/Archibald/",
        [],
        metrics_section(tmp_path / "blocker" / "daemon.prom", "komet-napoli", f"127.0.0.1:{port}"),
    )
    config = load_config(config_path)

    def errors(about: str) -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.name == "archid.metrics" and r.levelno >= logging.ERROR and about in r.getMessage()
        ]

    async def body(daemon: Any, events: Events) -> None:
        with trio.fail_after(10):
            while not (errors("daemon.prom") and errors("cannot listen")):
                await trio.sleep(0.01)
        path = tmp_path / "blocker" / "own.prom"
        own = MetricsExporter(
            type(config.metrics)(textfile=path, instance="komet-napoli"),
            daemon,
            database=config.database.path,
            busy_timeout=1.0,
            events=daemon.events,
        )
        assert await own.write() is False
        await own.refresh()
        assert await own.write() is False
        assert len(errors("own.prom")) == 1
        assert "NotADirectoryError" in errors("own.prom")[0]

        (tmp_path / "blocker").unlink()
        (tmp_path / "blocker").mkdir()
        await own.refresh()
        assert await own.write() is True
        assert any("own.prom is written again" in r.getMessage() for r in caplog.records)
        found = samples(path.read_text())
        assert value(found, "archid_up", archid_instance="komet-napoli") == 1
        assert value(found, "archid_records", archid_instance="komet-napoli", type="ddt") == 0
        assert daemon.status().breaker is BreakerState.CLOSED  # the daemon answers as ever

    try:
        await with_daemon(config_path, body)
    finally:
        taken.close()
    # The daemon's own exporter: one line for the file, one for the port, over its whole life.
    assert len(errors("daemon.prom")) == 1
    assert len(errors("cannot listen")) == 1
    shutil.rmtree(tmp_path / "blocker")


@pytest.fixture
def sim_options() -> PortalOptions:
    return quick_sim_options()


async def test_a_rejected_export_shows_within_seconds_not_at_the_next_minute(
    sim: SimServer, tmp_path: Path
) -> None:
    path = tmp_path / "archid.prom"
    config_path = write_config(
        tmp_path, sim.url, [CUSTOMERS], metrics_section(path, "komet-napoli")
    )
    me = {"archid_instance": "komet-napoli"}
    customers = {**me, "type": "customers"}

    async def shows(what: str, check: Any) -> Samples:
        # The minute's tick is far off: only the sync's own write can get here in time.
        with trio.move_on_after(8):
            while not check(found := read_samples(path)):
                await trio.sleep(0.02)
            return found
        raise AssertionError(f"{path} does not show {what} 8 s after it happened")

    # The first export prints two counts the parser cannot read.
    column = "CONTEGGI DEGLI ORDINI EFFETTIVI"
    sim.portal.faults.arm({"kind": "bad_cells", "type": "customers", "column": column, "rows": 2})

    async def body(daemon: Any, events: Events) -> None:
        async for event in events:
            if event.kind is EventKind.FINISHED:
                break
        found = await shows("the first sync", lambda f: value(f, "archid_records", **customers))
        # two cells and the sentence about their column
        assert value(found, "archid_parse_warnings_total", **customers) == 3
        sim.portal.faults.arm({"kind": "shrunken_export", "type": "customers"})
        daemon.sync_now(CUSTOMERS)
        async for event in events:
            if event.kind is EventKind.DEAD_LETTER:
                break
        found = await shows("the dead letter", lambda f: value(f, "archid_dead_letters", **me) == 1)
        assert value(found, "archid_sync_runs_total", **customers, outcome="rejected") == 1
        assert value(found, "archid_export_rejected_total", **customers) == 1
        assert value(found, "archid_sync_runs_total", **customers, outcome="ok") == 1
        # Counted from the run's row: the dead letter is the request, not another run.
        assert value(found, "archid_sync_runs_total", **customers, outcome="failed") == 0
        assert value(found, "archid_consecutive_failures", **customers) == 1
        assert value(found, "archid_sync_duration_seconds_count", **customers, stage="total") == 1

    await with_daemon(config_path, body)
    assert value(read_samples(path), "archid_up", **me) == 0


# --------------------------------------------------------------------------
# Last: a restart


def test_a_clean_stop_says_down_and_a_restart_rebuilds_the_counters(host: Host) -> None:
    before = read_samples(host.napoli_file)
    me = {"archid_instance": "komet-napoli"}
    assert host.napoli.stop() < 10
    stopped = read_samples(host.napoli_file)
    assert value(stopped, "archid_up", **me) == 0

    host.napoli = host.start(host.napoli_config)
    started = value(before, "archid_start_time_seconds", **me)

    def restarted() -> bool:
        found = read_samples(host.napoli_file)
        return value(found, "archid_start_time_seconds", **me) not in (None, started)

    host.napoli.wait_until(restarted, 30, "the restarted daemon's metrics file")
    after = read_samples(host.napoli_file)
    assert value(after, "archid_up", **me) == 1
    ((runs, inserted),) = host.napoli.rows(
        "SELECT count(*), sum(inserted) FROM sync_runs WHERE type = 'customers' AND outcome = 'ok'"
    )
    customers = {**me, "type": "customers"}
    assert value(after, "archid_sync_runs_total", **customers, outcome="ok") == runs
    assert value(after, "archid_records_changed_total", **customers, op="inserted") == inserted
    assert value(after, "archid_sync_duration_seconds_count", **customers, stage="total") == runs
    assert value(after, "archid_sync_last_success_timestamp_seconds", **customers) == value(
        before, "archid_sync_last_success_timestamp_seconds", **customers
    )


class _Held:
    """A portal on hold, as the daemon sees one."""

    hold = PortalHold(
        LoginBudgetSpent("no logins left", Stage.LOGIN),
        datetime(2026, 5, 28, 10, tzinfo=UTC),
        datetime(2026, 5, 28, 22, tzinfo=UTC),
    )

    def lift_expired(self) -> PortalHold | None:
        return None

    def resume(self, why: str) -> PortalHold | None:
        return None


async def test_the_live_figures_follow_the_daemons_status(
    autojump_clock: trio.testing.MockClock,
) -> None:
    daemon = InProcessDaemon(
        daemon_config(scheduled=False),
        Script(),
        MemoryState(),
        probe=always_up,
        clock=WallClock(ANCHOR),
        portal=_Held(),
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.run)
        assert live_figures(daemon, None) == LiveFigures(
            paused={t: False for t in TYPES}, consecutive_failures={t: 0 for t in TYPES},
            portal_hold=True,
        )  # fmt: skip
        daemon.pause(ExportType.ORDERS)
        daemon.sync_now(ExportType.PRODUCTS)  # waits for the hold to lift
        daemon.session_open("mario")  # and queues the newest customers
        live = live_figures(daemon, None)
        assert live.paused == {t: t == "orders" for t in TYPES}
        assert (live.queue_depth, live.sessions, live.portal_hold) == (2, 1, True)
        assert not live.breaker_open and live.intervals == {}
        nursery.cancel_scope.cancel()
