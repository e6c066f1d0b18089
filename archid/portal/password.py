"""The portal password, read from its file each time the login form is filled in.

The configuration checks ``portal.password_file`` when it is loaded; the
portal reads it again at every login, so an operator who fixes a wrong
password only has to edit the file (a SIGHUP is not needed, and does no
harm). :meth:`PasswordFile.fingerprint` lets a portal hold notice that the
file changed without reading the secret.

Messages name the file and what is wrong with it, never its content.
"""

from __future__ import annotations

from pathlib import Path

from archid.portal.errors import Stage, WrongCredentials


class PasswordFile:
    """A callable returning the password in ``path`` (without the final line break).

    Raises :class:`WrongCredentials` (stage ``login``) when the file cannot
    be read, is not UTF-8 or is empty: like a rejected password, it needs
    an operator, and the portal hold lifts when the file changes.
    """

    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"PasswordFile({str(self.path)!r})"

    def __call__(self) -> str:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise WrongCredentials(
                f"cannot read the password file {self.path}: {reason}", Stage.LOGIN
            ) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Not chained: the decode error quotes the file's bytes.
            text = None
        if text is None:
            raise WrongCredentials(f"the password file {self.path} is not UTF-8", Stage.LOGIN)
        password = text.rstrip("\r\n")
        if not password:
            raise WrongCredentials(f"the password file {self.path} is empty", Stage.LOGIN)
        return password

    def fingerprint(self) -> tuple[int, int, int, int] | None:
        """What changes when the file is edited, replaced or touched; ``None`` if it is gone."""
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
