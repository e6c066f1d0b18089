"""A cheap reachability check of the portal: one HTTP request, no browser.

The scheduler uses :func:`probe` to find out whether a failing portal is
back before it spends a browser start (and maybe a login) on it. The probe
fetches the login page, which needs no session and costs no login, and
maps every way that can fail onto the portal error hierarchy, here and
only here for httpx.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from archid.config import PortalConfig
from archid.portal.errors import PortalBlocked, PortalUnavailable, Stage, UnexpectedPage

#: the page fetched; a bare ``Login.aspx`` is what the portal serves to anyone
LOGIN_PAGE = "Login.aspx"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The portal answered with its login page."""

    url: str
    status: int
    seconds: float


def tls_verification(config: PortalConfig) -> bool | ssl.SSLContext:
    """What ``verify=`` :func:`probe` needs for ``[portal]``'s TLS settings."""
    if not config.verify_tls:
        return False
    if config.ca_file is not None:
        return ssl.create_default_context(cafile=str(config.ca_file))
    return True


async def probe(
    base_url: str, *, verify: bool | ssl.SSLContext = True, timeout: float = 10.0
) -> ProbeResult:
    """Fetch the portal's login page within ``timeout`` seconds.

    Returns a :class:`ProbeResult` when the login form is there. Raises
    :class:`PortalBlocked` for the portal's HTTP 403 block page,
    :class:`PortalUnavailable` for maintenance, HTTP 5xx, a network or TLS
    error or no answer in time, and :class:`UnexpectedPage` for any other
    answer. All with stage ``probe``.
    """
    url = urljoin(base_url if base_url.endswith("/") else base_url + "/", LOGIN_PAGE)
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(
            verify=verify,
            timeout=timeout,
            follow_redirects=False,
            headers={"Accept-Language": "it-IT,it;q=0.9"},
        ) as client:
            response = await client.get(url)
    except httpx.TimeoutException as exc:
        raise PortalUnavailable(f"{url} did not answer within {timeout:g} s", Stage.PROBE) from exc
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise PortalUnavailable(f"{url} is unreachable: {reason}", Stage.PROBE) from exc
    status = response.status_code
    if status == 403:
        raise PortalBlocked(f"{url} answers 403: the portal blocks this client", Stage.PROBE)
    if status == 503 or status >= 500:
        what = "is in maintenance" if status == 503 else f"answers HTTP {status}"
        raise PortalUnavailable(f"{url} {what}", Stage.PROBE)
    if status != 200 or 'type="password"' not in response.text:
        raise UnexpectedPage(f"{url} answers HTTP {status} without a login form", Stage.PROBE)
    return ProbeResult(url=url, status=status, seconds=time.monotonic() - started)
