"""The products export (``Prodotti.pdf``, ``INVENTTABLE_ListView``): spec v2 section 2.

Nine pages per cycle with all columns shown (March 2026), eight in January
(without ID ELEMENTO IVAID, which is therefore optional). A fresh portal
session hides 18 columns (5 pages): that export lacks data, so every other
column that feeds a field is required and such a file fails with
:class:`~archid.exports.errors.MissingHeader` naming them instead of
blanking fields; the portal client shows all columns before exporting.
IMMAGINE always prints "System.Byte[]" and feeds nothing.

ID ARTICOLO is the article code and the key (``021752K1``, ``005159K2``),
kept as written; NOME ARTICOLO: is the catalogue number, shared by pack
sizes. The column headed ID is the internal ID, renumbered by the ERP.
Columns whose values the spec does not show (the discounts, ARTICOLO
ORDINABILE:, CONTENUTO DELL'IMBALLAGGIO) are kept as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archid.exports import values as v
from archid.exports.layout import Column, Drop, ExportSpec
from archid.records import ExportType, Product

COLUMNS = (
    Column("ID ARTICOLO", "article", v.text, strict=True),
    Column("NOME ARTICOLO:", "catalogue_number", v.text),
    Column("DESCRIZIONE", "description", v.text),
    Column("GRUPPO ARTICOLO:", "group", v.text),
    Column("IMMAGINE:", None, v.text, optional=True),  # always "System.Byte[]"
    Column("CONTENUTO DELL'IMBALLAGGIO", "pack_size", v.text),
    Column("NOME DELLA RICERCA", "search_name", v.text),
    Column("UNITÀ DI PREZZO:", "price_unit", v.text),
    Column("ID GRUPPO DI PRODOTTI", "product_group_id", v.text),
    Column("DESCRIZIONE GRUPPO ARTICOLO:", "group_description", v.text),
    Column("QTÀ MINIMA:", "min_qty", v.quantity),
    Column("QTÀ MULTIPLI:", "multiple_qty", v.quantity),
    Column("QTÀ MASSIMA:", "max_qty", v.quantity),
    Column("FIGURA:", "figure", v.text),
    Column("DATAAREAID", "data_area_id", v.text),
    Column("ID", "id", v.numeric_id),
    Column("DATETIME MODIFICATO", "modified_at", v.moment),
    Column("FERMATO", "stopped", v.flag),
    Column("ID IN BLOCCO DELL'ARTICOLO", "block_id", v.text),
    Column("PACCO", "pack", v.text),
    Column("GAMBA", "shank", v.text),
    Column("GRANDEZZA", "size", v.text),
    Column("ID DI CONFIGURAZIONE", "config_id", v.text),
    Column("CREATO DA:", "created_by", v.text),
    Column("DATA CREATA", "created_at", v.moment),
    Column("QTÀ PREDEFINITA:", "default_qty", v.quantity),
    Column("VISUALIZZA IL NUMERO DI PRODOTTO", "display_number", v.text),
    Column("SCONTO ASSOLUTO TOTALE:", "total_absolute_discount", v.text),
    Column("SCONTO LINEA", "line_discount", v.text),
    Column("MODIFICATO DA:", "modified_by", v.text),
    Column("ARTICOLO ORDINABILE:", "orderable", v.text),
    Column("PURCH PRICE PCS", "purchase_price", v.amount),
    Column("ID DI CONFIGURAZIONE STANDARD", "standard_config_id", v.text),
    Column("QTÀ STANDARD:", "standard_qty", v.quantity),
    Column("ID ELEMENTO IVAID", "vat_item_id", v.text, optional=True),
    Column("ID UNITÀ", "unit_id", v.text),
)


def finish(values: Mapping[str, Any]) -> Product | Drop:
    """The product, or a :class:`Drop` for a row without an article code."""
    if values["article"] is None:
        return Drop("no article")
    return Product(**values)


SPEC = ExportSpec(
    type=ExportType.PRODUCTS,
    record=Product,
    columns=COLUMNS,
    finish=finish,
    file_names=("Prodotti.pdf",),
    english_file_names=("Products.pdf",),
)
