"""The control package without a daemon: its surface, the framing, the config keys, roles."""

from __future__ import annotations

import grp
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

import archid.control
from archid.config import ConfigError, load_config, summarize_config
from archid.control.errors import (
    ControlError,
    NotAuthorised,
    ProtocolError,
    Refused,
    error_for_code,
)
from archid.control.peers import Peer, Role, Roles
from archid.control.protocol import BadRequest, NotJson, notification_line, parse_request
from archid.control.serialise import to_json
from archid.daemon.answers import Cancellation, ListedDeadLetter, RunningSync, Status
from archid.daemon.breaker import BreakerState
from archid.daemon.state import Pauses
from archid.daemon.worker import Attempt
from archid.records import ExportType
from archid.runs import Mode, Outcome, Trigger
from tests.config_files import PORTAL, write_config


def test_the_public_surface_is_what_ctl_builds_on() -> None:
    assert sorted(archid.control.__all__, key=str.lower) == [
        "Client",
        "ControlError",
        "NotAuthorised",
        "NotListening",
        "PROTOCOL_VERSION",
        "ProtocolError",
        "Refused",
    ]


def test_error_codes_map_to_one_class_each_way() -> None:
    assert isinstance(error_for_code(-32001, "no"), NotAuthorised)
    assert isinstance(error_for_code(-32000, "no"), Refused)
    assert isinstance(error_for_code(-32602, "no"), Refused)
    assert isinstance(error_for_code(-32601, "no"), ProtocolError)
    error = error_for_code(-32602, "bad", {"x": 1})
    assert (error.code, error.message, error.data) == (-32602, "bad", {"x": 1})
    assert all(issubclass(c, ControlError) for c in (NotAuthorised, Refused, ProtocolError))


def test_requests_are_parsed_or_refused_with_their_id() -> None:
    call = parse_request(b'{"jsonrpc":"2.0","id":"a","method":"history","params":{"limit":3}}')
    assert (call.method, call.params, call.id, call.notification) == (
        "history",
        {"limit": 3},
        "a",
        False,
    )
    assert parse_request(b'{"jsonrpc":"2.0","method":"status"}').notification
    with pytest.raises(BadRequest) as bad:
        parse_request(b'{"jsonrpc":"2.0","id":9,"method":"x","params":[1]}')
    assert bad.value.id == 9
    for not_json in (b"\xff", b"{", b"NaN", b'{"a": Infinity}', b"[" * 100000):
        with pytest.raises(NotJson):
            parse_request(not_json)
    with pytest.raises(BadRequest):
        parse_request(b'{"jsonrpc":"2.0","id":true,"method":"status"}')


def test_notifications_are_one_line_of_strict_json() -> None:
    line = notification_line("event", {"x": float("nan"), "t": "a\nb"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    params = {"x": None, "t": "a\nb"}
    assert json.loads(line) == {"jsonrpc": "2.0", "method": "event", "params": params}


def test_roles_from_uid_and_groups() -> None:
    nogroup = grp.getgrnam("nogroup").gr_gid
    roles = Roles(admin_groups=["root"], read_groups=["nogroup", "no-such-group"], own_uid=1234)
    assert roles.role_of(Peer(1, 0, 0, frozenset({0}))) is Role.ADMIN
    assert roles.role_of(Peer(1, 1234, 99, frozenset({99}))) is Role.ADMIN
    assert roles.role_of(Peer(1, 500, 500, frozenset({500, 0}))) is Role.ADMIN
    assert roles.role_of(Peer(1, 500, 500, frozenset({500, nogroup}))) is Role.READ
    assert roles.role_of(Peer(1, 500, 500, frozenset({500}))) is None
    assert roles.unknown_groups() == ["no-such-group"]


def test_control_config_keys(tmp_path: Path) -> None:
    config = load_config(
        write_config(
            tmp_path,
            PORTAL + '[control]\nsocket = "run/ctl.sock"\nadmin_groups = ["wheel"]\n'
            'read_groups = ["www-data", "archid"]\nidle_timeout = "90s"\n',
        )
    )
    assert config.control.socket == tmp_path / "run" / "ctl.sock"  # beside the file
    assert config.control.admin_groups == ("wheel",)
    assert config.control.read_groups == ("www-data", "archid")
    assert config.control.idle_timeout == 90.0
    summary = summarize_config(config)
    assert "admin groups: wheel, read groups: www-data, archid, idle timeout 1m30s" in summary
    for bad, says in [
        ('read_groups = "archid"', "must be a list of group names"),
        ("admin_groups = [1]", "must be a list of group names"),
        ('admin_groups = [" x"]', "is not a group name"),
        ('idle_timeout = "0s"', "zero"),
    ]:
        with pytest.raises(ConfigError, match=says):
            load_config(write_config(tmp_path, PORTAL + f"[control]\n{bad}\n"))


def test_answers_become_json_values_by_field_enum_value_and_sorted_set() -> None:
    pauses = Pauses(False, frozenset({ExportType.ORDERS, ExportType.DDT}))
    letter = ListedDeadLetter(
        7, ExportType.PRICES, "LayoutChanged", None, "header changed", 12.5,
        (Attempt(1, 12.5, "LayoutChanged", "parse", "header changed", transient=False),),
    )  # fmt: skip
    assert to_json({"paused": pauses, "letters": [letter]}) == {
        "paused": {"everything": False, "types": ["ddt", "orders"]},
        "letters": [
            {
                "id": 7,
                "type": "prices",
                "error": "LayoutChanged",
                "stage": None,
                "message": "header changed",
                "at": 12.5,
                "attempts": [
                    {
                        "number": 1,
                        "at": 12.5,
                        "error": "LayoutChanged",
                        "stage": "parse",
                        "message": "header changed",
                        "transient": False,
                    }
                ],
            }
        ],
    }
    assert to_json(Cancellation(ExportType.ORDERS, "running")) == {
        "cancelled": "orders",
        "was": "running",
    }
    when = datetime(2026, 5, 28, 10, 30, tzinfo=UTC)
    assert to_json({ExportType.DDT: when, 3: (Outcome.OK, 1.5)}) == {
        "ddt": "2026-05-28T10:30:00+00:00",
        "3": ["ok", 1.5],
    }
    # The result is what the protocol writes as it is: plain JSON, no default= needed.
    text = json.dumps(to_json(letter))
    assert json.loads(text)["type"] == "prices"


def test_a_status_answer_has_the_keys_of_the_protocol_and_says_its_state() -> None:
    running = RunningSync(ExportType.ORDERS, 3, 1, 100.0, Mode.FULL, Trigger.MANUAL, "parse")
    status = Status(
        running=None, queue=(), paused=Pauses(), breaker=BreakerState.HALF_OPEN,
        portal_hold=None, sessions=0, next_due={ExportType.ORDERS: 160.0}, healthy=True,
    )  # fmt: skip
    assert list(to_json(status)) == [
        "running", "queue", "paused", "breaker", "portal_hold", "sessions", "next_due", "healthy",
    ]  # fmt: skip
    assert to_json(status)["breaker"] == "half_open" and status.state == "breaker half_open"
    assert replace(status, paused=Pauses(everything=True)).state == "paused"
    assert replace(status, portal_hold="portal hold since …").state == "portal hold"
    syncing = replace(status, running=running, portal_hold="portal hold since …")
    assert syncing.state == "syncing"
    assert to_json(syncing)["running"] == {
        "type": "orders", "run": 3, "attempt": 1, "since": 100.0,
        "mode": "full", "trigger": "manual", "stage": "parse",
    }  # fmt: skip
    assert replace(status, breaker=BreakerState.CLOSED).state == "idle"
