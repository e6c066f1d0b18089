"""The ``/_sim/`` test API: ground truth, data changes, faults, clock.

Served only with ``archid sim --test-api``. Every reply is JSON; a bad
request gets HTTP 400 with ``{"error": ...}``, an unknown record 404.

==========  ===============================  ==========================================
method      path                             what it does
==========  ===============================  ==========================================
GET         /_sim/state                      data version, logins, sessions, saved user
                                             state, exports, options, faults
GET         /_sim/truth/<type>               the records a correct parser yields
POST        /_sim/records/<type>             add a record (JSON as in the truth)
PATCH       /_sim/records/<type>/<key>       change fields of a record
DELETE      /_sim/records/<type>/<key>       delete a record
POST        /_sim/mutate/<type>              ``{"n": 5, "seed": 1}`` random changes
POST        /_sim/renumber/<type>            ``{"seed": 1}``: new internal IDs, all else kept
GET/POST    /_sim/faults                     list faults / arm one (see ``faults.py``)
DELETE      /_sim/faults                     disarm all, release hung responses
POST        /_sim/expire-sessions            end every session now
POST        /_sim/clock                      ``{"advance": seconds}``
POST        /_sim/options                    change portal options (``{"layout": "2026-01"}``)
POST        /_sim/reset-user-state           saved user state back to a new user's
POST        /_sim/saved-filters              save filter items as the user's own choice
==========  ===============================  ==========================================

Every add and change (``POST``/``PATCH /_sim/records``, ``/_sim/mutate``)
is made at the simulator's clock (:meth:`Portal.local_now`, which
``/_sim/clock`` moves): a product's ``modified_at`` becomes that time
(unless a ``PATCH`` sets ``modified_at`` itself), and the MODIFIEDDATETIME
the grid shows for an order, DDT, invoice or price becomes it, as the real
ERP stamps every change. New customers from ``/_sim/mutate`` get an ID
above every existing one.

``/_sim/saved-filters`` takes ``{"ddt": "ListViewPackingSlipsToday",
"customers": "Free_customers", "products": true, ...}``: per list the suffix
of the combo item to save for the simulator's user (as if the agent had
chosen it in their own browser); for products, whether the saved grid
filter is on. Unknown types or suffixes: 400, nothing saved.

Keys in paths are the records' ``key`` (:mod:`archid.records`), percent-encoded
(``CF1%2F26000113``, ``ORD%2F26000887``, a pending order's ``71980``, a price's
``021752K1%7C002%7C2026-01-01%7C1%7C100000000``). The truth is what a correct
parser yields from a full export of the current layout epoch: every column of
the layout shown, Italian locale, no saved filter.
"""

from __future__ import annotations

import dataclasses
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from archid.records import RECORD_TYPES, ExportType, from_json, record_key, to_json
from archid.sim import filters
from archid.sim.cache import ExportCache
from archid.sim.layouts import ExportView, truth_json
from archid.sim.portal import Portal

Reply = tuple[HTTPStatus, Any]


class _BadRequest(Exception):
    pass


def handle(
    portal: Portal,
    cache: ExportCache,
    method: str,
    path: str,
    query: dict[str, list[str]],
    body: bytes,
) -> Reply:
    """Serve one test API request; never raises for a client's mistake."""
    parts = [unquote(part) for part in path.split("/")[2:]]
    try:
        payload = json.loads(body) if body.strip() else None
    except ValueError:
        return HTTPStatus.BAD_REQUEST, {"error": "the body is not valid JSON"}
    try:
        return _route(portal, cache, method, parts, payload)
    except _BadRequest as exc:
        return HTTPStatus.BAD_REQUEST, {"error": str(exc)}
    except ValueError as exc:
        return HTTPStatus.BAD_REQUEST, {"error": str(exc)}
    except KeyError as exc:
        return HTTPStatus.NOT_FOUND, {"error": f"no such record: {exc.args[0]!s}"}


def _route(
    portal: Portal, cache: ExportCache, method: str, parts: list[str], payload: Any
) -> Reply:
    head = parts[0] if parts else ""
    dataset = portal.dataset
    if method == "GET" and parts == ["state"]:
        state = portal.state_json()
        state["exports_generated"] = cache.generated
        return HTTPStatus.OK, state
    if head == "truth" and method == "GET" and len(parts) == 2:
        export_type = _type(parts[1])
        with portal.lock:
            full = ExportView(layout=portal.options.layout)
            return HTTPStatus.OK, truth_json(dataset, export_type, full)
    if head == "records" and len(parts) in (2, 3):
        return _records(portal, method, _type(parts[1]), parts[2:], payload)
    if head == "mutate" and method == "POST" and len(parts) == 2:
        spec = _object(payload or {})
        n, seed = spec.get("n", 1), spec.get("seed", 0)
        if not isinstance(n, int) or not isinstance(seed, int) or n < 1:
            raise _BadRequest("mutate takes a positive integer n and an integer seed")
        with portal.lock:
            done = dataset.mutate(_type(parts[1]), seed, n, at=portal.local_now())
            return HTTPStatus.OK, {"version": dataset.version, "changes": _jsonable(done)}
    if head == "renumber" and method == "POST" and len(parts) == 2:
        seed = _object(payload or {}).get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise _BadRequest('renumber takes {"seed": integer}')
        with portal.lock:
            done = dataset.renumber(_type(parts[1]), seed)
            return HTTPStatus.OK, {"version": dataset.version, "renumbered": len(done)}
    if head == "faults" and len(parts) == 1:
        if method == "GET":
            return HTTPStatus.OK, portal.faults.as_json()
        if method == "POST":
            return HTTPStatus.CREATED, portal.faults.arm(_object(payload)).as_json()
        if method == "DELETE":
            portal.faults.clear()
            return HTTPStatus.OK, {"cleared": True}
    if method == "POST" and parts == ["expire-sessions"]:
        return HTTPStatus.OK, {"expired": portal.expire_sessions()}
    if method == "POST" and parts == ["clock"]:
        advance = _object(payload).get("advance")
        if not isinstance(advance, int | float) or isinstance(advance, bool) or advance < 0:
            raise _BadRequest('clock takes {"advance": seconds ≥ 0}')
        portal.advance_clock(float(advance))
        return HTTPStatus.OK, {"now": portal.now()}
    if method == "POST" and parts == ["options"]:
        with portal.lock:
            portal.options.update(_object(payload))
        return HTTPStatus.OK, portal.state_json()["options"]
    if method == "POST" and parts == ["reset-user-state"]:
        portal.reset_user_state()
        return HTTPStatus.OK, {"reset": True}
    if method == "POST" and parts == ["saved-filters"]:
        return HTTPStatus.OK, _saved_filters(portal, _object(payload))
    return HTTPStatus.NOT_FOUND, {"error": f"no test API route {method} /_sim/{'/'.join(parts)}"}


def _saved_filters(portal: Portal, choices: dict[str, Any]) -> dict[str, Any]:
    """Save filter items for the simulator's user, all or none."""
    checked: dict[ExportType, Any] = {}
    for name, value in choices.items():
        t = _type(name)
        if t is ExportType.PRODUCTS:
            if not isinstance(value, bool):
                raise _BadRequest("products takes true or false (the saved grid filter)")
        elif not isinstance(value, str):
            raise _BadRequest(f"{name} takes the suffix of a filter item")
        else:
            try:
                filters.item(t, value)
            except KeyError:
                known = ", ".join(i.suffix for i in filters.ITEMS[t])
                raise _BadRequest(f"unknown {name} filter {value!r} (known: {known})") from None
        checked[t] = value
    with portal.lock:
        user = portal.user_state(portal.options.user)
        for t, value in checked.items():
            if t is ExportType.PRODUCTS:
                user.products_grid_filter = value
            else:
                user.lists[t].filter = value
                user.lists[t].page_index = 0
        return user.as_json(portal.options.filter_prefix)


def _records(
    portal: Portal, method: str, export_type: ExportType, rest: list[str], payload: Any
) -> Reply:
    cls = RECORD_TYPES[export_type]
    dataset = portal.dataset
    with portal.lock:
        if method == "POST" and not rest:
            record = dataset.add(
                export_type, from_json(cls, _object(payload)), at=portal.local_now()
            )
            return HTTPStatus.CREATED, {"version": dataset.version, "key": record_key(record)}
        if method == "PATCH" and rest:
            # A change may move the record to a new key (a pending order that
            # gets its number keeps its place under ORD/…): the reply names it.
            changes = _object(payload)
            current = dataset.get(export_type, rest[0])
            merged = from_json(cls, {**to_json(current), **changes})
            values = {name: getattr(merged, name) for name in changes}
            updated = dataset.update(export_type, rest[0], at=portal.local_now(), **values)
            return HTTPStatus.OK, {
                "version": dataset.version,
                "key": record_key(updated),
                "record": to_json(updated),
            }
        if method == "DELETE" and rest:
            dataset.delete(export_type, rest[0])
            return HTTPStatus.OK, {"version": dataset.version}
    raise _BadRequest(f"{method} is not allowed here")


def _type(name: str) -> ExportType:
    try:
        return ExportType(name)
    except ValueError:
        known = ", ".join(t.value for t in ExportType)
        raise _BadRequest(f"unknown export type {name!r} (known: {known})") from None


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise _BadRequest("the body must be a JSON object")
    return payload


def _jsonable(value: Any) -> Any:
    """Mutation reports may hold records; give them their JSON form."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value) in RECORD_TYPES.values():
            return to_json(value)  # type: ignore[arg-type]
        # A Change holds records: each field in its own JSON form.
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)
