"""The orders export (``Ordini.pdf``, ``SALESTABLE_ListView_Agent``): spec v2 section 2.

Seven pages per cycle; from March 2026 page 7 adds E-MAIL, a column a
session may not show, so it is optional. Rows with a non-numeric ID or no
creation date are not orders (the summary row is one) and are dropped;
both columns are strict, so that an unreadable cell fails the export
rather than dropping an order.

Keyed by the order number (ID DI VENDITA, ``ORD/26000887``); pending
orders and drafts have none and are keyed by their internal ID (digits).
PROFILO CLIENTE: is the ordering account, text with its leading zeros.
RIMANI VENDITE FINANZIARIE holds the purchase-order number, APPLICA
SCONTO %: a percentage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archid.exports import values as v
from archid.exports.layout import Column, Drop, ExportSpec
from archid.records import ExportType, Order

COLUMNS = (
    # canonicalised in finish: a non-numeric ID is a row to drop, not a bad cell
    Column("ID", "id", v.text, strict=True),
    Column("ID DI VENDITA", "order_number", v.text, strict=True),
    Column("PROFILO CLIENTE:", "account", v.text),
    Column("NOME VENDITE:", "account_name", v.text),
    Column("NOME DI CONSEGNA", "delivery_name", v.text),
    Column("INDIRIZZO DI CONSEGNA", "delivery_address", v.text),  # street, then "CAP city PROV"
    Column("DATA DI CREAZIONE", "created_at", v.moment, strict=True),
    Column("DATA DI CONSEGNA", "delivery_date", v.day),
    Column("RIMANI VENDITE FINANZIARIE", "purchase_order", v.text),
    Column("RIFERIMENTO CLIENTE", "customer_reference", v.text),
    Column("STATO DELLE VENDITE", "sales_status", v.text),
    Column("TIPO DI ORDINE", "order_type", v.text),
    Column("STATO DEL DOCUMENTO", "document_status", v.text),
    Column("ORIGINE VENDITE:", "sales_origin", v.text),
    Column("STATO DEL TRASFERIMENTO", "transfer_status", v.text),
    Column("DATA DI TRASFERIMENTO", "transfer_date", v.day),
    Column("DATA DI COMPLETAMENTO", "completed_date", v.day),
    Column("PREVENTIVO:", "quote", v.flag),
    Column("APPLICA SCONTO %:", "discount_percent", v.percent),
    Column("IMPORTO LORDO:", "gross_amount", v.amount),
    Column("IMPORTO TOTALE", "total_amount", v.amount),
    Column("ORDINE OMAGGIO:", "gift_order", v.flag),
    Column("E-MAIL", "email", v.text, optional=True),
)


def finish(values: Mapping[str, Any]) -> Order | Drop:
    """The order, or a :class:`Drop` for a row without ID, with a non-numeric ID or
    without a creation date."""
    raw = values["id"]
    if raw is None:
        return Drop("no id")
    key = v.parse_numeric_id(raw)
    if key is None:
        return Drop("non-numeric id")
    if values["created_at"] is None:
        return Drop("no creation date")
    return Order(**{**values, "id": key})


SPEC = ExportSpec(
    type=ExportType.ORDERS,
    record=Order,
    columns=COLUMNS,
    finish=finish,
    file_names=("Ordini.pdf", "Ordini cliente.pdf"),
    english_file_names=("Customer orders.pdf",),
)
