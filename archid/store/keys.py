"""Every record's stable key, as fast as the apply needs it.

The key is the record's ``key`` property (:mod:`archid.records`), and that
is what the store uses for every type but prices. A price's key joins five
fields, two of them decimals written in canonical form, which costs about
2 µs a record: a quarter of a second per 100,000 prices, on every sync.
:func:`price_key` gives the same text in a quarter of the time by
remembering the few distinct dates and quantities an export holds. The
store's tests compare it with ``Price.key`` on every kind of value.
"""

from __future__ import annotations

import operator
import typing
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Final

from archid.records import ExportType, Price, Record

#: Remembered forms per kind; cleared when this large (an export has a handful).
_LIMIT: Final = 4096

_quantities: dict[Decimal, str] = {}
_dates: dict[date, str] = {}


def _quantity(value: Decimal | None) -> str:
    if value is None:
        return ""
    if not value:
        # 0 and -0 are equal, and one dict entry, but written apart.
        return format(value.normalize(), "f")
    text = _quantities.get(value)
    if text is None:
        if len(_quantities) >= _LIMIT:
            _quantities.clear()
        # Equal decimals (1, 1.00) share an entry and a canonical form.
        text = _quantities[value] = format(value.normalize(), "f")
    return text


def _date(value: date | None) -> str:
    if value is None:
        return ""
    text = _dates.get(value)
    if text is None:
        if len(_dates) >= _LIMIT:
            _dates.clear()
        text = _dates[value] = value.isoformat()
    return text


def price_key(record: Record) -> str:
    """``record.key`` of a :class:`~archid.records.Price`, computed faster."""
    price = typing.cast(Price, record)
    return (
        f"{price.article or ''}|{price.price_group or ''}|{_date(price.valid_from)}"
        f"|{_quantity(price.qty_from)}|{_quantity(price.qty_to)}"
    )


def key_function(export_type: ExportType) -> Callable[[Record], str]:
    """How the store computes the keys of *export_type*'s records."""
    if export_type is ExportType.PRICES:
        return price_key
    return operator.attrgetter("key")
