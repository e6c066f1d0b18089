"""The six exports as the real portal lays them out: file names, pages, columns, cells.

:func:`build_grid` turns records into the :class:`~archid.sim.grid.Grid`
that the PDF writer prints; it reproduces spec section 2 column by column,
including the portal's noise, so that a parser which reads our exports reads
the real ones:

* headers page by page exactly as the spec writes them (upper case, trailing
  colons, "NOME DI CONSEGNA" twice on the DDT's third page, the always empty
  PDF DDT / FATTURA PDF columns, IMMAGINE always "System.Byte[]");
* Italian formats: ``124.497,43 €``, ``-2.150,88 €``, ``21/01/2026``,
  ``20/01/2026 12:04:22``, IDs with thousands dots (``71.039``), accounts
  with leading zeros (``049421``); a decimal prints exactly the digits its
  :class:`~decimal.Decimal` holds (``Decimal("2112.7")`` → ``2.112,7``);
* the customers' artefact rows (ID ``0``, "Customer/Potential from
  Concessionario") interleaved at the real proportion, 1,424 per 1,515 real
  rows; a few junk order rows (ID ``0``, or no creation date) and DDT rows
  without a DDT or order number, which parsers must drop;
* the same customer profile spelt ``55.220``, ``55220`` or ``55.22`` in the
  orders' PROFILO CLIENTE: (and ``55220`` now and then in the customers'
  PROFILO CLIENTE), chosen by a hash of the row's key so an export is stable;
* DDT tracking cells as raw HTML
  (``<a href = "URL" target="_blank">fedex 445291890750</a>``) when the
  record has a URL, else plain ``fedex 445291890750``. The record's
  ``tracking_carrier`` is the link text's first word as printed (lower case),
  ``tracking_number`` the rest, ``tracking_url`` the href; the DDT's
  MODALITÀ DI CONSEGNA keeps the display spelling ("FedEx").

Flags are spelt per column, as the portal does: "Sì"/"No" for PREVENTIVO:,
ARTICOLO ORDINABILE and CHIUSO; "Checked"/"Unchecked" for ORDINE OMAGGIO:,
FERMATO, SCONTO ASSOLUTO TOTALE and SCONTO LINEA. Amounts carry " €" in the
columns listed in :data:`EURO_COLUMNS`; other amounts, quantities and
percentages are bare numbers.

The closing summary row puts ``Count=<printed data rows>`` (artefact and
junk rows included, as DevExpress counts grid rows) under the first ID
column and ``Sum=<total>`` (no € sign, e.g. ``Sum=785.057,97``) under the
main amount columns; artefact and junk rows have empty amounts, so the sums
equal the sums over the records.

:func:`expected_records` gives what a correct parser yields from an export
made with a given :class:`ExportView`; for :data:`FULL_VIEW` it is the
dataset's records unchanged.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from archid.records import (
    Customer,
    Ddt,
    ExportType,
    Order,
    Product,
    Record,
    to_json,
)
from archid.sim.dataset import Dataset
from archid.sim.grid import Align, Column, Grid

#: Printable width of a US Letter page with 72 pt margins.
PAGE_WIDTH = 468.0


@dataclass(frozen=True, slots=True)
class ExportView:
    """The portal state (user profile, browser locale) that changes an export.

    * ``month_first_dates``: an English browser writes ``MM/DD/YYYY`` and
      ``MM/DD/YYYY HH:MM:SS`` (numbers stay Italian);
    * ``orders_all``: the orders list is on "Tutti gli ordini"; ``False``
      exports only open orders (not delivered, not invoiced);
    * ``products_filter``: a saved filter leaves about 9 % of the products;
    * ``products_all_columns``: ``False`` hides the columns of
      :data:`HIDDEN_PRODUCT_COLUMNS`, and the cycle shrinks from 9 to 5 pages;
    * ``orders_email_column``: the later 2026 exports add E-MAIL on page 7;
    * ``ddt_extra_page``: the 7th DDT page seen later (nothing needed on it).
    """

    month_first_dates: bool = False
    orders_all: bool = True
    products_filter: bool = False
    products_all_columns: bool = True
    orders_email_column: bool = False
    ddt_extra_page: bool = False


#: The view whose correct parse is exactly :meth:`Dataset.records`: every record, every column.
FULL_VIEW = ExportView(orders_email_column=True)

FILE_NAMES: Mapping[ExportType, str] = {
    ExportType.CUSTOMERS: "Clienti.pdf",
    ExportType.PRODUCTS: "Prodotti.pdf",
    ExportType.PRICES: "Tabella prezzi.pdf",
    ExportType.ORDERS: "Ordini.pdf",
    ExportType.DDT: "Documenti di trasporto.pdf",
    ExportType.INVOICES: "Fatture.pdf",
}

ARTEFACT_NAME = "Customer/Potential from Concessionario"
#: Artefact rows per real customer row in the real export: 1,424 of 2,939 rows.
ARTEFACT_RATIO = (1424, 1515)
#: Order statuses that make an order "not open": excluded when ``orders_all`` is off.
CLOSED_ORDER_STATUSES = frozenset({"Consegnato", "Fatturato"})
HIDDEN_PRODUCT_COLUMNS = frozenset(
    {
        "IMMAGINE", "CONTENUTO DELL'IMBALLAGGIO", "NOME DELLA RICERCA", "DATAAREAID", "ID",
        "DATETIME MODIFICATO", "ID IN BLOCCO ARTICOLO", "ID CONFIGURAZIONE", "CREATO DA",
        "DATA CREATA", "VISUALIZZA NUMERO PRODOTTO", "SCONTO ASSOLUTO TOTALE", "SCONTO LINEA",
        "MODIFICATO DA", "PCS ID CONFIGURAZIONE STANDARD", "ID ELEMENTO IVAID",
    }
)  # fmt: skip
EURO_COLUMNS = frozenset(
    {
        "TIPO DI CLIENTE", "VENDITE PRECEDENTE", "VENDITE PRECEDENTE2", "IMPORTO UNITARIO:",
        "IMPORTO LORDO:", "IMPORTO TOTALE", "SALDO VENDITE MST", "IMPORTO FATTURA MST",
        "LIQUIDA IMPORTO MST", "IMPORTO RIMANENTE MST",
    }
)  # fmt: skip
_SAVED_FILTER_PERCENT = 9


# -- value formats -------------------------------------------------------------


def format_decimal(value: Decimal, *, euro: bool = False) -> str:
    """Italian digits exactly as ``value`` holds them: ``-2.150,88``, ``2.112,7``, ``1,00``."""
    if value.is_zero():
        value = abs(value)  # never print "-0,00"
    text = format(value, ",f").translate(str.maketrans(",.", ".,"))
    return f"{text} €" if euro else text


def format_int(value: int) -> str:
    """An integer with thousands dots: ``2.939``."""
    return f"{value:,}".replace(",", ".")


def format_id(key: str) -> str:
    """A numeric record ID with thousands dots (``71039`` → ``71.039``); others unchanged."""
    return format_int(int(key)) if key.isascii() and key.isdigit() else key


def format_date(value: date, view: ExportView) -> str:
    """``21/01/2026``, or ``01/21/2026`` for a month-first browser."""
    return value.strftime("%m/%d/%Y" if view.month_first_dates else "%d/%m/%Y")


def format_datetime(value: datetime, view: ExportView) -> str:
    """``20/01/2026 12:04:22``, or month first for a month-first browser."""
    return format_date(value, view) + value.strftime(" %H:%M:%S")


def _spell_profile(key: str, style: int) -> str:
    """One of the portal's spellings of a numeric ID: 0 dotted, 1 plain, 2 trailing zeros cut.

    Cutting zeros ("55.220" → "55.22") happens only where the result still
    has a dot and cannot be mistaken for another ID.
    """
    dotted = format_id(key)
    if style == 1:
        return key
    if style == 2 and "." in dotted and dotted.endswith("0") and not dotted.endswith("000"):
        return dotted.rstrip("0")
    return dotted


def _hash_pick(key: str, n: int) -> int:
    return zlib.crc32(key.encode()) % n


_ADDRESS_SPLIT = re.compile(r"^(.*?) (\d{5} .+)$")


def _address_cell(address: str | None) -> str:
    """The two lines the portal prints: the street, then "CAP city PROV"."""
    if address is None:
        return ""
    match = _ADDRESS_SPLIT.match(address)
    return f"{match[1]}\n{match[2]}" if match else address


def _tracking_cell(record: Ddt) -> str:
    if record.tracking_carrier is None:
        return ""
    text = f"{record.tracking_carrier} {record.tracking_number or ''}".rstrip()
    if record.tracking_url is None:
        return text
    return f'<a href = "{record.tracking_url}" target="_blank">{text}</a>'


# -- column specifications -------------------------------------------------------

Cell = Callable[[Any, ExportView], str]


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One printed column: header, width, how a record becomes its cell.

    ``field`` names the record field shown (``None`` for the portal's noise
    columns); ``summary`` says what the closing row prints under it.
    """

    header: str
    width: float
    cell: Cell
    field: str | None = None
    align: Align = "left"
    summary: Literal["count", "sum"] | None = None

    def column(self) -> Column:
        """The grid column the PDF writer needs."""
        return Column(self.header, self.width, self.align)


def _value(field: str, render: Callable[[Any, ExportView], str]) -> Cell:
    def cell(record: Any, view: ExportView) -> str:
        value = getattr(record, field)
        return "" if value is None else render(value, view)

    return cell


def text(header: str, width: float, field: str) -> ColumnSpec:
    """A text column shown as held."""
    return ColumnSpec(header, width, _value(field, lambda v, _: str(v)), field)


def ident(header: str, width: float, field: str, *, count: bool = False) -> ColumnSpec:
    """A numeric ID with thousands dots."""
    summary: Literal["count"] | None = "count" if count else None
    return ColumnSpec(
        header, width, _value(field, lambda v, _: format_id(v)), field, "left", summary
    )


def amount(header: str, width: float, field: str, *, total: bool = False) -> ColumnSpec:
    """A right-aligned decimal, with " €" when the header is in :data:`EURO_COLUMNS`."""
    euro = header in EURO_COLUMNS
    summary: Literal["sum"] | None = "sum" if total else None
    render = _value(field, lambda v, _: format_decimal(v, euro=euro))
    return ColumnSpec(header, width, render, field, "right", summary)


def integer(header: str, width: float, field: str) -> ColumnSpec:
    """A right-aligned count."""
    return ColumnSpec(header, width, _value(field, lambda v, _: format_int(v)), field, "right")


def day(header: str, width: float, field: str) -> ColumnSpec:
    """A date in the view's order."""
    return ColumnSpec(header, width, _value(field, format_date), field)


def moment(header: str, width: float, field: str) -> ColumnSpec:
    """A date-time in the view's order."""
    return ColumnSpec(header, width, _value(field, format_datetime), field)


def flag(header: str, width: float, field: str, spelling: tuple[str, str]) -> ColumnSpec:
    """A boolean spelt ``spelling[0]`` for true, ``spelling[1]`` for false."""
    return ColumnSpec(
        header, width, _value(field, lambda v, _: spelling[0] if v else spelling[1]), field
    )


def constant(header: str, width: float, value: str) -> ColumnSpec:
    """A noise column that prints the same text on every data row."""
    return ColumnSpec(header, width, lambda _record, _view: value)


YES_NO = ("Sì", "No")
CHECKED = ("Checked", "Unchecked")


def _orders_profile(record: Order, _view: ExportView) -> str:
    if record.customer_profile is None:
        return ""
    style = (0, 0, 0, 0, 0, 0, 1, 1, 2, 2)[_hash_pick(record.id, 10)]
    return _spell_profile(record.customer_profile, style)


def _customers_profile(record: Customer, _view: ExportView) -> str:
    if record.profile is None:
        return ""
    return _spell_profile(record.profile, 1 if _hash_pick(record.id, 10) == 0 else 0)


_PAGES: Mapping[ExportType, tuple[tuple[ColumnSpec, ...], ...]] = {
    ExportType.CUSTOMERS: (
        (
            ident("ID", 55, "id", count=True),
            ColumnSpec("PROFILO CLIENTE", 70, _customers_profile, "profile"),
            text("NOME", 235, "name"),
            text("PARTITA IVA", 100, "vat_number"),
        ),
        (
            text("PEC", 160, "pec"),
            text("SDI", 60, "sdi"),
            text("CODICE FISCALE", 130, "fiscal_code"),
            text("TERMINI DI CONSEGNA", 115, "delivery_terms"),
        ),
        (
            text("VIA", 200, "street"),
            text("INDIRIZZO LOGISTICO CAP", 90, "postal_code"),
            text("CITTÀ", 170, "city"),
        ),
        (
            text("TELEFONO", 95, "phone"),
            text("CELLULARE", 95, "mobile"),
            text("URL", 150, "url"),
            text("ALL'ATTENZIONE DI", 125, "attention_to"),
        ),
        (
            day("DATA DELL'ULTIMO ORDINE", 110, "last_order_date"),
            integer("CONTEGGI DEGLI ORDINI EFFETTIVI", 110, "order_count"),
            amount("TIPO DI CLIENTE", 110, "sales_amount"),
        ),
        (
            integer("CONTEGGIO DEGLI ORDINI PRECEDENTE", 120, "previous_order_count"),
            amount("VENDITE PRECEDENTE", 110, "previous_sales"),
        ),
        (
            integer("CONTEGGIO DEGLI ORDINI PRECEDENTE2", 120, "previous_order_count_2"),
            amount("VENDITE PRECEDENTE2", 110, "previous_sales_2"),
        ),
        (
            text("DESCRIZIONE", 200, "description"),
            text("TYPE", 80, "type"),
            text("NUMERO DI CONTO ESTERNO", 110, "external_account"),
        ),
        (text("IL NOSTRO NUMERO DI CONTO", 120, "our_account"),),
    ),
    ExportType.PRODUCTS: (
        (
            ColumnSpec("ID ARTICOLO", 100, _value("id", lambda v, _: v), "id", "left", "count"),
            text("NOME ARTICOLO", 150, "name"),
            text("DESCRIZIONE", 210, "description"),
        ),
        (
            text("GRUPPO ARTICOLO", 110, "group"),
            constant("IMMAGINE", 90, "System.Byte[]"),
            text("CONTENUTO DELL'IMBALLAGGIO", 110, "package_content"),
            text("NOME DELLA RICERCA", 150, "search_name"),
        ),
        (
            text("UNITÀ DI PREZZO", 80, "price_unit"),
            text("ID GRUPPO DI PRODOTTI", 110, "product_group_id"),
            text("DESCRIZIONE GRUPPO ARTICOLO", 200, "group_description"),
            amount("QTÀ MINIMA", 70, "min_qty"),
        ),
        (
            amount("QTÀ MULTIPLI", 70, "multiple_qty"),
            amount("QTÀ MASSIMA", 70, "max_qty"),
            text("FIGURA", 70, "figure"),
            text("DATAAREAID", 75, "data_area_id"),
            ident("ID", 70, "record_id"),
            moment("DATETIME MODIFICATO", 110, "modified_at"),
        ),
        (
            flag("FERMATO", 70, "stopped", CHECKED),
            text("ID IN BLOCCO ARTICOLO", 80, "block_id"),
            text("PACCO", 60, "pack"),
            text("GAMBA", 60, "shank"),
            text("GRANDEZZA", 80, "size"),
            text("ID CONFIGURAZIONE", 105, "config_id"),
        ),
        (
            text("CREATO DA", 90, "created_by"),
            day("DATA CREATA", 90, "created_on"),
            amount("QTÀ PREDEFINITA", 90, "default_qty"),
            text("VISUALIZZA NUMERO PRODOTTO", 120, "display_number"),
        ),
        (
            flag("SCONTO ASSOLUTO TOTALE", 90, "total_absolute_discount", CHECKED),
            flag("SCONTO LINEA", 80, "line_discount", CHECKED),
            text("MODIFICATO DA", 100, "modified_by"),
            flag("ARTICOLO ORDINABILE", 100, "orderable", YES_NO),
        ),
        (
            amount("PURCH PRICE", 100, "purchase_price"),
            text("PCS ID CONFIGURAZIONE STANDARD", 120, "standard_config_id"),
            amount("QTÀ STANDARD", 90, "standard_qty"),
            text("ID ELEMENTO IVAID", 100, "vat_item_id"),
        ),
        (text("ID UNITÀ", 70, "unit_id"),),
    ),
    ExportType.PRICES: (
        (
            ident("ID", 60, "id", count=True),
            text("CODICE CONTO", 70, "account_code"),
            text("ACCOUNT:", 70, "account"),
            text("DESCRIZIONE ACCOUNT:", 150, "account_description"),
            text("ITEM SELECTION:", 110, "item_selection"),
        ),
        (
            text("ITEM DESCRIPTION:", 220, "item_description"),
            day("DA DATA", 75, "from_date"),
            day("DATA", 75, "to_date"),
            amount("QUANTITÀ", 70, "qty_from"),
        ),
        (
            amount("QUANTITÀ", 70, "qty_to"),
            text("UNITÀ DI PREZZO", 70, "price_unit"),
            amount("IMPORTO UNITARIO:", 100, "unit_price"),
            text("VALUTA", 60, "currency"),
            amount("PREZZO NETTO BRASSELER", 110, "net_price_brasseler"),
        ),
    ),
    ExportType.ORDERS: (
        (
            ident("ID", 60, "id", count=True),
            text("ID DI VENDITA", 100, "sales_id"),
            ColumnSpec("PROFILO CLIENTE:", 80, _orders_profile, "customer_profile"),
            text("NOME VENDITE:", 220, "sales_name"),
        ),
        (
            text("NOME DI CONSEGNA", 230, "delivery_name"),
            ColumnSpec(
                "INDIRIZZO DI CONSEGNA",
                230,
                lambda r, _: _address_cell(r.delivery_address),
                "delivery_address",
            ),
        ),
        (
            moment("DATA DI CREAZIONE", 120, "created_at"),
            day("DATA DI CONSEGNA", 90, "delivery_date"),
            text("RIMANI VENDITE FINANZIARIE", 250, "description"),
        ),
        (
            text("RIFERIMENTO CLIENTE", 120, "customer_reference"),
            text("STATO DELLE VENDITE", 110, "sales_status"),
            text("TIPO DI ORDINE", 110, "order_type"),
            text("STATO DEL DOCUMENTO", 120, "document_status"),
        ),
        (
            text("ORIGINE VENDITE:", 100, "sales_origin"),
            text("STATO DEL TRASFERIMENTO", 130, "transfer_status"),
            day("DATA DI TRASFERIMENTO", 110, "transfer_date"),
        ),
        (
            day("DATA DI COMPLETAMENTO", 110, "completed_date"),
            flag("PREVENTIVO:", 80, "quote", YES_NO),
            amount("APPLICA SCONTO %:", 90, "apply_discount"),
            amount("IMPORTO LORDO:", 110, "gross_amount", total=True),
        ),
        (
            amount("IMPORTO TOTALE", 110, "total_amount", total=True),
            flag("ORDINE OMAGGIO:", 90, "gift_order", CHECKED),
            text("E-MAIL", 200, "email"),
        ),
    ),
    ExportType.DDT: (
        (
            constant("PDF DDT", 50, ""),
            ident("ID", 60, "id", count=True),
            text("DOCUMENTO DI TRASPORTO:", 110, "ddt_number"),
            day("DATA DI CONSEGNA", 90, "delivery_date"),
            text("ID DI VENDITA", 110, "sales_id"),
        ),
        (
            text("CONTO DELL'ORDINE", 100, "order_account"),
            text("NOME VENDITE:", 250, "sales_name"),
        ),
        (
            text("NOME DI CONSEGNA", 230, "delivery_name"),
            ColumnSpec(
                "NOME DI CONSEGNA",
                230,
                lambda r, _: _address_cell(r.delivery_address),
                "delivery_address",
            ),
        ),
        (
            amount("TOTALE", 70, "quantity", total=True),
            text("RIFERIMENTO CLIENTE", 120, "customer_reference"),
            text("DESCRIZIONE:", 250, "description"),
        ),
        (
            ColumnSpec(
                "NUMERO DI TRACCIABILITÀ",
                300,
                lambda r, _: _tracking_cell(r),
                "tracking_number",
            ),
            text("TERMINI DI CONSEGNA:", 150, "delivery_terms"),
        ),
        (
            text("MODALITÀ DI CONSEGNA", 110, "delivery_mode"),
            text("ALL'ATTENZIONE DI", 150, "attention_to"),
            text("CITTÀ DI CONSEGNA", 150, "delivery_city"),
        ),
        (
            constant("CREATO DA", 100, "Admin"),
            constant("DATA DI CREAZIONE", 120, ""),
        ),
    ),
    ExportType.INVOICES: (
        (
            constant("FATTURA PDF", 60, ""),
            ColumnSpec("ID FATTURA", 100, _value("id", lambda v, _: v), "id", "left", "count"),
            day("DATA FATTURA", 80, "invoice_date"),
            text("CONTO FATTURE", 80, "account"),
        ),
        (
            text("NOME DI FATTURAZIONE", 250, "billing_name"),
            amount("QUANTITÀ", 80, "quantity"),
            amount("SALDO VENDITE MST", 110, "sales_balance", total=True),
        ),
        (
            amount("SOMMA LINEA SCONTO MST", 110, "line_discount_sum"),
            amount("SCONTO TOTALE:", 100, "total_discount"),
            amount("SOMMA FISCALE MST", 110, "tax_sum", total=True),
            amount("IMPORTO FATTURA MST", 110, "invoice_amount", total=True),
        ),
        (
            text("ORDINE DI ACQUISTO", 120, "purchase_order"),
            text("RIFERIMENTO CLIENTE", 120, "customer_reference"),
            day("SCADENZA", 80, "due_date"),
        ),
        (
            text("ID TERMINE DI PAGAMENTO", 220, "payment_term_id"),
            integer("OLTRE I GIORNI DI SCADENZA", 110, "days_past_due"),
        ),
        (
            amount("LIQUIDA IMPORTO MST", 110, "settled_amount"),
            text("IDENTIFICATIVO ULTIMO PAGAMENTO:", 130, "last_payment_id"),
            day("DATA DI ULTIMA LIQUIDAZIONE", 110, "last_settlement_date"),
        ),
        (
            flag("CHIUSO", 60, "closed", YES_NO),
            amount("IMPORTO RIMANENTE MST", 110, "remaining_amount", total=True),
            text("ID VENDITE", 110, "sales_id"),
        ),
    ),
}


def file_name(t: ExportType) -> str:
    """The name the portal gives the downloaded export (Italian)."""
    return FILE_NAMES[t]


def pages(t: ExportType, view: ExportView = FULL_VIEW) -> list[list[ColumnSpec]]:
    """The columns of each page of a cycle of ``t`` as ``view`` prints them."""
    layout = [list(page) for page in _PAGES[t]]
    if t is ExportType.ORDERS and not view.orders_email_column:
        layout[-1] = [c for c in layout[-1] if c.header != "E-MAIL"]
    if t is ExportType.DDT and not view.ddt_extra_page:
        layout = layout[:6]
    if t is ExportType.PRODUCTS and not view.products_all_columns:
        visible = [c for page in layout for c in page if c.header not in HIDDEN_PRODUCT_COLUMNS]
        layout = _flow(visible)
    return layout


def _flow(columns: Sequence[ColumnSpec]) -> list[list[ColumnSpec]]:
    """Cut columns into page strips the way DevExpress does: fill each page in order."""
    out: list[list[ColumnSpec]] = []
    used = PAGE_WIDTH + 1
    for column in columns:
        if used + column.width > PAGE_WIDTH:
            out.append([])
            used = 0.0
        out[-1].append(column)
        used += column.width
    return out


# -- record selection --------------------------------------------------------------


def in_saved_filter(product: Product) -> bool:
    """Whether the saved products filter keeps ``product`` (about 9 % of products).

    The real filter's criteria are unknown; a stable hash of the article
    code stands in for it, so the same products survive every export.
    """
    return _hash_pick(product.id, 100) < _SAVED_FILTER_PERCENT


def select_records(t: ExportType, records: Sequence[Record], view: ExportView) -> list[Record]:
    """The records an export of ``t`` made with ``view`` contains, in order."""
    if t is ExportType.ORDERS and not view.orders_all:
        return [
            r
            for r in records
            if isinstance(r, Order) and r.sales_status not in CLOSED_ORDER_STATUSES
        ]
    if t is ExportType.PRODUCTS and view.products_filter:
        return [r for r in records if isinstance(r, Product) and in_saved_filter(r)]
    return list(records)


def expected_records(t: ExportType, records: Sequence[Record], view: ExportView) -> list[Record]:
    """What a correct parser yields from the export: selected records, hidden fields ``None``."""
    shown = {c.field for page in pages(t, view) for c in page if c.field is not None}
    if t is ExportType.DDT:
        shown |= {"tracking_carrier", "tracking_url"}  # they share the tracking cell
    hidden = {
        c.field for page in _PAGES[t] for c in page if c.field is not None and c.field not in shown
    }
    selected = select_records(t, records, view)
    if not hidden:
        return selected
    blank: dict[str, Any] = dict.fromkeys(hidden)
    return [dataclasses.replace(r, **blank) for r in selected]


def truth_json(
    dataset: Dataset, t: ExportType, view: ExportView = FULL_VIEW
) -> list[dict[str, Any]]:
    """The JSON form (:func:`archid.records.to_json`) of :func:`expected_records`."""
    return [to_json(r) for r in expected_records(t, dataset.records(t), view)]


# -- the grid --------------------------------------------------------------------


def build_grid(t: ExportType, records: Sequence[Record], view: ExportView) -> Grid:
    """The export of ``records`` of type ``t`` as ``view`` prints it.

    ``records`` is the full table (e.g. :meth:`Dataset.records`);
    :func:`select_records` is applied here, so callers pass the view only.
    """
    layout = pages(t, view)
    columns = [c for page in layout for c in page]
    selected = select_records(t, records, view)
    rows = [[c.cell(r, view) for c in columns] for r in selected]
    if t is ExportType.CUSTOMERS:
        rows = _with_artefacts(rows, columns)
    elif t is ExportType.ORDERS and selected:
        rows = _with_junk(rows, columns, _junk_orders(selected, view))
    elif t is ExportType.DDT and selected:
        rows = _with_junk(rows, columns, _junk_ddt(selected, view))
    return Grid(
        pages=[[c.column() for c in page] for page in layout],
        rows=rows,
        summary=_summary(columns, selected, len(rows)),
        # The real prices export prints one price per cycle: 4,976 prices
        # on 14,928 pages.
        rows_per_page=1 if t is ExportType.PRICES else None,
        title=file_name(t).removesuffix(".pdf"),
    )


def _special_row(columns: Sequence[ColumnSpec], cells: Mapping[str, str]) -> list[str]:
    """A row with ``cells`` under the first column of each given header, the rest empty."""
    row = [""] * len(columns)
    for header, value in cells.items():
        index = next((i for i, c in enumerate(columns) if c.header == header), None)
        if index is not None:
            row[index] = value
    return row


def _with_artefacts(rows: list[list[str]], columns: Sequence[ColumnSpec]) -> list[list[str]]:
    # Spread evenly (Bresenham) so every stretch of the export has the real proportion.
    artefact = _special_row(columns, {"ID": "0", "NOME": ARTEFACT_NAME, "TYPE": "Potential"})
    per, of = ARTEFACT_RATIO
    out: list[list[str]] = []
    for index, row in enumerate(rows):
        out.extend(list(artefact) for _ in range((index + 1) * per // of - index * per // of))
        out.append(row)
    return out


def _with_junk(
    rows: list[list[str]], columns: Sequence[ColumnSpec], junk: list[Mapping[str, str]]
) -> list[list[str]]:
    """``rows`` with the junk rows spread evenly among them."""
    out = list(rows)
    for k, cells in reversed(list(enumerate(junk))):
        out.insert((k + 1) * len(rows) // (len(junk) + 1), _special_row(columns, cells))
    return out


def _junk_orders(selected: Sequence[Record], view: ExportView) -> list[Mapping[str, str]]:
    """Rows the real orders export carries that are not orders: ID 0, or no creation date."""
    first = selected[0]
    assert isinstance(first, Order)
    junk: list[Mapping[str, str]] = []
    for k in range(2 + len(selected) // 400):
        if k % 2 == 0:
            junk.append({"ID": "0", "STATO DELLE VENDITE": "Giornale", "ORIGINE VENDITE:": "Agent"})
        else:
            junk.append(
                {
                    "ID": str(100 + k),  # below every real ID (≥ 1000)
                    "NOME VENDITE:": first.sales_name or "",
                    "STATO DELLE VENDITE": "Giornale",
                    "DATA DI CONSEGNA": format_date(first.created_at.date(), view),
                }
            )
    return junk


def _junk_ddt(selected: Sequence[Record], view: ExportView) -> list[Mapping[str, str]]:
    """Rows without a DDT number or without an order number, which parsers drop."""
    first = selected[0]
    assert isinstance(first, Ddt)
    junk: list[Mapping[str, str]] = []
    for k in range(2 + len(selected) // 500):
        cells = {"ID": str(100 + k), "MODALITÀ DI CONSEGNA": first.delivery_mode or ""}
        if first.delivery_date is not None:
            cells["DATA DI CONSEGNA"] = format_date(first.delivery_date, view)
        if k % 2 == 0:
            cells["ID DI VENDITA"] = first.sales_id
        else:
            cells["DOCUMENTO DI TRASPORTO:"] = f"DDT/{900000 + k:08d}"
        junk.append(cells)
    return junk


def _summary(
    columns: Sequence[ColumnSpec], records: Sequence[Record], printed_rows: int
) -> list[str]:
    row: list[str] = []
    for column in columns:
        if column.summary == "count":
            row.append(f"Count={format_int(printed_rows)}")
        elif column.summary == "sum" and column.field is not None:
            values = [getattr(r, column.field) for r in records]
            total = sum((v for v in values if v is not None), Decimal(0))
            row.append(f"Sum={format_decimal(total)}")
        else:
            row.append("")
    return row
