"""The simulated portal's state: options, logins, sessions, saved user state, exports.

This is the behaviour of spec v3 section 1 without any HTTP: the server
(``server.py``) translates requests into calls here and results into
pages. The portal's own data is guarded by :attr:`Portal.lock`; each
session also has its own :attr:`Session.lock`, which the server holds for
the whole handling of every request of that session (spec: "one session
must not run two requests at once").

What lives where, as on the real portal:

* per user, across sessions (:class:`UserState`): each list's saved
  filter item, page index, page size and sort; the products' grid filter;
  the customers' view;
* per session (:class:`Session`): which columns each grid shows (reset
  with every login), the grids' generated ids, the first-DDT-export flake,
  a prepared export waiting to be fetched.
"""

from __future__ import annotations

import dataclasses
import enum
import random
import secrets
import threading
import time
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from archid.portal.listviews import LIST_VIEWS
from archid.records import ExportType
from archid.sim import filters
from archid.sim.columns import default_visible, export_view
from archid.sim.dataset import Dataset
from archid.sim.faults import FaultBoard, FaultKind
from archid.sim.layouts import EPOCHS, NEWEST, ExportView
from archid.sim.timing import COLD_AFTER, PROFILES, Timing, TimingSettings

VIEW_TYPES = {view: export_type for export_type, view in LIST_VIEWS.items()}
#: the portal's time zone: its naive date-times are wall-clock time there
PORTAL_ZONE = zoneinfo.ZoneInfo("Europe/Rome")

REQUESTED_OBJECTS_ERROR = "Requested objects cannot be loaded"
PAGE_SIZES = (10, 20, 50, 100, 200)
DEFAULT_PAGE_SIZE = 20
CUSTOMERS_VIEWS = ("Clienti", "Mappa clienti")

#: each list's sort for a new user: (column key, descending)
DEFAULT_SORTS: dict[ExportType, tuple[str, bool]] = {
    ExportType.CUSTOMERS: ("NOME", False),
    ExportType.PRODUCTS: ("ID ARTICOLO", False),
    ExportType.PRICES: ("ID", False),
    # the hidden MODIFIEDDATETIME column, newest first
    ExportType.ORDERS: ("CITTA DI FATTURAZIONE", True),
    ExportType.DDT: ("DATA DI CONSEGNA", True),
    ExportType.INVOICES: ("DATA FATTURA", True),
}


@dataclass
class PortalOptions:
    """Knobs of the simulated portal; all settable at start and via ``/_sim/options``."""

    user: str = "agent"
    password: str = "komet"
    #: seconds of inactivity after which a session silently ends
    session_idle: float = 1200.0
    #: successful logins per day before the portal blocks the client
    daily_login_cap: int = 40
    #: probability that a session's first DDT export fails
    ddt_flake: float = 0.3
    #: the drifting ``a<m>`` of the filter combos' ids and values: "a0", "a1" or "a2"
    filter_prefix: str = filters.DEFAULT_PREFIX
    #: extra items the ERP put at the front of every main menu (shifts every position)
    menu_shift: int = 0
    #: the orders' menu has the "copy order" item, which puts the export at DXI7, not DXI3
    orders_copy_item: bool = True
    #: the menu text is rendered twice ("Export toExport to")
    doubled_menu_text: bool = False
    #: English UI texts ("Export to", "Log In", English filter items)
    english_ui: bool = False
    #: sorted headers carry DevExpress's sort glyph (the spec does not say how a
    #: sorted header looks: off, no header shows its sort)
    sort_glyphs: bool = True
    #: the grid's client object has DevExpress's ``SortBy(column, order, reset)``
    #: (documented ASPxClientGridView API, not named by spec v3: off, the
    #: object has only the methods the spec names and sorts take header clicks)
    grid_sort_by: bool = True
    #: the layout epoch the exports follow (spec section 2 "Layout history")
    layout: str = NEWEST
    #: "fast" (tests) or "real" (spec v3 timings, see ``timing.py``)
    timing: str = "fast"
    #: the "real" timings are divided by this
    time_scale: float = 1.0
    #: in the "fast" profile, loading panels stay up a random time in this range (s)
    loading_min: float = 0.15
    loading_max: float = 0.8
    #: windows narrower than this (px, at load) move menu items into the overflow
    overflow_width: int = 1280
    #: seconds between the pages' ``DXX.axd`` notification polls
    poll_interval: float = 300.0

    def __post_init__(self) -> None:
        self._check()

    def _check(self) -> None:
        if self.ddt_flake > 1:
            raise ValueError("ddt_flake is a probability (0 to 1)")
        if self.loading_max < self.loading_min:
            raise ValueError("loading_max must not be below loading_min")
        if self.layout not in EPOCHS:
            raise ValueError(f"layout must be one of {', '.join(EPOCHS)}, not {self.layout!r}")
        if self.filter_prefix not in filters.PREFIXES:
            known = ", ".join(filters.PREFIXES)
            raise ValueError(f"filter_prefix must be one of {known}, not {self.filter_prefix!r}")
        if self.timing not in PROFILES:
            raise ValueError(f"timing must be one of {', '.join(PROFILES)}, not {self.timing!r}")
        if self.time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if self.poll_interval <= 0:
            raise ValueError("poll_interval must be positive")

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

    def timing_settings(self) -> TimingSettings:
        return TimingSettings(self.timing, self.time_scale, self.loading_min, self.loading_max)

    def as_json(self) -> dict[str, Any]:
        return {
            name: getattr(self, name) for name in self.__dataclass_fields__ if name != "password"
        }


class LoginOutcome(enum.Enum):
    OK = "ok"
    WRONG_CREDENTIALS = "wrong"
    BLOCKED = "blocked"


@dataclass
class ListState:
    """One list view as a user left it (saved on the server, shared by their sessions)."""

    #: the suffix of the filter combo's chosen item (``None``: the list has no combo)
    filter: str | None
    page_index: int = 0
    page_size: int = DEFAULT_PAGE_SIZE
    #: (column key, descending)
    sort: tuple[str, bool] = ("", False)

    def as_json(self, prefix: str) -> dict[str, Any]:
        value = f"xaf_xaf_{prefix}{self.filter}" if self.filter is not None else None
        return {
            "filter": self.filter,
            "filter_value": value,
            "page_index": self.page_index,
            "page_size": self.page_size,
            "sort": {"column": self.sort[0], "descending": self.sort[1]},
        }


def _new_list_state(t: ExportType) -> ListState:
    return ListState(filter=filters.DEFAULTS.get(t), sort=DEFAULT_SORTS[t])


@dataclass
class UserState:
    """What the ERP remembers per user across sessions (spec v3: saved per user)."""

    lists: dict[ExportType, ListState] = field(
        default_factory=lambda: {t: _new_list_state(t) for t in ExportType}
    )
    #: the products' saved grid filter is on
    products_grid_filter: bool = True
    #: the customers' view: "Clienti" or "Mappa clienti"
    customers_view: str = CUSTOMERS_VIEWS[0]

    def reset_list(self, t: ExportType) -> None:
        """ "Reset View Settings": the list's filter, page and sort as for a new user."""
        self.lists[t] = _new_list_state(t)
        if t is ExportType.PRODUCTS:
            self.products_grid_filter = True
        if t is ExportType.CUSTOMERS:
            self.customers_view = CUSTOMERS_VIEWS[0]

    def filter_of(self, t: ExportType) -> str | None:
        """The ``ExportView.filter`` the user's saved choices give ``t``'s export."""
        if t is ExportType.PRODUCTS:
            return filters.GRID if self.products_grid_filter else None
        suffix = self.lists[t].filter
        return None if suffix == filters.wanted(t) else suffix

    def as_json(self, prefix: str) -> dict[str, Any]:
        return {
            "lists": {str(t): s.as_json(prefix) for t, s in self.lists.items()},
            "products_grid_filter": self.products_grid_filter,
            "customers_view": self.customers_view,
        }


@dataclass
class PendingExport:
    """An export the POST prepared and the next GET of the list address sends."""

    type: ExportType
    view: ExportView
    file: Path
    name: str


@dataclass
class Session:
    """One logged-in browser session.

    ``lock`` is held by the server for the whole handling of each request of
    the session; ``waits`` counts the requests that found it taken.
    """

    id: str
    login: str
    user: str
    last_seen: float
    guid_cookies: dict[str, str]
    #: per list: (``<N>``, ``<hash>``) of the grid's id ``Vertical_v<N>_<hash>_LE_v<N>``
    grids: dict[ExportType, tuple[int, str]]
    #: per list: the column keys the grid shows; missing: the defaults
    visible: dict[ExportType, frozenset[str]] = field(default_factory=dict)
    ddt_exported: bool = False
    pending: PendingExport | None = None
    waits: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def grid_id(self, t: ExportType) -> str:
        n, digits = self.grids[t]
        return f"Vertical_v{n}_{digits}_LE_v{n}"


@dataclass
class Portal:
    """State and rules of the simulated Archibald portal.

    Time comes from :meth:`now`, which tests can move forward with
    :meth:`advance_clock` to expire sessions or reach the next day.
    ``variation`` seeds what the spec leaves open and the simulator varies
    (the login field number, grid ids); ``None``: different at every start.
    """

    dataset: Dataset
    options: PortalOptions = field(default_factory=PortalOptions)
    seed: int = 0
    faults: FaultBoard = field(default_factory=FaultBoard)
    variation: int | None = None

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.rng = random.Random(self.seed ^ 0x5EED)
        varied = self.variation if self.variation is not None else secrets.randbits(48)
        self.vary = random.Random(varied)
        # The generated part of the login field names changes per deployment:
        # 7 or 8 digits, as 3934320 (January 2026) and 10491577 (March).
        self.field_number = self.vary.randrange(1_000_000, 100_000_000)
        self.viewstate = secrets.token_urlsafe(48)
        self.event_validation = secrets.token_urlsafe(24)
        self.timing = Timing(self.options.timing_settings, self.seed)
        self.clock_offset = 0.0
        self.sessions: dict[str, Session] = {}
        self.users: dict[str, UserState] = {}
        self.logins_by_day: dict[date, int] = {}
        self.login_attempts = 0
        self.logins = 0
        self.blocked_day: date | None = None
        self.last_request: float | None = None
        self.exports_served: dict[str, int] = {str(t): 0 for t in ExportType}
        self.exports_started: dict[str, int] = {str(t): 0 for t in ExportType}
        self.ended_sessions_waits = 0
        # Every change to the data is stamped with this portal's clock, as the
        # ERP stamps MODIFIEDDATETIME, whoever makes it (test API, demo, tests).
        self.dataset.clock = self.local_now

    # -- time ------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def today(self) -> date:
        return datetime.fromtimestamp(self.now()).date()

    def local_now(self) -> datetime:
        """The portal's wall clock at :meth:`now`, to the second: naive Europe/Rome time,
        as records hold date-times (what the ERP stamps a change with)."""
        moment = datetime.fromtimestamp(self.now(), PORTAL_ZONE)
        return moment.replace(tzinfo=None, microsecond=0)

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset += seconds

    def touch(self) -> bool:
        """Note a request; whether the portal had been quiet long enough to be cold."""
        with self.lock:
            now = self.now()
            cold = self.last_request is None or now - self.last_request > COLD_AFTER
            self.last_request = now
            return cold

    # -- login and sessions -------------------------------------------------

    def is_blocked(self) -> bool:
        with self.lock:
            return self.blocked_day == self.today()

    def logins_today(self) -> int:
        with self.lock:
            return self.logins_by_day.get(self.today(), 0)

    def login_is_cold(self) -> bool:
        """The next login is cold: the first since start, or after a quiet spell."""
        with self.lock:
            return self.logins == 0 or (
                self.last_request is not None and self.now() - self.last_request > COLD_AFTER
            )

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
            self.logins += 1
            session = Session(
                id=_session_id(self.vary),
                login=secrets.token_hex(175).upper(),  # 350 characters, as the real one
                user=user,
                last_seen=self.now(),
                guid_cookies={
                    str(uuid.UUID(int=self.vary.getrandbits(128), version=4)): secrets.token_hex(3)
                    for _ in range(self.vary.randint(0, 7))
                },
                grids={
                    t: (self.vary.randint(1, 9), str(self.vary.randrange(1_000_000, 100_000_000)))
                    for t in ExportType
                },
            )
            self.sessions[session.id] = session
            self.users.setdefault(user, UserState())
            return LoginOutcome.OK, session

    def session(self, session_id: str | None, login: str | None) -> Session | None:
        """The live session these cookies name, touched; ``None`` if there is none.

        An idle session is dropped here: the portal does not report expiry,
        the caller redirects to the login page.
        """
        if not session_id or not login:
            return None
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None or not secrets.compare_digest(session.login, login):
                return None
            now = self.now()
            if now - session.last_seen > self.options.session_idle:
                self.end_session(session)
                return None
            session.last_seen = now
            return session

    def end_session(self, session: Session) -> None:
        with self.lock:
            if self.sessions.pop(session.id, None) is not None:
                self.ended_sessions_waits += session.waits

    def expire_sessions(self) -> int:
        with self.lock:
            sessions = list(self.sessions.values())
            for session in sessions:
                self.end_session(session)
            return len(sessions)

    def user_state(self, user: str) -> UserState:
        with self.lock:
            return self.users.setdefault(user, UserState())

    def reset_user_state(self) -> None:
        with self.lock:
            self.users.clear()

    # -- columns -------------------------------------------------------------

    def visible(self, session: Session, t: ExportType) -> frozenset[str]:
        """The column keys ``t``'s grid shows in ``session``."""
        with self.lock:
            shown = session.visible.get(t)
            return shown if shown is not None else default_visible(t, self.options.layout)

    def set_visible(self, session: Session, t: ExportType, keys: frozenset[str]) -> None:
        with self.lock:
            session.visible[t] = keys

    # -- exports -------------------------------------------------------------

    def ddt_flakes(self, session: Session) -> bool:
        """Whether this DDT export is the session's first one and fails (``ddt_flake``)."""
        with self.lock:
            if session.ddt_exported:
                return False
            session.ddt_exported = True
            return self.rng.random() < self.options.ddt_flake

    def full_view(self) -> ExportView:
        """A full export of the current layout epoch: every column, no filter (the truth)."""
        with self.lock:
            return ExportView(layout=self.options.layout)

    def export_view(self, session: Session, t: ExportType, english: bool) -> ExportView:
        """How ``session``'s export of ``t`` looks now: columns, saved filter, locale."""
        with self.lock:
            return export_view(
                t,
                self.options.layout,
                self.visible(session, t),
                english=english,
                filter=self.user_state(session.user).filter_of(t),
            )

    def state_json(self) -> dict[str, Any]:
        with self.lock:
            prefix = self.options.filter_prefix
            sessions = {
                s.id: {"user": s.user, "waits": s.waits, "requests": s.requests}
                for s in self.sessions.values()
            }
            return {
                "version": self.dataset.version,
                "fingerprint": self.dataset.fingerprint,
                "logins_today": self.logins_today(),
                "login_attempts": self.login_attempts,
                "logins": self.logins,
                "blocked": self.is_blocked(),
                "sessions": len(self.sessions),
                "session_details": sessions,
                "session_waits": self.ended_sessions_waits
                + sum(s.waits for s in self.sessions.values()),
                "users": {name: u.as_json(prefix) for name, u in self.users.items()},
                "exports_started": dict(self.exports_started),
                "exports_served": dict(self.exports_served),
                "options": self.options.as_json(),
                "faults": self.faults.as_json(),
                "now": self.now(),
            }


def _session_id(rng: random.Random) -> str:
    """An ASP.NET session id: 24 characters of lowercase letters and digits."""
    alphabet = "abcdefghijklmnopqrstuvwxyz012345"
    return "".join(rng.choice(alphabet) for _ in range(24))


def asks_for_italian(language: str) -> bool:
    """Whether a browser language (``navigator.language`` or the first entry of an
    ``Accept-Language`` list) is Italian."""
    first = language.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return first == "it" or first.startswith("it-")
