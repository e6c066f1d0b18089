"""Tests of archid.config: loading, defaults, rejections and their locations."""

from __future__ import annotations

import importlib.util
import os
import pickle
import re
import shutil
import tomllib
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

import archid.config
from archid.config import (
    DEFAULT_SCHEDULES,
    SECTION_KEYS,
    BrowserConfig,
    Config,
    ConfigError,
    ControlConfig,
    GuardConfig,
    LoadConfig,
    MetricsConfig,
    PortalConfig,
    QuietHoursConfig,
    RetryConfig,
    ScheduleConfig,
    Secret,
    SessionsConfig,
    check_config,
    default_config_path,
    format_duration,
    load_config,
    parse_config,
    parse_duration,
)
from archid.config.toml_positions import Locator
from archid.records import ExportType
from tests.config_files import PASSWORD, PORTAL, write_config

REPO_ROOT = Path(__file__).resolve().parent.parent


def load_text(folder: Path, text: str) -> Config:
    return load_config(write_config(folder, text))


def error_for(folder: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_text(folder, text)
    return info.value


def line_of(text: str, fragment: str) -> int:
    """1-based number of the only line of *text* that contains *fragment*."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(lines) == 1, (fragment, lines)
    return lines[0]


# --------------------------------------------------------------------------
# Defaults and successful loads


def test_minimal_config_gets_documented_defaults(tmp_path: Path) -> None:
    config = load_text(tmp_path, PORTAL)

    assert config.portal.url == "https://erp.example.com/Archibald/"
    assert config.portal.username == "agent01"
    assert config.portal.verify_tls is True
    assert config.portal.keep_interactive_ready is True
    assert config.portal.ca_file is None
    assert config.portal.daily_login_budget == 10
    assert (
        config.portal.login_timeout,
        config.portal.page_timeout,
        config.portal.download_timeout,
        config.portal.session_idle,
    ) == (60.0, 90.0, 480.0, 1200.0)
    assert config.database.path == tmp_path / "archid.sqlite3"
    assert config.database.busy_timeout == 5.0
    assert config.guard == GuardConfig(min_export_share=0.7, max_delete_share=0.3)
    assert dict(config.schedules) == dict(DEFAULT_SCHEDULES)
    assert config.quiet_hours == QuietHoursConfig(
        enabled=True,
        start=time(0, 0),
        end=time(6, 0),
        timezone=zoneinfo.ZoneInfo("Europe/Rome"),
    )
    assert config.retry == RetryConfig(retries=3, base_delay=5.0, max_delay=300.0, jitter=0.1)
    assert config.browser == BrowserConfig(
        chromium=Path("/usr/bin/chromium"),
        chromedriver=Path("/usr/bin/chromedriver"),
        headless=True,
        language="it-IT",
        window_width=1440,
        window_height=900,
        idle_timeout=600.0,
        download_dir=None,
    )
    assert config.control == ControlConfig(socket=Path("/run/archid/control.sock"), mode=0o660)
    assert config.metrics == MetricsConfig(textfile=None, listen=None, instance="config")
    assert config.sessions == SessionsConfig(safety_timeout=600.0)
    assert config.load == LoadConfig(max_load_average=4.0)
    assert config.source == str(tmp_path / "config.toml")


@pytest.mark.parametrize(
    ("export_type", "every", "offset", "priority", "timeout", "stretch"),
    [
        (ExportType.ORDERS, 600, 0, 6, 900, 1),
        (ExportType.CUSTOMERS, 1800, 300, 5, 900, 4),
        (ExportType.PRICES, 1800, 600, 2, 1800, 4),
        (ExportType.INVOICES, 1800, 900, 3, 900, 4),
        (ExportType.DDT, 2700, 1200, 4, 900, 4),
        (ExportType.PRODUCTS, 5400, 1800, 1, 1800, 4),
    ],
)
def test_default_schedules_are_the_agreed_ones(
    export_type: ExportType,
    every: float,
    offset: float,
    priority: int,
    timeout: float,
    stretch: float,
) -> None:
    assert DEFAULT_SCHEDULES[export_type] == ScheduleConfig(
        every=every,
        offset=offset,
        priority=priority,
        enabled=True,
        timeout=timeout,
        max_stretch=stretch,
    )


def test_schedules_cover_every_type_in_enum_order(tmp_path: Path) -> None:
    config = load_text(tmp_path, PORTAL + '[schedule.ddt]\nenabled = false\nevery = "1h"\n')
    assert list(config.schedules) == list(ExportType)
    assert config.schedules[ExportType.DDT].enabled is False
    assert config.schedules[ExportType.DDT].every == 3600.0
    # Keys not written keep the type's own default, not a generic one.
    assert config.schedules[ExportType.DDT].offset == 1200.0
    with pytest.raises(TypeError):
        config.schedules[ExportType.DDT] = DEFAULT_SCHEDULES[ExportType.ORDERS]  # type: ignore[index]


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_text(tmp_path, PORTAL)
    with pytest.raises(AttributeError):
        config.metrics.instance = "b"  # type: ignore[misc]


def test_values_are_read(tmp_path: Path) -> None:
    text = PORTAL + (
        "verify_tls = false\n"
        "keep_interactive_ready = false\n"
        "daily_login_budget = 3\n"
        "login_timeout = 45\n"
        'download_timeout = "4m30s"\n'
        "[retry]\n"
        "retries = 5\n"
        "jitter = 0\n"
        "[metrics]\n"
        'textfile = "metrics/archid.prom"\n'
        'listen = "[::1]:9100"\n'
        "[load]\n"
        "max_load_average = 0\n"
        "[browser]\n"
        'language = "en-US"\n'
        'download_dir = "downloads"\n'
    )
    config = load_text(tmp_path, text + "[guard]\nmin_export_share = 0.5\nmax_delete_share = 1\n")
    assert config.guard == GuardConfig(min_export_share=0.5, max_delete_share=1.0)
    assert config.portal.verify_tls is False
    assert config.portal.keep_interactive_ready is False
    assert config.portal.daily_login_budget == 3
    assert config.portal.login_timeout == 45.0
    assert config.portal.download_timeout == 270.0
    assert (config.retry.retries, config.retry.jitter) == (5, 0.0)
    assert config.metrics.textfile == tmp_path / "metrics" / "archid.prom"
    assert config.metrics.listen == ("::1", 9100)
    assert config.load.max_load_average is None  # 0 switches the check off
    assert config.browser.language == "en-US"
    assert config.browser.download_dir == tmp_path / "downloads"


def test_url_gets_a_trailing_slash(tmp_path: Path) -> None:
    text = PORTAL.replace(
        '"https://erp.example.com/Archibald/"', '"http://10.0.0.5:8080/Archibald"'
    )
    assert load_text(tmp_path, text).portal.url == "http://10.0.0.5:8080/Archibald/"


def test_relative_paths_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc" / "archid"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_config(
        folder,
        PORTAL
        + '[database]\npath = "data/mirror.sqlite3"\n'
        + '[control]\nsocket = "/run/archid/archid.sock"\n'
        + '[browser]\nchromium = "bin/chromium"\n',
    )
    monkeypatch.chdir(elsewhere)

    config = load_config(os.path.relpath(folder / "config.toml"))

    assert config.database.path == folder / "data" / "mirror.sqlite3"
    assert config.portal.password_file == folder / "secrets" / "portal-password"
    assert config.browser.chromium == folder / "bin" / "chromium"
    assert config.control.socket == Path("/run/archid/archid.sock")
    assert config.portal.password.reveal() == PASSWORD


def test_home_is_expanded_in_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load_text(tmp_path, PORTAL + '[database]\npath = "~/mirror.sqlite3"\n')
    assert config.database.path == tmp_path / "home" / "mirror.sqlite3"


def test_parse_config_resolves_against_base_dir(tmp_path: Path) -> None:
    write_config(tmp_path, "")
    config = parse_config(PORTAL, tmp_path, "inline")
    assert config.database.path == tmp_path / "archid.sqlite3"
    assert config.source == "inline"


@pytest.mark.parametrize(
    ("written", "expected"),
    [('"0660"', 0o660), ('"600"', 0o600), ('"0o640"', 0o640), ("0o600", 0o600)],
)
def test_control_mode_is_octal(tmp_path: Path, written: str, expected: int) -> None:
    config = load_text(tmp_path, PORTAL + f"[control]\nmode = {written}\n")
    assert config.control.mode == expected


def test_quiet_hours_accept_toml_local_times(tmp_path: Path) -> None:
    text = PORTAL + '[quiet_hours]\nstart = 22:30:00\nend = "7:15"\ntimezone = "UTC"\n'
    quiet = load_text(tmp_path, text).quiet_hours
    assert (quiet.start, quiet.end, quiet.timezone.key) == (time(22, 30), time(7, 15), "UTC")


# --------------------------------------------------------------------------
# The password


def test_password_is_read_and_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, PORTAL, password=PASSWORD + "\r\n")
    config = load_config(path)

    assert config.portal.password.reveal() == PASSWORD
    for shown in (repr(config), str(config), repr(config.portal), f"{config.portal}"):
        assert PASSWORD not in shown
        assert "Secret('********')" in shown

    assert check_config(path) == 0
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err
    assert "agent01" in out


def test_secret_hides_its_value() -> None:
    secret = Secret("hunter2")
    assert repr(secret) == "Secret('********')"
    assert str(secret) == "Secret('********')"
    assert f"{secret}" == "Secret('********')"
    assert secret.reveal() == "hunter2"
    assert secret == Secret("hunter2")
    assert secret != Secret("hunter3")


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        (None, "No such file or directory"),
        ("\n", "is empty"),
        (b"\xff" + PASSWORD.encode() + b"\n", "is not UTF-8 text"),
    ],
)
def test_password_file_problems_name_the_key_not_the_content(
    tmp_path: Path, password: str | bytes | None, expected: str
) -> None:
    path = write_config(tmp_path, PORTAL + "[database]\n", password=password)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    assert error.key == "portal.password_file"
    assert error.line == line_of(PORTAL, "password_file")
    assert expected in str(error)
    assert str(tmp_path / "secrets" / "portal-password") in str(error)
    assert PASSWORD not in str(error)
    assert error.__cause__ is None
    assert error.__suppress_context__ or error.__context__ is None


def test_password_file_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "secrets" / "portal-password").mkdir(parents=True)
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, PORTAL, password=None))
    error = info.value
    assert error.key == "portal.password_file"
    assert "Is a directory" in error.message


def test_url_with_credentials_is_rejected_without_echo(tmp_path: Path) -> None:
    text = PORTAL.replace("https://erp.", f"https://agent01:{PASSWORD}@erp.")
    error = error_for(tmp_path, text)
    assert error.key == "portal.url"
    assert error.line == 2
    assert PASSWORD not in str(error)
    assert "password_file" in error.message


# --------------------------------------------------------------------------
# Rejections: key, line and message


def test_error_reads_file_line_key_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = PORTAL + '[quiet_hours]\nstart = "25:00"\n'
    write_config(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config("config.toml")
    assert str(info.value) == (
        'config.toml:6: quiet_hours.start: "25:00" is not a time of day (HH:MM, 00:00-23:59)'
    )
    assert (info.value.key, info.value.line, info.value.source) == (
        "quiet_hours.start",
        6,
        "config.toml",
    )


@pytest.mark.parametrize(
    ("body", "key", "fragment", "message"),
    [
        # Wrong types; bool is an int in Python but not here.
        (
            "[metrics]\nlisten = true\n",
            "metrics.listen",
            "listen = true",
            "expected a string, got a boolean (true)",
        ),
        ("[retry]\nretries = 2.5\n", "retry.retries", "retries", "got a float"),
        ('[browser]\nheadless = "yes"\n', "browser.headless", "headless", "true or false"),
        ("[retry]\njitter = true\n", "retry.jitter", "jitter", "expected a number"),
        ("[database]\npath = 5\n", "database.path", "path", "a path"),
        ("[database]\nbusy_timeout = false\n", "database.busy_timeout", "busy", "a duration"),
        ("[sessions]\nsafety_timeout = [1]\n", "sessions.safety_timeout", "safety", "an array"),
        ('[schedule]\norders = "10m"\n', "schedule.orders", "orders", "expected a table"),
        # Impossible values.
        ('[schedule.orders]\nevery = "0s"\n', "schedule.orders.every", "every", "is zero"),
        ('[schedule.orders]\nevery = "-5m"\n', "schedule.orders.every", "every", "negative"),
        ("[schedule.ddt]\nevery = -300\n", "schedule.ddt.every", "every", "negative"),
        ('[schedule.ddt]\noffset = "-1m"\n', "schedule.ddt.offset", "offset", "negative"),
        (
            '[schedule.ddt]\nevery = "10m"\noffset = "10m"\n',
            "schedule.ddt.offset",
            "offset",
            "shorter than schedule.ddt.every (10m)",
        ),
        (
            '[schedule.orders]\nevery = "10 minutes"\n',
            "schedule.orders.every",
            "every",
            "is not a duration",
        ),
        (
            "[schedule.prices]\nmax_stretch = 0.5\n",
            "schedule.prices.max_stretch",
            "max_stretch",
            "less than 1",
        ),
        ('[schedule.prices]\npriority = "high"\n', "schedule.prices.priority", "prio", "int"),
        ('[quiet_hours]\nend = "24:00"\n', "quiet_hours.end", "end", "not a time of day"),
        ('[quiet_hours]\nstart = "7:60"\n', "quiet_hours.start", "start", "not a time of day"),
        ("[quiet_hours]\nstart = 7\n", "quiet_hours.start", "start", "not a time of day"),
        (
            '[quiet_hours]\nstart = "06:00"\n',
            "quiet_hours.end",
            "[quiet_hours]",
            "quiet_hours.enabled = false",
        ),
        (
            '[quiet_hours]\ntimezone = "Europe/Roma"\n',
            "quiet_hours.timezone",
            "timezone",
            'unknown time zone "Europe/Roma" (an IANA name like "Europe/Rome");'
            ' did you mean "Europe/Rome"?',
        ),
        ('[quiet_hours]\ntimezone = "../x"\n', "quiet_hours.timezone", "timezone", "not a"),
        ('[metrics]\nlisten = "h:0"\n', "metrics.listen", "listen =", "(port 1-65535)"),
        ('[metrics]\nlisten = "9464"\n', "metrics.listen", "listen =", "not an address"),
        ('[metrics]\ntextfile = "a.txt"\n', "metrics.textfile", "textfile", "end in .prom"),
        ('[metrics]\ninstance = "a b"\n', "metrics.instance", "instance", "label value"),
        ("[retry]\nretries = -1\n", "retry.retries", "retries", "-1 is less than 0"),
        ("[retry]\njitter = 2\n", "retry.jitter", "jitter", "2 is not between 0.0 and 1.0"),
        (
            '[retry]\nbase_delay = "10m"\n',
            "retry.max_delay",
            "[retry]",
            "not be shorter than retry.base_delay (10m)",
        ),
        ("[guard]\nmin_export_share = 1.5\n", "guard.min_export_share", "min_", "between 0"),
        ('[guard]\nmax_delete_share = "30%"\n', "guard.max_delete_share", "max_", "a number"),
        ("[load]\nmax_load_average = nan\n", "load.max_load_average", "max_load", "finite"),
        ("[load]\nmax_load_average = -1\n", "load.max_load_average", "max_load", "less than"),
        ('[browser]\nlanguage = "italiano!"\n', "browser.language", "language", "tag"),
        ("[browser]\nwindow_width = 100\n", "browser.window_width", "width", "between 320"),
        ('[browser]\nchromium = ""\n', "browser.chromium", "chromium", "is not a path"),
        ('[control]\nmode = "0999"\n', "control.mode", "mode", "not a file mode"),
        ("[control]\nmode = 0o7777\n", "control.mode", "mode", "0000 to 0777"),
        (
            "[control]\nmode = 660 # rw-rw----\n",
            "control.mode",
            "mode",
            '660 is a decimal number; write the mode in octal, as "0660" or 0o660',
        ),
        ('[control]\nsocket = "' + "s" * 120 + '"\n', "control.socket", "socket", "at most 107"),
        # Unknown names, with the closest known one as a hint.
        ("[quiet_hour]\nenabled = false\n", "quiet_hour", "[quiet_hour]", 'mean "quiet_hours"?'),
        ('[schedule.order]\nevery = "5m"\n', "schedule.order", "order]", 'mean "orders"?'),
        ('[schedule.orders]\nevry = "5m"\n', "schedule.orders.evry", "evry", 'mean "every"?'),
        ('[metrics]\ninstance = "a"\nfoo = 2\n', "metrics.foo", "foo", 'unknown key "foo" (known:'),
    ],
)
def test_rejections_name_key_and_line(
    tmp_path: Path, body: str, key: str, fragment: str, message: str
) -> None:
    text = PORTAL + body
    error = error_for(tmp_path, text)
    assert error.key == key
    assert error.line == line_of(text, fragment)
    assert message in error.message
    assert str(error).startswith(f"{tmp_path / 'config.toml'}:{error.line}: {key}: ")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://erp.example.com/Archibald/", "is not an http(s) URL"),
        ("erp.example.com/Archibald/", "is not an http(s) URL"),
        ("https:///Archibald/", "is not an http(s) URL"),
        ("https://erp.example.com:99999/", "is not a valid URL"),
        ("https://[::1/", "is not a valid URL"),
        ("https://erp.example.com/Archi bald/", "white space"),
        ("https://erp.example.com/Archibald/?x=1", "without ? or #"),
    ],
)
def test_bad_urls_are_rejected(tmp_path: Path, url: str, message: str) -> None:
    text = PORTAL.replace("https://erp.example.com/Archibald/", url)
    error = error_for(tmp_path, text)
    assert (error.key, error.line) == ("portal.url", 2)
    assert message in error.message


@pytest.mark.parametrize("key", ["url", "username", "password_file"])
def test_required_portal_keys(tmp_path: Path, key: str) -> None:
    text = "\n".join(line for line in PORTAL.splitlines() if not line.startswith(key)) + "\n"
    error = error_for(tmp_path, "# archid\n" + text)
    assert error.key == f"portal.{key}"
    assert error.line == 2  # the [portal] header: the key itself is not written
    assert "required key is missing" in error.message


def test_missing_portal_section_has_no_line(tmp_path: Path) -> None:
    error = error_for(tmp_path, "[metrics]\nport = 9100\n")
    assert (error.key, error.line) == ("portal.url", None)
    assert str(error) == (
        f"{tmp_path / 'config.toml'}: portal.url: required key is missing"
        ' (the portal\'s base address, e.g. "https://erp.example.com/Archibald/")'
    )


def test_ca_file_must_exist_and_needs_verification(tmp_path: Path) -> None:
    error = error_for(tmp_path, PORTAL + 'ca_file = "ca.pem"\n')
    assert (error.key, error.line) == ("portal.ca_file", 5)
    assert "is not a file" in error.message

    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    assert load_text(tmp_path, PORTAL + 'ca_file = "ca.pem"\n').portal.ca_file == (
        tmp_path / "ca.pem"
    )
    error = error_for(tmp_path, PORTAL + 'ca_file = "ca.pem"\nverify_tls = false\n')
    assert error.key == "portal.ca_file"
    assert "verify_tls = false" in error.message


def test_first_unknown_key_in_the_file_is_reported(tmp_path: Path) -> None:
    text = PORTAL + "[metrics]\nzzz = 1\naaa = 2\n"
    error = error_for(tmp_path, text)
    assert (error.key, error.line) == ("metrics.zzz", line_of(text, "zzz"))


# --------------------------------------------------------------------------
# Locating keys in unusual TOML


def test_dotted_keys_are_located(tmp_path: Path) -> None:
    text = PORTAL.replace("[portal]\n", "") + "\n"
    text = "\n".join(f"portal.{line}" for line in text.splitlines() if line) + "\n"
    text += 'quiet_hours.timezone = "UTC"\nquiet_hours.start = "99:00"\n'
    error = error_for(tmp_path, text)
    assert (error.key, error.line) == ("quiet_hours.start", line_of(text, "99:00"))


def test_inline_table_keys_fall_back_to_the_table_line(tmp_path: Path) -> None:
    text = PORTAL + '[schedule]\ncustomers = { every = "1h" }\norders = { every = "soon" }\n'
    error = error_for(tmp_path, text)
    assert (error.key, error.line) == ("schedule.orders.every", line_of(text, "soon"))


@pytest.mark.parametrize(
    ("body", "key", "fragment", "message"),
    [
        ("logging = 1\n", "logging", "logging", 'unknown section "logging" (known: portal,'),
        ("metrics = 5\n", "metrics", "metrics =", "expected a table [metrics], got an integer"),
        ('schedule = "10m"\n', "schedule", "schedule =", "expected a table [schedule]"),
    ],
)
def test_top_level_rejections(
    tmp_path: Path, body: str, key: str, fragment: str, message: str
) -> None:
    text = body + PORTAL  # before [portal], so these are top-level keys
    error = error_for(tmp_path, text)
    assert (error.key, error.line) == (key, line_of(text, fragment))
    assert message in error.message


def test_username_with_surrounding_space(tmp_path: Path) -> None:
    error = error_for(tmp_path, PORTAL.replace('"agent01"', '"agent01 "'))
    assert (error.key, error.line) == ("portal.username", 3)
    assert "surrounding white space" in error.message


TRIPLE = '"' * 3
LOCATOR_TEXT = "\n".join(
    [
        "# [metrics]",  # 1
        "# port = 1",  # 2
        f"title = {TRIPLE}",  # 3
        "[metrics]",  # 4
        "port = 2",  # 5
        TRIPLE,  # 6
        "literal = '''",  # 7
        "[metrics]'''",  # 8
        "list = [",  # 9
        "  '[metrics]', # port = 4",  # 10
        '  "]",',  # 11
        "]",  # 12
        "[ metrics ]  # the real one",  # 13
        'host = "#[x]" # port = 5',  # 14
        "'port' = 0",  # 15
        "inline = { a = 1, b = [",  # 16
        "  2] }",  # 17
        '[schedule."orders"]',  # 18
        r'  every.x = "\"["',  # 19
        "[[jobs]]",  # 20
        "name = 'a'",  # 21
        "",
    ]
)


def test_locator_skips_comments_strings_and_arrays() -> None:
    text = LOCATOR_TEXT
    tomllib.loads(text)  # the locator is only used on text tomllib accepted
    locator = Locator(text)
    assert locator.line(("title",)) == 3
    assert locator.line(("literal",)) == 7
    assert locator.line(("list",)) == 9
    assert locator.line(("metrics",)) == 13
    assert locator.line(("metrics", "host")) == 14
    assert locator.line(("metrics", "port")) == 15
    assert locator.raw_value(("metrics", "port")) == "0"
    assert locator.line(("metrics", "inline")) == 16
    assert locator.line(("metrics", "inline", "b")) == 16  # falls back to its key
    assert locator.line(("schedule",)) == 18
    assert locator.line(("schedule", "orders", "every")) == 19
    assert locator.line(("schedule", "orders", "every", "x")) == 19
    assert locator.line(("schedule", "orders", "timeout")) == 18  # not written
    assert locator.line(("jobs", "name")) == 21
    assert locator.line(("nowhere", "key")) is None


def test_multiline_values_do_not_confuse_the_locator(tmp_path: Path) -> None:
    text = PORTAL + (
        '[browser]\nlanguage = """it-IT\n[metrics]\nport = 1"""\n[metrics]\nport = 70000\n'
    )
    error = error_for(tmp_path, text)
    # The value is rejected first, but at the right place.
    assert error.key == "browser.language"
    assert error.line == line_of(text, 'language = """')

    text = PORTAL + (
        '[quiet_hours]\ntimezone = """UTC"""\n'
        "[browser]\n"
        "window_height = 900\n"
        "\n"
        "[metrics]\n"
        'instance = "a"\n'
        'listen = "h:0"\n'
    )
    error = error_for(tmp_path, text)
    assert (error.key, error.line) == ("metrics.listen", line_of(text, "listen = "))


# --------------------------------------------------------------------------
# Whole-file problems


def test_toml_syntax_error_reports_tomllibs_line(tmp_path: Path) -> None:
    text = PORTAL + "[metrics]\nport = = 3\n"
    error = error_for(tmp_path, text)
    assert error.key is None
    assert error.line == 6
    assert error.message.startswith("invalid TOML: ")
    assert str(error).startswith(f"{tmp_path / 'config.toml'}:6: invalid TOML: ")
    assert "(at line" not in str(error)


def test_toml_error_at_end_of_file(tmp_path: Path) -> None:
    error = error_for(tmp_path, PORTAL + 'x = "unterminated')
    assert error.line == 5
    assert "at end of file" in error.message


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    assert (info.value.key, info.value.line, info.value.source) == (None, None, str(missing))
    assert str(info.value) == (
        f"{missing}: cannot read the configuration file: No such file or directory"
    )


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Is a directory"):
        load_config(tmp_path)


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(PORTAL.encode() + b"# caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.line == 5
    assert "not UTF-8" in info.value.message


def test_config_error_pickles_with_its_location() -> None:
    error = ConfigError("bad", key="metrics.port", line=3, source="c.toml")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.key, copy.line, copy.source) == ("bad", "metrics.port", 3, "c.toml")
    assert str(copy) == "c.toml:3: metrics.port: bad"


# --------------------------------------------------------------------------
# Durations


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1h 30m 15s", 5415.0),
        ("1d", 86400.0),
        ("250ms", 0.25),
        ("1.5s", 1.5),
        ("0", 0.0),
        ("90", 90.0),
        (" 2m ", 120.0),
        (45, 45.0),
        (0.5, 0.5),
    ],
)
def test_parse_duration(value: str | float, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5m", "negative"),
        (-1, "negative"),
        ("", "is not a duration"),
        ("soon", "is not a duration"),
        ("10 minutes", "is not a duration"),
        ("5M", "is not a duration"),
        ("1m1h", "largest first"),
        ("1m1m", "largest first"),
        ("1h-5m", "is not a duration"),
        (True, "is not a duration"),
        (float("inf"), "is not a duration"),
        (float("nan"), "is not a duration"),
    ],
)
def test_parse_duration_rejects(value: str | float, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (600, "10m"), (5400, "1h30m"), (90061, "1d1h1m1s"), (1.5, "1.5s")],
)
def test_format_duration_round_trips(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


def test_format_duration_rejects_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(-1)


# --------------------------------------------------------------------------
# Quiet hours


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, 15, hour, minute, tzinfo=UTC)


def test_quiet_window_is_half_open() -> None:
    quiet = QuietHoursConfig(start=time(0, 0), end=time(6, 0), timezone=zoneinfo.ZoneInfo("UTC"))
    assert quiet.is_quiet(at(0, 0))
    assert quiet.is_quiet(at(5, 59))
    assert not quiet.is_quiet(at(6, 0))
    assert not quiet.is_quiet(at(23, 59))


def test_quiet_window_wraps_past_midnight() -> None:
    quiet = QuietHoursConfig(start=time(22, 0), end=time(6, 0), timezone=zoneinfo.ZoneInfo("UTC"))
    assert quiet.is_quiet(at(23, 0))
    assert quiet.is_quiet(at(2, 0))
    assert not quiet.is_quiet(at(12, 0))
    assert not quiet.is_quiet(at(6, 0))


def test_quiet_window_uses_its_timezone() -> None:
    quiet = QuietHoursConfig()  # 00:00-06:00 Europe/Rome, UTC+1 in January
    assert quiet.is_quiet(at(23, 30))  # 00:30 in Rome
    assert not quiet.is_quiet(at(5, 30))  # 06:30 in Rome


def test_disabled_quiet_hours_are_never_quiet() -> None:
    assert not QuietHoursConfig(enabled=False).is_quiet(at(1, 0))


def test_is_quiet_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        QuietHoursConfig().is_quiet(datetime(2026, 1, 15, 1, 0))


def test_disabled_quiet_hours_may_have_equal_ends(tmp_path: Path) -> None:
    text = PORTAL + '[quiet_hours]\nenabled = false\nstart = "06:00"\n'
    assert load_text(tmp_path, text).quiet_hours.enabled is False


@pytest.fixture
def no_tz_database() -> Iterator[None]:
    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        yield
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()


@pytest.mark.usefixtures("no_tz_database")
def test_missing_tz_database_is_explained(tmp_path: Path) -> None:
    if importlib.util.find_spec("tzdata") is not None:
        pytest.skip("the tzdata Python package provides a database anyway")
    error = error_for(tmp_path, PORTAL + '[quiet_hours]\ntimezone = "America/Lima"\n')
    assert error.key == "quiet_hours.timezone"
    assert "no time zone database" in error.message
    assert "tzdata" in error.message


# --------------------------------------------------------------------------
# The example config.toml


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The repository's config.toml, copied next to a password file."""
    folder = tmp_path / "example"
    write_config(folder, "")
    shutil.copy(REPO_ROOT / "config.toml", folder / "config.toml")
    return folder / "config.toml"


def test_example_config_loads(example: Path) -> None:
    config = load_config(example)
    assert config.portal.url == "https://erp.example.com/Archibald/"
    assert config.portal.password.reveal() == PASSWORD


def test_example_config_shows_the_defaults(example: Path) -> None:
    """Apart from [portal], the example must say what the code does by default."""
    documented = load_config(example)
    defaults = parse_config(PORTAL, example.parent, str(example))
    for name in (
        "database",
        "guard",
        "schedules",
        "quiet_hours",
        "retry",
        "browser",
        "control",
        "metrics",
        "sessions",
        "load",
    ):
        assert getattr(documented, name) == getattr(defaults, name), name


@pytest.mark.parametrize(
    ("section", "key"), [(section, key) for section, keys in SECTION_KEYS.items() for key in keys]
)
def test_every_key_is_read(tmp_path: Path, section: str, key: str) -> None:
    # SECTION_KEYS comes from the dataclass fields: a field that no reader
    # reads would be a key accepted and silently ignored.
    if section == "portal":
        kept = [line for line in PORTAL.splitlines(keepends=True) if not line.startswith(key)]
        text = "".join(kept) + f"{key} = {{}}\n"
    else:
        text = PORTAL + f"[{section}]\n{key} = {{}}\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, text))
    assert caught.value.key == f"{section}.{key}"


def test_public_names() -> None:
    # The public face of the package; its modules are not part of it.
    assert archid.config.__all__ == [
        "CONFIG_ENV_VAR",
        "DEFAULT_CONFIG_PATH",
        "DEFAULT_SCHEDULES",
        "MAX_SOCKET_PATH_BYTES",
        "PASSWORD_CREDENTIAL",
        "SECTION_KEYS",
        "BrowserConfig",
        "Config",
        "ConfigError",
        "ControlConfig",
        "DatabaseConfig",
        "GuardConfig",
        "LoadConfig",
        "MetricsConfig",
        "PasswordFileError",
        "PortalConfig",
        "QuietHoursConfig",
        "RetryConfig",
        "ScheduleConfig",
        "Secret",
        "SessionsConfig",
        "check_config",
        "default_config_path",
        "format_duration",
        "load_config",
        "parse_config",
        "parse_duration",
        "password_credential",
        "read_password_file",
        "summarize_config",
    ]
    assert all(hasattr(archid.config, name) for name in archid.config.__all__)


def test_example_config_mentions_every_key() -> None:
    text = (REPO_ROOT / "config.toml").read_text()
    written = tomllib.loads(text)
    for section, keys in SECTION_KEYS.items():
        path = section.split(".")
        table = written
        for part in path:
            table = table[part]
        header = line_of(text, f"[{section}]")
        for key in keys:
            if key in table:
                continue
            # Optional keys without a default are shown commented out.
            commented = [
                n
                for n, line in enumerate(text.splitlines(), 1)
                if re.match(rf"#\s*{key}\s*=", line) and n > header
            ]
            assert commented, f"{section}.{key} is not in config.toml"


def test_example_config_comments_every_key() -> None:
    lines = (REPO_ROOT / "config.toml").read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"[a-z_]+\s*=", line) and not line.startswith(("every", "offset")):
            above = lines[number - 1]
            below_key = re.match(r"[a-z_]+\s*=", above)
            assert above.startswith("#") or below_key, f"line {number + 1} is not explained"


# --------------------------------------------------------------------------
# check_config


def test_check_config_success(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_config(example) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "https://erp.example.com/Archibald/" in out
    assert "agent01" in out
    assert str(example.parent / "archid.sqlite3") in out
    for export_type in ExportType:
        assert re.search(rf"^\s+{export_type.value}\s+every ", out, re.MULTILINE)
    assert re.search(r"orders\s+every 10m\s+offset 0s\s+priority 6", out)
    assert PASSWORD not in out


def test_check_config_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, PORTAL + '[metrics]\nlisten = "h:70000"\n')
    assert check_config(path) == os.EX_CONFIG == 78
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f'archid: {path}:6: metrics.listen: "h:70000" is not an address and port'
        ' like "127.0.0.1:9464" or "[::1]:9464" (port 1-65535)\n'
    )


def test_check_config_uses_env_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_config(tmp_path / "good", PORTAL)
    write_config(tmp_path / "bad", "[portal]\n")
    monkeypatch.chdir(tmp_path / "bad")

    monkeypatch.setenv("ARCHID_CONFIG", str(good))
    assert check_config() == 0
    monkeypatch.setenv("ARCHID_CONFIG", "")
    assert check_config() == os.EX_CONFIG
    _, err = capsys.readouterr()
    assert err.startswith("archid: config.toml:1: portal.url: ")


def test_default_config_path() -> None:
    assert default_config_path({}) == Path("config.toml")
    assert default_config_path({"ARCHID_CONFIG": ""}) == Path("config.toml")
    assert default_config_path({"ARCHID_CONFIG": "/etc/archid.toml"}) == Path("/etc/archid.toml")


def test_config_can_be_built_directly_for_tests() -> None:
    portal = PortalConfig(
        url="http://127.0.0.1:8000/Archibald/", username="u", password=Secret("p")
    )
    config = Config(portal=portal)
    assert config.schedules[ExportType.ORDERS].every == 600.0
    assert config.quiet_hours.timezone.key == "Europe/Rome"
