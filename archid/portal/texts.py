"""The portal's words that archid looks for, Italian and English (spec v3, section 1).

archid finds the portal's controls by what they say or hold, not by ids:
ids carry numbers that change per session, per deployment and per
release. Every text here was seen on the real portal unless marked
otherwise; comparisons go through :func:`same_text`.
"""

from __future__ import annotations

from typing import Final

#: the login button ("Accedi"; "Log In" in the English UI)
LOGIN_BUTTON: Final = ("Accedi", "Log In")
#: the main menu's export item; one click on its anchor downloads the PDF
EXPORT: Final = ("Esportare in", "Export to")
#: a sub-item archid takes if a future portal shows one under the export item
EXPORT_PDF: Final = ("PDF", "PDF File")
#: DDT's and invoices' DXI0: another action, never an export of the list
GET_PDF: Final = ("Get PDF",)
#: the menu's overflow item (its Italian wording was not captured)
SHOW_HIDDEN_ITEMS: Final = ("Show hidden items",)
#: the header context menu's item that opens the grid's customization dialog
SHOW_CUSTOMIZATION: Final = ("Show Customization Dialog",)
#: the customization dialog's tab listing every column with its eye
COLUMN_CHOOSER: Final = ("Column Chooser",)
#: the customization dialog's buttons (inferred wordings beside the seen ids)
APPLY: Final = ("Apply", "Applica", "OK")
CLOSE: Final = ("Close", "Chiudi")
#: the DDT list's known flake (a banner, or a navigation to a page saying it)
REQUESTED_OBJECTS: Final = "Requested objects cannot be loaded"
#: customers' view combo: the list must stay on Clienti, not the map
CUSTOMERS_VIEW: Final = ("Clienti", "Customers")


def normalise(text: str) -> str:
    """``text`` with white space collapsed and case folded, for comparisons."""
    return " ".join(text.split()).casefold()


def same_text(text: str, wanted: str) -> bool:
    """``text`` reads ``wanted``, possibly rendered twice ("Export toExport to")."""
    shown, target = normalise(text), normalise(wanted)
    return bool(target) and shown in (target, target * 2)


def reads_any(text: str, wanted: tuple[str, ...]) -> bool:
    """``text`` reads one of ``wanted`` (see :func:`same_text`)."""
    return any(same_text(text, one) for one in wanted)
