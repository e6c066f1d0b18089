"""The prices export (``Tabella prezzi.pdf``, ``PRICEDISCTABLE_ListView``): spec v2 section 2.

Three pages per cycle, about 47 one-line rows a page. ID is the price row's
own internal number, not a product; the article is ITEM SELECTION: and the
price group ACCOUNT: (text, ``002``). A price is keyed by article, price
group, validity start and quantity range (QUANTITÀIMPORTODA and
QUANTITÀIMPORTO, the two headers run together as printed), so those columns
are strict. Open-ended validity is a far date (``31/12/2154``), kept as
printed. PREZZO NETTO BRASSELER is a flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archid.exports import values as v
from archid.exports.layout import Column, Drop, ExportSpec
from archid.records import ExportType, Price

COLUMNS = (
    Column("ID", "id", v.numeric_id),
    Column("CODICE CONTO", "account_code", v.text),
    Column("ACCOUNT:", "price_group", v.text, strict=True),
    Column("DESCRIZIONE ACCOUNT:", "price_group_name", v.text),
    Column("ITEM SELECTION:", "article", v.text, strict=True),
    Column("ITEM DESCRIPTION:", "catalogue_number", v.text),
    Column("DA DATA", "valid_from", v.day, strict=True),
    Column("DATA", "valid_to", v.day),
    Column("QUANTITÀIMPORTODA", "qty_from", v.quantity, strict=True),
    Column("QUANTITÀIMPORTO", "qty_to", v.quantity, strict=True),
    Column("UNITÀ DI PREZZO", "price_unit", v.text),
    Column("IMPORTO UNITARIO:", "unit_price", v.amount),
    Column("VALUTA", "currency", v.text),
    Column("PREZZO NETTO BRASSELER", "net_price", v.flag),
)


def finish(values: Mapping[str, Any]) -> Price | Drop:
    """The price, or a :class:`Drop` for a row without an article."""
    if values["article"] is None:
        return Drop("no article")
    return Price(**values)


SPEC = ExportSpec(
    type=ExportType.PRICES,
    record=Price,
    columns=COLUMNS,
    finish=finish,
    file_names=("Tabella prezzi.pdf",),
    english_file_names=("Price table.pdf",),
)
