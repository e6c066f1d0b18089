"""HTML of the simulated portal, shaped like DevExpress XAF's WebForms pages."""

from __future__ import annotations

import json
from html import escape
from importlib import resources
from urllib.parse import quote

from archid.portal.listviews import LIST_VIEWS
from archid.records import ExportType
from archid.sim.layouts import FRESH_PRODUCTS, LAYOUTS, NEWEST
from archid.sim.portal import Portal, Session

BASE = "/Archibald/"

TITLES: dict[ExportType, str] = {
    ExportType.CUSTOMERS: "Clienti",
    ExportType.PRODUCTS: "Prodotti",
    ExportType.PRICES: "Tabella prezzi",
    ExportType.ORDERS: "Ordini cliente",
    ExportType.DDT: "Documenti di trasporto",
    ExportType.INVOICES: "Fatture",
}

#: the product columns a fresh session hides, as its column chooser lists them
HIDDEN_PRODUCT_COLUMNS = [
    header
    for page in LAYOUTS[NEWEST][ExportType.PRODUCTS]
    for header in page
    if not any(header in fresh for fresh in FRESH_PRODUCTS)
]

_STYLE = """
body{font-family:Tahoma,Arial,sans-serif;font-size:12px;margin:0;background:#f4f4f4}
.header{background:#2b579a;color:#fff;padding:8px 16px;font-size:16px}
.dxm-main{background:#fff;border-bottom:1px solid #ccc;padding:0 8px}
.dxm-main>ul{list-style:none;margin:0;padding:0;display:flex}
.dxm-item{position:relative;padding:8px 12px;cursor:pointer;white-space:nowrap}
.dxm-item>a{color:#222;text-decoration:none}
.dxm-popup{display:none;position:absolute;top:100%;left:0;background:#fff;
  border:1px solid #aaa;z-index:20;min-width:120px}
.dxm-popup ul{list-style:none;margin:0;padding:0}
.dxm-popup .dxm-item{display:block}
.content{padding:12px 16px}
table.dxgv{border-collapse:collapse;background:#fff}
table.dxgv td,table.dxgv th{border:1px solid #ddd;padding:3px 6px}
table.dxgv th{background:#e8e8e8}
#Vertical_LPV{position:fixed;inset:0;z-index:1000;background:rgba(255,255,255,.6)}
#Vertical_LPV .dxlpLoadingPanel{position:absolute;top:40%;left:45%;padding:12px 20px;
  background:#fff;border:1px solid #888}
.ErrorInfo{display:none;position:fixed;top:30%;left:30%;z-index:900;background:#fff;
  border:2px solid #c00;padding:16px}
.dxeListBoxItem{padding:4px 8px;cursor:pointer}
.dxgvCCList{list-style:none;margin:4px 0;padding:0}
.dxgvCCItem{padding:4px 8px;cursor:pointer}
.login{width:360px;margin:80px auto;background:#fff;border:1px solid #ccc;padding:24px}
.login input{width:100%;margin:4px 0 12px;box-sizing:border-box}
.error{color:#c00}
"""


def _script() -> str:
    return resources.files("archid.sim").joinpath("static/portal.js").read_text("utf-8")


def _page(title: str, body: str, head: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="it"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style>{head}</head>"
        f'<body class="XafTheme">{body}</body></html>'
    )


def _hidden(name: str, value: str) -> str:
    return (
        f'<input type="hidden" name="{escape(name)}" id="{escape(name.replace("$", "_"))}" '
        f'value="{escape(value)}" />'
    )


def login_page(portal: Portal, return_url: str, error: str | None = None) -> str:
    """The XAF logon form; field names carry a number that changes per start."""
    prefix = f"Logon$v0_{portal.field_number}$MainLayoutEdit$xaf_l12"
    user_name = f"{prefix}$xaf_l30$xaf_dviUserName_Edit"
    password_name = f"{prefix}$xaf_l35$xaf_dviPassword_Edit"
    button = "Log In" if portal.options.english_ui else "Accedi"
    action = f"{BASE}Login.aspx?ReturnUrl={quote(return_url, safe='')}"
    error_html = f'<div class="error" id="Logon_ErrorInfo">{escape(error)}</div>' if error else ""
    body = f"""
<div class="header">Archibald</div>
<form name="form1" method="post" action="{escape(action)}" id="form1">
{_hidden("__EVENTTARGET", "")}{_hidden("__EVENTARGUMENT", "")}
{_hidden("__VIEWSTATE", portal.viewstate)}{_hidden("__VIEWSTATEGENERATOR", "CA0B0334")}
{_hidden("__EVENTVALIDATION", portal.event_validation)}
{_hidden(user_name.replace("_Edit", "_EditorClientInfo"), "")}
{_hidden(password_name.replace("_Edit", "_EditorClientInfo"), "")}
<div class="login">
  <h2>Accesso</h2>{error_html}
  <label>Nome utente</label>
  <input type="text" name="{escape(user_name)}" id="{escape(user_name.replace("$", "_"))}_I"
    autocomplete="off" />
  <label>Password</label>
  <input type="password" name="{escape(password_name)}"
    id="{escape(password_name.replace("$", "_"))}_I" />
  <div class="dxm-main" id="Logon_PopupActions_Menu"><ul>
    <li class="dxm-item" id="Logon_PopupActions_Menu_DXI0_">
      <a class="dxm-content" id="Logon_PopupActions_Menu_DXI0_T" href="#">{button}</a></li>
  </ul></div>
</div>
</form>
<script>
(function () {{
  var button = document.getElementById("Logon_PopupActions_Menu_DXI0_T");
  button.addEventListener("click", function (e) {{
    e.preventDefault();
    if (!e.isTrusted) {{ return; }}
    document.getElementById("__EVENTTARGET").value = "Logon$PopupActions$Menu";
    document.getElementById("form1").submit();
  }});
}})();
</script>"""
    return _page("Archibald - Accesso", body)


def default_page(portal: Portal, session: Session) -> str:
    links = "".join(
        f'<li><a href="{BASE}{view}/" id="nav_{view}">{escape(TITLES[t])}</a></li>'
        for t, view in LIST_VIEWS.items()
    )
    body = (
        f'<div class="header">Archibald — {escape(session.user)}</div>'
        f'<div class="content"><h2>Benvenuto</h2><ul id="Navigation">{links}</ul></div>'
    )
    return _page("Archibald", body)


def _menu(portal: Portal, export_type: ExportType) -> str:
    labels = ["Nuovo", "Elimina", "Aggiorna", "Filtri", "Stampa", "Vista", "Strumenti"]
    if export_type is ExportType.ORDERS:
        labels.insert(2, "Copia ordine")
    index = portal.options.export_menu_index
    if export_type is ExportType.ORDERS:
        index = portal.options.orders_export_menu_index
    index = min(index, len(labels))
    export_label = "Export to" if portal.options.english_ui else "Esportare in"
    if portal.options.doubled_menu_text:
        export_label *= 2
    labels.insert(index, export_label)
    items = []
    for k, label in enumerate(labels):
        item_id = f"Vertical_mainMenu_Menu_DXI{k}_"
        if k == index:
            subs = "".join(
                f'<li class="dxm-item" id="Vertical_mainMenu_Menu_DXI{k}i{j}_" '
                f'data-action="export" data-format="{fmt}">'
                f'<a class="dxm-content" id="Vertical_mainMenu_Menu_DXI{k}i{j}_T" '
                f'href="#">{fmt.upper()}</a></li>'
                for j, fmt in enumerate(("pdf", "xls", "xlsx", "rtf", "csv"))
            )
            items.append(
                f'<li class="dxm-item dxm-subMenu" id="{item_id}">'
                f'<a class="dxm-content" id="{item_id}T" href="#">{escape(label)}</a>'
                f'<div class="dxm-popup" id="Vertical_mainMenu_Menu_DXME{k}_">'
                f'<ul class="dxm-sub">{subs}</ul></div></li>'
            )
        else:
            items.append(
                f'<li class="dxm-item" id="{item_id}" data-action="noop">'
                f'<a class="dxm-content" id="{item_id}T" href="#">{escape(label)}</a></li>'
            )
    return (
        '<div class="dxm-main" id="Vertical_mainMenu">'
        f'<ul id="Vertical_mainMenu_Menu">{"".join(items)}</ul></div>'
    )


def _orders_controls(orders_all: bool) -> str:
    current = "Tutti gli ordini" if orders_all else "Ordini aperti"
    return f"""
<div class="dxeButtonEdit" id="Vertical_v1_SalesFilter">Mostra:
  <input readonly id="Vertical_v1_SalesFilter_I" value="{current}" />
  <div id="Vertical_v1_SalesFilter_DDD" class="dxpc-mainDiv" style="display:none">
    <table><tr><td class="dxeListBoxItem" id="Vertical_v1_SalesFilter_DDD_L_LBI0T0"
      data-value="open">Ordini aperti</td></tr>
    <tr><td class="dxeListBoxItem" id="Vertical_v1_SalesFilter_DDD_L_LBI1T0"
      data-value="all">Tutti gli ordini</td></tr></table>
  </div>
</div>"""


def _products_filter_bar() -> str:
    return (
        '<div id="Vertical_v1_FilterBar" class="dxgvFilterBar">'
        "Filtro: [Gruppo articolo] = 'FRESE' "
        '<a id="Vertical_v1_FilterBar_Clear" href="#">Cancella filtro</a></div>'
    )


def _column_chooser(english: bool, switchable: list[str], show_all: list[str]) -> str:
    """The grid's column chooser ("Scelta colonne"): hidden columns to switch on one by
    one (``switchable``), or all at once (``show_all`` lists them, for the products)."""
    if not switchable and not show_all:
        return ""
    label = "Column Chooser" if english else "Scelta colonne"
    items = "".join(
        f'<li class="dxgvCCItem" data-column="{escape(name)}">{escape(name)}</li>'
        for name in switchable
    )
    everything = ""
    if show_all:
        everything = (
            f'<div class="dxgvCCHidden">{escape(", ".join(show_all))}</div>'
            '<a class="dxgvCCShowAll" id="Vertical_v1_ColumnChooser_ShowAll" href="#">'
            f"{'Show all columns' if english else 'Mostra tutte le colonne'}</a>"
        )
    return (
        f'<a id="Vertical_v1_ColumnChooser" class="dxgvCCButton" href="#">{label}</a>'
        '<div id="Vertical_v1_ColumnChooser_PW" class="dxpc-mainDiv" style="display:none">'
        f'<ul class="dxgvCCList">{items}</ul>{everything}</div>'
    )


def list_page(portal: Portal, session: Session, export_type: ExportType, count: int) -> str:
    """A list view: main menu, list state controls, loading panel, error popup."""
    state = portal.user_state(session)
    english = portal.options.english_ui
    controls = ""
    if export_type is ExportType.ORDERS:
        controls = _orders_controls(state.orders_all)
    elif export_type is ExportType.PRODUCTS:
        if state.products_filter:
            controls = _products_filter_bar()
        hidden = HIDDEN_PRODUCT_COLUMNS if portal.hides_product_columns(session) else []
        controls += _column_chooser(english, [], hidden)
    else:
        controls = _column_chooser(english, portal.hidden_columns(session, export_type), [])
    config = {
        "loadingMin": portal.options.loading_min,
        "loadingMax": portal.options.loading_max,
        "initialLoading": portal.loading_time(),
        "overflowWidth": 1280,
    }
    title = TITLES[export_type]
    body = f"""
<div class="header">Archibald — {escape(title)}</div>
<form id="form1" method="post">
{_hidden("__VIEWSTATE", portal.viewstate)}
{_menu(portal, export_type)}
<div class="content">
  <h2 id="Vertical_v1_Caption">{escape(title)}</h2>
  {controls}
  <table class="dxgv" id="Vertical_v1_LE_v2"><tr><th>{escape(title)}</th></tr>
  <tr><td id="Vertical_v1_RecordCount">{count} record</td></tr></table>
</div>
</form>
<div id="Vertical_ErrorInfo" class="ErrorInfo"><div id="Vertical_ErrorInfo_Text"></div>
  <a id="Vertical_ErrorInfo_Close" href="#">OK</a></div>
<div id="Vertical_LPV" class="dxlp"><div class="dxlpLoadingPanel">Caricamento…</div></div>
<script>window.SIM_CONFIG = {json.dumps(config)};</script>
<script>{_script()}</script>"""
    return _page(f"{title} - Archibald", body)


def blocked_page() -> str:
    body = (
        '<div class="content"><h1>403 - Forbidden: Access is denied.</h1>'
        '<p id="Blocked">Accesso bloccato: troppi accessi da questo indirizzo oggi '
        "(blocked). Contattare l'amministratore di sistema.</p></div>"
    )
    return _page("403 - Accesso bloccato", body)


def maintenance_page() -> str:
    body = (
        '<div class="content"><h1 id="Maintenance">Manutenzione in corso</h1>'
        "<p>Archibald è temporaneamente non disponibile per manutenzione. "
        "Riprovare più tardi.</p></div>"
    )
    return _page("Archibald - Manutenzione", body)


def server_error_page() -> str:
    body = (
        "<h1>Server Error in '/Archibald' Application.</h1>"
        '<h2 id="ServerError"><i>Runtime Error</i></h2>'
        "<p>An application error occurred on the server.</p>"
    )
    return _page("Runtime Error", body)


def not_found_page() -> str:
    return _page("404 - Not Found", "<h1>404 - File or directory not found.</h1>")
