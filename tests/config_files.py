"""Configuration files for tests: a minimal [portal] section and its password file."""

from __future__ import annotations

from pathlib import Path

PASSWORD = "s3cret-Pa55word"

PORTAL = """\
[portal]
url = "https://erp.example.com/Archibald/"
username = "agent01"
password_file = "secrets/portal-password"
"""


def write_config(
    folder: Path, text: str, *, password: str | bytes | None = PASSWORD + "\n"
) -> Path:
    """Write config.toml (and secrets/portal-password unless None) into *folder*."""
    folder.mkdir(parents=True, exist_ok=True)
    if password is not None:
        secrets = folder / "secrets"
        secrets.mkdir(exist_ok=True)
        data = password.encode() if isinstance(password, str) else password
        (secrets / "portal-password").write_bytes(data)
        (secrets / "portal-password").chmod(0o600)
    path = folder / "config.toml"
    path.write_text(text)
    return path
