"""Shared fixtures: a simulated portal served on loopback, HTTP and browser clients."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from archid.sim.cache import ExportCache
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer

ROOT = Path(__file__).resolve().parent.parent
#: generated exports are reused across test runs in this checkout
SIM_CACHE = ROOT / ".cache" / "sim-tests"

SIM_SEED = 7
SIM_SCALE = 0.02


def quick_options(**changes: Any) -> PortalOptions:
    """Fast loading panels and no DDT flake, with ``changes`` on top."""
    return PortalOptions(**{"ddt_flake": 0.0, "loading_min": 0.05, "loading_max": 0.2, **changes})


@pytest.fixture
def sim_options() -> PortalOptions:
    """Portal options for a test; fast loading panels, no DDT flake unless asked."""
    return quick_options()


@contextmanager
def serving_sim(options: PortalOptions) -> Iterator[SimServer]:
    """The tests' simulated portal (seed, scale, export cache), test API on,
    on a free loopback port, for as long as the block runs."""
    dataset = Dataset.generate(SIM_SEED, SIM_SCALE)
    portal = Portal(dataset=dataset, options=options, seed=SIM_SEED)
    server = SimServer(portal, ExportCache(SIM_CACHE, load_font(None)), test_api=True)
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def sim(sim_options: PortalOptions) -> Iterator[SimServer]:
    """A simulated portal with its test API, on a free loopback port."""
    with serving_sim(sim_options) as server:
        yield server


@pytest.fixture
def http(sim: SimServer) -> Iterator[httpx.Client]:
    """A plain HTTP client for the simulator (redirects not followed)."""
    root = sim.url.removesuffix("Archibald/")
    with httpx.Client(base_url=root, headers={"Accept-Language": "it-IT,it;q=0.9"}) as client:
        yield client


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("name"):
            self.fields[values["name"] or ""] = values.get("value") or ""


def login_form(html: str) -> dict[str, str]:
    """The login page's form fields (hidden ones with their values)."""
    parser = _Inputs()
    parser.feed(html)
    return parser.fields


def http_login(
    client: httpx.Client, user: str = "agent", password: str = "komet"
) -> httpx.Response:
    """Log in as the login page's button does: the XAF logon callback, a POST of the
    form with ``__CALLBACKID=Logon``. Returns the callback's response: ``/*DX*/(...)``
    around ``{"redirect": "/Archibald/Default.aspx"}`` (cookies set) on success,
    around ``{"error": text}`` when refused; the blocked page (403) when blocked."""
    page = client.get("/Archibald/Login.aspx", params={"ReturnUrl": "/Archibald/Default.aspx"})
    form = login_form(page.text)
    for name in form:
        if name.endswith("xaf_dviUserName_Edit"):
            form[name] = user
        elif name.endswith("xaf_dviPassword_Edit"):
            form[name] = password
    form["__CALLBACKID"] = "Logon"
    form["__CALLBACKPARAM"] = "c0:Logon$PopupActions$Menu"
    return client.post(
        "/Archibald/Login.aspx",
        params={"ReturnUrl": "/Archibald/Default.aspx"},
        data=form,
    )


def dx_reply(response: httpx.Response) -> dict[str, Any]:
    """The object of a ``/*DX*/(...)`` callback reply; ``AssertionError`` if it is none."""
    match = re.fullmatch(r"/\*DX\*/\((.*)\)", response.text, re.S)
    assert match, f"not a callback reply ({response.status_code}): {response.text[:120]}"
    reply: dict[str, Any] = json.loads(match.group(1))
    return reply
