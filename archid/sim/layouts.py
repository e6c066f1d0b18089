"""The six exports as the real portal lays them out: file names, pages, columns, cells.

:func:`build_grid` turns records into the :class:`~archid.sim.grid.Grid`
that the PDF writer prints, following spec v2 section 2:

* headers page by page exactly as printed, per layout epoch
  (:data:`LAYOUTS`: ``2026-01`` and ``2026-03``, the default): colons that
  come and go, both apostrophe shapes (``ALL’ATTENZIONE DI:`` next to
  ``DATA DELL'ULTIMO ORDINE``), ``VENDITE PRECEDENTE`` and ``NOME DI
  CONSEGNA`` printed twice, the always empty PDF DDT / FATTURA PDF columns,
  IMMAGINE: always ``System.Byte[]``, the DDT's seventh page of March 2026
  with columns archid does not know;
* a session's column chooser: a fresh session of the ``2026-03`` epoch
  shows 5 product pages (:data:`FRESH_PRODUCTS`), 9 once "show all
  columns" was chosen (in ``2026-01`` all 8 pages always); invoices' ID
  VENDITE only when switched on;
* the values in the formats of :mod:`archid.sim.formats`, Italian or
  English; invoices' amounts without € and trailing zeros; DDT tracking
  cells as the raw HTML of the portal's carrier links (the FedEx href lacks
  its closing quote);
* the closing summary row: ``Count=`` under ID (customers, orders,
  prices), ID ARTICOLO (products) or DOCUMENTO DI TRASPORTO: (DDT), none on
  invoices; ``Sum=`` under the amount columns of :func:`summary_columns`,
  each the sum over the records, except the orders' IMPORTO TOTALE, which
  the real portal prints a few cents off (spec v2): :func:`printed_sum`.

:func:`expected_records` gives what a correct parser yields from an export
made with a given :class:`ExportView`; for :data:`FULL_VIEW` it is the
dataset's records unchanged. A field whose column the view does not show
is ``None`` and listed in the record's ``unread``.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from archid.records import (
    RECORD_TYPES,
    Ddt,
    ExportType,
    Record,
    data_fields,
    record_key,
    to_json,
)
from archid.sim import english as english_captions
from archid.sim import filters, formats
from archid.sim.dataset import TODAY, Dataset
from archid.sim.grid import Align, Column, Grid

#: Printable width of a US Letter page with 72 pt margins.
PAGE_WIDTH = 468.0
#: The layout epochs the simulator serves, oldest first; the last is the default.
EPOCHS = ("2026-01", "2026-03")
NEWEST = EPOCHS[-1]


#: ``ExportView.filter`` of a products export made with the saved grid filter on
PRODUCTS_GRID_FILTER = filters.GRID


@dataclass(frozen=True, slots=True)
class ExportView:
    """The portal state (layout epoch, user profile, session, locale) that shapes an export.

    * ``layout``: the layout epoch, one of :data:`EPOCHS`;
    * ``english``: the browser's first language is not Italian: English
      captions, formats and file name;
    * ``hidden``: the :func:`column_keys` of layout columns the session's
      grid hides: they are not printed, emptied pages are dropped;
    * ``extra``: keys of the columns outside the layout (:data:`EXTRA_COLUMNS`:
      the grid-only MODIFIEDDATETIME columns, customers' May 2026 columns)
      the session shows: printed on pages of their own after the layout's;
    * ``filter``: the suffix of the saved filter item the export went
      through (:mod:`archid.sim.filters`), :data:`PRODUCTS_GRID_FILTER` for
      the products' saved grid filter, ``None`` for every record.
    """

    layout: str = NEWEST
    english: bool = False
    hidden: frozenset[str] = frozenset()
    extra: tuple[str, ...] = ()
    filter: str | None = None

    def __post_init__(self) -> None:
        if self.layout not in EPOCHS:
            raise ValueError(f"unknown layout epoch {self.layout!r} (known: {', '.join(EPOCHS)})")

    def cache_key(self) -> str:
        """A stable text naming this view (the same in every process)."""
        return repr((self.layout, self.english, sorted(self.hidden), self.extra, self.filter))


#: The view whose correct parse is exactly :meth:`Dataset.records`: every record, every column.
FULL_VIEW = ExportView()

FILE_NAMES: Mapping[ExportType, str] = {
    ExportType.CUSTOMERS: "Clienti.pdf",
    ExportType.PRODUCTS: "Prodotti.pdf",
    ExportType.PRICES: "Tabella prezzi.pdf",
    ExportType.ORDERS: "Ordini.pdf",
    ExportType.DDT: "Documenti di trasporto.pdf",
    ExportType.INVOICES: "Fatture.pdf",
}
ENGLISH_FILE_NAMES = english_captions.FILE_NAMES


# -- value formats (kept importable under their old names) ------------------------


def format_decimal(value: Decimal, *, euro: bool = False, english: bool = False) -> str:
    """Italian digits exactly as ``value`` holds them: ``-2.150,88``, ``2.112,7``, ``1,00``;
    ``euro`` adds `` €`` (English: ``$`` in front)."""
    if euro:
        return formats.euro(value, english=english)
    return formats.decimal(value, english=english)


def format_int(value: int, *, english: bool = False) -> str:
    """An integer with thousands dots: ``2.939`` (English ``2,939``)."""
    return formats.integer(value, english=english)


def format_id(key: str, *, english: bool = False) -> str:
    """A numeric record ID with thousands dots (``71039`` → ``71.039``); others unchanged."""
    return formats.record_id(key, english=english)


def format_date(value: date, view: ExportView) -> str:
    """``21/01/2026``, or ``1/21/2026`` for an English browser."""
    return formats.day(value, english=view.english)


def format_datetime(value: datetime, view: ExportView) -> str:
    """``20/01/2026 12:04:22``, or ``1/20/2026 12:04:22 PM`` for an English browser."""
    return formats.moment(value, english=view.english)


def _hash_pick(key: str, n: int) -> int:
    return zlib.crc32(key.encode()) % n


_ADDRESS_SPLIT = re.compile(r"^(.*?) (\d{5} .+)$")


def address_cell(address: str | None) -> str:
    """The two lines the portal prints: the street, then "CAP city PROV"."""
    if address is None:
        return ""
    match = _ADDRESS_SPLIT.match(address)
    return f"{match[1]}\n{match[2]}" if match else address


def payment_terms_cell(terms: str | None) -> str:
    """ID TERMINE DI PAGAMENTO: ``… Iban`` on the first line, the IBAN on the second."""
    if terms is None:
        return ""
    head, sep, tail = terms.partition(" Iban ")
    return f"{head} Iban\n{tail}" if sep else terms


def tracking_cell(record: Ddt) -> str:
    """NUMERO DI TRACCIABILITÀ as the portal prints it: the raw HTML of the carrier's link.

    The link text is ``<carrier> <number>`` (``fedex 445291890750``, ``Ups
    1Z…``, ``dhl N``); the FedEx href lacks its closing quote, exactly as
    spec v2 shows it.
    """
    if record.tracking_carrier is None:
        return ""
    text = f"{record.tracking_carrier} {record.tracking_number or ''}".rstrip()
    if record.tracking_url is None:
        return text
    if record.tracking_carrier == "fedex":
        return f'<a href = "{record.tracking_url} target="_blank">{text}</a>'
    return f'<a href="{record.tracking_url}" target="_blank">{text}</a>'


# -- column specifications -------------------------------------------------------

Cell = Callable[[Any, ExportView], str]
Summary = Literal["count", "sum"] | None


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One printed column: header, width, how a record becomes its cell.

    ``field`` names the record field shown (``None`` for noise columns and
    columns archid does not know); ``summary`` says what the closing row
    prints under it, ``sum_format`` how a ``Sum=`` figure is written.
    """

    header: str
    width: float
    cell: Cell
    field: str | None = None
    align: Align = "left"
    summary: Summary = None
    sum_format: Callable[[Decimal, ExportView], str] | None = None
    #: the typed value behind the cell, for columns without a record field
    raw: Callable[[Any], Any] | None = None
    #: the MODIFIEDDATETIME of a type whose records lack the field: a dataset's
    #: stamp (:meth:`archid.sim.dataset.Dataset.stamps`) overrides the raw value
    stamped: bool = False

    def value(self, record: Any, stamps: Mapping[str, datetime] | None = None) -> Any:
        """The typed value the grid holds for ``record`` (what it sorts by and
        ``GetRowValues`` answers): the record's stamp in ``stamps`` for a stamped
        column, else the record's field, else the raw value, else the text."""
        if self.stamped and stamps:
            moment = stamps.get(record_key(record))
            if moment is not None:
                return moment
        if self.field is not None:
            return getattr(record, self.field)
        if self.raw is not None:
            return self.raw(record)
        return self.cell(record, FULL_VIEW)

    def text(
        self, record: Any, view: ExportView, stamps: Mapping[str, datetime] | None = None
    ) -> str:
        """The cell as ``view`` prints it, a stamped column's stamp included."""
        if self.stamped and stamps:
            moment = stamps.get(record_key(record))
            if moment is not None:
                return format_datetime(moment, view)
        return self.cell(record, view)

    def column(self, t: ExportType, view: ExportView) -> Column:
        """The grid column the PDF writer needs, captioned in the view's language."""
        header = english_captions.caption(t, self.header) if view.english else self.header
        return Column(header, self.width, self.align)


def _value(field: str, render: Callable[[Any, ExportView], str]) -> Cell:
    def cell(record: Any, view: ExportView) -> str:
        value = getattr(record, field)
        return "" if value is None else render(value, view)

    return cell


def text(header: str, width: float, field: str) -> ColumnSpec:
    """A text column shown as held."""
    return ColumnSpec(header, width, _value(field, lambda v, _: str(v)), field)


def code(header: str, width: float, field: str, *, count: bool = False) -> ColumnSpec:
    """A text code (an article, a document number) that may carry the Count= figure."""
    return ColumnSpec(
        header, width, _value(field, lambda v, _: str(v)), field, summary="count" if count else None
    )


def ident(header: str, width: float, field: str, *, count: bool = False) -> ColumnSpec:
    """A numeric record ID with a thousands separator from 1,000."""
    render = _value(field, lambda v, view: formats.record_id(v, english=view.english))
    return ColumnSpec(header, width, render, field, summary="count" if count else None)


def _euro_text(value: Decimal, view: ExportView) -> str:
    return formats.euro(value, english=view.english)


def _plain_text(value: Decimal, view: ExportView) -> str:
    return formats.decimal(value, english=view.english)


def euro(header: str, width: float, field: str, *, total: bool = False) -> ColumnSpec:
    """A right-aligned € amount (``124.497,43 €``)."""
    return ColumnSpec(
        header,
        width,
        _value(field, _euro_text),
        field,
        "right",
        "sum" if total else None,
        _euro_text,
    )


def amount(header: str, width: float, field: str, *, total: bool = False) -> ColumnSpec:
    """A right-aligned bare number, printed with exactly the digits the record holds."""
    return ColumnSpec(
        header,
        width,
        _value(field, _plain_text),
        field,
        "right",
        "sum" if total else None,
        _plain_text,
    )


def percentage(header: str, width: float, field: str) -> ColumnSpec:
    """A right-aligned percentage (``21,49 %``)."""
    render = _value(field, lambda v, view: formats.percent(v, english=view.english))
    return ColumnSpec(header, width, render, field, "right")


def _int_sum(value: Decimal, view: ExportView) -> str:
    return formats.integer(int(value), english=view.english)


def integer(header: str, width: float, field: str, *, total: bool = False) -> ColumnSpec:
    """A right-aligned integer with thousands separators (``1.095``)."""
    render = _value(field, lambda v, view: formats.integer(v, english=view.english))
    return ColumnSpec(header, width, render, field, "right", "sum" if total else None, _int_sum)


def day(header: str, width: float, field: str) -> ColumnSpec:
    """A date in the view's locale."""
    return ColumnSpec(header, width, _value(field, format_date), field)


def moment(header: str, width: float, field: str) -> ColumnSpec:
    """A date-time in the view's locale."""
    return ColumnSpec(header, width, _value(field, format_datetime), field)


def yes_no(header: str, width: float, field: str) -> ColumnSpec:
    """A flag spelt ``Sì``/``No`` (``Yes``/``No`` in English)."""
    render = _value(field, lambda v, view: formats.yes_no(v, english=view.english))
    return ColumnSpec(header, width, render, field)


def checked(header: str, width: float, field: str) -> ColumnSpec:
    """A flag spelt ``Checked``/``Unchecked``."""
    return ColumnSpec(header, width, _value(field, lambda v, _: formats.checked(v)), field)


def constant(header: str, width: float, value: str) -> ColumnSpec:
    """A noise column that prints the same text on every data row."""
    return ColumnSpec(header, width, lambda _record, _view: value)


def _shaped(header: str, width: float, field: str, shape: Callable[[Any], str]) -> ColumnSpec:
    return ColumnSpec(header, width, lambda r, _: shape(getattr(r, field)), field)


def _display_number(value: str | None) -> str:
    # the portal pads the empty parts: "005159K2 : v.001 :   :   :"
    return "" if value is None else value.replace(" : : :", " :   :   :")


def _unknown(header: str, width: float, render: Callable[[Ddt], str]) -> ColumnSpec:
    """A column of the DDT's seventh page, whose contents the spec does not know."""
    return ColumnSpec(header, width, lambda r, _: render(r))


def _gross_weight(record: Ddt) -> str:
    grams = 200 + _hash_pick(record.ddt_number, 9800)
    return f"{grams // 1000},{grams % 1000 // 10:02d} kg"


_CARRIERS_OUT = ("", "", "BRT", "GLS")

#: Every column of each type, in the order of the fullest layout; a header
#: printed twice appears twice, told apart by its order.
_COLUMNS: Mapping[ExportType, tuple[ColumnSpec, ...]] = {
    ExportType.CUSTOMERS: (
        ident("ID", 58, "id", count=True),
        code("PROFILO CLIENTE:", 92, "account"),
        text("NOME", 243, "name"),
        text("PARTITA IVA:", 75, "vat_number"),
        text("PEC:", 170, "pec"),
        text("SDI:", 60, "sdi"),
        text("CODICE FISCALE:", 110, "fiscal_code"),
        text("TERMINI DI CONSEGNA", 118, "delivery_mode"),
        text("VIA:", 210, "street"),
        code("INDIRIZZO LOGISTICO CAP", 132, "postal_code"),
        text("CITTÀ", 120, "city"),
        text("TELEFONO:", 85, "phone"),
        text("CELLULARE:", 85, "mobile"),
        text("URL:", 40, "url"),
        text("ALL’ATTENZIONE DI:", 105, "attention_to"),
        day("DATA DELL'ULTIMO ORDINE", 140, "last_order_date"),
        integer("CONTEGGI DEGLI ORDINI EFFETTIVI", 174, "order_count"),
        euro("TIPO DI CLIENTE", 95, "sales_this_year", total=True),
        integer("CONTEGGIO DEGLI ORDINI PRECEDENTE", 195, "order_count_last_year"),
        euro("VENDITE PRECEDENTE", 115, "sales_last_year"),
        integer("CONTEGGIO DEGLI ORDINI PRECEDENTE 2", 205, "order_count_year_before"),
        euro("VENDITE PRECEDENTE", 115, "sales_year_before"),
        text("DESCRIZIONE:", 200, "description"),
        text("TYPE:", 90, "type_code"),
        text("NUMERO DI CONTO ESTERNO", 145, "external_account"),
        text("IL NOSTRO NUMERO DI CONTO", 150, "our_account"),
    ),
    ExportType.PRODUCTS: (
        code("ID ARTICOLO", 80, "article", count=True),
        text("NOME ARTICOLO:", 95, "catalogue_number"),
        text("DESCRIZIONE", 290, "description"),
        text("GRUPPO ARTICOLO:", 100, "group"),
        constant("IMMAGINE:", 75, "System.Byte[]"),
        text("CONTENUTO DELL'IMBALLAGGIO", 165, "pack_size"),
        text("NOME DELLA RICERCA", 115, "search_name"),
        text("UNITÀ DI PREZZO:", 92, "price_unit"),
        text("ID GRUPPO DI PRODOTTI", 122, "product_group_id"),
        text("DESCRIZIONE GRUPPO ARTICOLO:", 167, "group_description"),
        amount("QTÀ MINIMA:", 72, "min_qty"),
        amount("QTÀ MULTIPLI:", 77, "multiple_qty"),
        amount("QTÀ MASSIMA:", 77, "max_qty"),
        text("FIGURA:", 50, "figure"),
        text("DATAAREAID", 70, "data_area_id"),
        ident("ID", 55, "id"),
        moment("DATETIME MODIFICATO", 120, "modified_at"),
        yes_no("FERMATO", 52, "stopped"),
        text("ID IN BLOCCO DELL'ARTICOLO", 149, "block_id"),
        text("PACCO", 40, "pack"),
        text("GAMBA", 43, "shank"),
        text("GRANDEZZA", 66, "size"),
        text("ID DI CONFIGURAZIONE", 117, "config_id"),
        text("CREATO DA:", 65, "created_by"),
        moment("DATA CREATA", 118, "created_at"),
        amount("QTÀ PREDEFINITA:", 95, "default_qty"),
        _shaped("VISUALIZZA IL NUMERO DI PRODOTTO", 188, "display_number", _display_number),
        text("SCONTO ASSOLUTO TOTALE:", 142, "total_absolute_discount"),
        text("SCONTO LINEA", 77, "line_discount"),
        text("MODIFICATO DA:", 87, "modified_by"),
        text("ARTICOLO ORDINABILE:", 121, "orderable"),
        euro("PURCH PRICE PCS", 90, "purchase_price"),
        text("ID DI CONFIGURAZIONE STANDARD", 174, "standard_config_id"),
        amount("QTÀ STANDARD:", 85, "standard_qty"),
        text("ID ELEMENTO IVAID", 102, "vat_item_id"),
        code("ID UNITÀ", 50, "unit_id"),
    ),
    ExportType.PRICES: (
        ident("ID", 60, "id", count=True),
        text("CODICE CONTO", 80, "account_code"),
        code("ACCOUNT:", 60, "price_group"),
        text("DESCRIZIONE ACCOUNT:", 135, "price_group_name"),
        code("ITEM SELECTION:", 95, "article"),
        text("ITEM DESCRIPTION:", 100, "catalogue_number"),
        day("DA DATA", 70, "valid_from"),
        day("DATA", 70, "valid_to"),
        amount("QUANTITÀIMPORTODA", 116, "qty_from"),
        amount("QUANTITÀIMPORTO", 99, "qty_to"),
        text("UNITÀ DI PREZZO", 87, "price_unit"),
        euro("IMPORTO UNITARIO:", 101, "unit_price"),
        text("VALUTA", 45, "currency"),
        yes_no("PREZZO NETTO BRASSELER", 134, "net_price"),
    ),
    ExportType.ORDERS: (
        ident("ID", 55, "id", count=True),
        code("ID DI VENDITA", 80, "order_number"),
        code("PROFILO CLIENTE:", 95, "account"),
        text("NOME VENDITE:", 235, "account_name"),
        text("NOME DI CONSEGNA", 234, "delivery_name"),
        _shaped("INDIRIZZO DI CONSEGNA", 234, "delivery_address", address_cell),
        moment("DATA DI CREAZIONE", 105, "created_at"),
        day("DATA DI CONSEGNA", 103, "delivery_date"),
        text("RIMANI VENDITE FINANZIARIE", 152, "purchase_order"),
        text("RIFERIMENTO CLIENTE", 115, "customer_reference"),
        text("STATO DELLE VENDITE", 116, "sales_status"),
        text("TIPO DI ORDINE", 100, "order_type"),
        text("STATO DEL DOCUMENTO", 125, "document_status"),
        text("ORIGINE VENDITE:", 95, "sales_origin"),
        text("STATO DEL TRASFERIMENTO", 143, "transfer_status"),
        day("DATA DI TRASFERIMENTO", 130, "transfer_date"),
        day("DATA DI COMPLETAMENTO", 136, "completed_date"),
        yes_no("PREVENTIVO:", 71, "quote"),
        percentage("APPLICA SCONTO %:", 102, "discount_percent"),
        euro("IMPORTO LORDO:", 110, "gross_amount", total=True),
        euro("IMPORTO TOTALE", 110, "total_amount", total=True),
        checked("ORDINE OMAGGIO:", 96, "gift_order"),
        text("E-MAIL", 160, "email"),
    ),
    ExportType.DDT: (
        constant("PDF DDT", 48, ""),
        ident("ID", 50, "id"),
        code("DOCUMENTO DI TRASPORTO:", 145, "ddt_number", count=True),
        day("DATA DI CONSEGNA", 103, "delivery_date"),
        code("ID DI VENDITA", 80, "order_number"),
        code("CONTO DELL'ORDINE", 107, "order_account"),
        text("NOME VENDITE:", 240, "account_name"),
        text("NOME DI CONSEGNA", 234, "delivery_name"),
        _shaped("NOME DI CONSEGNA", 234, "delivery_address", address_cell),
        integer("TOTALE", 64, "quantity", total=True),
        text("RIFERIMENTO CLIENTE", 116, "customer_reference"),
        text("DESCRIZIONE:", 120, "purchase_order"),
        ColumnSpec(
            "NUMERO DI TRACCIABILITÀ", 234, lambda r, _: tracking_cell(r), "tracking_number"
        ),
        text("TERMINI DI CONSEGNA:", 160, "delivery_terms"),
        text("MODALITÀ DI CONSEGNA", 128, "delivery_mode"),
        text("ALL'ATTENZIONE DI", 102, "attention_to"),
        text("CITTÀ DI CONSEGNA", 230, "delivery_email"),
        _unknown("PESO LORDO:", 80, _gross_weight),
        _unknown("NUMERO DI COLLI", 94, lambda r: str(1 + _hash_pick(r.ddt_number, 4))),
        _unknown("VETTORE ESTERNO", 98, lambda r: _CARRIERS_OUT[_hash_pick(r.ddt_number, 4)]),
    ),
    ExportType.INVOICES: (
        constant("FATTURA PDF", 72, ""),
        code("ID FATTURA", 80, "invoice_number"),
        day("DATA FATTURA", 82, "invoice_date"),
        code("CONTO FATTURE", 88, "account"),
        text("NOME DI FATTURAZIONE", 240, "billing_name"),
        integer("QUANTITÀ", 60, "quantity", total=True),
        amount("SALDO VENDITE MST", 108, "sales_balance", total=True),
        amount("SOMMA LINEA SCONTO MST", 140, "line_discount_sum"),
        amount("SCONTO TOTALE:", 90, "total_discount"),
        amount("SOMMA FISCALE MST", 109, "tax_sum", total=True),
        amount("IMPORTO FATTURA MST", 121, "invoice_amount", total=True),
        text("ORDINE DI ACQUISTO", 109, "purchase_order"),
        text("RIFERIMENTO CLIENTE", 116, "customer_reference"),
        day("SCADENZA", 60, "due_date"),
        _shaped("ID TERMINE DI PAGAMENTO", 185, "payment_terms", payment_terms_cell),
        integer("OLTRE I GIORNI DI SCADENZA", 148, "days_past_due"),
        amount("LIQUIDA IMPORTO MST", 116, "settled_amount"),
        code("IDENTIFICATIVO ULTIMO PAGAMENTO:", 192, "last_payment_id"),
        day("DATA DI ULTIMA LIQUIDAZIONE", 159, "last_settlement_date"),
        day("CHIUSO", 60, "closed_on"),
        amount("IMPORTO RIMANENTE MST", 133, "remaining_amount", total=True),
        code("ID VENDITE", 80, "order_number"),
    ),
}

# -- columns outside the layouts ----------------------------------------------------


def _at(day: date | None, key: str) -> datetime | None:
    """A stable moment on ``day`` (06:00 plus up to 12 hours by ``key``)."""
    if day is None:
        return None
    seconds = 6 * 3600 + _hash_pick(key, 12 * 3600)
    return datetime.combine(day, time(0)) + timedelta(seconds=seconds)


def _modified(t: ExportType) -> Callable[[Any], datetime | None]:
    """The hidden MODIFIEDDATETIME of a record of ``t``: the record's own date, later
    in the day (the data set does not track it)."""

    def moment_of(record: Any) -> datetime | None:
        if t is ExportType.ORDERS:
            return _at(record.created_at.date(), record.id) if record.created_at else None
        if t is ExportType.DDT:
            return _at(record.delivery_date, record.ddt_number)
        if t is ExportType.INVOICES:
            return _at(record.invoice_date, record.invoice_number)
        return _at(record.valid_from, record.key)

    return moment_of


def _modified_column(t: ExportType) -> ColumnSpec:
    """The grid's MODIFIEDDATETIME column, captioned wrongly as the real portal does."""
    moment_of = _modified(t)

    def cell(record: Any, view: ExportView) -> str:
        value = moment_of(record)
        return "" if value is None else format_datetime(value, view)

    return ColumnSpec("CITTA DI FATTURAZIONE", 120, cell, raw=moment_of, stamped=True)


def _exclusive_days(c: Any) -> int | None:
    return 1 + _hash_pick("days" + c.id, 180) if filters.is_exclusive(c) else None


def _exclusive_end(c: Any) -> date | None:
    days = _exclusive_days(c)
    return TODAY + timedelta(days=days) if days is not None else None


def _exclusive_start(c: Any) -> date | None:
    end = _exclusive_end(c)
    return end - timedelta(days=365) if end is not None else None


def _exclusive_money(salt: str) -> Callable[[Any], Decimal | None]:
    def money(c: Any) -> Decimal | None:
        if not filters.is_exclusive(c):
            return None
        return Decimal(500 + _hash_pick(salt + c.id, 20_000_00)) / 100

    return money


def _fnomceo(c: Any) -> str | None:
    return f"RM{10000 + _hash_pick('fnomceo' + c.id, 89999)}" if _hash_pick(c.id, 4) else None


def _typed(header: str, width: float, raw: Callable[[Any], Any], text: Cell) -> ColumnSpec:
    def cell(record: Any, view: ExportView) -> str:
        value = raw(record)
        return "" if value is None else text(value, view)

    return ColumnSpec(header, width, cell, raw=raw)


#: the customers' columns added by the ERP update of 10 May 2026 (spec v3 "Columns"),
#: shown in a sub-panel of the customization dialog
MAY_2026_CUSTOMERS = (
    "GIORNI DI ESCLUSIVITÀ RIMANENTI",
    "FINE ESCLUSIVA",
    "INIZIO ESCLUSIVA IN ANTEPRIMA",
    "PREVISIONI ESCLUSIVE",
    "VENDITE IN ESCLUSIVA",
    "NUMERO MECCANOGRAFICO (FNOMCEO)",
)

#: grid columns outside the export layouts, hidden by default; a session that
#: shows them gets them on pages of their own after the layout's
EXTRA_COLUMNS: Mapping[ExportType, tuple[ColumnSpec, ...]] = {
    ExportType.CUSTOMERS: (
        _typed(
            MAY_2026_CUSTOMERS[0],
            170,
            _exclusive_days,
            lambda v, view: formats.integer(v, english=view.english),
        ),
        _typed(MAY_2026_CUSTOMERS[1], 90, _exclusive_end, format_date),
        _typed(MAY_2026_CUSTOMERS[2], 160, _exclusive_start, format_date),
        _typed(MAY_2026_CUSTOMERS[3], 120, _exclusive_money("forecast"), _euro_text),
        _typed(MAY_2026_CUSTOMERS[4], 120, _exclusive_money("sales"), _euro_text),
        _typed(MAY_2026_CUSTOMERS[5], 170, _fnomceo, lambda v, _: str(v)),
    ),
    ExportType.ORDERS: (_modified_column(ExportType.ORDERS),),
    ExportType.DDT: (_modified_column(ExportType.DDT),),
    ExportType.INVOICES: (
        _modified_column(ExportType.INVOICES),
        ColumnSpec("CITTA DI FATTURAZIONE", 120, lambda _r, _v: "", raw=lambda _r: None),
    ),
    ExportType.PRICES: (_modified_column(ExportType.PRICES),),
}

#: layout columns a new session hides besides the products' (see :func:`default_hidden`)
_DEFAULT_HIDDEN: Mapping[ExportType, tuple[str, ...]] = {
    ExportType.ORDERS: (
        "PROFILO CLIENTE:",
        "DATA DI CONSEGNA",
        "STATO DEL DOCUMENTO",
        "ORIGINE VENDITE:",
        "DATA DI TRASFERIMENTO",
        "APPLICA SCONTO %:",
        "ORDINE OMAGGIO:",
        "E-MAIL",
    ),
    ExportType.DDT: (
        "CONTO DELL'ORDINE",
        "NUMERO DI TRACCIABILITÀ",
        "TERMINI DI CONSEGNA:",
        "ALL'ATTENZIONE DI",
        "PESO LORDO:",
        "VETTORE ESTERNO",
    ),
    ExportType.PRICES: ("CODICE CONTO", "DA DATA", "DATA", "PREZZO NETTO BRASSELER"),
    ExportType.INVOICES: (
        "SCONTO TOTALE:",
        "IDENTIFICATIVO ULTIMO PAGAMENTO:",
        "DATA DI ULTIMA LIQUIDAZIONE",
        "ID VENDITE",
    ),
}

# -- layouts per epoch (headers exactly as printed) --------------------------------

Pages = tuple[tuple[str, ...], ...]

_CUSTOMERS_FIRST: Pages = (
    ("ID", "PROFILO CLIENTE:", "NOME", "PARTITA IVA:"),
    ("PEC:", "SDI:", "CODICE FISCALE:", "TERMINI DI CONSEGNA"),
    ("VIA:", "INDIRIZZO LOGISTICO CAP", "CITTÀ"),
)
_PRODUCTS_FIRST: Pages = (
    ("ID ARTICOLO", "NOME ARTICOLO:", "DESCRIZIONE"),
    ("GRUPPO ARTICOLO:", "IMMAGINE:", "CONTENUTO DELL'IMBALLAGGIO", "NOME DELLA RICERCA"),
    ("UNITÀ DI PREZZO:", "ID GRUPPO DI PRODOTTI", "DESCRIZIONE GRUPPO ARTICOLO:", "QTÀ MINIMA:"),
)
_PRICES: Pages = (
    ("ID", "CODICE CONTO", "ACCOUNT:", "DESCRIZIONE ACCOUNT:", "ITEM SELECTION:"),
    ("ITEM DESCRIPTION:", "DA DATA", "DATA", "QUANTITÀIMPORTODA"),
    ("QUANTITÀIMPORTO", "UNITÀ DI PREZZO", "IMPORTO UNITARIO:", "VALUTA", "PREZZO NETTO BRASSELER"),
)
_ORDERS_2026_01: Pages = (
    ("ID", "ID DI VENDITA", "PROFILO CLIENTE:", "NOME VENDITE:"),
    ("NOME DI CONSEGNA", "INDIRIZZO DI CONSEGNA"),
    ("DATA DI CREAZIONE", "DATA DI CONSEGNA", "RIMANI VENDITE FINANZIARIE"),
    ("RIFERIMENTO CLIENTE", "STATO DELLE VENDITE", "TIPO DI ORDINE", "STATO DEL DOCUMENTO"),
    ("ORIGINE VENDITE:", "STATO DEL TRASFERIMENTO", "DATA DI TRASFERIMENTO"),
    ("DATA DI COMPLETAMENTO", "PREVENTIVO:", "APPLICA SCONTO %:", "IMPORTO LORDO:"),
    ("IMPORTO TOTALE", "ORDINE OMAGGIO:"),
)
_DDT_2026_01: Pages = (
    ("PDF DDT", "ID", "DOCUMENTO DI TRASPORTO:", "DATA DI CONSEGNA", "ID DI VENDITA"),
    ("CONTO DELL'ORDINE", "NOME VENDITE:"),
    ("NOME DI CONSEGNA", "NOME DI CONSEGNA"),
    ("TOTALE", "RIFERIMENTO CLIENTE", "DESCRIZIONE:"),
    ("NUMERO DI TRACCIABILITÀ", "TERMINI DI CONSEGNA:"),
    ("MODALITÀ DI CONSEGNA", "ALL'ATTENZIONE DI", "CITTÀ DI CONSEGNA"),
)
#: the DDT's seventh page from March 2026: columns archid does not know (made up)
DDT_UNKNOWN_PAGE = ("PESO LORDO:", "NUMERO DI COLLI", "VETTORE ESTERNO")
_INVOICES: Pages = (
    ("FATTURA PDF", "ID FATTURA", "DATA FATTURA", "CONTO FATTURE"),
    ("NOME DI FATTURAZIONE", "QUANTITÀ", "SALDO VENDITE MST"),
    ("SOMMA LINEA SCONTO MST", "SCONTO TOTALE:", "SOMMA FISCALE MST", "IMPORTO FATTURA MST"),
    ("ORDINE DI ACQUISTO", "RIFERIMENTO CLIENTE", "SCADENZA"),
    ("ID TERMINE DI PAGAMENTO", "OLTRE I GIORNI DI SCADENZA"),
    ("LIQUIDA IMPORTO MST", "IDENTIFICATIVO ULTIMO PAGAMENTO:", "DATA DI ULTIMA LIQUIDAZIONE"),
    ("CHIUSO", "IMPORTO RIMANENTE MST", "ID VENDITE"),
)
#: the products export of a fresh ``2026-03`` session: 18 columns on 5 pages
FRESH_PRODUCTS: Pages = (
    ("ID ARTICOLO", "NOME ARTICOLO:", "DESCRIZIONE"),
    ("GRUPPO ARTICOLO:", "CONTENUTO DELL'IMBALLAGGIO", "NOME DELLA RICERCA"),
    ("UNITÀ DI PREZZO:", "QTÀ MINIMA:", "QTÀ MULTIPLI:", "QTÀ MASSIMA:"),
    ("ID", "DATETIME MODIFICATO", "FERMATO", "DATA CREATA"),
    ("PURCH PRICE PCS", "QTÀ STANDARD:", "ARTICOLO ORDINABILE:", "ID UNITÀ"),
)
LAYOUTS: Mapping[str, Mapping[ExportType, Pages]] = {
    "2026-01": {
        ExportType.CUSTOMERS: (
            *_CUSTOMERS_FIRST,
            ("TELEFONO:", "CELLULARE:", "URL:", "ALL’ATTENZIONE DI:", "DATA DELL'ULTIMO ORDINE"),
            (
                "CONTEGGI DEGLI ORDINI EFFETTIVI",
                "TIPO DI CLIENTE",
                "CONTEGGIO DEGLI ORDINI PRECEDENTE",
            ),
            ("VENDITE PRECEDENTE", "CONTEGGIO DEGLI ORDINI PRECEDENTE 2", "VENDITE PRECEDENTE"),
            ("DESCRIZIONE:", "TYPE:", "NUMERO DI CONTO ESTERNO"),
            ("IL NOSTRO NUMERO DI CONTO",),
        ),
        # The spec gives January's grouping by its first and last columns only.
        ExportType.PRODUCTS: (
            *_PRODUCTS_FIRST,
            (
                "QTÀ MULTIPLI:",
                "QTÀ MASSIMA:",
                "FIGURA:",
                "ID IN BLOCCO DELL'ARTICOLO",
                "PACCO",
                "GAMBA",
            ),
            (
                "GRANDEZZA",
                "ID DI CONFIGURAZIONE",
                "CREATO DA:",
                "DATETIME MODIFICATO",
                "DATAAREAID",
            ),
            ("QTÀ PREDEFINITA:", "VISUALIZZA IL NUMERO DI PRODOTTO", "DATA CREATA", "ID"),
            ("SCONTO LINEA", "SCONTO ASSOLUTO TOTALE:", "MODIFICATO DA:", "ARTICOLO ORDINABILE:"),
            (
                "PURCH PRICE PCS",
                "ID DI CONFIGURAZIONE STANDARD",
                "QTÀ STANDARD:",
                "FERMATO",
                "ID UNITÀ",
            ),
        ),
        ExportType.PRICES: _PRICES,
        ExportType.ORDERS: _ORDERS_2026_01,
        ExportType.DDT: _DDT_2026_01,
        ExportType.INVOICES: _INVOICES,
    },
    "2026-03": {
        ExportType.CUSTOMERS: (
            *_CUSTOMERS_FIRST,
            ("TELEFONO:", "CELLULARE:", "URL:", "ALL’ATTENZIONE DI:"),
            ("DATA DELL'ULTIMO ORDINE", "CONTEGGI DEGLI ORDINI EFFETTIVI", "TIPO DI CLIENTE"),
            ("CONTEGGIO DEGLI ORDINI PRECEDENTE", "VENDITE PRECEDENTE"),
            ("CONTEGGIO DEGLI ORDINI PRECEDENTE 2", "VENDITE PRECEDENTE"),
            ("DESCRIZIONE:", "TYPE:", "NUMERO DI CONTO ESTERNO"),
            ("IL NOSTRO NUMERO DI CONTO",),
        ),
        ExportType.PRODUCTS: (
            *_PRODUCTS_FIRST,
            ("QTÀ MULTIPLI:", "QTÀ MASSIMA:", "FIGURA:", "DATAAREAID", "ID", "DATETIME MODIFICATO"),
            (
                "FERMATO",
                "ID IN BLOCCO DELL'ARTICOLO",
                "PACCO",
                "GAMBA",
                "GRANDEZZA",
                "ID DI CONFIGURAZIONE",
            ),
            ("CREATO DA:", "DATA CREATA", "QTÀ PREDEFINITA:", "VISUALIZZA IL NUMERO DI PRODOTTO"),
            ("SCONTO ASSOLUTO TOTALE:", "SCONTO LINEA", "MODIFICATO DA:", "ARTICOLO ORDINABILE:"),
            (
                "PURCH PRICE PCS",
                "ID DI CONFIGURAZIONE STANDARD",
                "QTÀ STANDARD:",
                "ID ELEMENTO IVAID",
            ),
            ("ID UNITÀ",),
        ),
        ExportType.PRICES: _PRICES,
        ExportType.ORDERS: (*_ORDERS_2026_01[:-1], ("IMPORTO TOTALE", "ORDINE OMAGGIO:", "E-MAIL")),
        ExportType.DDT: (*_DDT_2026_01, DDT_UNKNOWN_PAGE),
        ExportType.INVOICES: _INVOICES,
    },
}


def file_name(t: ExportType, view: ExportView = FULL_VIEW) -> str:
    """The name the portal gives the downloaded export (English for an English browser)."""
    return (ENGLISH_FILE_NAMES if view.english else FILE_NAMES)[t]


def column_keys(headers_in_order: Sequence[str]) -> list[str]:
    """Names telling columns apart: the header, then ``header#2`` for its second print."""
    seen: dict[str, int] = {}
    keys = []
    for header in headers_in_order:
        seen[header] = seen.get(header, 0) + 1
        keys.append(header if seen[header] == 1 else f"{header}#{seen[header]}")
    return keys


def layout_columns(t: ExportType, layout: str = NEWEST) -> list[list[tuple[str, ColumnSpec]]]:
    """Every column of ``t``'s layout in ``layout``, page by page, with its key."""
    by_header: dict[str, list[ColumnSpec]] = {}
    for spec in _COLUMNS[t]:
        by_header.setdefault(spec.header, []).append(spec)
    grouping = LAYOUTS[layout][t]
    keys = iter(column_keys([h for page in grouping for h in page]))
    used: dict[str, int] = {}
    out: list[list[tuple[str, ColumnSpec]]] = []
    for page in grouping:
        specs = []
        for header in page:
            # a header printed twice is the next column of that header
            index = used.get(header, 0)
            used[header] = index + 1
            specs.append((next(keys), by_header[header][index]))
        out.append(specs)
    return out


def extra_columns(t: ExportType) -> list[tuple[str, ColumnSpec]]:
    """The columns of ``t``'s grid outside its layout, with their keys (hidden by default)."""
    specs = EXTRA_COLUMNS.get(t, ())
    return list(zip(column_keys([s.header for s in specs]), specs, strict=True))


def default_hidden(t: ExportType, layout: str = NEWEST) -> frozenset[str]:
    """The layout columns a new session's grid hides (spec v3 "Columns").

    The real portal hides many (orders 40 of 63, DDT 16 of 33, prices 32
    of 46), among them columns a reader of the export needs; these are a
    smaller, fixed share of the same kind. Products hide everything but
    :data:`FRESH_PRODUCTS` from the ``2026-03`` epoch on.
    """
    if t is ExportType.PRODUCTS:
        if layout == "2026-01":
            return frozenset()
        fresh = {h for page in FRESH_PRODUCTS for h in page}
        return frozenset(k for page in layout_columns(t, layout) for k, _ in page) - fresh
    known = {k for page in layout_columns(t, layout) for k, _ in page}
    return frozenset(_DEFAULT_HIDDEN.get(t, ())) & known


def pages(t: ExportType, view: ExportView = FULL_VIEW) -> list[list[ColumnSpec]]:
    """The columns of each page of a cycle of ``t`` as ``view`` prints them.

    The layout's pages without the hidden columns (a page left empty is
    dropped), then the shown extra columns on pages of their own. A fresh
    ``2026-03`` products session prints its 18 columns on the 5 pages the
    spec records (:data:`FRESH_PRODUCTS`).
    """
    grouped = layout_columns(t, view.layout)
    shown = {k for page in grouped for k, _ in page} - view.hidden
    out: list[list[ColumnSpec]]
    fresh = {h for page in FRESH_PRODUCTS for h in page}
    if t is ExportType.PRODUCTS and view.layout != "2026-01" and shown == fresh:
        specs = {k: spec for page in grouped for k, spec in page}
        out = [[specs[h] for h in page] for page in FRESH_PRODUCTS]
    else:
        out = [[spec for k, spec in page if k in shown] for page in grouped]
        out = [page for page in out if page]
    extras = [spec for k, spec in extra_columns(t) if k in view.extra]
    page: list[ColumnSpec] = []
    for spec in extras:
        if page and sum(c.width for c in page) + spec.width > PAGE_WIDTH:
            out.append(page)
            page = []
        page.append(spec)
    if page:
        out.append(page)
    return out


def headers(t: ExportType, view: ExportView = FULL_VIEW) -> list[list[str]]:
    """The Italian headers of each page of a cycle of ``t`` as ``view`` prints them."""
    return [[c.header for c in page] for page in pages(t, view)]


def shown_fields(t: ExportType, view: ExportView = FULL_VIEW) -> frozenset[str]:
    """The record fields an export made with ``view`` prints (and a parser can read)."""
    shown = {c.field for page in pages(t, view) for c in page if c.field is not None}
    if t is ExportType.DDT and "tracking_number" in shown:
        shown |= {"tracking_carrier", "tracking_url"}  # they share the tracking cell
    return frozenset(shown)


def unread_fields(t: ExportType, view: ExportView = FULL_VIEW) -> frozenset[str]:
    """The record fields ``view``'s export does not show: ``None`` and unread in a parse."""
    every = {f.name for f in data_fields(RECORD_TYPES[t])}
    return frozenset(every - shown_fields(t, view))


def summary_columns(t: ExportType) -> dict[str, Summary]:
    """Which headers of ``t`` carry ``Count=`` or ``Sum=`` in the closing row."""
    return {c.header: c.summary for c in _COLUMNS[t] if c.summary is not None}


# -- record selection --------------------------------------------------------------


in_saved_filter = filters.in_saved_filter


def select_records(t: ExportType, records: Sequence[Record], view: ExportView) -> list[Record]:
    """The records an export of ``t`` made with ``view`` contains, in order."""
    return filters.select(t, records, view.filter)


def expected_records(t: ExportType, records: Sequence[Record], view: ExportView) -> list[Record]:
    """What a correct parser yields from the export: the selected records, every field
    the export does not show ``None`` and named in ``unread``."""
    selected = select_records(t, records, view)
    unread = unread_fields(t, view)
    if not unread:
        return selected
    blank: dict[str, Any] = dict.fromkeys(unread)
    return [dataclasses.replace(r, **blank, unread=unread) for r in selected]


def truth_json(
    dataset: Dataset, t: ExportType, view: ExportView = FULL_VIEW
) -> list[dict[str, Any]]:
    """The JSON form (:func:`archid.records.to_json`) of :func:`expected_records`."""
    return [to_json(r) for r in expected_records(t, dataset.records(t), view)]


# -- the grid --------------------------------------------------------------------


def build_grid(
    t: ExportType,
    records: Sequence[Record],
    view: ExportView,
    stamps: Mapping[str, datetime] | None = None,
) -> Grid:
    """The export of ``records`` of type ``t`` as ``view`` prints it.

    ``records`` is the full table (e.g. :meth:`Dataset.records`);
    :func:`select_records` is applied here, so callers pass the view only.
    ``stamps`` (:meth:`Dataset.stamps`) give the MODIFIEDDATETIME of changed
    records, printed when the view shows that column.
    """
    layout = pages(t, view)
    columns = [c for page in layout for c in page]
    selected = select_records(t, records, view)
    rows = [[c.text(r, view, stamps) for c in columns] for r in selected]
    return Grid(
        pages=[[c.column(t, view) for c in page] for page in layout],
        rows=rows,
        summary=summary_row(t, columns, selected, view),
        title=file_name(t, view).removesuffix(".pdf"),
    )


def printed_sum(t: ExportType, header: str, records: Sequence[Record], field: str) -> Decimal:
    """The figure the portal prints as ``Sum=`` under ``header``: the sum over the
    records, except the orders' IMPORTO TOTALE, which it prints a few cents off."""
    values = [getattr(r, field) for r in records]
    total = sum((Decimal(v) for v in values if v is not None), Decimal(0))
    if t is ExportType.ORDERS and header == "IMPORTO TOTALE" and records:
        total += Decimal(1 + _hash_pick(str(total), 7)) / 100
    return total


def summary_row(
    t: ExportType, columns: Sequence[ColumnSpec], records: Sequence[Record], view: ExportView
) -> list[str]:
    """The closing row: ``Count=`` and ``Sum=`` cells, empty elsewhere."""
    row: list[str] = []
    for column in columns:
        if column.summary == "count":
            row.append(f"Count={formats.integer(len(records), english=view.english)}")
        elif column.summary == "sum" and column.field is not None and column.sum_format:
            total = printed_sum(t, column.header, records, column.field)
            row.append(f"Sum={column.sum_format(total, view)}")
        else:
            row.append("")
    return row
