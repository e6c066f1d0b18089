"""The simulated portal's state: logins, sessions, saved user state, exports.

This is the behaviour of spec section 1 without any HTTP: the server
(``server.py``) translates requests into calls here and results into pages.
Everything is guarded by one lock because the HTTP server is threaded.
"""

from __future__ import annotations

import dataclasses
import enum
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from archid.portal.listviews import LIST_VIEWS
from archid.records import ExportType
from archid.sim.dataset import Dataset
from archid.sim.faults import FaultBoard, FaultKind
from archid.sim.layouts import EPOCHS, NEWEST, OPTIONAL_COLUMNS, ExportView

VIEW_TYPES = {view: export_type for export_type, view in LIST_VIEWS.items()}

REQUESTED_OBJECTS_ERROR = "Requested objects cannot be loaded"


@dataclass
class PortalOptions:
    """Knobs of the simulated portal; all settable at start and via the test API."""

    user: str = "agent"
    password: str = "komet"
    #: seconds of inactivity after which a session silently ends
    session_idle: float = 1200.0
    #: successful logins per day before the portal blocks the client
    daily_login_cap: int = 40
    #: probability that a session's first DDT export fails
    ddt_flake: float = 0.3
    #: position of "Esportare in" in the main menu
    export_menu_index: int = 3
    #: the same on the orders list, where the ERP added "copy order" before it
    orders_export_menu_index: int = 7
    #: the menu text is rendered twice ("Export toExport to")
    doubled_menu_text: bool = False
    #: English UI texts ("Export to", "Log In", "Column Chooser")
    english_ui: bool = False
    #: the layout epoch the exports follow (spec v2 "Layout history"): "2026-01" or "2026-03"
    layout: str = NEWEST
    #: the loading panel stays visible for a random time in this range (s)
    loading_min: float = 0.15
    loading_max: float = 0.8

    def __post_init__(self) -> None:
        self._check()

    def _check(self) -> None:
        if self.ddt_flake > 1:
            raise ValueError("ddt_flake is a probability (0 to 1)")
        if self.loading_max < self.loading_min:
            raise ValueError("loading_max must not be below loading_min")
        if self.layout not in EPOCHS:
            raise ValueError(f"layout must be one of {', '.join(EPOCHS)}, not {self.layout!r}")

    def update(self, values: dict[str, Any]) -> None:
        """Apply a JSON object of option values, all or none; ``ValueError`` when invalid."""
        trial = dataclasses.replace(self)
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise ValueError(f"unknown option {name!r}")
            current = getattr(self, name)
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
            elif isinstance(current, int):
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"{name} must be a non-negative integer")
            elif isinstance(current, float):
                if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"{name} must be a non-negative number")
                value = float(value)
            elif not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string")
            setattr(trial, name, value)
        trial._check()
        for name in values:
            setattr(self, name, getattr(trial, name))


class LoginOutcome(enum.Enum):
    OK = "ok"
    WRONG_CREDENTIALS = "wrong"
    BLOCKED = "blocked"


@dataclass
class UserState:
    """What the ERP remembers per user across sessions (spec: saved state)."""

    orders_all: bool = False
    products_filter: bool = True


@dataclass
class Session:
    """One logged-in browser session."""

    id: str
    auth: str
    user: str
    last_seen: float
    #: a fresh session hides some product columns until "show all columns" is chosen
    products_all_columns: bool = False
    #: a fresh session hides invoices' ID VENDITE until it is switched on
    invoices_order_column: bool = False
    ddt_exported: bool = False


@dataclass
class ExportTicket:
    """An export prepared by a callback, fetched by the browser's download."""

    token: str
    type: ExportType
    #: the browser did not ask for Italian: English captions, formats, file name
    english: bool
    session_id: str
    created: float
    #: the layout epoch when the export was made
    layout: str = NEWEST
    shrink: bool = False
    empty: bool = False
    orders_all: bool = True
    products_filter: bool = False
    products_all_columns: bool = True
    invoices_order_column: bool = True
    #: the generated file, set once the callback has built it
    file: Path | None = None


@dataclass
class Portal:
    """State and rules of the simulated Archibald portal.

    Time comes from :meth:`now`, which tests can move forward with
    :meth:`advance_clock` to expire sessions or reach the next day.
    """

    dataset: Dataset
    options: PortalOptions = field(default_factory=PortalOptions)
    seed: int = 0
    faults: FaultBoard = field(default_factory=FaultBoard)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.rng = random.Random(self.seed ^ 0x5EED)
        # The generated part of the login field names changes per start.
        self.field_number = secrets.randbelow(9000) + 1000
        self.viewstate = secrets.token_urlsafe(48)
        self.event_validation = secrets.token_urlsafe(24)
        self.clock_offset = 0.0
        self.sessions: dict[str, Session] = {}
        self.users: dict[str, UserState] = {}
        self.tickets: dict[str, ExportTicket] = {}
        self.logins_by_day: dict[date, int] = {}
        self.login_attempts = 0
        self.blocked_day: date | None = None

    # -- time ------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def today(self) -> date:
        return datetime.fromtimestamp(self.now()).date()

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset += seconds

    # -- login and sessions -------------------------------------------------

    def is_blocked(self) -> bool:
        with self.lock:
            return self.blocked_day == self.today()

    def logins_today(self) -> int:
        with self.lock:
            return self.logins_by_day.get(self.today(), 0)

    def login(self, user: str, password: str) -> tuple[LoginOutcome, Session | None]:
        """Check credentials and open a session, counting against the daily cap."""
        with self.lock:
            self.login_attempts += 1
            if self.is_blocked():
                return LoginOutcome.BLOCKED, None
            forced_wrong = self.faults.take(FaultKind.WRONG_PASSWORD) is not None
            good = secrets.compare_digest(user, self.options.user) and secrets.compare_digest(
                password, self.options.password
            )
            if forced_wrong or not good:
                return LoginOutcome.WRONG_CREDENTIALS, None
            today = self.today()
            count = self.logins_by_day.get(today, 0) + 1
            self.logins_by_day[today] = count
            if count > self.options.daily_login_cap:
                self.blocked_day = today
                return LoginOutcome.BLOCKED, None
            session = Session(
                id=secrets.token_hex(12),
                auth=secrets.token_hex(32).upper(),
                user=user,
                last_seen=self.now(),
            )
            self.sessions[session.id] = session
            self.users.setdefault(user, UserState())
            return LoginOutcome.OK, session

    def session(self, session_id: str | None, auth: str | None) -> Session | None:
        """The live session these cookies name, touched; ``None`` if there is none.

        An idle session is dropped here: the portal does not report expiry,
        the caller redirects to the login page.
        """
        if not session_id or not auth:
            return None
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None or not secrets.compare_digest(session.auth, auth):
                return None
            now = self.now()
            if now - session.last_seen > self.options.session_idle:
                del self.sessions[session_id]
                return None
            session.last_seen = now
            return session

    def expire_sessions(self) -> int:
        with self.lock:
            count = len(self.sessions)
            self.sessions.clear()
            return count

    def user_state(self, session: Session) -> UserState:
        with self.lock:
            return self.users.setdefault(session.user, UserState())

    def reset_user_state(self) -> None:
        with self.lock:
            self.users.clear()

    def loading_time(self) -> float:
        with self.lock:
            return self.rng.uniform(self.options.loading_min, self.options.loading_max)

    # -- list state --------------------------------------------------------

    def set_orders_all(self, session: Session, value: bool) -> None:
        with self.lock:
            self.user_state(session).orders_all = value

    def clear_products_filter(self, session: Session) -> None:
        with self.lock:
            self.user_state(session).products_filter = False

    def show_all_product_columns(self, session: Session) -> None:
        with self.lock:
            session.products_all_columns = True

    def hidden_columns(self, session: Session, export_type: ExportType) -> list[str]:
        """The columns of ``export_type`` the session's column chooser can still switch on."""
        with self.lock:
            if export_type is ExportType.INVOICES and not session.invoices_order_column:
                return [OPTIONAL_COLUMNS[ExportType.INVOICES]]
            return []

    def hides_product_columns(self, session: Session) -> bool:
        """Whether the products list hides columns: a fresh session of the 2026-03 epoch."""
        with self.lock:
            return self.options.layout != "2026-01" and not session.products_all_columns

    def show_column(self, session: Session, export_type: ExportType, header: str) -> bool:
        """Switch a hidden column on in the session's column chooser; ``False`` if unknown."""
        with self.lock:
            if header not in self.hidden_columns(session, export_type):
                return False
            session.invoices_order_column = True
            return True

    # -- exports -------------------------------------------------------------

    def begin_export(
        self, session: Session, export_type: ExportType, accept_language: str
    ) -> ExportTicket | str:
        """Prepare an export, or return the portal's error text instead."""
        with self.lock:
            if export_type is ExportType.DDT and not session.ddt_exported:
                session.ddt_exported = True
                if self.rng.random() < self.options.ddt_flake:
                    return REQUESTED_OBJECTS_ERROR
            state = self.user_state(session)
            ticket = ExportTicket(
                token=secrets.token_urlsafe(16),
                type=export_type,
                english=not _asks_for_italian(accept_language),
                session_id=session.id,
                created=self.now(),
                layout=self.options.layout,
                orders_all=state.orders_all,
                products_filter=state.products_filter,
                products_all_columns=session.products_all_columns,
                invoices_order_column=session.invoices_order_column,
            )
            self.tickets[ticket.token] = ticket
            return ticket

    def export_view(self, ticket: ExportTicket | None = None) -> ExportView:
        """How an export looks: the ticket's epoch, list state, columns and locale; without
        a ticket, a full export of the current epoch (every column a session can show)."""
        if ticket is None:
            with self.lock:
                return ExportView(layout=self.options.layout)
        return ExportView(
            layout=ticket.layout,
            english=ticket.english,
            orders_all=ticket.orders_all,
            products_filter=ticket.products_filter,
            products_all_columns=ticket.products_all_columns,
            invoices_order_column=ticket.invoices_order_column,
        )

    def take_ticket(self, token: str) -> ExportTicket | None:
        with self.lock:
            return self.tickets.pop(token, None)

    def state_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "version": self.dataset.version,
                "fingerprint": self.dataset.fingerprint,
                "logins_today": self.logins_today(),
                "login_attempts": self.login_attempts,
                "blocked": self.is_blocked(),
                "sessions": len(self.sessions),
                "users": {
                    name: {"orders_all": s.orders_all, "products_filter": s.products_filter}
                    for name, s in self.users.items()
                },
                "options": {
                    name: getattr(self.options, name)
                    for name in self.options.__dataclass_fields__
                    if name != "password"
                },
                "faults": self.faults.as_json(),
                "now": self.now(),
            }


def _asks_for_italian(accept_language: str) -> bool:
    """Whether the browser's first language preference is Italian."""
    first = accept_language.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return first == "it" or first.startswith("it-")
