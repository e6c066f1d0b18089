"""The ``archid`` command line, run as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.config_files import PASSWORD, PORTAL, write_config
from tests.conftest import ROOT, SIM_CACHE


def archid(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archid", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        env=env,
    )


def test_help_lists_the_subcommands() -> None:
    result = archid("--help")
    assert result.returncode == 0
    for command in ("sim", "demo", "check-config"):
        assert command in result.stdout


def test_check_config_names_the_bad_key_and_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, PORTAL + '\n[quiet_hours]\nstart = "25:00"\n')
    result = archid("check-config", "--config", str(config))
    assert result.returncode == 78
    assert f"{config}:7: quiet_hours.start" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


def test_check_config_accepts_a_good_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, PORTAL)
    result = archid("check-config", "--config", str(config), env={**os.environ})
    assert result.returncode == 0, result.stderr
    assert "erp.example.com" in result.stdout
    assert "s3cret-value" not in result.stdout


@pytest.fixture
def sim_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "archid",
            "sim",
            "--port",
            "0",
            "--scale",
            "0.01",
            "--test-api",
            "--cache-dir",
            str(SIM_CACHE),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("archid sim: serving http://127.0.0.1:"), line
    url = line.split()[3]
    try:
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_sim_serves_and_stops_on_sigterm(sim_process: tuple[subprocess.Popen[str], str]) -> None:
    process, url = sim_process
    assert url.endswith("/Archibald/")
    assert httpx.get(url + "Login.aspx").status_code == 200
    state = httpx.get(url.removesuffix("Archibald/") + "_sim/state").json()
    assert state["logins_today"] == 0
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_a_fatal_signal_prints_every_threads_python_stack(
    sim_process: tuple[subprocess.Popen[str], str],
) -> None:
    # A crash in native code (SQLite, a C extension) must leave a trace in
    # journald, not just "status=7/BUS".
    process, _ = sim_process
    process.send_signal(signal.SIGBUS)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == -signal.SIGBUS
    assert "Fatal Python error: Bus error" in stderr
    assert 'File "' in stderr


def test_sim_rejects_bad_arguments_clearly() -> None:
    result = archid("sim", "--scale", "-1", "--port", "0")
    assert result.returncode == 64
    assert "--scale must be positive" in result.stderr
