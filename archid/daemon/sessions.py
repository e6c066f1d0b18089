"""Order-form sessions: an agent has the order form open and wants fresh customers.

Opening a session asks for a fast "recent" customer sync (the newest
customers read from the portal's grid, on the interactive portal session,
preempting a scheduled export); when the last session ends, the full
customers export runs. Sessions are counted (several tabs, several
agents); each ends when it is closed or, if its client vanished without
closing it, after a safety timeout.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import trio

log = logging.getLogger("archid.sessions")


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    user: str
    opened: float
    deadline: float


class Sessions:
    """The open order-form sessions; :meth:`run` expires the forgotten ones."""

    def __init__(
        self,
        safety_timeout: float = 600.0,
        on_change: Callable[[int], None] = lambda count: None,
    ) -> None:
        self.safety_timeout = safety_timeout
        self._on_change = on_change
        self._open: dict[str, Session] = {}
        self._changed = trio.Event()

    def __len__(self) -> int:
        return len(self._open)

    def list(self) -> list[Session]:
        return sorted(self._open.values(), key=lambda s: s.opened)

    def open(self, user: str) -> Session:
        """Open a session for ``user``; it ends by :meth:`close` or the safety timeout."""
        now = trio.current_time()
        session = Session(secrets.token_hex(8), user, now, now + self.safety_timeout)
        self._open[session.id] = session
        log.info("order-form session %s opened for %s (%d open)", session.id, user, len(self))
        self._notify()
        return session

    def close(self, session_id: str) -> bool:
        """Close a session; False if it was not open (closed twice, expired)."""
        session = self._open.pop(session_id, None)
        if session is None:
            return False
        log.info("order-form session %s closed (%d open)", session_id, len(self))
        self._notify()
        return True

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Expire sessions that reach their safety timeout, forever."""
        task_status.started()
        while True:
            now = trio.current_time()
            for session in [s for s in self._open.values() if s.deadline <= now]:
                del self._open[session.id]
                log.warning(
                    "order-form session %s of %s expired after %.0f s without being closed",
                    session.id,
                    session.user,
                    self.safety_timeout,
                )
                self._notify()
            deadline = min((s.deadline for s in self._open.values()), default=math.inf)
            with trio.move_on_at(deadline):
                await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()
        self._on_change(len(self._open))
