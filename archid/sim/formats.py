"""How the portal prints values, in its Italian and its English locale (spec v2).

Italian (the locale archid asks for): amounts ``124.497,43 €``, bare
amounts ``2.112,7`` (exactly the digits the :class:`~decimal.Decimal`
holds), percentages ``21,49 %``, integers and record IDs with thousands
dots (``1.095``, ``70.962``), dates ``21/01/2026``, date-times
``20/01/2026 12:04:22``, flags ``Sì``/``No``.

English (a browser whose first language is not Italian): IDs ``55,080``,
amounts ``16,691.51``, € amounts as dollars ``$14.34`` (though the
currency is EUR), percentages ``21.49 %``, dates month first without
leading zeros ``3/28/2026``, date-times ``3/28/2026 6:24:57 AM``, flags
``Yes``/``No``. ``Checked``/``Unchecked`` are the same in both.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal


def _grouped(value: Decimal | int, english: bool) -> str:
    text = format(value, ",f") if isinstance(value, Decimal) else f"{value:,}"
    return text if english else text.translate(str.maketrans(",.", ".,"))


def decimal(value: Decimal, *, english: bool = False) -> str:
    """A number with exactly the digits ``value`` holds: ``-2.150,88``, ``2.112,7``, ``1,00``."""
    if value.is_zero():
        value = abs(value)  # never print "-0,00"
    return _grouped(value, english)


def euro(value: Decimal, *, english: bool = False) -> str:
    """A € amount: ``124.497,43 €``; in English ``$124,497.43`` (the portal's own quirk)."""
    if value.is_zero():
        value = abs(value)
    if english:
        sign = "-" if value < 0 else ""
        return f"{sign}${_grouped(abs(value), True)}"
    return f"{_grouped(value, False)} €"


def percent(value: Decimal, *, english: bool = False) -> str:
    """A percentage: ``21,49 %`` (a real space before ``%``); ``21.49 %`` in English."""
    return f"{decimal(value, english=english)} %"


def integer(value: int, *, english: bool = False) -> str:
    """An integer with thousands separators: ``1.095``, ``-1``; ``1,095`` in English."""
    return _grouped(value, english)


def record_id(key: str, *, english: bool = False) -> str:
    """A numeric record ID with a thousands separator from 1,000 (``70.962``, ``925``);
    anything that is not all digits is printed as it is."""
    if key.isascii() and key.isdigit():
        return integer(int(key), english=english)
    return key


def day(value: date, *, english: bool = False) -> str:
    """``21/01/2026``; in English ``1/21/2026``."""
    if english:
        return f"{value.month}/{value.day}/{value.year}"
    return value.strftime("%d/%m/%Y")


def moment(value: datetime, *, english: bool = False) -> str:
    """``20/01/2026 12:04:22`` (24 h); in English ``1/20/2026 12:04:22 PM``."""
    if english:
        hour = value.hour % 12 or 12
        half = "AM" if value.hour < 12 else "PM"
        return f"{day(value, english=True)} {hour}:{value:%M:%S} {half}"
    return value.strftime("%d/%m/%Y %H:%M:%S")


def yes_no(value: bool, *, english: bool = False) -> str:
    """``Sì``/``No``; ``Yes``/``No`` in English."""
    if value:
        return "Yes" if english else "Sì"
    return "No"


def checked(value: bool) -> str:
    """``Checked``/``Unchecked``, in either locale."""
    return "Checked" if value else "Unchecked"
