"""Everything between archid and the Archibald portal: browser, session, exports.

The public surface: :class:`AsyncPortal` (what the daemon uses),
:class:`PortalClient` (its blocking core), :func:`probe`, the login budget
and the error hierarchy.
"""

from archid.portal.browser import BrowserSettings
from archid.portal.budget import LoginBudget
from archid.portal.client import ExportResult, PortalClient, SessionCookies, Timeouts
from archid.portal.errors import (
    BrowserFailure,
    ExportRejected,
    ExportTimeout,
    InvalidDownload,
    LoginBudgetSpent,
    PermanentPortalError,
    PortalBlocked,
    PortalError,
    PortalUnavailable,
    SessionExpired,
    Stage,
    TransientPortalError,
    UnexpectedPage,
    WrongBrowserLanguage,
    WrongCredentials,
)
from archid.portal.probe import ProbeResult, probe
from archid.portal.session import AsyncPortal

__all__ = [
    "AsyncPortal",
    "BrowserFailure",
    "BrowserSettings",
    "ExportRejected",
    "ExportResult",
    "ExportTimeout",
    "InvalidDownload",
    "LoginBudget",
    "LoginBudgetSpent",
    "PermanentPortalError",
    "PortalBlocked",
    "PortalClient",
    "PortalError",
    "PortalUnavailable",
    "ProbeResult",
    "SessionCookies",
    "SessionExpired",
    "Stage",
    "Timeouts",
    "TransientPortalError",
    "UnexpectedPage",
    "WrongBrowserLanguage",
    "WrongCredentials",
    "probe",
]
