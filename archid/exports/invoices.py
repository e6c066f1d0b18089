"""The invoices export (``Fatture.pdf``, ``CUSTINVOICEJOUR_ListView``): spec v2 section 2.

Seven pages per cycle. FATTURA PDF is always empty. ID FATTURA is the
document number and the key (``CF1/26000113``, credit notes
``NC/25000530``). CONTO FATTURE is an account number, text with its
leading zeros. Amounts come without € and without trailing zeros
(``2.112,7``, ``1.791``); QUANTITÀ is an integer with thousands dots.
CHIUSO is the closing date, empty while the invoice is open. ID VENDITE
(the order) is there only when the session switched it on: optional.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archid.exports import values as v
from archid.exports.layout import Column, Drop, ExportSpec
from archid.records import ExportType, Invoice

COLUMNS = (
    Column("FATTURA PDF", None, v.text, optional=True),  # always empty
    Column("ID FATTURA", "invoice_number", v.text, strict=True),
    Column("DATA FATTURA", "invoice_date", v.day),
    Column("CONTO FATTURE", "account", v.text),
    Column("NOME DI FATTURAZIONE", "billing_name", v.text),
    Column("QUANTITÀ", "quantity", v.integer),
    Column("SALDO VENDITE MST", "sales_balance", v.amount),
    Column("SOMMA LINEA SCONTO MST", "line_discount_sum", v.amount),
    Column("SCONTO TOTALE:", "total_discount", v.amount),
    Column("SOMMA FISCALE MST", "tax_sum", v.amount),
    Column("IMPORTO FATTURA MST", "invoice_amount", v.amount),
    Column("ORDINE DI ACQUISTO", "purchase_order", v.text),
    Column("RIFERIMENTO CLIENTE", "customer_reference", v.text),
    Column("SCADENZA", "due_date", v.day),
    Column("ID TERMINE DI PAGAMENTO", "payment_terms", v.text),
    Column("OLTRE I GIORNI DI SCADENZA", "days_past_due", v.integer),
    Column("LIQUIDA IMPORTO MST", "settled_amount", v.amount),
    Column("IDENTIFICATIVO ULTIMO PAGAMENTO:", "last_payment_id", v.text),
    Column("DATA DI ULTIMA LIQUIDAZIONE", "last_settlement_date", v.day),
    Column("CHIUSO", "closed_on", v.day),  # a date, never a flag
    Column("IMPORTO RIMANENTE MST", "remaining_amount", v.amount),
    Column("ID VENDITE", "order_number", v.text, optional=True),
)


def finish(values: Mapping[str, Any]) -> Invoice | Drop:
    """The invoice, or a :class:`Drop` for a row without an invoice number (the summary)."""
    if values["invoice_number"] is None:
        return Drop("no invoice number")
    return Invoice(**values)


SPEC = ExportSpec(
    type=ExportType.INVOICES,
    record=Invoice,
    columns=COLUMNS,
    finish=finish,
    file_names=("Fatture.pdf", "Giornale di registrazione fatture cliente.pdf"),
    english_file_names=("Customer invoice journal.pdf",),
)
