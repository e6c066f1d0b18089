"""``archid check-config``: load the configuration and say what it means, or what is wrong."""

from __future__ import annotations

import os
import sys

from archid.config.durations import format_duration
from archid.config.errors import ConfigError
from archid.config.load import default_config_path, load_config
from archid.config.model import Config


def summarize_config(config: Config) -> str:
    """Return a short human description of *config*, without the password."""
    portal = config.portal
    tls = "TLS verified" if portal.verify_tls else "TLS NOT verified"
    if portal.ca_file is not None:
        tls += f" against {portal.ca_file}"
    lines = [
        f"portal: {portal.url} as {portal.username}"
        f" ({tls}; at most {portal.daily_login_budget} logins a day;"
        f" interactive session {'kept ready' if portal.keep_interactive_ready else 'on demand'})",
        f"database: {config.database.path}",
        "schedule:",
    ]
    for export_type, schedule in config.schedules.items():
        state = "" if schedule.enabled else "  (disabled)"
        lines.append(
            f"  {export_type:<10} every {format_duration(schedule.every):<6}"
            f" offset {format_duration(schedule.offset):<6}"
            f" priority {schedule.priority:<3}"
            f" timeout {format_duration(schedule.timeout)}{state}"
        )
    quiet = config.quiet_hours
    if quiet.enabled:
        lines.append(f"quiet hours: {quiet.start:%H:%M}-{quiet.end:%H:%M} {quiet.timezone.key}")
    else:
        lines.append("quiet hours: off")
    control = config.control
    lines.append(
        f"control socket: {control.socket} (mode {control.mode:04o},"
        f" admin groups: {', '.join(control.admin_groups) or 'none'},"
        f" read groups: {', '.join(control.read_groups) or 'none'},"
        f" idle timeout {format_duration(control.idle_timeout)})"
    )
    metrics = config.metrics
    outputs = [f"textfile {metrics.textfile}"] if metrics.textfile else []
    if metrics.listen is not None:
        host, port = metrics.listen
        outputs.append(f"http://{f'[{host}]' if ':' in host else host}:{port}/metrics")
    lines.append(
        f"metrics: {' and '.join(outputs)} (archid_instance={metrics.instance!r})"
        if outputs
        else "metrics: off"
    )
    return "\n".join(lines)


def check_config(path: str | os.PathLike[str] | None = None) -> int:
    """Load the configuration for ``archid check-config`` and report.

    *path* ``None`` means :func:`default_config_path`. On success prints
    the source and :func:`summarize_config` to stdout and returns 0; on a
    :class:`ConfigError` prints ``archid: <error>`` to stderr and returns
    :data:`os.EX_CONFIG` (78, from ``sysexits.h``).
    """
    target = default_config_path() if path is None else path
    try:
        config = load_config(target)
    except ConfigError as exc:
        print(f"archid: {exc}", file=sys.stderr)
        return os.EX_CONFIG
    print(f"{os.fspath(target)}: configuration is valid")
    print(summarize_config(config))
    return 0
