"""``archid run``: the process, wired here and nowhere else.

This module is the composition root: it opens the store, makes the two
portal sessions (:class:`~archid.portal.lanes.PortalLanes`), the sync job
and the :class:`~archid.daemon.service.Daemon`, and puts the control
socket and the metrics exporter beside it. Nothing under
:mod:`archid.daemon` imports :mod:`archid.control` or :mod:`archid.metrics`:
they read the daemon, the daemon does not know them.

Start-up order matters to systemd: READY=1 is sent once the database is
open (and migrated) and the scheduler runs, not after the first sync.
SIGTERM and SIGINT stop scheduling and cancel the running sync (its
browser is killed, its transaction rolled back, its request stays queued
for the next start); SIGHUP reloads the configuration, keeping the old one
if the new file is bad.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import apsw
import trio

from archid import logs
from archid.config import Config, ConfigError, load_config
from archid.control.server import ControlServer
from archid.daemon import failpoints
from archid.daemon.clock import WallClock
from archid.daemon.events import EventBus
from archid.daemon.instance import AlreadyRunning, instance_lock
from archid.daemon.notify import Notifier
from archid.daemon.persist import StateWriter
from archid.daemon.service import Daemon
from archid.daemon.sqlite_state import SqliteState
from archid.daemon.sync import SyncJob
from archid.metrics import MetricsExporter
from archid.portal.errors import PortalError
from archid.portal.lanes import PortalLanes
from archid.portal.probe import probe, tls_verification
from archid.portal.processes import reap_leftovers
from archid.store import StoreError, open_from_config

log = logging.getLogger("archid.daemon")


def run_daemon(config_path: str | Path) -> int:
    """Run until SIGTERM/SIGINT; the process's exit status."""
    try:
        config = load_config(config_path)
        drills = failpoints.armed()
    except (ConfigError, ValueError) as exc:
        # A log record, not a bare line: under journald it carries its priority.
        log.critical("%s", exc)
        return os.EX_CONFIG
    if drills:
        log.warning("failure drills armed (ARCHID_FAILPOINTS): %s", ", ".join(sorted(drills)))
    try:
        trio.run(serve, config, Path(config_path))
    except BaseException as raised:
        # trio wraps what a task raised in ExceptionGroups: look inside.
        failure = _sole(raised)
        if isinstance(failure, AlreadyRunning):
            log.critical("%s", failure)
            return 1
        # An OSError from inside the running tasks is not the database's.
        opening = failure is raised
        if isinstance(failure, StoreError | apsw.Error) or (
            opening and isinstance(failure, OSError)
        ):
            # Before the first sync (later ones are contained): the file's
            # place or contents are wrong. Exit 1, not 78: systemd retries
            # (the disk may not be mounted yet).
            log.critical(
                "cannot use the database %s ([database] path): %s: %s",
                config.database.path,
                type(failure).__name__,
                failure,
            )
            return 1
        raise
    return 0


def _only_cancelled(exc: BaseException) -> bool:
    """Whether ``exc`` is trio's cancellation, alone or in groups of nothing else."""
    if isinstance(exc, BaseExceptionGroup):
        _cancelled, rest = exc.split(trio.Cancelled)
        return rest is None
    return isinstance(exc, trio.Cancelled)


def _sole(exc: BaseException) -> BaseException:
    """The one exception inside nested single-member groups, else ``exc`` itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


async def serve(
    config: Config,
    config_path: Path,
    *,
    notifier: Notifier | None = None,
    events: EventBus | None = None,
    task_status: trio.TaskStatus[Daemon] = trio.TASK_STATUS_IGNORED,
) -> None:
    """The daemon's whole life, from opening the database to the last browser killed.

    ``events`` lets a caller subscribe before the first sync can start (the
    demo does); by default the daemon has a bus of its own. Raises
    :class:`~archid.daemon.instance.AlreadyRunning` at once if another
    daemon serves the same database.
    """
    notifier = notifier or Notifier()
    events = events if events is not None else EventBus()
    # Listen before anything else: a SIGTERM while the database opens or the
    # browser settles must still mean a clean stop, not the default death.
    with (
        trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals,
        instance_lock(config.database.path),
    ):
        await _serve(config, config_path, notifier, events, signals, task_status)


async def _serve(
    config: Config,
    config_path: Path,
    notifier: Notifier,
    events: EventBus,
    signals: AsyncIterator[int],
    task_status: trio.TaskStatus[Daemon],
) -> None:
    # The one clock: the store, the scheduler, the worker and the health read it.
    clock = WallClock()
    killed = reap_leftovers(config.database.path)
    if killed:
        log.warning(
            "killed %d browser process(es) a dead archid on this database left running",
            len(killed),
        )
    db = open_from_config(config.database, clock=clock.now_datetime)
    state = SqliteState(db, config.database.busy_timeout)
    writer = StateWriter(state)
    workdir = Path(tempfile.mkdtemp(prefix="archid-downloads-"))
    stopped = False  # as asked (a signal, or the owner's cancel), not by a failure
    try:
        async with PortalLanes.from_config(config, now=clock.now_datetime) as portal:

            async def portal_answers() -> bool:
                try:
                    await probe(config.portal.url, verify=tls_verification(config.portal))
                except PortalError as exc:
                    log.info("portal probe: %s", exc)
                    return False
                return True

            job = SyncJob(portal, db, config, events, workdir, clock, writer.record_failed_run)

            def preempt() -> bool:
                """Only an export stage gives way; its portal session finishes it alone."""
                if not job.exporting:
                    return False
                portal.let_go()
                return True

            daemon = Daemon(
                config, job, state, probe=portal_answers, clock=clock, notifier=notifier,
                events=events, writer=writer, on_cut_off=job.cut_off, portal=portal,
                preempt=preempt,
            )  # fmt: skip

            def reload() -> list[str]:
                return reload_configuration(daemon, job, portal, config_path, notifier)

            control = ControlServer(daemon, config.control, reload=reload)
            metrics = MetricsExporter(
                config.metrics, daemon, database=config.database.path,
                busy_timeout=config.database.busy_timeout, events=events, portal=portal,
            )  # fmt: skip
            async with trio.open_nursery() as nursery:
                await nursery.start(portal.run)
                await nursery.start(daemon.run)  # sends READY=1
                await nursery.start(control.run)
                nursery.start_soon(metrics.run)  # never raises: the daemon goes on without
                task_status.started(daemon)
                await _handle_signals(signals, reload, notifier)
                nursery.cancel_scope.cancel()
        stopped = True
    except BaseException as exc:
        # The caller ended it (the demo's Ctrl-C, a benchmark, a test): a stop
        # that was asked for, not a failure; trio may group the cancellations.
        stopped = _only_cancelled(exc)
        raise
    finally:
        notifier.stopping()
        state.close()
        db.close()
        shutil.rmtree(workdir, ignore_errors=True)
        log.log(logs.NOTICE if stopped else logging.ERROR, "archid stopped")


# Sections the running process holds open (browser, database file, sockets):
# a reload cannot swap them, so it says so instead of pretending.
_RESTART_ONLY = ("portal", "database", "browser", "control", "metrics")


def reload_configuration(
    daemon: Daemon, job: SyncJob, portal: PortalLanes, config_path: Path, notifier: Notifier
) -> list[str]:
    """Read the configuration file again and adopt it (SIGHUP, the control socket's ``reload``).

    Returns the sections whose changes wait for a restart. Raises
    :class:`~archid.config.ConfigError`, keeping the running configuration,
    if the file is bad.
    """
    notifier.reloading()
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        log.error("configuration not reloaded, keeping the running one: %s", exc)
        notifier.send("READY=1")
        raise
    pending = _reload(daemon, job, config, portal)
    notifier.send("READY=1")
    return pending


def _reload(daemon: Daemon, job: SyncJob, config: Config, portal: PortalLanes) -> list[str]:
    old = daemon.config
    pending = [name for name in _RESTART_ONLY if getattr(old, name) != getattr(config, name)]
    daemon.reconfigure(config)
    job.config = config
    if old != config and portal.resume("the configuration changed") is not None:
        daemon.channel.wake()
    if pending:
        log.warning("changes to [%s] take effect at the next restart", "], [".join(pending))
    return pending


async def _handle_signals(
    signals: AsyncIterator[int], reload: Callable[[], list[str]], notifier: Notifier
) -> None:
    """Return on SIGTERM/SIGINT; reload on SIGHUP."""
    async for signum in signals:
        if signum == signal.SIGHUP:
            with contextlib.suppress(ConfigError):  # logged; the running one stays
                reload()
            continue
        log.log(logs.NOTICE, "%s received: stopping", signal.Signals(signum).name)
        notifier.stopping()
        return
