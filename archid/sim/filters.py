"""The saved filters of the list views (spec v3 "Filters"): items, XAF values, what they keep.

Every list but products has a filter combo in its main menu; its items
and their XAF values are exactly the spec's table. A value is
``xaf_xaf_a<m>`` + the item's suffix, where ``<m>`` drifts with the ERP's
releases (the ``filter_prefix`` option). The item a user chose is saved in
their profile and every export goes through it.

What each item keeps is not recorded anywhere; the predicates here are
plausible stand-ins, all relative to the data set's "today"
(:data:`archid.sim.dataset.TODAY`, not the wall clock, so that exports stay
cacheable): by date (today, this week, this month, the last three months),
by status (orders entered, completed, transferred, waiting for the regional
manager, quotes), by payment (open and overdue invoices) and by a stable
hash (exclusive customers). An item that would keep nothing of the data
keeps a stable twentieth of it instead, so that every item visibly
filters. The wanted items (:func:`wanted`) keep every record: the truth.

Products have no combo but a saved grid filter (:func:`in_saved_filter`),
keeping about 9 % of the products.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from archid.records import Customer, Ddt, ExportType, Invoice, Order, Price, Product, Record
from archid.sim.dataset import TODAY

#: the prefixes seen: February 2026, after the maintenance of May 2026, March 2026
PREFIXES = ("a0", "a1", "a2")
DEFAULT_PREFIX = "a1"
#: the products' saved grid filter, as the grid's filter bar shows it
GRID_FILTER_TEXT = "[Gruppo articolo] = 'FRESE'"
_SAVED_FILTER_PERCENT = 9


@dataclass(frozen=True, slots=True)
class FilterItem:
    """One item of a filter combo: its texts and its value's suffix."""

    suffix: str
    italian: str
    english: str

    def text(self, english: bool) -> str:
        return self.english if english else self.italian

    def value(self, prefix: str) -> str:
        """The XAF value with the drifting ``a<m>`` part: ``xaf_xaf_a1All_Customers``."""
        return f"xaf_xaf_{prefix}{self.suffix}"


def _items(*rows: tuple[str, str, str]) -> tuple[FilterItem, ...]:
    return tuple(FilterItem(*row) for row in rows)


#: the combo's items per list, in the order the drop-down shows them
ITEMS: Mapping[ExportType, tuple[FilterItem, ...]] = {
    ExportType.CUSTOMERS: _items(
        ("All_Customers", "Tutti i clienti", "All Customers"),
        ("Exclusiv_customers", "Clienti in esclusiva", "Exclusiv customers"),
        ("Free_customers", "Clienti liberi", "Free customers"),
    ),
    ExportType.ORDERS: _items(
        ("ListViewSalesTableOrdersAll", "Tutti gli ordini", "All Orders "),
        ("ListViewSalesTableOrdersToday", "Ordini di oggi", "Orders from today"),
        ("ListViewSalesTableOrdersThisWeek", "Ordini di questa settimana", "Orders this week"),
        ("ListViewSalesTableOrdersThisMonth", "Ordini di questo mese", "Orders this month"),
        ("ListViewSalesTableOrdersEntered", "Ordini inseriti", "Orders entered"),
        ("ListViewSalesTableOrdersCompleted", "Ordini completati", "Orders completed"),
        ("ListViewSalesTableOrdersTransferred", "Ordini trasferiti", "Orders transferred"),
        (
            "ListViewSalesTableOrdersApprovalRM",
            "Approvazione Regional Manager",
            "Approval Regional Manager",
        ),
        ("ListViewSalesTableQuote", "Preventivi", "Quote"),
    ),
    ExportType.DDT: _items(
        ("ListViewPackingSlipsToday", "Oggi", "Today"),
        ("ListViewPackingSlipsThisWeek", "Questa settimana", "This week"),
        ("ListViewPackingSlipsThisMonth", "Questo mese", "This month"),
        ("ListViewPackingSlipsLast3Month", "Ultimi 3 mesi", "Last 3 month"),
        ("ListViewPackingSlipsAll", "Tutti", "All"),
    ),
    ExportType.INVOICES: _items(
        ("InvoicesLast3Month", "Ultimi 3 mesi", "Last 3 Month"),
        ("open_invoices", "Fatture aperte", "open invoices"),
        ("OverDued", "Fatture scadute", "Overdued invoices"),
        ("All_invoices", "Tutti", "All"),
    ),
    ExportType.PRICES: _items(
        ("ActivePrices", "Prezzi attivi", "Active prices"),
        ("ClosedPrices", "Prezzi bloccati", "Closed prices"),
    ),
}

#: the item whose export is the whole list (the truth)
WANTED: Mapping[ExportType, str] = {
    ExportType.CUSTOMERS: "All_Customers",
    ExportType.ORDERS: "ListViewSalesTableOrdersAll",
    ExportType.DDT: "ListViewPackingSlipsAll",
    ExportType.INVOICES: "All_invoices",
    ExportType.PRICES: "ActivePrices",
}

#: a new user's saved items: narrower than the wanted ones where the list allows
DEFAULTS: Mapping[ExportType, str] = {
    ExportType.CUSTOMERS: "All_Customers",
    ExportType.ORDERS: "ListViewSalesTableOrdersThisMonth",
    ExportType.DDT: "ListViewPackingSlipsLast3Month",
    ExportType.INVOICES: "InvoicesLast3Month",
    ExportType.PRICES: "ActivePrices",
}

#: what a value with a stale prefix or an unknown suffix silently selects (spec item 18)
_STRAY: Mapping[ExportType, str] = {
    ExportType.CUSTOMERS: "Exclusiv_customers",
    ExportType.ORDERS: "ListViewSalesTableOrdersToday",
    ExportType.DDT: "ListViewPackingSlipsToday",
    ExportType.INVOICES: "OverDued",
    ExportType.PRICES: "ClosedPrices",
}


def item(t: ExportType, suffix: str) -> FilterItem:
    """The item of ``t``'s combo with this suffix; ``KeyError`` if there is none."""
    for candidate in ITEMS.get(t, ()):
        if candidate.suffix == suffix:
            return candidate
    raise KeyError(suffix)


def wanted(t: ExportType) -> str | None:
    """The suffix of the item that lets every record through (``None``: no combo)."""
    return WANTED.get(t)


def resolve(t: ExportType, value: str, prefix: str, current: str) -> str:
    """The suffix a combo's ``SetValue(value)`` ends on.

    A value with the current prefix and a known suffix selects its item;
    anything else silently selects another item (spec item 18: 25 DDT
    exported instead of 1,144), never the one asked for nor, if avoidable,
    the one already chosen.
    """
    for candidate in ITEMS[t]:
        if value == candidate.value(prefix):
            return candidate.suffix
    stray = _STRAY[t]
    asked = value.removeprefix("xaf_xaf_")[2:]
    if stray in (asked, current):
        others = [i.suffix for i in ITEMS[t] if i.suffix not in (asked, current)]
        return others[0] if others else stray
    return stray


# -- what the items keep ----------------------------------------------------------


def _hash_pick(key: str, n: int) -> int:
    return zlib.crc32(key.encode()) % n


def in_saved_filter(product: Product) -> bool:
    """Whether the products' saved grid filter keeps ``product`` (about 9 % of products).

    The real filter's criteria are unknown; a stable hash of the article
    code stands in for it, so the same products survive every export.
    """
    return _hash_pick(product.article, 100) < _SAVED_FILTER_PERCENT


def is_exclusive(customer: Customer) -> bool:
    """Whether a customer is exclusive to the agent (a stable third of them)."""
    return _hash_pick("excl" + customer.id, 3) == 0


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _since(days: int) -> Callable[[date | None], bool]:
    start = TODAY - timedelta(days=days)
    return lambda day: day is not None and start <= day <= TODAY


def _today(day: date | None) -> bool:
    return day == TODAY


def _this_week(day: date | None) -> bool:
    return day is not None and _week_start(TODAY) <= day <= TODAY


def _this_month(day: date | None) -> bool:
    return day is not None and (day.year, day.month) == (TODAY.year, TODAY.month) and day <= TODAY


def _order_day(order: Any) -> date | None:
    return order.created_at.date() if isinstance(order, Order) else None


def _ddt_day(ddt: Any) -> date | None:
    return ddt.delivery_date if isinstance(ddt, Ddt) else None


def _is_open(invoice: Any) -> bool:
    return isinstance(invoice, Invoice) and invoice.closed_on is None


_PREDICATES: Mapping[str, Callable[[Any], bool]] = {
    "All_Customers": lambda r: True,
    "Exclusiv_customers": lambda r: isinstance(r, Customer) and is_exclusive(r),
    "Free_customers": lambda r: isinstance(r, Customer) and not is_exclusive(r),
    "ListViewSalesTableOrdersAll": lambda r: True,
    "ListViewSalesTableOrdersToday": lambda r: _today(_order_day(r)),
    "ListViewSalesTableOrdersThisWeek": lambda r: _this_week(_order_day(r)),
    "ListViewSalesTableOrdersThisMonth": lambda r: _this_month(_order_day(r)),
    "ListViewSalesTableOrdersEntered": lambda r: r.sales_status == "Ordine aperto",
    "ListViewSalesTableOrdersCompleted": lambda r: r.completed_date is not None,
    "ListViewSalesTableOrdersTransferred": lambda r: r.transfer_status == "Trasferito",
    "ListViewSalesTableOrdersApprovalRM": lambda r: (
        r.transfer_status == "In attesa di approvazione"
    ),
    "ListViewSalesTableQuote": lambda r: bool(r.quote),
    "ListViewPackingSlipsToday": lambda r: _today(_ddt_day(r)),
    "ListViewPackingSlipsThisWeek": lambda r: _this_week(_ddt_day(r)),
    "ListViewPackingSlipsThisMonth": lambda r: _this_month(_ddt_day(r)),
    "ListViewPackingSlipsLast3Month": lambda r: _since(92)(_ddt_day(r)),
    "ListViewPackingSlipsAll": lambda r: True,
    "InvoicesLast3Month": lambda r: _since(92)(r.invoice_date),
    "open_invoices": _is_open,
    "OverDued": lambda r: _is_open(r) and r.due_date is not None and r.due_date < TODAY,
    "All_invoices": lambda r: True,
    "ActivePrices": lambda r: isinstance(r, Price) and (r.valid_to is None or r.valid_to >= TODAY),
    "ClosedPrices": lambda r: (
        isinstance(r, Price) and r.valid_to is not None and r.valid_to < TODAY
    ),
}

#: the value of ``ExportView.filter`` for the products' saved grid filter
GRID = "grid"


def select(t: ExportType, records: Sequence[Record], suffix: str | None) -> list[Record]:
    """The records of ``t`` that the item ``suffix`` lets through, in order.

    ``None`` keeps everything; :data:`GRID` is the products' grid filter. An
    item that keeps nothing of a non-empty table keeps a stable twentieth
    of it (at least one record) instead.
    """
    if suffix is None:
        return list(records)
    if suffix == GRID:
        return [r for r in records if isinstance(r, Product) and in_saved_filter(r)]
    keep = _PREDICATES[suffix]
    selected = [r for r in records if keep(r)]
    if selected or not records:
        return selected
    fallback = [r for r in records if _hash_pick(suffix + r.key, 20) == 0]
    return fallback or [records[_hash_pick(suffix, len(records))]]
