"""The list views' callbacks: what a grid, a combo or the menu asks the server.

``static/list.js`` posts ``__CALLBACKID`` (the control's id) and
``__CALLBACKPARAM`` (``COMMAND|argument|blank``); :func:`handle` changes the
user's saved state or the session's columns and answers with the reply
object the browser unwraps from ``/*DX*/(...)``: a new grid (HTML and
client state), a chosen combo item, a reload, row values, or an error
text for the page's banner.

==============  ===========================================================
command         effect
==============  ===========================================================
``FILTER|v``    combo item by XAF value ``v`` (stale prefix: another item),
                saved for the user
``VIEW|v``      customers' view ("Clienti" / "Mappa clienti"), saved
``SORT|i``      sort by column ``i``: ascending, again: descending; saved
``SORTBY|i/o``  ``SortBy``: column ``i`` in order ``o`` (``ASC``, ``DSC``;
                ``NONE``: unsorted); saved
``PAGE|i``      go to page ``i``; saved
``PSI|n``       page size ``n`` (10/20/50/100/200); saved
``CLEARFILTER`` products: the saved grid filter off; saved
``COLUMNS|…``   the session's visible columns (``GetColumn`` indexes)
``PERFORM|x``   ``PerformCallback(x)``: refreshes, changes nothing
``ROWVALUES``   ``|row|F1;F2``: the row's values
``GETPDF``      DDT and invoices' "Get PDF": needs a selected row
``RESET``       "Reset View Settings": the list's saved state to defaults
==============  ===========================================================

Under the ``grid_error`` fault a grid command whose name contains the
fault's ``path`` answers with an error text instead (the page's banner).
"""

from __future__ import annotations

from typing import Any

from archid.records import ExportType
from archid.sim import filters
from archid.sim.columns import grid_columns
from archid.sim.faults import FaultKind
from archid.sim.gridview import (
    PDF_LINK_TYPES,
    GridView,
    client_state,
    dialog_html,
    grid_html,
    grid_view,
    row_values,
)
from archid.sim.portal import CUSTOMERS_VIEWS, PAGE_SIZES, Portal, Session

Reply = dict[str, Any]

#: ``SortBy``'s sort orders
_ORDERS = ("ASC", "DSC", "NONE")

#: what a grid callback answers under the ``grid_error`` fault
GRID_ERROR_TEXT = "Si è verificato un errore durante l'elaborazione della richiesta."


def build_view(portal: Portal, session: Session, t: ExportType, *, blank: bool) -> GridView | None:
    """The grid ``session`` sees on ``t`` now (``None``: the customers' map)."""
    with portal.lock:
        user = portal.user_state(session.user)
        if t is ExportType.CUSTOMERS and user.customers_view != CUSTOMERS_VIEWS[0]:
            return None
        return grid_view(
            t,
            session.grid_id(t),
            portal.options.layout,
            portal.dataset.records(t),
            user.lists[t],
            user.filter_of(t),
            portal.visible(session, t),
            english=portal.options.english_ui,
            blank=blank and t in PDF_LINK_TYPES,
            stamps=portal.dataset.stamps(t),
            glyphs=portal.options.sort_glyphs,
        )


def _grid_reply(
    portal: Portal, session: Session, t: ExportType, blank: bool, *, dialog: bool = False
) -> Reply:
    view = build_view(portal, session, t, blank=blank)
    if view is None:
        return {"reload": True}
    visible = portal.visible(session, t)
    reply: Reply = {
        "grid": grid_html(view),
        "state": client_state(view, visible, row_values=t is ExportType.PRODUCTS),
    }
    if dialog:
        reply["dialog"] = dialog_html(view, visible)
    return reply


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def handle(portal: Portal, session: Session, t: ExportType, control: str, param: str) -> Reply:
    """Serve one callback of ``t``'s page; never raises for a client's mistake."""
    parts = param.split("|")
    command = parts[0]
    blank = len(parts) > 1 and parts[-1] == "1"
    english = portal.options.english_ui
    with portal.lock:
        user = portal.user_state(session.user)
        state = user.lists[t]
        prefix = portal.options.filter_prefix
        grid = session.grid_id(t)
        columns = grid_columns(t, portal.options.layout)
    if control == "Vertical_mainMenu":
        if command == "RESET":
            with portal.lock:
                user.reset_list(t)
            return {"reload": True}
        if command == "GETPDF" and t in PDF_LINK_TYPES:
            return {
                "error": "Select a row first."
                if english
                else "Selezionare almeno un record per questa azione."
            }
    elif control.endswith("_Cb") and command == "FILTER" and t in filters.ITEMS:
        if not control.endswith(f"_xaf_{prefix}_Cb") or len(parts) < 2:
            return {"error": f"Unknown control {control!r}"}
        with portal.lock:
            suffix = filters.resolve(t, parts[1], prefix, state.filter or "")
            state.filter = suffix
            state.page_index = 0
        chosen = filters.item(t, suffix)
        reply = _grid_reply(portal, session, t, blank)
        reply["combo"] = {"text": chosen.text(english), "value": chosen.value(prefix)}
        return reply
    elif control.endswith("_xaf_ViewVariants_Cb") and command == "VIEW":
        if t is ExportType.CUSTOMERS and len(parts) > 1 and parts[1] in CUSTOMERS_VIEWS:
            with portal.lock:
                user.customers_view = parts[1]
            return {"reload": True, "combo": {"text": parts[1], "value": parts[1]}}
        return {"reload": True}
    elif control == grid:
        if portal.faults.take(FaultKind.GRID_ERROR, str(t), command):
            return {"error": GRID_ERROR_TEXT}
        return _grid_command(portal, session, t, parts, blank, columns)
    return {"error": f"Callback non valido: {control!r} {command!r}"}


def _grid_command(
    portal: Portal,
    session: Session,
    t: ExportType,
    parts: list[str],
    blank: bool,
    columns: tuple[Any, ...],
) -> Reply:
    command = parts[0]
    argument = parts[1] if len(parts) > 1 else ""
    with portal.lock:
        user = portal.user_state(session.user)
        state = user.lists[t]
        if command == "SORT":
            index = _int(argument)
            if index is None or not 0 <= index < len(columns):
                return {"error": "Unknown column"}
            key = columns[index].key
            descending = state.sort[0] == key and not state.sort[1]
            state.sort = (key, descending)
        elif command == "SORTBY":
            column, _, order = argument.partition("/")
            index = _int(column)
            if index is None or not 0 <= index < len(columns) or order not in _ORDERS:
                return {"error": "Unknown column or sort order"}
            state.sort = ("", False) if order == "NONE" else (columns[index].key, order == "DSC")
        elif command == "PAGE":
            index = _int(argument)
            if index is None:
                return {"error": "Bad page"}
            state.page_index = max(index, 0)
        elif command == "PSI":
            size = _int(argument)
            if size in PAGE_SIZES:
                state.page_size = size
                state.page_index = 0
        elif command == "CLEARFILTER":
            if t is ExportType.PRODUCTS:
                user.products_grid_filter = False
                state.page_index = 0
        elif command == "COLUMNS":
            indexes = [_int(i) for i in argument.split(",") if i]
            if any(i is None or not 0 <= i < len(columns) for i in indexes):
                return {"error": "Unknown column"}
            keys = frozenset(columns[i].key for i in indexes if i is not None)
            portal.set_visible(session, t, keys)
            return _grid_reply(portal, session, t, blank, dialog=True)
        elif command == "ROWVALUES":
            view = build_view(portal, session, t, blank=False)
            index = _int(argument)
            fields = parts[2].split(";") if len(parts) > 2 else []
            values = None
            if view is not None and index is not None:
                values = row_values(view, index, fields)
            return {"values": values if values is not None else [None] * len(fields)}
        elif command != "PERFORM":
            return {"error": f"Unknown command {command!r}"}
    return _grid_reply(portal, session, t, blank)
