"""Typed, canonical records: what every export turns into.

One frozen dataclass per export type. These are the contract between the
parsers (which yield them), the simulator (whose ground truth is a list of
them) and the store (which mirrors them). Canonical form:

* text is stripped, inner whitespace collapsed to single spaces, and the
  lines of a wrapped or multi-line cell are joined with one space; an empty
  cell is ``None``;
* numeric record IDs are digits only (``71.039`` → ``"71039"``); document
  numbers (``ORD/26000887``), article codes (``H1.314.016``) and account
  numbers (``049421``) are kept as written;
* amounts, percentages and decimal quantities are
  :class:`~decimal.Decimal`, dates :class:`~datetime.date`, date-times
  :class:`~datetime.datetime` (naive, portal local time), flags ``bool``,
  counts and integer quantities ``int``. A column is typed only where the
  spec shows what its values look like; every other column is text.

Field names say what a column holds, not what its caption says (the
customers' "TIPO DI CLIENTE" is ``sales_this_year``, the DDT's "CITTÀ DI
CONSEGNA" is ``delivery_email``).

Each record has a ``key`` property, the stable key it is stored under
(spec v2, "Keys"): business numbers, not the portal's internal IDs, which
the ERP renumbers. The internal ID stays a field.

Every record ends with ``unread``, a set of field names that is not part
of the record's value (not compared, not stored, not in JSON): the fields
whose cell could not be read (a bad cell) or whose column the export does
not show (an optional column a session hid). Such a field holds ``None``
and means *unknown*, not *empty*: the store keeps what it has for it.

``to_json``/``from_json`` give the JSON form used by ``archid parse`` and
the simulator's ``/_sim/truth`` endpoint: decimals as strings, dates ISO 8601.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


class ExportType(enum.StrEnum):
    """The six list views archid mirrors, in the order the spec lists them."""

    CUSTOMERS = "customers"
    PRODUCTS = "products"
    PRICES = "prices"
    ORDERS = "orders"
    DDT = "ddt"
    INVOICES = "invoices"


def _unread() -> Any:
    """The ``unread`` field every record ends with (see the module docstring)."""
    return dataclasses.field(default=frozenset(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Customer:
    """A row of ``Clienti.pdf``. Keyed by its ID: customers have no other key."""

    id: str
    account: str | None  # PROFILO CLIENTE: the account number ("049421"), only for customers
    name: str | None
    vat_number: str | None
    pec: str | None
    sdi: str | None
    fiscal_code: str | None
    delivery_mode: str | None  # printed under "TERMINI DI CONSEGNA" ("FedEx")
    street: str | None
    postal_code: str | None
    city: str | None
    phone: str | None
    mobile: str | None
    url: str | None
    attention_to: str | None
    last_order_date: date | None
    order_count: int | None
    sales_this_year: Decimal | None  # printed under "TIPO DI CLIENTE"
    order_count_last_year: int | None
    sales_last_year: Decimal | None  # the first "VENDITE PRECEDENTE"
    order_count_year_before: int | None
    sales_year_before: Decimal | None  # the second "VENDITE PRECEDENTE"
    description: str | None
    type_code: str | None  # printed under "TYPE:" ("PotDentiItal")
    external_account: str | None
    our_account: str | None
    unread: frozenset[str] = _unread()

    @property
    def key(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class Product:
    """A row of ``Prodotti.pdf``, keyed by its article code (IMMAGINE is always noise)."""

    article: str  # ID ARTICOLO ("021752K1"), the key
    catalogue_number: str | None  # NOME ARTICOLO: ("9686.204.040"), shared by pack sizes
    description: str | None
    group: str | None
    pack_size: str | None  # CONTENUTO DELL'IMBALLAGGIO
    search_name: str | None
    price_unit: str | None
    product_group_id: str | None
    group_description: str | None
    min_qty: Decimal | None
    multiple_qty: Decimal | None
    max_qty: Decimal | None
    figure: str | None
    data_area_id: str | None
    id: str | None  # the portal's internal ID, renumbered by the ERP
    modified_at: datetime | None
    stopped: bool | None  # FERMATO
    block_id: str | None
    pack: str | None
    shank: str | None
    size: str | None
    config_id: str | None
    created_by: str | None
    created_at: datetime | None  # DATA CREATA, a date-time
    default_qty: Decimal | None
    display_number: str | None
    total_absolute_discount: str | None
    line_discount: str | None
    modified_by: str | None
    orderable: str | None
    purchase_price: Decimal | None
    standard_config_id: str | None
    standard_qty: Decimal | None
    vat_item_id: str | None  # not in the layout of January 2026
    unit_id: str | None
    unread: frozenset[str] = _unread()

    @property
    def key(self) -> str:
        return self.article


@dataclass(frozen=True, slots=True)
class Price:
    """A row of ``Tabella prezzi.pdf``: one price of one article for one price group.

    Keyed by what it prices (article, price group, validity start, quantity
    range); ``id`` is the price row's own internal number, renumbered by the ERP.
    """

    id: str | None
    account_code: str | None  # CODICE CONTO ("Group")
    price_group: str | None  # ACCOUNT: ("002")
    price_group_name: str | None  # DESCRIZIONE ACCOUNT: ("DETTAGLIO (consigliato)")
    article: str  # ITEM SELECTION: = products.article
    catalogue_number: str | None  # ITEM DESCRIPTION: = products.catalogue_number
    valid_from: date | None  # DA DATA
    valid_to: date | None  # DATA; open-ended is 2154-12-31
    qty_from: Decimal | None  # QUANTITÀIMPORTODA
    qty_to: Decimal | None  # QUANTITÀIMPORTO
    price_unit: str | None
    unit_price: Decimal | None
    currency: str | None
    net_price: bool | None  # PREZZO NETTO BRASSELER, a flag
    unread: frozenset[str] = _unread()

    @property
    def key(self) -> str:
        return _joined_key(
            self.article, self.price_group, self.valid_from, self.qty_from, self.qty_to
        )


@dataclass(frozen=True, slots=True)
class Order:
    """A row of ``Ordini.pdf``.

    Keyed by its order number (``ORD/26000887``); a pending order or a draft
    has none yet and is keyed by its internal ID (digits only, so the two
    kinds of key never collide) until it gets one.
    """

    id: str  # the portal's internal ID, renumbered by the ERP
    order_number: str | None  # ID DI VENDITA
    account: str | None  # PROFILO CLIENTE: the ordering account ("049421")
    account_name: str | None  # NOME VENDITE:
    delivery_name: str | None
    delivery_address: str | None  # street, then "CAP city province"
    created_at: datetime
    delivery_date: date | None
    purchase_order: str | None  # printed under "RIMANI VENDITE FINANZIARIE"
    customer_reference: str | None
    sales_status: str | None
    order_type: str | None
    document_status: str | None
    sales_origin: str | None
    transfer_status: str | None
    transfer_date: date | None
    completed_date: date | None
    quote: bool | None
    discount_percent: Decimal | None  # APPLICA SCONTO %: ("21,49 %" is 21.49)
    gross_amount: Decimal | None
    total_amount: Decimal | None
    gift_order: bool | None
    email: str | None = None  # only in exports that carry the E-MAIL column
    unread: frozenset[str] = _unread()

    @property
    def key(self) -> str:
        return self.order_number or self.id


@dataclass(frozen=True, slots=True)
class Ddt:
    """A row of ``Documenti di trasporto.pdf`` (a transport document), keyed by its number."""

    id: str | None  # the portal's internal ID
    ddt_number: str  # DOCUMENTO DI TRASPORTO: ("DDT/26000724")
    delivery_date: date | None
    order_number: str  # ID DI VENDITA = orders.order_number
    order_account: str | None  # CONTO DELL'ORDINE ("049421")
    account_name: str | None  # NOME VENDITE:
    delivery_name: str | None  # the first "NOME DI CONSEGNA"
    delivery_address: str | None  # the second "NOME DI CONSEGNA"
    quantity: int | None  # printed under "TOTALE"
    customer_reference: str | None
    purchase_order: str | None  # printed under "DESCRIZIONE:"
    tracking_carrier: str | None  # from the link text of NUMERO DI TRACCIABILITÀ
    tracking_number: str | None
    tracking_url: str | None
    delivery_terms: str | None
    delivery_mode: str | None
    attention_to: str | None
    delivery_email: str | None  # printed under "CITTÀ DI CONSEGNA"
    unread: frozenset[str] = _unread()

    @property
    def key(self) -> str:
        return self.ddt_number


@dataclass(frozen=True, slots=True)
class Invoice:
    """A row of ``Fatture.pdf``, keyed by its number; credit notes (``NC/…``) too."""

    invoice_number: str  # ID FATTURA ("CF1/26000113", "NC/25000530")
    invoice_date: date | None
    account: str | None  # CONTO FATTURE ("049421")
    billing_name: str | None
    quantity: int | None
    sales_balance: Decimal | None
    line_discount_sum: Decimal | None
    total_discount: Decimal | None
    tax_sum: Decimal | None
    invoice_amount: Decimal | None
    purchase_order: str | None  # ORDINE DI ACQUISTO
    customer_reference: str | None
    due_date: date | None
    payment_terms: str | None  # ID TERMINE DI PAGAMENTO, often two lines
    days_past_due: int | None
    settled_amount: Decimal | None
    last_payment_id: str | None
    last_settlement_date: date | None
    closed_on: date | None  # printed under "CHIUSO": empty while open
    remaining_amount: Decimal | None
    order_number: str | None  # ID VENDITE, only when the session shows it
    unread: frozenset[str] = _unread()

    @property
    def key(self) -> str:
        return self.invoice_number


def _joined_key(*parts: str | date | Decimal | None) -> str:
    """A key made of several fields, joined by ``|``: text as it is, None as nothing,
    dates ISO 8601, decimals by value (``1``, ``1,00`` and ``1.0`` are all ``1``)."""
    return "|".join(_key_part(part) for part in parts)


def _key_part(part: str | date | Decimal | None) -> str:
    if part is None:
        return ""
    if isinstance(part, Decimal):
        return format(part.normalize(), "f")
    if isinstance(part, date):
        return part.isoformat()
    return part


Record = Customer | Product | Price | Order | Ddt | Invoice

RECORD_TYPES: Mapping[ExportType, type[Record]] = {
    ExportType.CUSTOMERS: Customer,
    ExportType.PRODUCTS: Product,
    ExportType.PRICES: Price,
    ExportType.ORDERS: Order,
    ExportType.DDT: Ddt,
    ExportType.INVOICES: Invoice,
}

_DATA_FIELDS: Mapping[type[Record], tuple[dataclasses.Field[Any], ...]] = {
    cls: tuple(f for f in dataclasses.fields(cls) if f.name != "unread")
    for cls in RECORD_TYPES.values()
}


def record_key(record: Record) -> str:
    """The canonical key a record is stored under (its ``key`` property)."""
    return record.key


def data_fields(cls: type[Record]) -> tuple[dataclasses.Field[Any], ...]:
    """The fields of ``cls`` that hold values, in order: every field but ``unread``."""
    return _DATA_FIELDS[cls]


def to_json(record: Record) -> dict[str, Any]:
    """A record as a JSON-ready dict (decimals as strings, dates ISO 8601)."""
    out: dict[str, Any] = {}
    for field in data_fields(type(record)):
        value = getattr(record, field.name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, date):  # datetime is a date too
            value = value.isoformat()
        out[field.name] = value
    return out


def from_json(cls: type[Record], data: Mapping[str, Any]) -> Record:
    """The inverse of :func:`to_json`; raises ``ValueError`` on a bad field."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in data_fields(cls):
        if field.name not in data:
            if field.default is dataclasses.MISSING:
                raise ValueError(f"{cls.__name__}: missing field {field.name!r}")
            continue
        values[field.name] = _decode(hints[field.name], data[field.name], field.name)
    unknown = set(data) - {f.name for f in data_fields(cls)}
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    return cls(**values)


def _decode(hint: Any, value: Any, name: str) -> Any:
    if value is None:
        return None
    if isinstance(hint, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    try:
        if hint is Decimal:
            return Decimal(str(value))
        if hint is datetime:
            return datetime.fromisoformat(value)
        if hint is date:
            return date.fromisoformat(value)
        if hint is bool and isinstance(value, bool):
            return value
        if hint is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if hint is str and isinstance(value, str):
            return value
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise ValueError(f"field {name!r}: {value!r} is not a valid {hint.__name__}") from exc
    raise ValueError(f"field {name!r}: {value!r} is not a valid {hint.__name__}")
