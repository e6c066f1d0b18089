"""The systemd units as systemd reads them: verify, the security score, users and folders.

The shipped files are checked as they are. ``systemd-analyze verify`` wants
``ExecStart=``'s program to exist, so it runs in a private mount namespace
where ``/opt`` is a scratch tmpfs holding ``/opt/archid/bin/archid``; the
host's own units (``network-online.target``…) are the ones it resolves.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from archid.config import BrowserConfig, ConfigError, load_config
from archid.portal.browser import BrowserSettings, chromium_arguments

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "systemd"
SERVICE = SYSTEMD / "archid.service"
TEMPLATE = SYSTEMD / "archid@.service"
SYSUSERS = SYSTEMD / "archid.sysusers"
TMPFILES = SYSTEMD / "archid.tmpfiles"
#: the issue's bound for systemd-analyze security --offline=yes
MAX_EXPOSURE = 2.0

needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mount namespace, chown)")


def directives(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` → every value, in order (a unit file may repeat a key)."""
    found: dict[str, list[str]] = {}
    section = ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.setdefault(f"{section}.{key}", []).append(value)
    return found


@pytest.fixture(scope="module")
def instance_unit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template, unchanged, under an instance's name (what ``systemctl`` loads)."""
    path = tmp_path_factory.mktemp("units") / "archid@komet-napoli.service"
    shutil.copyfile(TEMPLATE, path)
    return path


def verify(units: list[Path], *, with_archid: bool = True) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` with ``/opt/archid/bin/archid`` there (or not)."""
    archid = Path(sys.executable).with_name("archid")
    setup = "mount -t tmpfs tmpfs /opt && mkdir -p /opt/archid/bin"
    if with_archid:
        setup += f' && ln -s "{archid}" /opt/archid/bin/archid'
    command = f'{setup} && exec systemd-analyze verify --man=no "$@"'
    return subprocess.run(
        ["unshare", "--mount", "sh", "-c", command, "verify", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_systemd
@needs_root
def test_both_units_pass_systemd_analyze_verify(instance_unit: Path) -> None:
    result = verify([SERVICE, TEMPLATE, instance_unit])
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@needs_systemd
@needs_root
def test_verify_does_check_the_program(instance_unit: Path) -> None:
    # The control for the test above: without the program, verify fails on ExecStart=.
    result = verify([SERVICE, instance_unit], with_archid=False)
    assert result.returncode != 0
    assert "/opt/archid/bin/archid is not executable" in result.stderr


def exposure(unit: Path) -> float:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match[1])


@needs_systemd
@pytest.mark.parametrize("name", ["archid.service", "archid@komet-napoli.service"])
def test_the_offline_security_exposure_is_at_most_2(name: str, instance_unit: Path) -> None:
    unit = SERVICE if name == "archid.service" else instance_unit
    assert exposure(unit) <= MAX_EXPOSURE


def test_the_service_has_what_the_issue_asks_for() -> None:
    unit = directives(SERVICE)
    one = {key: values[-1] for key, values in unit.items()}
    assert one["Service.Type"] == "notify"
    assert one["Service.NotifyAccess"] == "main"
    assert float(one["Service.WatchdogSec"]) > 0
    assert one["Service.Restart"] == "on-failure"
    assert int(one["Unit.StartLimitBurst"]) >= 1 and one["Unit.StartLimitIntervalSec"]
    assert one["Service.RestartPreventExitStatus"] == "78"
    assert one["Service.TimeoutStopSec"]
    assert one["Service.ExecReload"] == "/bin/kill -HUP $MAINPID"
    after = one["Unit.After"].split()
    assert {"network-online.target", "time-sync.target"} <= set(after)
    assert "network-online.target" in one["Unit.Wants"].split()
    assert (one["Service.User"], one["Service.Group"]) == ("archid", "archid")
    assert one["Service.StateDirectory"] == "archid"
    assert one["Service.RuntimeDirectory"] == "archid"
    assert one["Service.LoadCredential"] == "portal-password:/etc/archid/archid.password"
    assert one["Service.Environment"] != ""
    assert one["Service.CapabilityBoundingSet"] == ""
    assert one["Service.UMask"] == "0027"
    for key in (
        "ProtectSystem",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "RestrictNamespaces",
        "LockPersonality",
        "NoNewPrivileges",
    ):
        assert one[f"Service.{key}"] in ("yes", "strict"), key
    assert one["Service.MemoryMax"] and one["Service.TasksMax"]
    assert unit["Service.SystemCallFilter"][0] == "@system-service"
    assert "MemoryDenyWriteExecute" not in one  # V8's JIT; the comment says so
    text = SERVICE.read_text()
    for reason in ("MemoryDenyWriteExecute", "--no-sandbox", "ProcSubset", "PrivateNetwork"):
        assert re.search(rf"^# .*{re.escape(reason)}", text, re.MULTILINE), reason
    assert "/opt/archid/bin/archid" in one["Service.ExecStart"]
    assert "ARCHID_CONFIG=/etc/archid/archid.toml" in unit["Service.Environment"]


def test_the_template_is_the_service_with_per_account_names() -> None:
    service, template = directives(SERVICE), directives(TEMPLATE)
    per_account = {
        "Unit.Description": "archid - Archibald ERP mirror for %i",
        "Service.StateDirectory": "archid/%i",
        "Service.RuntimeDirectory": "archid/%i",
        "Service.WorkingDirectory": "/var/lib/archid/%i",
        "Service.LoadCredential": "portal-password:/etc/archid/%i.password",
    }
    for key, value in per_account.items():
        assert template.pop(key) == [value], key
        service.pop(key)
    assert template.pop("Service.Environment") == [
        "ARCHID_CONFIG=/etc/archid/%i.toml",
        "HOME=/var/lib/archid/%i",
    ]
    service.pop("Service.Environment")
    assert template == service


@needs_systemd
@needs_root
def test_sysusers_and_tmpfiles_make_the_user_and_folders_in_a_scratch_root(
    tmp_path: Path,
) -> None:
    (tmp_path / "etc").mkdir()
    subprocess.run(["systemd-sysusers", f"--root={tmp_path}", SYSUSERS], check=True, timeout=30)
    entry = next(
        line.split(":")
        for line in (tmp_path / "etc/passwd").read_text().splitlines()
        if line.startswith("archid:")
    )
    uid, gid, home, shell = int(entry[2]), int(entry[3]), entry[5], entry[6]
    assert uid < 1000 and (home, shell) == ("/var/lib/archid", "/usr/sbin/nologin")
    assert f"archid:x:{gid}:" in (tmp_path / "etc/group").read_text()

    result = subprocess.run(
        ["systemd-tmpfiles", "--create", f"--root={tmp_path}", TMPFILES],
        capture_output=True,
        text=True,
        timeout=30,
    )
    # ACL entries name users through the host's NSS, not --root's files: the
    # scratch root's archid is unknown there, and only that line may complain.
    complaints = [line for line in result.stderr.splitlines() if "u:archid:rwx" not in line]
    assert (result.returncode, complaints) == (0, [])
    expected = {
        "etc/archid": (0o750, 0, gid),
        "var/lib/archid": (0o750, uid, gid),
        "var/lib/prometheus/node-exporter": (0o755, 0, 0),
    }
    for folder, want in expected.items():
        info = (tmp_path / folder).stat()
        assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == want, folder


def test_the_unit_and_tmpfiles_agree_on_the_state_folder() -> None:
    service = directives(SERVICE)
    line = next(
        line.split()
        for line in TMPFILES.read_text().splitlines()
        if line.startswith("d /var/lib/archid ")
    )
    assert line[2:5] == [service["Service.StateDirectoryMode"][0], "archid", "archid"]
    assert any(line.startswith("u archid ") for line in SYSUSERS.read_text().splitlines()), (
        "the unit's User= comes from sysusers"
    )


def test_browser_sandbox_is_a_checked_boolean(tmp_path: Path) -> None:
    base = '[portal]\nurl = "http://127.0.0.1:1/"\nusername = "a"\npassword_file = "pw"\n'
    (tmp_path / "pw").write_text("x\n")
    (tmp_path / "pw").chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text(base)
    assert load_config(config).browser.sandbox is True
    config.write_text(base + "[browser]\nsandbox = false\n")
    assert load_config(config).browser.sandbox is False
    config.write_text(base + '[browser]\nsandbox = "no"\n')
    with pytest.raises(ConfigError, match=r"browser\.sandbox"):
        load_config(config)


def test_sandbox_false_starts_chromium_without_its_own_sandbox() -> None:
    off = BrowserSettings.from_config(BrowserConfig(sandbox=False))
    assert "--no-sandbox" in chromium_arguments(off)
    if os.geteuid() != 0:
        assert "--no-sandbox" not in chromium_arguments(BrowserSettings())


@pytest.fixture
def nobody() -> Iterator[pwd.struct_passwd]:
    try:
        yield pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")


@pytest.mark.browser
@needs_root
def test_chromium_runs_headless_as_a_user_without_privileges_or_namespaces(
    nobody: pwd.struct_passwd,
) -> None:
    # What the unit leaves Chromium: a plain user, no capabilities, no new
    # privileges, a HOME of its own; --no-sandbox as [browser] sandbox = false gives.
    chromium = BrowserConfig().chromium
    if not os.access(chromium, os.X_OK):
        pytest.skip(f"{chromium} is not installed")
    # Not under tmp_path: pytest's folders are root's alone, even to walk through.
    with tempfile.TemporaryDirectory(prefix="archid-unit-") as scratch:
        home = Path(scratch)
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        result = _run_chromium_as(nobody, home)
    assert "archid under the unit" in result.stdout, result.stderr[-2000:]


def _run_chromium_as(user: pwd.struct_passwd, home: Path) -> subprocess.CompletedProcess[str]:
    chromium = BrowserConfig().chromium
    arguments = chromium_arguments(
        BrowserSettings.from_config(BrowserConfig(sandbox=False)), home / "profile"
    )
    page = "data:text/html,<p id=x>archid under the unit</p>"
    return subprocess.run(
        [
            "setpriv",
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "env",
            "-i",  # the unit's environment: little more than HOME and PATH
            f"HOME={home}",
            "PATH=/usr/bin:/bin",
            str(chromium),
            *arguments,
            "--dump-dom",
            page,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
