"""The invoices export (``Fatture.pdf``, ``CUSTINVOICEJOUR_ListView``): spec section 2.

Seven pages per cycle. FATTURA PDF is always empty. ID FATTURA is a
document number (``CF1/26000113``, credit notes ``NC/25000530``), kept as
written; credit notes print negative amounts. CONTO FATTURE is an account
number and keeps its leading zeros (``049421``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archid.exports import values as v
from archid.exports.layout import Column, Drop, ExportSpec
from archid.records import ExportType, Invoice

COLUMNS = (
    # page 1
    Column("FATTURA PDF", None, v.text, optional=True),  # always empty
    Column("ID FATTURA", "id", v.text),
    Column("DATA FATTURA", "invoice_date", v.day),
    Column("CONTO FATTURE", "account", v.text),
    # page 2
    Column("NOME DI FATTURAZIONE", "billing_name", v.text),
    Column("QUANTITÀ", "quantity", v.quantity),
    Column("SALDO VENDITE MST", "sales_balance", v.amount),
    # page 3
    Column("SOMMA LINEA SCONTO MST", "line_discount_sum", v.amount),
    Column("SCONTO TOTALE:", "total_discount", v.amount),
    Column("SOMMA FISCALE MST", "tax_sum", v.amount),
    Column("IMPORTO FATTURA MST", "invoice_amount", v.amount),
    # page 4
    Column("ORDINE DI ACQUISTO", "purchase_order", v.text),
    Column("RIFERIMENTO CLIENTE", "customer_reference", v.text),
    Column("SCADENZA", "due_date", v.day),
    # page 5
    Column("ID TERMINE DI PAGAMENTO", "payment_term_id", v.text),
    Column("OLTRE I GIORNI DI SCADENZA", "days_past_due", v.count),
    # page 6
    Column("LIQUIDA IMPORTO MST", "settled_amount", v.amount),
    Column("IDENTIFICATIVO ULTIMO PAGAMENTO:", "last_payment_id", v.text),
    Column("DATA DI ULTIMA LIQUIDAZIONE", "last_settlement_date", v.day),
    # page 7
    Column("CHIUSO", "closed", v.flag),
    Column("IMPORTO RIMANENTE MST", "remaining_amount", v.amount),
    Column("ID VENDITE", "sales_id", v.text),  # the order's ID DI VENDITA
)


def finish(values: Mapping[str, Any]) -> Invoice | Drop:
    """The invoice, or a :class:`Drop` for a row without an invoice number."""
    if values["id"] is None:
        return Drop("no id")
    return Invoice(**values)


SPEC = ExportSpec(
    type=ExportType.INVOICES,
    record=Invoice,
    columns=COLUMNS,
    finish=finish,
    file_names=("Fatture.pdf", "Giornale di registrazione fatture cliente.pdf"),
)
