"""The control package without a daemon: its surface, the framing, the config keys, roles."""

from __future__ import annotations

import grp
import json
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
from tests.test_config import PORTAL, write_config


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
