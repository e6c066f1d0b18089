"""A list view's main menu (spec v3 "Export", "Filters"): items, their order, the combos.

The export item sits where the spec saw it (customers DXI6, orders DXI7
after the "copy order" item or DXI3 without it, the others DXI3), shifted
by the ``menu_shift`` option; the overflow item ("Show hidden items") is the
item after the last (customers DXI8, orders DXI9, DDT, invoices and prices
DXI5, products DXI4). Which items move into the overflow is decided in the
browser at load (``static/menu.js``): the combos of orders and DDT always,
and every item from the fourth on in a narrow window.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from archid.records import ExportType
from archid.sim import filters
from archid.sim.portal import CUSTOMERS_VIEWS, PortalOptions

MENU_ID = "Vertical_mainMenu_Menu"
#: items that stay in the menu bar of a narrow window (before ``menu_shift``)
NARROW_KEEP = 3
#: XAF's name of the export action, posted as ``__EVENTARGUMENT``
EXPORT_ACTION = "ExportTo"
GET_PDF_ACTION = "GetPDF"
RESET_ACTION = "ResetViewSettings"


@dataclass(frozen=True, slots=True)
class MenuItem:
    """One top-level item: its text, what it does, whether it sits in the overflow even
    in a wide window."""

    text: str
    action: str = "noop"
    overflow: bool = False


_LABELS = {
    "new": ("Nuovo", "New"),
    "delete": ("Elimina", "Delete"),
    "refresh": ("Aggiorna", "Refresh"),
    "send": ("Invia ordine", "Send order"),
    "copy": ("Copia ordine", "Copy order"),
    "print": ("Stampa", "Print"),
    "map": ("Centra mappa", "Center map"),
    "actions": ("Azioni", "Actions"),
}


def _label(name: str, english: bool) -> MenuItem:
    return MenuItem(_LABELS[name][1 if english else 0])


def items(t: ExportType, options: PortalOptions, customers_view: str) -> list[MenuItem]:
    """The top-level items of ``t``'s menu, in order (index ``k`` is ``DXI<k>``)."""
    english = options.english_ui
    text = "Export to" if english else "Esportare in"
    export = MenuItem(text * 2 if options.doubled_menu_text else text, "export")
    reset = MenuItem("Reset View Settings", "reset")
    combo = MenuItem("", "filter")

    def label(name: str) -> MenuItem:
        return _label(name, english)

    menu: list[MenuItem]
    if t is ExportType.CUSTOMERS:
        if customers_view != CUSTOMERS_VIEWS[0]:
            export = label("map")  # the map has no list to export
        menu = [
            *map(label, ("new", "delete", "refresh")),
            combo,
            MenuItem("", "view"),
            reset,
            export,
            label("print"),
        ]
    elif t is ExportType.ORDERS:
        hidden_combo = MenuItem("", "filter", overflow=True)
        if options.orders_copy_item:
            menu = [
                *map(label, ("new", "delete", "refresh", "send", "copy", "print")),
                reset,
                export,
                hidden_combo,
            ]
        else:
            menu = [
                *map(label, ("new", "delete", "refresh")),
                export,
                label("send"),
                label("print"),
                reset,
                hidden_combo,
            ]
    elif t is ExportType.DDT:
        menu = [
            MenuItem("Get PDF", "getpdf"),
            label("refresh"),
            reset,
            export,
            MenuItem("", "filter", overflow=True),
        ]
    elif t is ExportType.INVOICES:
        menu = [MenuItem("Get PDF", "getpdf"), label("refresh"), combo, export, reset]
    elif t is ExportType.PRICES:
        menu = [label("refresh"), combo, label("print"), export, reset]
    else:
        menu = [label("refresh"), label("print"), reset, export]
    return [label("actions")] * options.menu_shift + menu


def combo_id(k: int, prefix: str) -> str:
    """The filter combo's id in menu item ``k``: ``Vertical_mainMenu_Menu_ITCNT<k>_xaf_a<m>_Cb``."""
    return f"{MENU_ID}_ITCNT{k}_xaf_{prefix}_Cb"


def view_combo_id(k: int) -> str:
    return f"{MENU_ID}_ITCNT{k}_xaf_ViewVariants_Cb"


def _combo(cid: str, label: str, text: str, value: str, texts: list[str]) -> str:
    rows = "".join(
        f'<tr><td id="{cid}_DDD_L_LBI{j}T0" class="dxeListBoxItem_XafTheme">'
        f"{escape(item)}</td></tr>"
        for j, item in enumerate(texts)
    )
    name = cid.replace("_", "$")
    return (
        f'<span class="dxm-label">{escape(label)}</span>'
        f'<table id="{cid}" class="dxeButtonEditSys dxeButtonEdit_XafTheme"><tr>'
        f'<td class="dxic"><input id="{cid}_I" name="{name}" class="dxeEditArea_XafTheme" '
        f'readonly value="{escape(text)}" /></td>'
        f'<td id="{cid}_B-1" class="dxeButton dxeButtonEditButton_XafTheme">▼</td></tr></table>'
        f'<input type="hidden" id="{cid}_VI" name="{name}$VI" value="{escape(value)}" />'
        f'<div id="{cid}_DDD_PW-1" class="dxpcDropDown_XafTheme dxpc-mainDiv" style="display:none">'
        f'<table id="{cid}_DDD_L" class="dxeListBox_XafTheme">{rows}</table></div>'
    )


def menu_html(
    t: ExportType, options: PortalOptions, filter_suffix: str | None, customers_view: str
) -> tuple[str, dict[str, object]]:
    """The menu's HTML and what ``menu.js`` needs to know about it."""
    english = options.english_ui
    prefix = options.filter_prefix
    menu = items(t, options, customers_view)
    parts = []
    config: dict[str, object] = {
        "overflowIndex": len(menu),
        "keep": NARROW_KEEP + options.menu_shift,
    }
    overflow = [k for k, item in enumerate(menu) if item.overflow]
    config["alwaysOverflow"] = overflow
    for k, item in enumerate(menu):
        li = f"{MENU_ID}_DXI{k}_"
        if item.action == "filter":
            cid = combo_id(k, prefix)
            entries = filters.ITEMS[t]
            chosen = filters.item(t, filter_suffix or entries[0].suffix)
            body = _combo(
                cid,
                "Filter:" if english else "Filtro:",
                chosen.text(english),
                chosen.value(prefix),
                [e.text(english) for e in entries],
            )
            config["combo"] = {
                "id": cid,
                "items": [{"text": e.text(english), "value": e.value(prefix)} for e in entries],
            }
            parts.append(
                f'<li id="{li}" class="dxm-item dxm-tmpl" data-action="filter">'
                f'<div id="{MENU_ID}_ITCNT{k}_xaf_{prefix}" class="dxm-tmplContent">'
                f"{body}</div></li>"
            )
        elif item.action == "view":
            cid = view_combo_id(k)
            texts = list(CUSTOMERS_VIEWS)
            body = _combo(
                cid, "Vista:" if not english else "View:", customers_view, customers_view, texts
            )
            config["viewCombo"] = {"id": cid, "items": [{"text": x, "value": x} for x in texts]}
            parts.append(
                f'<li id="{li}" class="dxm-item dxm-tmpl" data-action="view">'
                f'<div class="dxm-tmplContent">{body}</div></li>'
            )
        else:
            title = (
                ' title="Esportare in PDF File"' if item.action == "export" and not english else ""
            )
            if item.action == "export" and english:
                title = ' title="Export to PDF File"'
            parts.append(
                f'<li id="{li}" class="dxm-item" data-action="{item.action}">'
                f'<a id="{li}T" class="dxm-content" href="javascript:;"{title}>'
                f"{escape(item.text)}</a></li>"
            )
    html = (
        f'<div id="Vertical_mainMenu" class="dxm-main dxmLite_XafTheme">'
        f'<ul id="{MENU_ID}" class="dxm-horizontal">{"".join(parts)}</ul></div>'
    )
    return html, config
