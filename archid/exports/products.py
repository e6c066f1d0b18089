"""The products export (``Prodotti.pdf``, ``INVENTTABLE_ListView``): spec section 2.

Nine pages per cycle when all 38 columns are shown. A fresh portal session
hides some columns (5 or 8 pages per cycle): that export lacks data, so every
column that feeds a field is required and such a file fails with
:class:`~archid.exports.errors.MissingHeader` instead of blanking fields.
Only IMMAGINE, which always prints "System.Byte[]", may be missing.

ID ARTICOLO is an article code (``H1.314.016``), kept as written: its dots
are not thousands dots. The column headed ID is a numeric record ID.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archid.exports import values as v
from archid.exports.layout import Column, Drop, ExportSpec
from archid.records import ExportType, Product

COLUMNS = (
    # page 1
    Column("ID ARTICOLO", "id", v.text),
    Column("NOME ARTICOLO", "name", v.text),
    Column("DESCRIZIONE", "description", v.text),
    # page 2
    Column("GRUPPO ARTICOLO", "group", v.text),
    Column("IMMAGINE", None, v.text, optional=True),  # always "System.Byte[]"
    Column("CONTENUTO DELL'IMBALLAGGIO", "package_content", v.text),
    Column("NOME DELLA RICERCA", "search_name", v.text),
    # page 3
    Column("UNITÀ DI PREZZO", "price_unit", v.text),
    Column("ID GRUPPO DI PRODOTTI", "product_group_id", v.text),
    Column("DESCRIZIONE GRUPPO ARTICOLO", "group_description", v.text),
    Column("QTÀ MINIMA", "min_qty", v.quantity),
    # page 4
    Column("QTÀ MULTIPLI", "multiple_qty", v.quantity),
    Column("QTÀ MASSIMA", "max_qty", v.quantity),
    Column("FIGURA", "figure", v.text),
    Column("DATAAREAID", "data_area_id", v.text),
    Column("ID", "record_id", v.id_or_text),
    Column("DATETIME MODIFICATO", "modified_at", v.moment),
    # page 5
    Column("FERMATO", "stopped", v.flag),
    Column("ID IN BLOCCO ARTICOLO", "block_id", v.text),
    Column("PACCO", "pack", v.text),
    Column("GAMBA", "shank", v.text),
    Column("GRANDEZZA", "size", v.text),
    Column("ID CONFIGURAZIONE", "config_id", v.text),
    # page 6
    Column("CREATO DA", "created_by", v.text),
    Column("DATA CREATA", "created_on", v.day),
    Column("QTÀ PREDEFINITA", "default_qty", v.quantity),
    Column("VISUALIZZA NUMERO PRODOTTO", "display_number", v.text),
    # page 7
    Column("SCONTO ASSOLUTO TOTALE", "total_absolute_discount", v.flag),
    Column("SCONTO LINEA", "line_discount", v.flag),
    Column("MODIFICATO DA", "modified_by", v.text),
    Column("ARTICOLO ORDINABILE", "orderable", v.flag),
    # page 8
    Column("PURCH PRICE", "purchase_price", v.amount),
    Column("PCS ID CONFIGURAZIONE STANDARD", "standard_config_id", v.text),
    Column("QTÀ STANDARD", "standard_qty", v.quantity),
    Column("ID ELEMENTO IVAID", "vat_item_id", v.text),
    # page 9
    Column("ID UNITÀ", "unit_id", v.text),
)


def finish(values: Mapping[str, Any]) -> Product | Drop:
    """The product, or a :class:`Drop` for a row without an article code."""
    if values["id"] is None:
        return Drop("no id")
    return Product(**values)


SPEC = ExportSpec(
    type=ExportType.PRODUCTS,
    record=Product,
    columns=COLUMNS,
    finish=finish,
    file_names=("Prodotti.pdf",),
)
