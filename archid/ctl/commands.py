"""``archid ctl``'s arguments, and one call through the client per subcommand."""

from __future__ import annotations

import argparse
import errno
import getpass
import json
import os
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from archid import exitstatus
from archid.ctl.progress import Follow
from archid.ctl.stages import TYPE_NAMES
from archid.ctl.tables import (
    describe_pauses,
    format_dead_letters,
    format_health,
    format_history,
    format_outcome,
    format_queue,
    format_queued,
    format_reload,
    format_sessions,
    format_status,
    queued_what,
)
from archid.runs import Outcome

Handler = Callable[[Any, argparse.Namespace, TextIO], int]


# -- arguments ---------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``[--config PATH | --socket PATH] [--json] COMMAND ...`` to ``parser``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--config",
        metavar="PATH",
        help="config file naming the socket (default: $ARCHID_CONFIG or ./config.toml)",
    )
    where.add_argument(
        "--socket", metavar="PATH", help="the control socket's path (instead of --config)"
    )
    json_help = "print the daemon's answer as JSON, for scripts"
    parser.add_argument("--json", action="store_true", help=json_help)
    # ``--json`` after the command too (``archid ctl history --json``); SUPPRESS
    # keeps a subcommand that lacks it from resetting the one given before.
    late = argparse.ArgumentParser(add_help=False)
    late.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=json_help)
    commands = parser.add_subparsers(dest="ctl_command", metavar="COMMAND", required=True)

    def command(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help, description=help[0].upper() + help[1:] + ".", parents=[late]
        )
        sub.set_defaults(ctl_handler=handler)
        return sub

    command("status", _status, "what the daemon is doing: running sync, queue, pauses, health")
    command("health", _health, "health of each sync type")
    history = command("history", _history, "the latest syncs, newest first")
    history.add_argument("type", nargs="?", choices=TYPE_NAMES, metavar="TYPE", help="one type")
    history.add_argument(
        "--limit", type=_positive, default=20, metavar="N", help="how many (default 20)"
    )
    command("queue", _queue, "the waiting syncs, in the order they will run")
    for name, handler, verb in (("pause", _pause, "stop starting"), ("resume", _resume, "start")):
        sub = command(name, handler, f"{verb} syncs of every type, or of TYPE")
        sub.add_argument("type", nargs="?", choices=TYPE_NAMES, metavar="TYPE", help="one type")
    sync = command("sync", _sync, "queue a sync of TYPE now (manual priority)")
    sync.add_argument("type", choices=TYPE_NAMES, metavar="TYPE", help=", ".join(TYPE_NAMES))
    sync.add_argument("--recent", action="store_true", help="a recent export, not a full one")
    sync.add_argument(
        "--wait",
        action="store_true",
        help="follow the sync until it ends; exit 0 only if it succeeded",
    )
    sync.add_argument(
        "--allow-large-change",
        action="store_true",
        help="let this one export through the guard that rejects large changes",
    )
    cancel = command("cancel", _cancel, "cancel the running sync, or TYPE's running or queued one")
    cancel.add_argument("type", nargs="?", choices=TYPE_NAMES, metavar="TYPE", help="one type")

    session = command("session", _no_action, "order-form sessions")
    actions = session.add_subparsers(dest="session_action", metavar="ACTION", required=True)
    opening = actions.add_parser(
        "open", help="open a session (queues a recent customers sync)", parents=[late]
    )
    opening.add_argument(
        "--user", default=_login_name(), help="who opens it (default: your login name)"
    )
    opening.set_defaults(ctl_handler=_session_open)
    closing = actions.add_parser("close", help="close a session", parents=[late])
    closing.add_argument("id", metavar="ID")
    closing.set_defaults(ctl_handler=_session_close)
    listing = actions.add_parser("list", help="the open sessions", parents=[late])
    listing.set_defaults(ctl_handler=_session_list)

    dlq = command("dlq", _no_action, "dead letters: syncs that failed every attempt")
    letters = dlq.add_subparsers(dest="dlq_action", metavar="ACTION", required=True)
    listed = letters.add_parser("list", help="the dead letters", parents=[late])
    listed.set_defaults(ctl_handler=_dlq_list)
    retry = letters.add_parser("retry", help="queue a dead letter's sync again", parents=[late])
    retry.add_argument("id", type=int, metavar="ID")
    retry.set_defaults(ctl_handler=_dlq_retry)
    drop = letters.add_parser("drop", help="forget a dead letter", parents=[late])
    drop.add_argument("id", type=int, metavar="ID")
    drop.set_defaults(ctl_handler=_dlq_drop)

    command("reload", _reload, "reload the configuration file (as SIGHUP does)")
    command("version", _version, "the daemon's version and protocol")
    command("watch", _watch, "follow every event until interrupted (Ctrl-C)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return ""


# -- running -------------------------------------------------------------------------


def run_ctl(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Carry out one ``archid ctl`` command; the exit status."""
    from archid.control import Client, ControlError, NotAuthorised, NotListening, Refused
    from archid.control.errors import ProtocolError

    stream = out if out is not None else sys.stdout
    try:
        path = socket_path(args)
    except _NoSocket as exc:
        return _fail(os.EX_CONFIG, str(exc))
    handler: Handler = args.ctl_handler
    try:
        with Client(path) as client:
            return handler(client, args, stream)
    except NotListening:
        return _fail(
            os.EX_UNAVAILABLE,
            f"no daemon listening on {path}: is archid running? (systemctl status archid)",
        )
    except NotAuthorised as exc:
        return _fail(
            os.EX_NOPERM,
            f"not authorised by the daemon on {path}: {exc.message}; run as root or as a "
            f"member of one of [control] admin_groups (reading: read_groups)",
        )
    except Refused as exc:
        return _fail(exitstatus.FAILURE, f"the daemon refused: {exc.message}")
    except ProtocolError as exc:
        return _fail(os.EX_PROTOCOL, f"talking to the daemon on {path}: {exc.message}")
    except ControlError as exc:
        if _denied(exc):
            return _fail(
                os.EX_NOPERM,
                f"not allowed to connect to {path} (its permissions exclude this user): "
                f"run as root or as a member of the socket's group",
            )
        return _fail(
            os.EX_UNAVAILABLE, f"{exc.message}: is archid running? (systemctl status archid)"
        )


class _NoSocket(Exception):
    pass


def socket_path(args: argparse.Namespace) -> Path:
    """``--socket``, else the ``[control] socket`` of ``--config`` (or its default).

    A configuration that does not load as a whole still names the socket
    when its ``[control] socket`` can be read: ctl needs nothing else, and
    an admin who may not read the portal's password file may still ask the
    daemon what it is doing. Raises :class:`_NoSocket` otherwise.
    """
    if args.socket:
        return Path(args.socket)
    from archid.config import ConfigError, ControlConfig, load_config

    config = args.config or os.environ.get("ARCHID_CONFIG", "config.toml")
    try:
        return load_config(config).control.socket
    except ConfigError as exc:
        error = exc
    try:
        with open(config, "rb") as file:
            control = tomllib.load(file).get("control", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        control = None
    value = (
        control.get("socket", str(ControlConfig().socket)) if isinstance(control, dict) else None
    )
    problem = f"{error} (the socket's path comes from it; or give --socket PATH)"
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise _NoSocket(problem)
    try:
        given = Path(value).expanduser()
    except RuntimeError:  # ~user of no user
        raise _NoSocket(problem) from None
    # As the configuration resolves it: relative to the file's folder.
    return Path(os.path.normpath(Path(os.path.abspath(config)).parent / given))


def _denied(exc: BaseException) -> bool:
    cause = exc.__cause__
    return isinstance(cause, OSError) and cause.errno in (errno.EACCES, errno.EPERM)


def _fail(status: int, message: str) -> int:
    print(f"archid ctl: {message}", file=sys.stderr)
    return status


def _print_json(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def _answer(value: Any, args: argparse.Namespace, out: TextIO, text: Callable[[], str]) -> int:
    if args.json:
        _print_json(value, out)
    else:
        out.write(text() + "\n")
    return os.EX_OK


def _no_action(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    raise AssertionError("argparse requires an action")  # pragma: no cover


def _status(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.status()
    return _answer(result, args, out, lambda: format_status(result, time.time()))


def _health(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.health()
    return _answer(result, args, out, lambda: format_health(result, time.time()))


def _history(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.history(args.type, args.limit)
    return _answer(result, args, out, lambda: format_history(result, time.time()))


def _queue(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.queue()
    return _answer(result, args, out, lambda: format_queue(result))


def _pause(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.pause(args.type)
    what = args.type or "every type"
    return _answer(
        result,
        args,
        out,
        lambda: (
            f"paused {what}: no new syncs start (a running one finishes; "
            f"`archid ctl cancel` stops it)" + _pauses_line(result)
        ),
    )


def _resume(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.resume(args.type)
    what = args.type or "every type (and lifted any portal hold)"
    return _answer(result, args, out, lambda: f"resumed {what}" + _pauses_line(result))


def _pauses_line(result: Any) -> str:
    paused = result.get("paused") if isinstance(result, Mapping) else None
    if not isinstance(paused, Mapping):
        return ""
    return f"\nnow paused: {describe_pauses(paused)}"


def _sync(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    options = {"recent": args.recent, "allow_large_change": args.allow_large_change}
    if not args.wait:
        result = client.sync(args.type, **options)
        return _answer(result, args, out, lambda: format_queued(result, args.type))
    follow = None if args.json else Follow(out, finished_lines=False)
    try:
        result = client.sync(
            args.type,
            wait=True,
            on_event=follow.event if follow is not None else None,
            **options,
        )
    except KeyboardInterrupt:
        if follow is not None:
            follow.close()  # the bar away before the words
        # Only the following stops: the request is the daemon's now.
        print(
            f"archid ctl: stopped following; the {args.type} sync goes on "
            f"(archid ctl cancel {args.type} stops it)",
            file=sys.stderr,
        )
        raise
    finally:
        if follow is not None:
            follow.close()
    if args.json:
        _print_json(result, out)
    else:
        out.write(format_outcome(result) + "\n")
    return os.EX_OK if result.get("outcome") == Outcome.OK else exitstatus.FAILURE


def _cancel(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.cancel(args.type)

    def text() -> str:
        what = result.get("cancelled", args.type or "the sync")
        was = result.get("was")
        return f"cancelled the {was} {what} sync" if was else f"cancelled {what}"

    return _answer(result, args, out, text)


def _session_open(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.session_open(args.user)

    def text() -> str:
        session = result.get("id") or result.get("session")
        opened = f"session {session} opened"
        if "open" in result:
            opened += f" ({result['open']} open)"
        return (
            f"{opened}: a recent customers sync is queued and other types wait until the "
            f"last session closes\nclose it with: archid ctl session close {session}"
        )

    return _answer(result, args, out, text)


def _session_close(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.session_close(args.id)
    still = f" ({result['open']} still open)" if "open" in result else ""
    return _answer(result, args, out, lambda: f"session {args.id} closed{still}")


def _session_list(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.session_list()
    return _answer(result, args, out, lambda: format_sessions(result))


def _dlq_list(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.deadletters_list()
    return _answer(result, args, out, lambda: format_dead_letters(result, time.time()))


def _dlq_retry(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.deadletters_retry(args.id)
    return _answer(
        result,
        args,
        out,
        lambda: f"dead letter {args.id} queued again" + queued_what(result.get("queued")),
    )


def _dlq_drop(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.deadletters_drop(args.id)
    return _answer(result, args, out, lambda: f"dead letter {args.id} dropped")


def _reload(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    result = client.reload()
    return _answer(result, args, out, lambda: format_reload(result))


def _version(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    from archid import __version__

    result = client.version()

    def text() -> str:
        line = f"daemon: archid {result.get('version', '?')}"
        if "protocol" in result:
            line += f", control protocol {result['protocol']}"
        return line + f"\nctl:    archid {__version__}"

    return _answer(result, args, out, text)


def _watch(client: Any, args: argparse.Namespace, out: TextIO) -> int:
    if args.json:
        for event in client.watch():
            out.write(json.dumps(event, sort_keys=True, ensure_ascii=False) + "\n")
            out.flush()
    else:
        follow = Follow(out)
        try:
            for event in client.watch():
                follow.event(event)
        finally:
            follow.close()
    # Only the daemon ends a watch (stopping, restarting): a script wants to know.
    return _fail(
        os.EX_UNAVAILABLE,
        f"the daemon on {client.socket_path} closed the connection: did archid stop? "
        f"(systemctl status archid)",
    )
