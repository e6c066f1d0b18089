"""The prices export (``Tabella prezzi.pdf``, ``PRICEDISCTABLE_ListView``): spec section 2.

Three pages per cycle, one price per cycle: the biggest export (about
15,000 pages). QUANTITÀ appears twice: the quantity range's start on page 2,
its end on page 3. Open-ended validity is a far date (``31/12/2154``), kept
as printed. The product is :attr:`~archid.records.Price.product_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archid.exports import values as v
from archid.exports.layout import Column, Drop, ExportSpec
from archid.records import ExportType, Price

COLUMNS = (
    # page 1
    Column("ID", "id", v.numeric_id),
    Column("CODICE CONTO", "account_code", v.text),
    Column("ACCOUNT:", "account", v.text),
    Column("DESCRIZIONE ACCOUNT:", "account_description", v.text),
    Column("ITEM SELECTION:", "item_selection", v.text),  # an article code
    # page 2
    Column("ITEM DESCRIPTION:", "item_description", v.text),
    Column("DA DATA", "from_date", v.day),
    Column("DATA", "to_date", v.day),
    Column("QUANTITÀ", "qty_from", v.quantity),
    # page 3
    Column("QUANTITÀ", "qty_to", v.quantity),
    Column("UNITÀ DI PREZZO", "price_unit", v.text),
    Column("IMPORTO UNITARIO:", "unit_price", v.amount),
    Column("VALUTA", "currency", v.text),
    Column("PREZZO NETTO BRASSELER", "net_price_brasseler", v.amount),
)


def finish(values: Mapping[str, Any]) -> Price | Drop:
    """The price, or a :class:`Drop` for a row without ID."""
    if values["id"] is None:
        return Drop("no id")
    return Price(**values)


SPEC = ExportSpec(
    type=ExportType.PRICES,
    record=Price,
    columns=COLUMNS,
    finish=finish,
    file_names=("Tabella prezzi.pdf",),
)
