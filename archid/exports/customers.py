"""The customers export (``Clienti.pdf``, ``CUSTTABLE_ListView_Agent``): spec section 2.

Nine pages per cycle. About half the rows are system artefacts with ID ``0``
("Customer/Potential from Concessionario"): they are dropped as
``"artefact"``. PROFILO CLIENTE is canonicalised like an ID, because the
orders refer to it in several spellings (spec section 3, item 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archid.exports import values as v
from archid.exports.layout import Column, Drop, ExportSpec
from archid.records import Customer, ExportType

COLUMNS = (
    # page 1
    Column("ID", "id", v.numeric_id),
    Column("PROFILO CLIENTE", "profile", v.id_or_text),
    Column("NOME", "name", v.text),
    Column("PARTITA IVA", "vat_number", v.text),
    # page 2
    Column("PEC", "pec", v.code),
    Column("SDI", "sdi", v.code),
    Column("CODICE FISCALE", "fiscal_code", v.code),
    Column("TERMINI DI CONSEGNA", "delivery_terms", v.text),
    # page 3
    Column("VIA", "street", v.text),
    Column("INDIRIZZO LOGISTICO CAP", "postal_code", v.text),
    Column("CITTÀ", "city", v.text),
    # page 4
    Column("TELEFONO", "phone", v.text),
    Column("CELLULARE", "mobile", v.text),
    Column("URL", "url", v.code),
    Column("ALL'ATTENZIONE DI", "attention_to", v.text),
    # page 5
    Column("DATA DELL'ULTIMO ORDINE", "last_order_date", v.day),
    Column("CONTEGGI DEGLI ORDINI EFFETTIVI", "order_count", v.count),
    # the header says customer type, the cells hold a sales amount
    Column("TIPO DI CLIENTE", "sales_amount", v.amount),
    # page 6
    Column("CONTEGGIO DEGLI ORDINI PRECEDENTE", "previous_order_count", v.count),
    Column("VENDITE PRECEDENTE", "previous_sales", v.amount),
    # page 7: the same pair for the year before, headers ending in "2"
    Column("CONTEGGIO DEGLI ORDINI PRECEDENTE2", "previous_order_count_2", v.count),
    Column("VENDITE PRECEDENTE2", "previous_sales_2", v.amount),
    # page 8
    Column("DESCRIZIONE", "description", v.text),
    Column("TYPE", "type", v.text),
    Column("NUMERO DI CONTO ESTERNO", "external_account", v.text),
    # page 9
    Column("IL NOSTRO NUMERO DI CONTO", "our_account", v.text),
)


def finish(values: Mapping[str, Any]) -> Customer | Drop:
    """The customer, or a :class:`Drop` for an artefact row (ID ``0``) or a row without ID."""
    key = values["id"]
    if key is None:
        return Drop("no id")
    if key == "0":
        return Drop("artefact")
    return Customer(**values)


SPEC = ExportSpec(
    type=ExportType.CUSTOMERS,
    record=Customer,
    columns=COLUMNS,
    finish=finish,
    file_names=("Clienti.pdf",),
)
