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
* amounts and quantities are :class:`~decimal.Decimal`, dates
  :class:`~datetime.date`, date-times :class:`~datetime.datetime` (naive,
  portal local time), flags ``bool``, counts ``int``.

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
from typing import Any, ClassVar


class ExportType(enum.StrEnum):
    """The six list views archid mirrors, in the order the spec lists them."""

    CUSTOMERS = "customers"
    PRODUCTS = "products"
    PRICES = "prices"
    ORDERS = "orders"
    DDT = "ddt"
    INVOICES = "invoices"


@dataclass(frozen=True, slots=True)
class Customer:
    """A row of ``Clienti.pdf`` (artefact rows with ID ``0`` are not records)."""

    KEY: ClassVar[str] = "id"

    id: str
    profile: str | None
    name: str | None
    vat_number: str | None
    pec: str | None
    sdi: str | None
    fiscal_code: str | None
    delivery_terms: str | None
    street: str | None
    postal_code: str | None
    city: str | None
    phone: str | None
    mobile: str | None
    url: str | None
    attention_to: str | None
    last_order_date: date | None
    order_count: int | None
    sales_amount: Decimal | None  # printed under "TIPO DI CLIENTE"
    previous_order_count: int | None
    previous_sales: Decimal | None
    previous_order_count_2: int | None
    previous_sales_2: Decimal | None
    description: str | None
    type: str | None
    external_account: str | None
    our_account: str | None


@dataclass(frozen=True, slots=True)
class Product:
    """A row of ``Prodotti.pdf``; the IMMAGINE column is always noise and dropped."""

    KEY: ClassVar[str] = "id"

    id: str  # ID ARTICOLO, an article code such as "H1.314.016"
    name: str | None
    description: str | None
    group: str | None
    package_content: str | None
    search_name: str | None
    price_unit: str | None
    product_group_id: str | None
    group_description: str | None
    min_qty: Decimal | None
    multiple_qty: Decimal | None
    max_qty: Decimal | None
    figure: str | None
    data_area_id: str | None
    record_id: str | None
    modified_at: datetime | None
    stopped: bool | None
    block_id: str | None
    pack: str | None
    shank: str | None
    size: str | None
    config_id: str | None
    created_by: str | None
    created_on: date | None
    default_qty: Decimal | None
    display_number: str | None
    total_absolute_discount: bool | None
    line_discount: bool | None
    modified_by: str | None
    orderable: bool | None
    purchase_price: Decimal | None
    standard_config_id: str | None
    standard_qty: Decimal | None
    vat_item_id: str | None
    unit_id: str | None


@dataclass(frozen=True, slots=True)
class Price:
    """A row of ``Tabella prezzi.pdf``."""

    KEY: ClassVar[str] = "id"

    id: str
    account_code: str | None
    account: str | None
    account_description: str | None
    item_selection: str | None
    item_description: str | None
    from_date: date | None
    to_date: date | None
    qty_from: Decimal | None
    qty_to: Decimal | None
    price_unit: str | None
    unit_price: Decimal | None
    currency: str | None
    net_price_brasseler: Decimal | None

    @property
    def product_id(self) -> str:
        """The article this price is for: ITEM SELECTION, else the row's ID."""
        return self.item_selection or self.id


@dataclass(frozen=True, slots=True)
class Order:
    """A row of ``Ordini.pdf``. Drafts have no ``sales_id``; the key is ``id``."""

    KEY: ClassVar[str] = "id"

    id: str
    sales_id: str | None
    customer_profile: str | None
    sales_name: str | None
    delivery_name: str | None
    delivery_address: str | None
    created_at: datetime
    delivery_date: date | None
    description: str | None  # printed under "RIMANI VENDITE FINANZIARIE"
    customer_reference: str | None
    sales_status: str | None
    order_type: str | None
    document_status: str | None
    sales_origin: str | None
    transfer_status: str | None
    transfer_date: date | None
    completed_date: date | None
    quote: bool | None
    apply_discount: Decimal | None
    gross_amount: Decimal | None
    total_amount: Decimal | None
    gift_order: bool | None
    email: str | None = None  # only in exports that carry the E-MAIL column


@dataclass(frozen=True, slots=True)
class Ddt:
    """A row of ``Documenti di trasporto.pdf`` (a transport document)."""

    KEY: ClassVar[str] = "id"

    id: str
    ddt_number: str
    delivery_date: date | None
    sales_id: str
    order_account: str | None
    sales_name: str | None
    delivery_name: str | None
    delivery_address: str | None
    quantity: Decimal | None  # printed under "TOTALE"
    customer_reference: str | None
    description: str | None
    tracking_carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    delivery_terms: str | None
    delivery_mode: str | None
    attention_to: str | None
    delivery_city: str | None


@dataclass(frozen=True, slots=True)
class Invoice:
    """A row of ``Fatture.pdf``; credit notes (``NC/…``) have negative amounts."""

    KEY: ClassVar[str] = "id"

    id: str  # ID FATTURA, e.g. "CF1/26000113"
    invoice_date: date | None
    account: str | None
    billing_name: str | None
    quantity: Decimal | None
    sales_balance: Decimal | None
    line_discount_sum: Decimal | None
    total_discount: Decimal | None
    tax_sum: Decimal | None
    invoice_amount: Decimal | None
    purchase_order: str | None
    customer_reference: str | None
    due_date: date | None
    payment_term_id: str | None
    days_past_due: int | None
    settled_amount: Decimal | None
    last_payment_id: str | None
    last_settlement_date: date | None
    closed: bool | None
    remaining_amount: Decimal | None
    sales_id: str | None


Record = Customer | Product | Price | Order | Ddt | Invoice

RECORD_TYPES: Mapping[ExportType, type[Record]] = {
    ExportType.CUSTOMERS: Customer,
    ExportType.PRODUCTS: Product,
    ExportType.PRICES: Price,
    ExportType.ORDERS: Order,
    ExportType.DDT: Ddt,
    ExportType.INVOICES: Invoice,
}


def record_key(record: Record) -> str:
    """The canonical key a record is stored under."""
    key: str = getattr(record, type(record).KEY)
    return key


def to_json(record: Record) -> dict[str, Any]:
    """A record as a JSON-ready dict (decimals as strings, dates ISO 8601)."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(record):
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
    for field in dataclasses.fields(cls):
        if field.name not in data:
            if field.default is dataclasses.MISSING:
                raise ValueError(f"{cls.__name__}: missing field {field.name!r}")
            continue
        values[field.name] = _decode(hints[field.name], data[field.name], field.name)
    unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
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
