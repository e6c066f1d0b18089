"""Every fault the simulator can inject, mapped onto the right error class and stage.

The mapping cases share one simulator and one client (a browser start and a
login each would double this module's time); each case still checks that
no browser process is left over from a browser the client threw away.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archid.portal.client import PortalClient, Timeouts
from archid.portal.errors import (
    ExportTimeout,
    InvalidDownload,
    PortalError,
    PortalUnavailable,
    Stage,
    TransientPortalError,
    WrongCredentials,
)
from archid.portal.processes import descendants, snapshot
from archid.records import ExportType
from archid.sim.server import SimServer
from tests.conftest import quick_options, serving_sim
from tests.portal.conftest import browser_processes, wait_for

pytestmark = pytest.mark.browser

#: short enough that hangs and trickles time out in seconds
SHORT = Timeouts(login=5, page=3, download=3, flake_pause=0.2, poll=0.05)

INVOICES = "CUSTINVOICEJOUR_ListView"

FAILURES: list[tuple[dict[str, Any], type[PortalError], Stage]] = [
    ({"kind": "maintenance", "path": INVOICES}, PortalUnavailable, Stage.PAGE_LOAD),
    ({"kind": "http_500", "path": INVOICES}, PortalUnavailable, Stage.PAGE_LOAD),
    ({"kind": "hang", "path": INVOICES}, ExportTimeout, Stage.PAGE_LOAD),
    ({"kind": "slow_download", "rate": 2000}, ExportTimeout, Stage.DOWNLOAD),
    # A bad file is exported again at once, twice: the third makes the error.
    ({"kind": "truncated_pdf", "times": 3}, InvalidDownload, Stage.DOWNLOAD),
    ({"kind": "non_pdf", "times": 3}, InvalidDownload, Stage.DOWNLOAD),
    ({"kind": "zero_bytes", "times": 3}, InvalidDownload, Stage.DOWNLOAD),
    ({"kind": "cut_body", "times": 3}, InvalidDownload, Stage.DOWNLOAD),
    # These two need a login, which they make fail.
    ({"kind": "maintenance"}, PortalUnavailable, Stage.LOGIN),
    ({"kind": "wrong_password"}, WrongCredentials, Stage.LOGIN),
]


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[SimServer]:
    with serving_sim(quick_options()) as server:
        yield server


@pytest.fixture(scope="module")
def shared_client(shared_sim: SimServer) -> Iterator[PortalClient]:
    options = shared_sim.portal.options
    with PortalClient(shared_sim.url, options.user, lambda: options.password, timeouts=SHORT) as c:
        yield c
    assert wait_for(lambda: not browser_processes(), 3.0), browser_processes()


@pytest.fixture
def only_current_browser(shared_client: PortalClient) -> Iterator[None]:
    """After each case, only the client's current browser may run, if any."""
    yield
    if not shared_client.browser_open:
        assert wait_for(lambda: not browser_processes(), 3.0), browser_processes()
        return
    current = descendants([shared_client.driver.service.process.pid], snapshot())
    strays = [p for p in browser_processes() if p.pid not in current and "crashpad" not in p.comm]
    assert not strays, f"processes of a discarded browser: {strays}"


@pytest.mark.usefixtures("only_current_browser")
@pytest.mark.parametrize(
    ("fault", "error", "stage"), FAILURES, ids=lambda v: v["kind"] if isinstance(v, dict) else ""
)
def test_fault_maps_to_error(
    shared_sim: SimServer,
    shared_client: PortalClient,
    tmp_path: Path,
    fault: dict[str, Any],
    error: type[PortalError],
    stage: Stage,
) -> None:
    if stage is Stage.LOGIN:
        shared_sim.portal.expire_sessions()
        shared_client.cookies.clear()
    shared_sim.portal.faults.arm(fault)
    try:
        with pytest.raises(error) as caught:
            shared_client.export(ExportType.INVOICES, tmp_path)
    finally:
        fired = not shared_sim.portal.faults.as_json()
        shared_sim.portal.faults.clear()
    assert caught.value.stage is stage
    assert fired, "the fault fired as often as armed"
    assert isinstance(caught.value, TransientPortalError) != (error is WrongCredentials)
