"""The simulated portal's page shell and its plain pages (landing, errors).

Pages are shaped like DevExpress XAF's WebForms pages. The error pages
(blocked client, maintenance, server error) are plain human text with
their HTTP status: the spec records none of them, so nothing in them is
meant to be keyed on.
"""

from __future__ import annotations

from html import escape
from importlib import resources

from archid.portal.listviews import LIST_VIEWS
from archid.records import ExportType

BASE = "/Archibald/"

TITLES: dict[ExportType, str] = {
    ExportType.CUSTOMERS: "Clienti",
    ExportType.PRODUCTS: "Prodotti",
    ExportType.PRICES: "Tabella prezzi",
    ExportType.ORDERS: "Ordini cliente",
    ExportType.DDT: "Documenti di trasporto",
    ExportType.INVOICES: "Fatture",
}

STYLE = """
body{font-family:Tahoma,Arial,sans-serif;font-size:12px;margin:0;background:#f4f4f4}
.header{background:#2b579a;color:#fff;padding:8px 16px;font-size:16px}
.dxm-main{background:#fff;border-bottom:1px solid #ccc;padding:0 8px}
.dxm-main ul{list-style:none;margin:0;padding:0}
.dxm-horizontal{display:flex;flex-wrap:nowrap}
.dxm-item{position:relative;padding:8px 10px;cursor:pointer;white-space:nowrap}
.dxm-item>a{color:#222;text-decoration:none}
.dxm-popup{display:none;position:absolute;top:100%;right:0;background:#fff;
  border:1px solid #aaa;z-index:20;min-width:160px}
.dxm-popup .dxm-item{display:block}
.dxm-tmplContent table{display:inline-table;border-collapse:collapse}
.dxeButtonEdit_XafTheme input{width:190px}
.dxeButton{border:1px solid #aaa;padding:0 4px;cursor:pointer}
.dxpcDropDown_XafTheme{position:absolute;background:#fff;border:1px solid #888;z-index:40}
.dxeListBoxItem_XafTheme{padding:4px 8px;cursor:pointer}
.content{padding:12px 16px;position:relative}
.dxgvTable_XafTheme{border-collapse:collapse;background:#fff}
.dxgvTable_XafTheme td{border:1px solid #ddd;padding:3px 6px;white-space:nowrap}
.dxgvHeader_XafTheme{background:#e8e8e8;cursor:pointer}
.dxgvLoadingPanel_XafTheme{position:absolute;top:60px;left:40%;z-index:1001;background:#fff;
  border:1px solid #888;padding:12px 20px}
.dxlp-cover{position:fixed;inset:0;z-index:1000;background:rgba(255,255,255,.5)}
.dxgvCustDialog_XafTheme{position:fixed;top:60px;left:30%;width:420px;max-height:80%;
  overflow:auto;background:#fff;border:2px solid #555;z-index:900;padding:8px}
.dxtc-strip{list-style:none;display:flex;gap:8px;padding:0;margin:0 0 8px}
.dxgvCustDialogColumnItem_XafTheme{padding:3px 4px}
.dxgvCustDialogEye{display:inline-block;width:16px;height:12px;cursor:pointer;
  border:1px solid #666}
.dxgvCustDialogColumnShow_XafTheme{background:#2b579a}
.dxgvCustDialogColumnHide_XafTheme{background:#fff}
.dxgvCustDialogGroupHeader_XafTheme{font-weight:bold;cursor:pointer;padding:4px}
.dxbDisabled_XafTheme{color:#aaa;pointer-events:auto}
.dxbButton_XafTheme{padding:2px 8px;border:1px solid #999;margin:2px}
.dxgvHCM{position:absolute;background:#fff;border:1px solid #888;z-index:950}
.xaf-banner{background:#fee;border:1px solid #c00;color:#900;padding:8px;margin:8px 16px}
.login{width:360px;margin:80px auto;background:#fff;border:1px solid #ccc;padding:24px}
.login input{width:100%;margin:4px 0 12px;box-sizing:border-box}
.ErrorInfo{color:#c00;min-height:1em}
"""


def script(name: str) -> str:
    """The text of ``static/<name>``."""
    return resources.files("archid.sim").joinpath(f"static/{name}").read_text("utf-8")


def page(title: str, body: str, head: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="it"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style>{head}</head>"
        f'<body class="XafTheme">{body}</body></html>'
    )


def hidden(name: str, value: str) -> str:
    """A WebForms hidden field (id: the name with ``_`` for ``$``)."""
    return (
        f'<input type="hidden" name="{escape(name)}" id="{escape(name.replace("$", "_"))}" '
        f'value="{escape(value)}" />'
    )


def default_page(user: str, english: bool) -> str:
    """The landing page after a login: links to the list views."""
    links = "".join(
        f'<li><a href="{BASE}{view}/">{escape(TITLES[t])}</a></li>'
        for t, view in LIST_VIEWS.items()
    )
    welcome = "Welcome" if english else "Benvenuto"
    body = (
        f'<div class="header">Archibald — {escape(user)}</div>'
        f'<div class="content"><h2>{welcome}</h2><ul>{links}</ul></div>'
    )
    return page("Archibald", body)


def blocked_page() -> str:
    body = (
        '<div class="content"><h1>403 - Forbidden: Access is denied.</h1>'
        "<p>Accesso bloccato: troppi accessi da questo indirizzo oggi. "
        "Contattare l'amministratore di sistema.</p></div>"
    )
    return page("403 - Forbidden", body)


def maintenance_page() -> str:
    body = (
        '<div class="content"><h1>Manutenzione in corso</h1>'
        "<p>Archibald è temporaneamente non disponibile per manutenzione. "
        "Riprovare più tardi.</p></div>"
    )
    return page("Archibald - Manutenzione", body)


def server_error_page() -> str:
    body = (
        "<h1>Server Error in '/Archibald' Application.</h1>"
        "<h2><i>Runtime Error</i></h2>"
        "<p>An application error occurred on the server.</p>"
    )
    return page("Runtime Error", body)


def requested_objects_page() -> str:
    """Where the DDT flake sometimes navigates instead of showing a banner."""
    body = (
        '<div class="content"><h2>Error</h2>'
        "<p>Requested objects cannot be loaded.</p>"
        f'<p><a href="{BASE}Default.aspx">Home</a></p></div>'
    )
    return page("Error", body)


def not_found_page() -> str:
    return page("404 - Not Found", "<h1>404 - File or directory not found.</h1>")
