"""``archid export TYPE``: the operator's one-off export, its output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archid.cli import main
from archid.sim.server import SimServer

pytestmark = pytest.mark.browser


def write_config(tmp_path: Path, url: str, password: str) -> Path:
    (tmp_path / "password").write_text(password + "\n")
    (tmp_path / "password").chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[portal]\nurl = "{url}"\nusername = "agent"\npassword_file = "password"\n'
        'page_timeout = "10s"\ndownload_timeout = "10s"\n'
        '[database]\npath = "data/archid.sqlite3"\n'
    )
    return config


def test_export_prints_the_file_and_stages(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, sim.url, "komet")
    status = main(["export", "invoices", "--config", str(config), "--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    assert status == 0, err
    path = Path(out.splitlines()[0])
    assert path == (tmp_path / "o" / "Fatture.pdf").resolve() and path.is_file()
    assert "logins=1" in out and "download=" in out and "page_load=" in out
    ledger = json.loads((tmp_path / "data" / "login-budget.json").read_text())
    assert list(ledger["logins"].values()) == [1]


def test_wrong_password_exits_77_without_showing_it(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, sim.url, "s3cret-wrong")
    status = main(["export", "orders", "--config", str(config), "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert status == 77
    # Library warnings may precede it on stderr (logging goes there too).
    assert "\narchid export: WrongCredentials (login): " in "\n" + err
    assert "s3cret-wrong" not in out + err


def test_unreachable_portal_exits_75(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Port 9 (discard) on loopback: nothing listens, the browser's load fails at once.
    config = write_config(tmp_path, "http://127.0.0.1:9/Archibald/", "komet")
    status = main(["export", "orders", "--config", str(config)])
    _, err = capsys.readouterr()
    assert status == 75
    assert "\narchid export: PortalUnavailable (login): " in "\n" + err


def test_bad_config_exits_78(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[portal]\nurl = "http://x/Archibald/"\n')
    assert main(["export", "ddt", "--config", str(config)]) == 78
    assert "archid export: " in capsys.readouterr().err
