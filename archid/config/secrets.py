"""The portal password: where it is read from, and the :class:`Secret` that holds it.

The password comes from the systemd credential ``portal-password``
(:data:`PASSWORD_CREDENTIAL`, see :func:`password_credential`) when the unit
hands one over, else from the file ``portal.password_file`` names
(:func:`read_password_file`), which only its owner may read. Once read it
lives in a :class:`Secret`, which never shows it in ``repr()`` or ``str()``;
no message of this module quotes the file's content.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final, final

PASSWORD_CREDENTIAL: Final = "portal-password"
"""The systemd credential (``LoadCredential=portal-password:…``) holding the password."""


@final
class Secret:
    """A string that does not show itself.

    ``repr()`` and ``str()`` are ``Secret('********')`` whatever the value, so
    a secret inside a dataclass, a log line or a traceback stays hidden. The
    value is available only through :meth:`reveal`. Equality is
    constant-time.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value; call it only where the value is sent."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))


def password_credential(environ: Mapping[str, str] = os.environ) -> Path | None:
    """``$CREDENTIALS_DIRECTORY/portal-password`` if systemd handed that credential over.

    The unit's ``LoadCredential=`` copies the password into a folder only
    the service can read; it goes before ``portal.password_file``.
    """
    directory = environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    path = Path(directory) / PASSWORD_CREDENTIAL
    return path if os.path.lexists(path) else None


class PasswordFileError(Exception):
    """The password file is unreadable, readable by others, not UTF-8 or empty.

    The message names the file, never its content.
    """


def read_password_file(path: Path) -> str:
    """The password in ``path``, without the final line break.

    Raises :class:`PasswordFileError` when the file cannot be read, when its
    group or others have any access to it (the fix, ``chmod 600``, is in the
    message), or when it is not UTF-8 text or empty.
    """
    try:
        with path.open("rb") as f:
            # The mode of the file actually opened, not of whatever the path names later.
            mode = os.fstat(f.fileno()).st_mode
            data = f.read() if mode & 0o077 == 0 else b""
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PasswordFileError(f"cannot read the password file {path}: {reason}") from None
    if mode & 0o077:
        raise PasswordFileError(
            f"the password file {path} has mode {mode & 0o7777:04o}: other users can read"
            f" or change it; only its owner may (chmod 600 {path})"
        )
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        # Not chained: the decode error carries the file's bytes.
        text = None
    if text is None:
        raise PasswordFileError(f"the password file {path} is not UTF-8 text")
    password = text.rstrip("\r\n")
    if not password:
        raise PasswordFileError(f"the password file {path} is empty")
    return password
