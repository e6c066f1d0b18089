"""A list view page (spec v3 "List view pages"): menu, grid, dialog, loading panels.

The page is rendered for one session: the grid's id is the session's, the
columns shown are the session's, filter, sort and page are the user's.
DDT and invoices render their rows with empty cells on every full page
load (seen on the real portal); the cells fill after a real choice in the
filter combo (``static/list.js``).
"""

from __future__ import annotations

import json
from html import escape

from archid.portal.listviews import LIST_VIEWS
from archid.records import ExportType
from archid.sim import menu
from archid.sim.gridview import GridView, client_state, dialog_html, grid_html
from archid.sim.pages import BASE, TITLES, hidden, page, script
from archid.sim.portal import CUSTOMERS_VIEWS, Portal, Session

ENGLISH_TITLES: dict[ExportType, str] = {
    ExportType.CUSTOMERS: "Customers",
    ExportType.PRODUCTS: "Products",
    ExportType.PRICES: "Price table",
    ExportType.ORDERS: "Customer orders",
    ExportType.DDT: "Packing slip journal",
    ExportType.INVOICES: "Customer invoice journal",
}
POLL_PATH = BASE + "DXX.axd"


def list_page(
    portal: Portal,
    session: Session,
    t: ExportType,
    view: GridView | None,
    visible: frozenset[str],
    *,
    banner: str | None = None,
) -> str:
    """The list view of ``t``; ``view`` is ``None`` when the customers show their map."""
    options = portal.options
    english = options.english_ui
    user = portal.user_state(session.user)
    menu_html, menu_config = menu.menu_html(t, options, user.lists[t].filter, user.customers_view)
    title = ENGLISH_TITLES[t] if english else TITLES[t]
    if view is not None:
        body_grid = (
            f'<div id="{view.grid_id}" class="dxgvControl_XafTheme">{grid_html(view)}</div>'
            f'<div id="{view.grid_id}_LP" class="dxgvLoadingPanel_XafTheme dxlp">'
            f"{'Loading…' if english else 'Caricamento…'}</div>" + dialog_html(view, visible)
        )
        state = client_state(view, visible, row_values=t is ExportType.PRODUCTS)
    else:
        body_grid = (
            '<div id="Vertical_v1_Map" class="xafMap" style="width:800px;height:400px;'
            'background:#cde">'
            f"{escape(CUSTOMERS_VIEWS[1])}</div>"
        )
        state = None
    config = {
        "type": str(t),
        "english": english,
        "gridId": view.grid_id if view is not None else None,
        "state": state,
        "blank": bool(view is not None and view.blank),
        "setValueReloads": t is ExportType.ORDERS,
        "sortBy": options.grid_sort_by,
        "initialLoading": portal.timing.initial_loading(),
        "linger": portal.timing.panel_linger(),
        "overflowWidth": options.overflow_width,
        "pollInterval": options.poll_interval,
        "pollUrl": POLL_PATH + "?handlerName=XafCallbackNotifications",
        "menu": menu_config,
        "actions": {"export": menu.EXPORT_ACTION},
    }
    banner_html = f'<div class="xaf-banner" role="alert">{escape(banner)}</div>' if banner else ""
    body = f"""
<div class="header">Archibald — {escape(title)}</div>
<form id="form1" method="post" action="{BASE}{escape(_view_path(t))}/">
{hidden("__EVENTTARGET", "")}{hidden("__EVENTARGUMENT", "")}
{hidden("__VIEWSTATE", portal.viewstate)}{hidden("__VIEWSTATEGENERATOR", "2B1A3F5E")}
{hidden("__EVENTVALIDATION", portal.event_validation)}{hidden("__CLIENTLANGUAGE", "")}
{menu_html}
{banner_html}
<div class="content">
  <h2>{escape(title)}</h2>
  {body_grid}
</div>
</form>
<div id="Vertical_LPV" class="dxlp dxlp-cover"></div>
<script>window.SIM_CONFIG = {json.dumps(config)};</script>
<script>{script("common.js")}</script>
<script>{script("list.js")}</script>"""
    return page(f"{title} - Archibald", body)


def _view_path(t: ExportType) -> str:
    return LIST_VIEWS[t]
