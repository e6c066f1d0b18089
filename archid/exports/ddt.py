"""The transport documents export (``Documenti di trasporto.pdf``,
``CUSTPACKINGSLIPJOUR_ListView``): spec v2 section 2.

Six pages per cycle in January 2026; from March a seventh page of columns
archid does not know (ignored with a warning). PDF DDT is always empty.
Page 3 has two columns headed NOME DI CONSEGNA: the delivery name, then
the delivery address, told apart by their order. TOTALE holds a quantity,
DESCRIZIONE: the purchase-order number and CITTÀ DI CONSEGNA the delivery
e-mail address(es). Rows without a DDT number or without an order number
are not documents and are dropped.

The NUMERO DI TRACCIABILITÀ cell feeds three record fields: its column
feeds the pseudo-field :data:`TRACKING` with a
:class:`~archid.exports.values.Tracking`, which :func:`finish` splits into
``tracking_carrier``, ``tracking_number`` and ``tracking_url``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archid.exports import values as v
from archid.exports.layout import Column, Drop, ExportSpec
from archid.records import Ddt, ExportType

#: the pseudo-field of the tracking column; not a field of :class:`~archid.records.Ddt`
TRACKING = "tracking"
#: the record fields :data:`TRACKING` stands for
TRACKING_FIELDS = ("tracking_carrier", "tracking_number", "tracking_url")

COLUMNS = (
    Column("PDF DDT", None, v.text, optional=True),  # always empty
    Column("ID", "id", v.numeric_id),
    Column("DOCUMENTO DI TRASPORTO:", "ddt_number", v.text, strict=True),
    Column("DATA DI CONSEGNA", "delivery_date", v.day),
    Column("ID DI VENDITA", "order_number", v.text, strict=True),
    Column("CONTO DELL'ORDINE", "order_account", v.text),
    Column("NOME VENDITE:", "account_name", v.text),
    Column("NOME DI CONSEGNA", "delivery_name", v.text),
    Column("NOME DI CONSEGNA", "delivery_address", v.text),  # the second one
    Column("TOTALE", "quantity", v.integer),
    Column("RIFERIMENTO CLIENTE", "customer_reference", v.text),
    Column("DESCRIZIONE:", "purchase_order", v.text),
    Column("NUMERO DI TRACCIABILITÀ", TRACKING, v.tracking),
    Column("TERMINI DI CONSEGNA:", "delivery_terms", v.text),
    Column("MODALITÀ DI CONSEGNA", "delivery_mode", v.text),
    Column("ALL'ATTENZIONE DI", "attention_to", v.text),
    Column("CITTÀ DI CONSEGNA", "delivery_email", v.text),
)

_NO_TRACKING = v.Tracking(None, None, None)


def finish(values: Mapping[str, Any]) -> Ddt | Drop:
    """The transport document, or a :class:`Drop` for a row without a DDT number or
    without an order number."""
    if values["ddt_number"] is None:
        return Drop("no ddt number")
    if values["order_number"] is None:
        return Drop("no order number")
    fields = dict(values)
    carrier, number, url = fields.pop(TRACKING) or _NO_TRACKING
    unread = fields["unread"]
    if TRACKING in unread:
        fields["unread"] = (unread - {TRACKING}) | frozenset(TRACKING_FIELDS)
    return Ddt(**fields, tracking_carrier=carrier, tracking_number=number, tracking_url=url)


SPEC = ExportSpec(
    type=ExportType.DDT,
    record=Ddt,
    columns=COLUMNS,
    finish=finish,
    file_names=(
        "Documenti di trasporto.pdf",
        "Giornale di registrazione bolla di consegna.pdf",
    ),
    english_file_names=("Packing slip journal.pdf",),
)
