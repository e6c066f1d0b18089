"""The metrics task of the daemon: fresh figures, written out and served.

::

    MetricsExporter.run
    ├── watcher    wakes the writer when a sync ends (or the breaker turns)
    ├── ticker     wakes it every WRITE_INTERVAL seconds
    ├── http       [metrics] listen, if set
    └── writer     reads the figures, rewrites [metrics] textfile

Reading the database and writing the file happen in worker threads. A
failure of either (a busy or locked database, a full disk, a read-only
or missing folder) is logged once, when it starts, and once more when it
stops; meanwhile the daemon goes on and the metrics are tried again at the
next wake. Nothing here can stop the daemon: the task catches what it
raises, even its own bugs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Final

import trio
from prometheus_client import CollectorRegistry, generate_latest

from archid.config import MetricsConfig
from archid.daemon.events import EventBus, EventKind
from archid.metrics.http import serve_http
from archid.metrics.registry import ArchidCollector, StoreReader, live_figures
from archid.metrics.textfile import write_atomically

if TYPE_CHECKING:
    from archid.daemon.service import Daemon
    from archid.portal.lanes import PortalLanes

log = logging.getLogger("archid.metrics")

#: seconds between two writes of the file when no sync ends
WRITE_INTERVAL: Final = 60.0
#: seconds a write waits for the daemon's state writer to record a failed run
SETTLE_LIMIT: Final = 5.0
#: seconds the stop gives the last write (``archid_up 0``)
STOP_LIMIT: Final = 2.0

#: events after which the figures have changed in the database
_WAKES: Final = frozenset(
    {EventKind.FINISHED, EventKind.FAILED, EventKind.DEAD_LETTER, EventKind.BREAKER}
)
#: events whose run is recorded by the state writer, a moment after the event
_RECORDED_LATER: Final = frozenset({EventKind.FAILED, EventKind.DEAD_LETTER})


class MetricsExporter:
    """One daemon's metrics: :attr:`registry` holds them (its own, not
    prometheus-client's global one), :meth:`run` keeps them written."""

    def __init__(
        self,
        config: MetricsConfig,
        daemon: Daemon,
        *,
        database: Path,
        busy_timeout: float,
        events: EventBus,
        portal: PortalLanes | None = None,
        interval: float = WRITE_INTERVAL,
    ) -> None:
        self.config = config
        self.interval = interval
        self._daemon = daemon
        self._portal = portal
        self._events = events
        self._database = database
        self._reader = StoreReader(database, busy_timeout)
        self.collector = ArchidCollector(config.instance, daemon.clock.now())
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        self._failing: dict[str, str] = {}
        self._due = trio.Event()
        self._settle = False

    @property
    def enabled(self) -> bool:
        return self.config.textfile is not None or self.config.listen is not None

    # -- the task --------------------------------------------------------------------

    async def run(self) -> None:
        """Write and serve until cancelled; a clean stop's last file says
        ``archid_up 0``. Never raises an ``Exception``."""
        if not self.enabled:
            return
        try:
            with self._events.subscribe() as events:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._watch, events)
                    nursery.start_soon(self._tick)
                    if self.config.listen is not None:
                        nursery.start_soon(self._serve_http, *self.config.listen)
                    await self._keep_writing()
        except Exception:
            log.exception("metrics stopped by an error; archid goes on without them")
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(STOP_LIMIT):
                self.collector.up = False
                await self.write()
            self._reader.close()

    async def _keep_writing(self) -> None:
        self._due.set()  # the first file at once: node_exporter sees the daemon up
        while True:
            await self._due.wait()
            self._due = trio.Event()
            if self._settle:
                self._settle = False
                await self._settled()
            await self.refresh()
            await self.write()

    async def _watch(self, events: trio.MemoryReceiveChannel) -> None:  # type: ignore[type-arg]
        async for event in events:
            if event.kind in _WAKES:
                self._settle = self._settle or event.kind in _RECORDED_LATER
                self._due.set()

    async def _tick(self) -> None:
        while True:
            await trio.sleep(self.interval)
            self._due.set()

    async def _settled(self) -> None:
        """Until the daemon's state writer has nothing left (a failed run is on
        disk), for at most :data:`SETTLE_LIMIT` seconds: it may be failing."""
        await self._daemon.writer.settled(SETTLE_LIMIT)

    async def _serve_http(self, host: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(serve_http, host, port, self.render)
                log.info("metrics served at http://%s:%d/metrics", shown, port)
        except* OSError as group:
            error = group.exceptions[0]
            log.error(
                "metrics: cannot listen on %s:%d ([metrics] listen): %s;"
                " no HTTP metrics until archid restarts",
                shown,
                port,
                error,
            )

    # -- one round -------------------------------------------------------------------

    async def refresh(self) -> None:
        """Read what changed in the database since the last read (in a thread)."""
        budget = self._portal.budget if self._portal is not None else None
        since = self.collector.totals.last_id
        try:
            totals, store = await trio.to_thread.run_sync(
                self._reader.read, since, budget.remaining if budget is not None else None
            )
        except Exception as exc:  # a database that cannot be read is no reason to stop
            self._failed("read", f"cannot read the database {self._database}", exc)
            return
        self._succeeded("read", "the database is read again")
        self.collector.totals.merge(totals)
        self.collector.store = store

    def render(self) -> bytes:
        """The metrics as Prometheus text, with the daemon's in-memory figures as of now."""
        self.collector.live = live_figures(self._daemon, self._portal)
        return generate_latest(self.registry)

    async def write(self) -> bool:
        """Rewrite ``[metrics] textfile`` (in a thread); whether it was written."""
        path = self.config.textfile
        if path is None:
            return False
        try:
            data = self.render()
            await trio.to_thread.run_sync(write_atomically, path, data)
        except Exception as exc:  # a full disk or a read-only folder must not stop the daemon
            self._failed("write", f"cannot write {path} ([metrics] textfile)", exc)
            return False
        self._succeeded("write", f"{path} is written again")
        return True

    def _failed(self, what: str, doing: str, exc: Exception) -> None:
        """Log a failure when it begins (or changes kind), not at every retry."""
        kind = f"{type(exc).__name__}:{getattr(exc, 'errno', '')}"
        if self._failing.get(what) == kind:
            log.debug("metrics: still %s: %s", doing, exc)
            return
        self._failing[what] = kind
        log.error(
            "metrics: %s: %s: %s; archid goes on and tries again after the next sync"
            " or within %.0f s",
            doing,
            type(exc).__name__,
            exc,
            self.interval,
        )

    def _succeeded(self, what: str, news: str) -> None:
        if self._failing.pop(what, None) is not None:
            log.warning("metrics: %s", news)
