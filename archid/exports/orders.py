"""The orders export (``Ordini.pdf``, ``SALESTABLE_ListView_Agent``): spec section 2.

Seven pages per cycle; exports from later in 2026 add E-MAIL on page 7, so
that column is optional. The export also carries rows that are not orders:
ID ``0``, a non-numeric ID, or no creation date; they are dropped (the ID is
read as text so that such a row is dropped rather than failing the parse).

Drafts and pending orders have an empty ID DI VENDITA: they keep
``sales_id=None`` and are keyed by their own numeric ID, never by the empty
number (spec section 3, item 7). PROFILO CLIENTE: comes in several
spellings of one ID (``55.220``, ``55220``, ``55.22``) and is canonicalised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archid.exports import values as v
from archid.exports.layout import Column, Drop, ExportSpec
from archid.records import ExportType, Order

COLUMNS = (
    # page 1
    Column("ID", "id", v.text),  # canonicalised in finish: junk rows are dropped, not fatal
    Column("ID DI VENDITA", "sales_id", v.text),
    Column("PROFILO CLIENTE:", "customer_profile", v.id_or_text),
    Column("NOME VENDITE:", "sales_name", v.text),
    # page 2
    Column("NOME DI CONSEGNA", "delivery_name", v.text),
    Column("INDIRIZZO DI CONSEGNA", "delivery_address", v.text),  # street, then "CAP city PROV"
    # page 3
    Column("DATA DI CREAZIONE", "created_at", v.moment),
    Column("DATA DI CONSEGNA", "delivery_date", v.day),
    # the header says financial remainder, the cells hold the order's description
    Column("RIMANI VENDITE FINANZIARIE", "description", v.text),
    # page 4
    Column("RIFERIMENTO CLIENTE", "customer_reference", v.text),
    Column("STATO DELLE VENDITE", "sales_status", v.text),
    Column("TIPO DI ORDINE", "order_type", v.text),
    Column("STATO DEL DOCUMENTO", "document_status", v.text),
    # page 5
    Column("ORIGINE VENDITE:", "sales_origin", v.text),
    Column("STATO DEL TRASFERIMENTO", "transfer_status", v.text),
    Column("DATA DI TRASFERIMENTO", "transfer_date", v.day),
    # page 6
    Column("DATA DI COMPLETAMENTO", "completed_date", v.day),
    Column("PREVENTIVO:", "quote", v.flag),
    Column("APPLICA SCONTO %:", "apply_discount", v.amount),
    Column("IMPORTO LORDO:", "gross_amount", v.amount),
    # page 7
    Column("IMPORTO TOTALE", "total_amount", v.amount),
    Column("ORDINE OMAGGIO:", "gift_order", v.flag),
    Column("E-MAIL", "email", v.text, optional=True),
)


def finish(values: Mapping[str, Any]) -> Order | Drop:
    """The order, or a :class:`Drop` for a row without ID, with ID ``0``, with a
    non-numeric ID or without a creation date."""
    raw = values["id"]
    if raw is None:
        return Drop("no id")
    key = v.parse_numeric_id(raw)
    if key is None:
        return Drop("non-numeric id")
    if key == "0":
        return Drop("id 0")
    if values["created_at"] is None:
        return Drop("no creation date")
    fields = dict(values)
    fields["id"] = key
    return Order(**fields)


SPEC = ExportSpec(
    type=ExportType.ORDERS,
    record=Order,
    columns=COLUMNS,
    finish=finish,
    file_names=("Ordini.pdf", "Ordini cliente.pdf"),
)
