"""Everything that can go wrong between archid and the portal, as one hierarchy.

The scheduler acts on the branch, not the message: a
:class:`PermanentPortalError` is not retried, a :class:`TransientPortalError`
is. Selenium and httpx exceptions are mapped onto these at the boundary
(``client.py``, ``probe.py``); nothing deeper matches on message strings.
Every error carries the ``stage`` it happened in.
"""

from __future__ import annotations

import enum


class Stage(enum.StrEnum):
    """Where in an export an error happened."""

    BROWSER = "browser"
    LOGIN = "login"
    PAGE_LOAD = "page_load"
    MENU = "menu"
    DOWNLOAD = "download"
    PROBE = "probe"


class PortalError(Exception):
    """Base class: the portal could not give us what we asked for."""

    stage: Stage

    def __init__(self, message: str, stage: Stage) -> None:
        super().__init__(message)
        self.stage = stage

    def __str__(self) -> str:
        return f"{self.stage}: {self.args[0]}"


class PermanentPortalError(PortalError):
    """Retrying will not help until an operator (or the calendar) acts."""


class WrongCredentials(PermanentPortalError):
    """The portal rejected the user name or password."""


class LoginBudgetSpent(PermanentPortalError):
    """archid has used up today's login budget and refuses to log in again."""


class PortalBlocked(PermanentPortalError):
    """The portal blocks this client (too many logins): wait for the next day."""


class WrongBrowserLanguage(PermanentPortalError):
    """The browser does not run in Italian, so the portal would write month-first dates."""


class TransientPortalError(PortalError):
    """A failure that may well pass: retry with backoff."""


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
