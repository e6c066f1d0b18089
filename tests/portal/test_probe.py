"""The httpx reachability probe against the simulator: no browser involved."""

from __future__ import annotations

import socket

import pytest
import trio

from archid.config import PortalConfig, Secret
from archid.portal.errors import PortalBlocked, PortalError, PortalUnavailable, Stage
from archid.portal.probe import probe, tls_verification
from archid.sim.server import SimServer
from tests.portal.conftest import browser_processes


async def test_up(sim: SimServer) -> None:
    result = await probe(sim.url, timeout=5)
    assert result.status == 200 and result.url == sim.url + "Login.aspx"
    assert sim.portal.login_attempts == 0 and not browser_processes()


@pytest.mark.parametrize(
    ("fault", "error"),
    [({"kind": "maintenance"}, PortalUnavailable), ({"kind": "http_500"}, PortalUnavailable)],
)
async def test_portal_errors(
    sim: SimServer, fault: dict[str, str], error: type[PortalError]
) -> None:
    sim.portal.faults.arm(fault)
    with pytest.raises(error) as caught:
        await probe(sim.url, timeout=5)
    assert caught.value.stage is Stage.PROBE


async def test_blocked(sim: SimServer) -> None:
    sim.portal.blocked_day = sim.portal.today()
    with pytest.raises(PortalBlocked):
        await probe(sim.url, timeout=5)


async def test_hung_portal_times_out(sim: SimServer) -> None:
    sim.portal.faults.arm({"kind": "hang", "path": "Login.aspx"})
    started = trio.current_time()
    with pytest.raises(PortalUnavailable, match="did not answer"):
        await probe(sim.url, timeout=0.5)
    assert trio.current_time() - started < 2


async def test_closed_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens there any more.
    with pytest.raises(PortalUnavailable, match="unreachable"):
        await probe(f"http://127.0.0.1:{port}/Archibald/", timeout=2)


def test_tls_settings() -> None:
    config = PortalConfig(url="https://x/Archibald/", username="u", password=Secret("p"))
    assert tls_verification(config) is True
    insecure = PortalConfig(
        url="https://x/Archibald/", username="u", password=Secret("p"), verify_tls=False
    )
    assert tls_verification(insecure) is False
