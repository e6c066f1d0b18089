"""The README's "Install on Debian", followed as far as this machine allows.

What cannot run here (apt-get, systemctl, a real /etc) is replaced by a
scratch root: the README's commands run with their absolute paths moved
under it and ``--root`` given to systemd-sysusers and systemd-tmpfiles. The
runtime-only install is a real ``pip install`` of a copy of the checkout
into a new virtual environment (its dependencies from the package index).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from archid.config import PASSWORD_CREDENTIAL, ConfigError, load_config
from archid.portal.errors import WrongCredentials
from archid.portal.password import PasswordFile
from archid.store.database import open_database

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PRODUCTION = ROOT / "systemd" / "archid.toml"
PASSWORD = "s3cret-for-the-unit"
#: what the test and bench extras bring, none of which production needs
DEVELOPMENT_ONLY = ("pytest", "hypothesis", "ruff", "mypy", "pdfplumber", "pymupdf", "pypdfium2")

#: the module's venv and pip install: 12 s on an idle machine, up to 45 s on a loaded one
slow_install = pytest.mark.slow

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (other users, chown)")
needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-sysusers") is None, reason="systemd is not installed"
)


def install_section() -> str:
    text = README.read_text()
    start = text.index("\n## Install on Debian\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def commands() -> list[str]:
    """The section's shell lines (indented blocks), continuation lines joined."""
    lines: list[str] = []
    for line in install_section().splitlines():
        if not line.startswith("    "):
            continue
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + line.strip()
        else:
            lines.append(line.strip())
    return lines


def command(prefix: str) -> str:
    found = [line for line in commands() if line.startswith(prefix)]
    assert len(found) == 1, f"the install section has no single command {prefix!r}: {found}"
    return found[0]


def under(root: Path, line: str) -> str:
    """``line`` with /etc, /usr, /var, /run and /opt moved under ``root``."""
    return re.sub(r"(?<![\w.])/(etc|usr|var|run|opt)/", rf"{root}/\1/", line)


def shell(line: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    subprocess.run(["sh", "-ec", line], cwd=cwd, check=True, timeout=120, env=env)


@dataclass
class Installed:
    root: Path
    checkout: Path

    @property
    def archid(self) -> Path:
        return self.root / "opt/archid/bin/archid"

    def check_config(
        self, config: Path, credentials: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "CREDENTIALS_DIRECTORY"}
        if credentials is not None:
            env["CREDENTIALS_DIRECTORY"] = str(credentials)
        return subprocess.run(
            [str(self.archid), "check-config", "--config", str(config)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """``/opt/archid`` as the README makes it, in a scratch root (see :data:`slow_install`)."""
    root = tmp_path_factory.mktemp("root")
    # A copy: the build writes build/ and *.egg-info beside the sources.
    checkout = tmp_path_factory.mktemp("checkout")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, checkout / name)
    shutil.copytree(
        ROOT / "archid", checkout / "archid", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "systemd", checkout / "systemd")
    venv = under(root, command("python3 -m venv "))
    python = shutil.which("python3") or sys.executable
    shell(venv.replace("python3", python, 1), cwd=checkout)
    pip = under(root, command("/opt/archid/bin/pip install "))
    shell(
        # --no-compile: the bytecode is not under test, and compiling it costs seconds.
        pip.replace("/path/to/checkout", str(checkout))
        + " -q --disable-pip-version-check --no-compile",
        cwd=checkout,
    )
    return Installed(root, checkout)


@slow_install
def test_the_install_puts_the_runtime_alone_into_opt_archid(installed: Installed) -> None:
    assert "apt-get install chromium chromium-driver fonts-liberation python3-venv" in commands()
    listed = subprocess.run(
        [str(installed.root / "opt/archid/bin/python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    names = {line.split("==")[0].replace("_", "-") for line in listed.splitlines()}
    assert {"archid", "trio", "apsw", "selenium", "prometheus-client", "pdfminer.six"} <= names
    assert names.isdisjoint(DEVELOPMENT_ONLY)
    version = subprocess.run(
        [str(installed.archid), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("archid ")


@slow_install
@needs_systemd
@needs_root
def test_the_user_and_folders_come_from_sysusers_and_tmpfiles(installed: Installed) -> None:
    root = installed.root
    (root / "etc").mkdir(exist_ok=True)
    for prefix in (
        "install -m 644 systemd/archid.sysusers",
        "install -m 644 systemd/archid.tmpfiles",
    ):
        line = under(root, command(prefix))
        Path(line.split()[-1]).parent.mkdir(parents=True, exist_ok=True)
        shell(line, cwd=installed.checkout)
    for prefix in ("systemd-sysusers ", "systemd-tmpfiles "):
        line = command(prefix).replace(prefix, f"{prefix}--root={root} ", 1)
        # ACL entries resolve user names through the host's NSS, which has no archid.
        subprocess.run(["sh", "-c", line], check=True, cwd=root, stderr=subprocess.DEVNULL)
    passwd = (root / "etc/passwd").read_text()
    user = re.search(r"^archid:x:(\d+):(\d+):", passwd, re.MULTILINE)
    assert user, passwd
    state = (root / "var/lib/archid").stat()
    assert (state.st_uid, state.st_gid) == (int(user[1]), int(user[2]))
    assert stat.S_IMODE(state.st_mode) == 0o750
    assert stat.S_IMODE((root / "etc/archid").stat().st_mode) == 0o750


def place_password(installed: Installed, name: str) -> Path:
    """The README's password steps for ``name``, and the copy systemd's LoadCredential makes."""
    root = installed.root
    (root / "etc/archid").mkdir(parents=True, exist_ok=True)
    shell(under(root, command(f"install -m 600 /dev/null /etc/archid/{name}.password")), root)
    line = next(c for c in commands() if c.startswith("printf ") and f"/{name}.password" in c)
    shell(under(root, line), root)
    password = root / f"etc/archid/{name}.password"
    # Written into a file made 0600 first, so the password is never open to others.
    assert stat.S_IMODE(password.stat().st_mode) == 0o600 and password.read_text().strip()
    credentials = root / f"run/credentials/{name}"
    credentials.mkdir(parents=True, exist_ok=True)
    shutil.copy(password, credentials / PASSWORD_CREDENTIAL)
    return credentials


@slow_install
def test_the_production_config_passes_check_config_with_the_credential(
    installed: Installed,
) -> None:
    root = installed.root
    line = command("install -m 640 -g archid systemd/archid.toml")
    # No group archid on this host: the mode is what matters here.
    (root / "etc/archid").mkdir(parents=True, exist_ok=True)
    shell(under(root, line.replace(" -g archid", "")), cwd=installed.checkout)
    credentials = place_password(installed, "archid")
    config = root / "etc/archid/archid.toml"
    # /etc/archid/archid.password (the password_file) does not exist on this
    # host, so passing shows that the credential is read first.
    assert not Path("/etc/archid/archid.password").exists()
    result = installed.check_config(config, credentials)
    assert result.returncode == 0, result.stderr
    assert "database: /var/lib/archid/archid.sqlite3" in result.stdout
    assert "control socket: /run/archid/control.sock" in result.stdout
    assert "/var/lib/prometheus/node-exporter/archid.prom" in result.stdout
    without = installed.check_config(config)
    assert without.returncode == 78
    assert "cannot read the password file /etc/archid/archid.password" in without.stderr


@slow_install
def test_an_instance_config_made_as_written_passes_check_config(installed: Installed) -> None:
    root = installed.root
    line = command("sed -e 's|/var/lib/archid/|&komet-napoli/|")
    edit, _, target = line.rpartition(" > ")
    # Only the output moves under the scratch root: the sed expressions are the point.
    shell(f"{edit} > {under(root, target)}", cwd=installed.checkout)
    credentials = place_password(installed, "komet-napoli")
    result = installed.check_config(root / "etc/archid/komet-napoli.toml", credentials)
    assert result.returncode == 0, result.stderr
    for expected in (
        "database: /var/lib/archid/komet-napoli/archid.sqlite3",
        "control socket: /run/archid/komet-napoli/control.sock",
        "/var/lib/prometheus/node-exporter/archid-komet-napoli.prom",
        "archid_instance='komet-napoli'",
    ):
        assert expected in result.stdout
    text = (root / "etc/archid/komet-napoli.toml").read_text()
    assert 'password_file = "/etc/archid/komet-napoli.password"' in text


def write_config(folder: Path, password_file: Path) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[portal]\nurl = "http://127.0.0.1:1/Archibald/"\nusername = "agent"\n'
        f'password_file = "{password_file}"\n'
    )
    return config


def test_the_credential_is_read_before_password_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / PASSWORD_CREDENTIAL).write_text(PASSWORD + "\n")
    (credentials / PASSWORD_CREDENTIAL).chmod(0o400)  # as systemd leaves it
    stale = tmp_path / "password"
    stale.write_text("the old password\n")
    stale.chmod(0o600)
    config_path = write_config(tmp_path, stale)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    config = load_config(config_path)
    assert config.portal.password_file == credentials / PASSWORD_CREDENTIAL
    assert config.portal.password.reveal() == PASSWORD
    assert config.portal.password_file is not None
    assert PasswordFile(config.portal.password_file)() == PASSWORD
    # A credentials folder without this credential: password_file it is.
    (credentials / PASSWORD_CREDENTIAL).unlink()
    assert load_config(config_path).portal.password.reveal() == "the old password"


def test_password_file_may_be_left_out_only_when_the_credential_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[portal]\nurl = "http://127.0.0.1:1/"\nusername = "agent"\n')
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(ConfigError) as error:
        load_config(config)
    assert error.value.key == "portal.password_file"
    assert f"the systemd credential {PASSWORD_CREDENTIAL}" in error.value.message
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / PASSWORD_CREDENTIAL).write_text(PASSWORD)
    (credentials / PASSWORD_CREDENTIAL).chmod(0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    assert load_config(config).portal.password.reveal() == PASSWORD


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_a_password_file_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    password = tmp_path / "password"
    password.write_text(PASSWORD + "\n")
    password.chmod(mode)
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, password))
    message = str(error.value)
    assert error.value.key == "portal.password_file"
    assert f"the password file {password} has mode {mode:04o}" in message
    assert f"chmod 600 {password}" in message
    assert PASSWORD not in message
    with pytest.raises(WrongCredentials) as at_login:
        PasswordFile(password)()
    assert f"the password file {password} has mode {mode:04o}" in str(at_login.value)


@slow_install
def test_check_config_names_the_mode_and_the_fix(installed: Installed, tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text(PASSWORD + "\n")
    password.chmod(0o640)
    result = installed.check_config(write_config(tmp_path, password))
    assert result.returncode == 78
    assert "has mode 0640" in result.stderr and f"(chmod 600 {password})" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


READER = """
import sqlite3, sys
connection = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for line in sys.stdin:
    if line.strip() == "count":
        print(connection.execute("SELECT count(*) FROM probe").fetchone()[0], flush=True)
    elif line.strip() == "write":
        try:
            connection.execute("INSERT INTO probe VALUES (0)")
            connection.commit()
            print("wrote", flush=True)
        except sqlite3.Error as exc:
            print(f"refused: {exc}", flush=True)
    elif line.strip() == "create":
        try:
            open(sys.argv[1] + "-planted", "x").close()
            print("created", flush=True)
        except OSError as exc:
            print(f"refused: {exc.strerror}", flush=True)
"""


@pytest.fixture
def state_folder() -> Iterator[Path]:
    """A folder as the unit leaves /var/lib/archid, outside root-only pytest folders."""
    scratch = Path(__import__("tempfile").mkdtemp(prefix="archid-state-"))
    try:
        scratch.chmod(0o755)
        state = scratch / "archid"
        state.mkdir()
        yield state
    finally:
        shutil.rmtree(scratch)


@needs_root
def test_a_member_of_the_group_reads_the_database_while_archid_writes(state_folder: Path) -> None:
    group = 54_321  # the unit's group archid; the reader's only group
    os.chown(state_folder, os.getuid(), group)
    state_folder.chmod(0o750)  # StateDirectoryMode=0750
    database = state_folder / "archid.sqlite3"
    # archid's files get its primary group, archid, and the unit's UMask=.
    umask = os.umask(0o027)
    os.setegid(group)
    try:
        writer = open_database(database)
    except BaseException:
        os.setegid(0)
        os.umask(umask)
        raise
    try:
        writer.connection.execute("CREATE TABLE probe (x)")
        writer.connection.execute("INSERT INTO probe VALUES (1), (2)")
        for suffix in ("", "-wal", "-shm"):
            info = Path(f"{database}{suffix}").stat()
            assert (stat.S_IMODE(info.st_mode), info.st_gid) == (0o640, group), suffix
        system_python = "/usr/bin/python3"  # the backend's; the venv's is under /root
        reader = subprocess.Popen(
            [
                *("setpriv", "--reuid=65534", f"--regid={group}", "--clear-groups"),
                *(system_python, "-c", READER, str(database)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert reader.stdin is not None and reader.stdout is not None

        def ask(what: str) -> str:
            assert reader.stdin is not None and reader.stdout is not None
            reader.stdin.write(what + "\n")
            reader.stdin.flush()
            return reader.stdout.readline().strip()

        try:
            assert ask("count") == "2"
            writer.connection.execute("INSERT INTO probe VALUES (3)")
            assert ask("count") == "3"  # the writer's commit, seen through the -shm
            assert ask("write").startswith("refused: attempt to write a readonly database")
            assert ask("create") == "refused: Permission denied"
        finally:
            reader.stdin.close()
            assert reader.wait(timeout=30) == 0
    finally:
        writer.close()
        os.setegid(0)
        os.umask(umask)
