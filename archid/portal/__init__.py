"""Everything between archid and the Archibald portal: browser, session, exports.

The public surface: :class:`AsyncPortal` (what the daemon uses),
:class:`PortalClient` (its blocking core), :func:`probe`, the login budget,
the saved session, the portal hold, :func:`reap_leftovers` (browsers a
dead predecessor left) and the error hierarchy.
"""

from archid.portal.browser import BrowserSettings
from archid.portal.budget import LoginBudget, default_ledger_path
from archid.portal.client import ExportResult, PortalClient, Timeouts
from archid.portal.cookies import SessionCookies, default_session_path
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
from archid.portal.hold import PortalHold
from archid.portal.password import PasswordFile
from archid.portal.probe import ProbeResult, probe
from archid.portal.processes import instance_tag, reap_leftovers
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
    "PasswordFile",
    "PermanentPortalError",
    "PortalBlocked",
    "PortalClient",
    "PortalError",
    "PortalHold",
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
    "default_ledger_path",
    "default_session_path",
    "instance_tag",
    "probe",
    "reap_leftovers",
]
