"""The customers export (``Clienti.pdf``, ``CUSTTABLE_ListView_Agent``): spec v2 section 2.

26 columns, 8 pages per cycle in January 2026 and 9 from February (the
parser finds each column wherever the cycle puts it). Captions that do not
say what the column holds are read for what it holds: TIPO DI CLIENTE is
this year's sales, the two VENDITE PRECEDENTE (the same header twice, told
apart by their order) the two previous years'. PROFILO CLIENTE: is the
account number, text with its leading zeros (``049421``); the ID is the
record's key and its only one (no row has ID ``0``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archid.exports import values as v
from archid.exports.layout import Column, Drop, ExportSpec
from archid.records import Customer, ExportType

COLUMNS = (
    Column("ID", "id", v.numeric_id, strict=True),
    Column("PROFILO CLIENTE:", "account", v.text),
    Column("NOME", "name", v.text),
    Column("PARTITA IVA:", "vat_number", v.text),
    Column("PEC:", "pec", v.code),
    Column("SDI:", "sdi", v.code),
    Column("CODICE FISCALE:", "fiscal_code", v.code),
    Column("TERMINI DI CONSEGNA", "delivery_mode", v.text),  # "FedEx": a mode, not terms
    Column("VIA:", "street", v.text),
    Column("INDIRIZZO LOGISTICO CAP", "postal_code", v.text),
    Column("CITTÀ", "city", v.text),
    Column("TELEFONO:", "phone", v.text),
    Column("CELLULARE:", "mobile", v.text),
    Column("URL:", "url", v.code),
    Column("ALL’ATTENZIONE DI:", "attention_to", v.text),
    Column("DATA DELL'ULTIMO ORDINE", "last_order_date", v.day),
    Column("CONTEGGI DEGLI ORDINI EFFETTIVI", "order_count", v.integer),
    Column("TIPO DI CLIENTE", "sales_this_year", v.amount),
    Column("CONTEGGIO DEGLI ORDINI PRECEDENTE", "order_count_last_year", v.integer),
    Column("VENDITE PRECEDENTE", "sales_last_year", v.amount),
    Column("CONTEGGIO DEGLI ORDINI PRECEDENTE 2", "order_count_year_before", v.integer),
    Column("VENDITE PRECEDENTE", "sales_year_before", v.amount),  # the second one
    Column("DESCRIZIONE:", "description", v.text),
    Column("TYPE:", "type_code", v.text),
    Column("NUMERO DI CONTO ESTERNO", "external_account", v.text),
    Column("IL NOSTRO NUMERO DI CONTO", "our_account", v.text),
)


def finish(values: Mapping[str, Any]) -> Customer | Drop:
    """The customer, or a :class:`Drop` for a row without ID."""
    if values["id"] is None:
        return Drop("no id")
    return Customer(**values)


SPEC = ExportSpec(
    type=ExportType.CUSTOMERS,
    record=Customer,
    columns=COLUMNS,
    finish=finish,
    file_names=("Clienti.pdf",),
    english_file_names=("Customers.pdf",),
)
