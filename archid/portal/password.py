"""The portal password, read from its file each time the login form is filled in.

The file is the systemd credential ``portal-password``
(``$CREDENTIALS_DIRECTORY/portal-password``, which the unit's
``LoadCredential=`` fills) when there is one, else ``portal.password_file``:
the configuration picks it (:func:`~archid.config.password_credential`) and
checks it when it is loaded. The portal reads it again at every login, so an
operator who fixes a wrong password only has to edit the file (a SIGHUP is
not needed, and does no harm; a credential is copied when the service
starts, so there the fix takes a restart). :meth:`PasswordFile.fingerprint`
lets a portal hold notice that the file changed without reading the secret.

A file that its group or others may read or write is refused, at load and
at every login, as an unreadable one is. Messages name the file and what is
wrong with it (its mode and ``chmod 600``, for that one), never its content.
"""

from __future__ import annotations

from pathlib import Path

from archid.config import PasswordFileError, read_password_file
from archid.portal.errors import Stage, WrongCredentials


class PasswordFile:
    """A callable returning the password in ``path`` (without the final line break).

    Raises :class:`WrongCredentials` (stage ``login``) when the file cannot
    be read, is open to its group or others, is not UTF-8 or is empty: like
    a rejected password, it needs an operator, and the portal hold lifts
    when the file changes.
    """

    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"PasswordFile({str(self.path)!r})"

    def __call__(self) -> str:
        try:
            return read_password_file(self.path)
        except PasswordFileError as exc:
            raise WrongCredentials(str(exc), Stage.LOGIN) from None

    def fingerprint(self) -> tuple[int, int, int, int] | None:
        """What changes when the file is edited, replaced, touched or chmodded; ``None`` if gone."""
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
