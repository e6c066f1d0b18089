"""A circuit breaker for an unavailable portal.

After ``threshold`` transient failures in a row the breaker opens: no sync
is started (each would cost a browser start and perhaps a login against a
portal that is down). While open, a cheap HTTP probe tests the portal every
``probe_interval`` seconds; when it answers, the breaker half-opens and
lets exactly one sync through. Every outcome of that trial leads to a
defined state, so the breaker can never stay half-open with its trial spent:

| trial outcome | next state |
|---|---|
| success | closed |
| transient failure, timeout | open (probing again) |
| permanent failure (credentials, layout, guard) | closed: the portal answered |
| cancelled | half-open, with the trial available again |

A probe that raises counts as a failed probe: it is logged, never propagated.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable

import trio

from archid import logs

log = logging.getLogger("archid.breaker")


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts transient failures and gates the worker; :meth:`run` probes while open."""

    def __init__(
        self,
        probe: Callable[[], Awaitable[bool]],
        threshold: int = 5,
        probe_interval: float = 300.0,
        on_change: Callable[[BreakerState], None] = lambda state: None,
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self._probe = probe
        self.threshold = threshold
        self.probe_interval = probe_interval
        self._on_change = on_change
        self.state = BreakerState.CLOSED
        self.failures = 0
        self._trial_taken = False
        self._opened = trio.Event()

    def allows(self) -> bool:
        """Whether the worker may start a sync now."""
        if self.state is BreakerState.CLOSED:
            return True
        return self.state is BreakerState.HALF_OPEN and not self._trial_taken

    def started(self) -> None:
        """The worker started a sync (while half-open, this is the one trial)."""
        if self.state is BreakerState.HALF_OPEN:
            self._trial_taken = True

    def succeeded(self) -> None:
        self.failures = 0
        if self.state is not BreakerState.CLOSED:
            log.warning("portal reachable again: circuit breaker closed")
            self._set(BreakerState.CLOSED)

    def failed(self, *, portal_fault: bool) -> None:
        """A sync failed; only the portal's faults (:mod:`archid.failures`) count
        toward opening: five full disks in a row say nothing of the portal.

        Any other failure of the half-open trial closes the breaker: the
        portal answered, so what failed is not its reachability.
        """
        if not portal_fault:
            if self.state is BreakerState.HALF_OPEN and self._trial_taken:
                log.warning(
                    "portal reachable again (the trial sync failed for another reason): "
                    "circuit breaker closed"
                )
                self.failures = 0
                self._set(BreakerState.CLOSED)
            return
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or (
            self.state is BreakerState.CLOSED and self.failures >= self.threshold
        ):
            log.error(
                "circuit breaker open after %d portal failures: syncs stop, "
                "probing the portal every %.0f s",
                self.failures,
                self.probe_interval,
                extra=logs.fields(alert=logs.Alert.BREAKER_OPEN),
            )
            self._set(BreakerState.OPEN)

    def abandoned(self) -> None:
        """The sync the worker started ended without an outcome (it was cancelled).

        While half-open, the trial is available again: the next sync is the trial.
        """
        if self.state is BreakerState.HALF_OPEN and self._trial_taken:
            self._trial_taken = False
            self._on_change(self.state)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Probe the portal while the breaker is open, forever."""
        task_status.started()
        while True:
            await self._opened.wait()
            while self.state is BreakerState.OPEN:
                await trio.sleep(self.probe_interval)
                if self.state is BreakerState.OPEN and await self._probe_once():
                    log.warning("portal answers the probe: letting one sync through")
                    self._set(BreakerState.HALF_OPEN)

    async def _probe_once(self) -> bool:
        try:
            return await self._probe()
        except Exception as exc:  # a broken probe must not end the daemon
            log.error("portal probe failed: %s: %s", type(exc).__name__, exc)
            return False

    def _set(self, state: BreakerState) -> None:
        self.state = state
        self._trial_taken = False
        if state is BreakerState.OPEN:
            self._opened.set()
        else:
            self._opened = trio.Event()
        self._on_change(state)
