"""``archid export TYPE``: one export through the real client, for operators.

It does exactly what a scheduled sync's first half does (the same browser
settings, timeouts and login budget from the configuration) and reports
the file and the seconds per stage. It reuses the session the daemon (or
an earlier export) saved beside the database, so it usually costs no
login, and first kills any browser a dead archid on the same database left
behind. Exit status: 0 on success,
75 (``os.EX_TEMPFAIL``) for a transient failure worth retrying later,
77 (``os.EX_NOPERM``) for wrong credentials, a blocked client or a spent
login budget, 78 (``os.EX_CONFIG``) for a bad configuration, 70
(``os.EX_SOFTWARE``) for anything else. The password is never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Final

from archid.config import ConfigError, default_config_path, load_config
from archid.portal.errors import PermanentPortalError, PortalError, TransientPortalError
from archid.records import ExportType

_STAGES: Final = ("login", "page_load", "menu", "download")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``archid export``."""
    parser.add_argument("type", choices=[t.value for t in ExportType], help="list view to export")
    parser.add_argument(
        "--config",
        default=None,
        help="config file (default: $ARCHID_CONFIG or ./config.toml)",
    )
    parser.add_argument("--out", default=".", help="folder for the PDF (default: .)")


def exit_status(error: PortalError) -> int:
    """The exit status for a portal error: permanent 77, transient 75."""
    if isinstance(error, PermanentPortalError):
        return os.EX_NOPERM
    if isinstance(error, TransientPortalError):
        return os.EX_TEMPFAIL
    return os.EX_SOFTWARE


def run_export(args: argparse.Namespace) -> int:
    """Run one export as ``args`` say; print the result or the error; return the status."""
    # Imported here: building the command line must not load Selenium and trio.
    import trio

    from archid.portal.processes import reap_leftovers
    from archid.portal.session import AsyncPortal

    target = args.config if args.config is not None else default_config_path()
    try:
        config = load_config(target)
    except ConfigError as exc:
        print(f"archid export: {exc}", file=sys.stderr)
        return os.EX_CONFIG
    export_type = ExportType(args.type)
    out = Path(args.out)
    reap_leftovers(config.database.path)

    async def export() -> None:
        async with AsyncPortal.from_config(config) as portal:
            result = await portal.export(export_type, out)
        print(os.fspath(result.path.resolve()))
        stages = " ".join(f"{name}={result.seconds.get(name, 0.0):.2f}s" for name in _STAGES)
        print(f"{result.bytes} bytes; logins={result.logins} {stages}")

    try:
        trio.run(export)
    except PortalError as exc:
        # str(exc) starts with the stage; the message itself never holds the password.
        print(f"archid export: {type(exc).__name__} ({exc.stage}): {exc.args[0]}", file=sys.stderr)
        return exit_status(exc)
    return 0
