"""The transport documents export (``Documenti di trasporto.pdf``,
``CUSTPACKINGSLIPJOUR_ListView``): spec section 2.

Six pages per cycle; a 7th page seen later carries nothing needed. PDF DDT
is always empty. Page 3 has two columns headed NOME DI CONSEGNA: the
delivery name, then the delivery address. Rows without a DDT number or
without an order number are not documents and are dropped.

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

COLUMNS = (
    # page 1
    Column("PDF DDT", None, v.text, optional=True),  # always empty
    Column("ID", "id", v.numeric_id),
    Column("DOCUMENTO DI TRASPORTO:", "ddt_number", v.text),
    Column("DATA DI CONSEGNA", "delivery_date", v.day),
    Column("ID DI VENDITA", "sales_id", v.text),
    # page 2
    Column("CONTO DELL'ORDINE", "order_account", v.text),
    Column("NOME VENDITE:", "sales_name", v.text),
    # page 3: one header, two columns
    Column("NOME DI CONSEGNA", "delivery_name", v.text),
    Column("NOME DI CONSEGNA", "delivery_address", v.text),
    # page 4: the header says total, the cells hold a quantity
    Column("TOTALE", "quantity", v.quantity),
    Column("RIFERIMENTO CLIENTE", "customer_reference", v.text),
    Column("DESCRIZIONE:", "description", v.text),
    # page 5
    Column("NUMERO DI TRACCIABILITÀ", TRACKING, v.tracking),
    Column("TERMINI DI CONSEGNA:", "delivery_terms", v.text),
    # page 6
    Column("MODALITÀ DI CONSEGNA", "delivery_mode", v.text),
    Column("ALL'ATTENZIONE DI", "attention_to", v.text),
    Column("CITTÀ DI CONSEGNA", "delivery_city", v.text),
)

_NO_TRACKING = v.Tracking(None, None, None)


def finish(values: Mapping[str, Any]) -> Ddt | Drop:
    """The transport document, or a :class:`Drop` for a row without ID, without a DDT
    number or without an order number."""
    if values["id"] is None:
        return Drop("no id")
    if values["ddt_number"] is None:
        return Drop("no ddt number")
    if values["sales_id"] is None:
        return Drop("no order number")
    fields = dict(values)
    carrier, number, url = fields.pop(TRACKING) or _NO_TRACKING
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
)
