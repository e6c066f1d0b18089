"""The reliability suite's fixtures: a quick simulator, real daemon processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archid.sim.portal import PortalOptions
from tests import daemon_process
from tests.daemon_process import Daemon


@pytest.fixture
def sim_options() -> PortalOptions:
    return daemon_process.quick_sim_options()


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Starts ``archid run`` processes; kills what a failed test left running."""
    yield from daemon_process.start_daemon(tmp_path)
