"""Everything that can go wrong between archid and the portal, as one hierarchy.

The scheduler acts on the branch, not the message: a
:class:`PermanentPortalError` is not retried, a :class:`TransientPortalError`
is. Selenium and httpx exceptions are mapped onto these at the boundary
(``client.py``, ``probe.py``); nothing deeper matches on message strings.
Every error carries the ``stage`` it happened in.

Two class-level markers say what a failure means for the daemon:

* ``transient``: whether trying again later may help (``True`` on the
  transient branch, ``False`` on the permanent one);
* ``hold``: whether the failure must stop *every* login until something
  changes (a *portal hold*): wrong credentials, a blocked client, a spent
  login budget. Trying another export type would only spend logins the
  portal counts against us (spec section 3, item 9). ``lifts`` says, for
  operators, what ends the hold; ``next_day`` whether the next portal day
  (midnight Europe/Rome, the login budget's day) ends it by itself, and
  ``password_change`` whether a change of the password file does.
"""

from __future__ import annotations

import enum
from typing import ClassVar

from archid.failures import ArchidError


class Stage(enum.StrEnum):
    """Where in an export an error happened."""

    BROWSER = "browser"
    LOGIN = "login"
    PAGE_LOAD = "page_load"
    MENU = "menu"
    DOWNLOAD = "download"
    PROBE = "probe"
    #: reading a list's grid for a change check before an export (``grid.py``)
    SURVEY = "survey"
    #: reading the newest customers from the grid (``grid.py``)
    GRID = "grid"


class PortalError(ArchidError):
    """Base class: the portal could not give us what we asked for."""

    stage: Stage

    def __init__(self, message: str, stage: Stage) -> None:
        super().__init__(message)
        self.stage = stage

    def __str__(self) -> str:
        return f"{self.stage}: {self.args[0]}"


class PermanentPortalError(PortalError):
    """Retrying will not help until an operator (or the calendar) acts; a
    ``hold`` stops every login until :attr:`lifts` happens (see the module's
    docstring)."""

    #: what ends a hold, in an operator's words ("" when the error holds nothing)
    lifts: ClassVar[str] = ""
    #: whether the next portal day (midnight Europe/Rome) ends the hold by itself
    next_day: ClassVar[bool] = False
    #: whether a change of the password file ends the hold
    password_change: ClassVar[bool] = False


class WrongCredentials(PermanentPortalError):
    """The portal rejected the user name or password, or the password file cannot be read."""

    hold = True
    lifts = "the password file or the configuration changes, or an admin resumes"
    password_change = True


class LoginBudgetSpent(PermanentPortalError):
    """archid has used up today's login budget and refuses to log in again."""

    hold = True
    lifts = "the next portal day (midnight Europe/Rome), or an admin resumes"
    next_day = True


class PortalBlocked(PermanentPortalError):
    """The portal blocks this client (too many logins): wait for the next day."""

    hold = True
    lifts = (
        "the next portal day (midnight Europe/Rome), the password file or the"
        " configuration changes, or an admin resumes"
    )
    next_day = True
    password_change = True


class WrongBrowserLanguage(PermanentPortalError):
    """The browser does not run in Italian, so the portal would write month-first dates.

    No hold: it is found before any login, so it costs none.
    """


class TransientPortalError(PortalError):
    """A failure that may well pass: retry with backoff. The portal's fault
    (the breaker counts it) unless the class says otherwise."""

    transient: ClassVar[bool] = True
    portal_fault: ClassVar[bool] = True


class SessionExpired(TransientPortalError):
    """The session ended under us (the portal redirected to the login page)."""


class PortalUnavailable(TransientPortalError):
    """The portal is down, in maintenance, answering HTTP 5xx or unreachable."""


class ExportTimeout(TransientPortalError):
    """A page, the export callback or the download took longer than allowed."""


class ExportRejected(TransientPortalError):
    """The portal answered the export with an error message instead of a file."""


class InvalidDownload(TransientPortalError):
    """The downloaded file is empty, not a PDF, or truncated."""


class UnexpectedPage(TransientPortalError):
    """A page lacks what archid looks for (login form, export menu): half loaded or changed."""


class BrowserFailure(TransientPortalError):
    """The browser or its driver could not be started or crashed."""

    #: this machine's browser, not the portal: probing the portal would not help
    portal_fault: ClassVar[bool] = False
