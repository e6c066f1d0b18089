"""From a cell's lines to canonical values (see :mod:`archid.records`).

Every converter takes the lines of one cell (:data:`~archid.exports.layout.Lines`,
top to bottom) and returns the canonical value, ``None`` for an empty cell,
or raises ``ValueError`` with a short reason that ``parse.py`` wraps into
:class:`~archid.exports.errors.BadValue`. The one exception is the locale
guard: a month-first date raises :class:`~archid.exports.errors.WrongLocale`,
which is not a ``ValueError``, so it reaches the caller unchanged.

These run for every cell of every row (hundreds of thousands per export):
the happy path is a precompiled regex match and a constructor call, never
an exception.

The portal's Italian formats (spec section 2):

* amounts ``124.497,43 €`` (the € may be missing), ``2.112,7``, ``-2.150,88``,
  ``1,00``, ``0``: thousands dots, decimal comma, the digits kept exactly as
  printed (``1,00`` → ``Decimal("1.00")``);
* dates ``21/01/2026``, date-times ``20/01/2026 12:04:22``, day first;
* numeric record IDs with thousands dots, in several spellings: see
  :func:`numeric_id`;
* flags in several spellings: see :func:`flag`.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from archid.exports.errors import WrongLocale
from archid.exports.layout import Lines

__all__ = [
    "Tracking",
    "amount",
    "code",
    "count",
    "day",
    "flag",
    "integer",
    "moment",
    "numeric_id",
    "parse_numeric_id",
    "percent",
    "quantity",
    "text",
    "tracking",
]

LOCALE_ADVICE = (
    "dates are month-first: the export was made by a browser not set to Italian; "
    "run the browser with --lang=it-IT and Accept-Language: it-IT and export again"
)

_SPACES = re.compile(r"\s+")


def _joined(lines: Lines) -> str:
    """The cell's lines as one stripped string, inner whitespace collapsed."""
    if len(lines) == 1:
        line = lines[0].strip()
        # Most cells are one clean line: skip the split/join. isprintable()
        # is False for every whitespace character except the plain space.
        if line.isprintable() and "  " not in line:
            return line
        return " ".join(line.split())
    return " ".join(" ".join(lines).split())


# -- text ------------------------------------------------------------------------


def text(lines: Lines) -> str | None:
    """Text: stripped, whitespace collapsed, lines joined with one space; empty → ``None``.

    Never raises. Codes that look numeric (account ``049421``, VAT numbers,
    article codes ``H1.314.016``) are kept exactly as written.
    """
    return _joined(lines) or None


def code(lines: Lines) -> str | None:
    """A code with no natural line breaks (SDI, fiscal code, PEC, URL); empty → ``None``.

    A narrow column wraps such a code mid-token (``WN8XCW`` / ``Z``), so its
    lines join with nothing; spaces within one line are kept, collapsed.
    """
    if len(lines) == 1:
        return _joined(lines) or None
    return "".join(_joined((line,)) for line in lines) or None


# -- numbers -----------------------------------------------------------------------

# Italian number: optional minus, digits with or without thousands dots,
# optional decimal comma (the € sign is removed before matching).
_NUMBER = re.compile(r"(-)?(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?")
_EURO = "€"
_TO_DECIMAL = str.maketrans({".": None, ",": "."})


def _bare_number(cell: str, sign: str = _EURO) -> str:
    """``cell`` without its ``sign`` (€ or %), negatives as a leading minus.

    Other views of the portal wrote negatives as ``(360,65)`` and ``360,65-``.
    ``ValueError`` unless the rest is an Italian number.
    """
    if sign in cell:
        cell = cell.replace(sign, "").strip()
    if cell[-1:] == "-" or cell[:1] == "(":
        if cell[:1] == "(" and cell[-1:] == ")":
            cell = "-" + cell[1:-1].strip()
        elif cell[-1:] == "-" and cell[:1] != "-":
            cell = "-" + cell[:-1].strip()
    if _NUMBER.fullmatch(cell) is None:
        raise ValueError(f"not an Italian number: {cell!r}")
    return cell


def _decimal(cell: str, sign: str) -> Decimal:
    value = Decimal(_bare_number(cell, sign).translate(_TO_DECIMAL))
    # "-0,00" would print back as "-0.00": zero has no sign in a record.
    return value if value else value.copy_abs()


def amount(lines: Lines) -> Decimal | None:
    """A decimal in Italian format (``124.497,43 €``, ``-2.150,88``, ``2.112,7``, ``0``).

    The € sign is optional; a dot followed by three digits is a thousands
    separator (``1.791`` is 1791); the result keeps exactly the printed
    digits (``1,00`` → ``Decimal("1.00")``); a printed negative zero is
    zero; ``(360,65)`` and ``360,65-`` are negative. Raises ``ValueError``
    for anything else (``abc``, ``1,2,3``, ``1.5``, English ``1,234.56``).
    """
    cell = _joined(lines)
    if not cell:
        return None
    return _decimal(cell, _EURO)


#: Decimal quantities share the amounts' format (``1,00``, ``100.000.000``).
quantity = amount


def percent(lines: Lines) -> Decimal | None:
    """A percentage ``21,49 %`` → ``Decimal("21.49")`` (the % sign optional)."""
    cell = _joined(lines)
    if not cell:
        return None
    return _decimal(cell, "%")


def integer(lines: Lines) -> int | None:
    """An integer with thousands dots (``1.095`` → 1095, ``-1``, ``1.002``).

    A decimal part of zeros (``12,00``) is accepted; any other fraction
    raises ``ValueError``.
    """
    cell = _joined(lines)
    if not cell:
        return None
    whole, _, frac = _bare_number(cell).partition(",")
    if frac.strip("0"):
        raise ValueError(f"not a whole number: {cell!r}")
    return int(whole.replace(".", ""))


#: Counts are integers.
count = integer


# -- record IDs --------------------------------------------------------------------

# Digits only, or a first group of 1-3 digits, middle groups of 3 and a last
# group of 1-3 digits (see numeric_id); an optional ",00" tail.
_NUMERIC_ID = re.compile(r"(\d+)((?:\.\d{3})*\.\d{1,3})?(?:,0+)?")


def parse_numeric_id(cell: str) -> str | None:
    """The canonical digits of a numeric ID spelling, or ``None`` if ``cell`` is not one.

    See :func:`numeric_id` for the rule.
    """
    if cell.isascii() and cell.isdigit():
        return cell if cell[0] != "0" else str(int(cell))
    match = _NUMERIC_ID.fullmatch(cell)
    if match is None:
        return None
    head, dotted = match.groups()
    if dotted is None:
        return str(int(head))
    if len(head) > 3:
        return None
    groups = dotted.split(".")  # groups[0] == ""
    last = groups[-1]
    if len(last) < 3:
        last = last.ljust(3, "0")
    return str(int(head + "".join(groups[1:-1]) + last))


def numeric_id(lines: Lines) -> str | None:
    """A numeric record ID as canonical digits (``71.039``, ``71039``, ``71.039,00`` → ``"71039"``).

    The portal writes the same ID with thousands dots (``55.220``), without
    them (``55220``) and with the trailing zeros of the dotted form cut, as a
    number formatter does with ``55.220`` read as a decimal (``55.22``). The
    rule: after an optional ``,00`` tail is dropped, the dots must be
    thousands dots, every group but the first has 3 digits, except that the
    last may have 1 or 2, which means its trailing zeros were cut; it is
    padded back with zeros (``55.22`` → ``55220``, ``1.2`` → ``1200``).
    Leading zeros are dropped (IDs are numbers; account numbers such as
    ``049421`` are not IDs and use :func:`text`).

    The one ambiguity: an ID whose last group was ``000`` and lost all three
    zeros (``55.000`` → ``55``) cannot be told from the ID ``55``; it reads
    as ``55``. The portal has not been seen writing that.

    Raises ``ValueError`` for anything else (``ORD/26000887``, ``71.0391``,
    ``1,5``).
    """
    cell = _joined(lines)
    if not cell:
        return None
    digits = parse_numeric_id(cell)
    if digits is None:
        raise ValueError(f"not a numeric ID: {cell!r}")
    return digits


# -- dates -------------------------------------------------------------------------

_DATE = re.compile(
    r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})"
    r"(?: (?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?: ?(?P<ampm>[AaPp][Mm]))?)?"
)


#: the portal's usual spellings, matched first because most cells are dates
_DAY_FAST = re.compile(r"(\d\d)/(\d\d)/(\d{4})")
_MOMENT_FAST = re.compile(r"(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d):(\d\d)")


def _date_parts(cell: str) -> tuple[re.Match[str], date]:
    """The match and the date of ``cell``; the locale guard lives here."""
    match = _DATE.fullmatch(cell)
    if match is None:
        raise ValueError(f"not a dd/mm/yyyy date: {cell!r}")
    a, b = int(match["a"]), int(match["b"])
    if b > 12 or match["ampm"] is not None:
        # Day in the second field (or an AM/PM clock): an English browser wrote this.
        raise WrongLocale(f"{LOCALE_ADVICE} (saw {cell!r})")
    try:
        return match, date(int(match["y"]), b, a)
    except ValueError:
        raise ValueError(f"no such date: {cell!r}") from None


def day(lines: Lines) -> date | None:
    """A date ``21/01/2026`` (day first) → :class:`~datetime.date`.

    A midnight time part (``21/01/2026 00:00:00``) is accepted; any other
    time raises ``ValueError``. A second field above 12 means month-first
    dates and raises :class:`~archid.exports.errors.WrongLocale`.
    """
    cell = _joined(lines)
    if not cell:
        return None
    fast = _DAY_FAST.fullmatch(cell)
    if fast is not None:
        d, m, y = fast.groups()
        if m <= "12":
            try:
                return date(int(y), int(m), int(d))
            except ValueError:
                pass  # the slow path says why
    match, value = _date_parts(cell)
    if match["H"] is not None and (int(match["H"]) or int(match["M"]) or int(match["S"] or 0)):
        raise ValueError(f"a date with a time of day: {cell!r}")
    return value


def moment(lines: Lines) -> datetime | None:
    """A date-time ``20/01/2026 12:04:22`` (seconds optional) → naive :class:`~datetime.datetime`.

    Portal local time, as printed. A date without a time is midnight of
    that day (a view that prints the column as a date); month-first dates
    raise :class:`~archid.exports.errors.WrongLocale` as in :func:`day`.
    """
    cell = _joined(lines)
    if not cell:
        return None
    fast = _MOMENT_FAST.fullmatch(cell)
    if fast is not None:
        d, m, y, hh, mm, ss = fast.groups()
        if m <= "12":
            try:
                return datetime(int(y), int(m), int(d), int(hh), int(mm), int(ss))
            except ValueError:
                pass  # the slow path says why
    match, value = _date_parts(cell)
    if match["H"] is None:
        return datetime(value.year, value.month, value.day)
    try:
        return datetime(
            value.year, value.month, value.day, int(match["H"]), int(match["M"]),
            int(match["S"] or 0),
        )  # fmt: skip
    except ValueError:
        raise ValueError(f"no such time: {cell!r}") from None


# -- flags -------------------------------------------------------------------------

_FLAGS = {
    "checked": True,
    "unchecked": False,
    "sì": True,
    "si": True,
    "sí": True,
    "no": False,
    "true": True,
    "false": False,
    "yes": True,
}


def flag(lines: Lines) -> bool | None:
    """A flag: "Checked"/"Unchecked", "Sì"/"Si"/"No", "True"/"False", "Yes"/"No".

    Case-insensitive; empty → ``None``; anything else raises ``ValueError``.
    """
    cell = _joined(lines)
    if not cell:
        return None
    value = _FLAGS.get(cell.lower())
    if value is None:
        raise ValueError(f"not a flag: {cell!r}")
    return value


# -- DDT tracking ------------------------------------------------------------------


class Tracking(NamedTuple):
    """What a DDT's NUMERO DI TRACCIABILITÀ cell holds."""

    carrier: str | None
    number: str | None
    url: str | None


# <a href = "URL" ...>TEXT</a>, tolerant of the spaces a line join puts
# anywhere inside the tag (the cell wraps inside words, even mid-URL), of
# single or no quotes, and of a missing </a> (a cell cut short).
_LINK = re.compile(
    r"<\s*a\s[^>]*?\bh\s*r\s*e\s*f\s*=\s*"
    r"(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<uq>[^\s\"'>]+))[^>]*>"
    r"(?P<text>.*?)(?:<\s*/\s*a\s*>|$)",
    re.IGNORECASE | re.DOTALL,
)


def tracking(lines: Lines) -> Tracking | None:
    """A NUMERO DI TRACCIABILITÀ cell → (carrier, number, url); empty → ``None``.

    The cell is raw HTML (spec section 2)
    ``<a href = "https://…?trknbr=4452…" target="_blank">fedex 445291890750</a>``
    wrapped over several lines at spaces (not drawn) or inside a token, so
    joining the lines is ambiguous; the carrier and number come from the
    link text: its leading letters are the carrier as printed (``fedex``,
    ``Ups``, ``dhl``; a one-word name: spaces a wrap put in it are removed)
    and the rest is the number, without spaces either (tracking numbers
    hold none). The url is the href with
    whitespace removed (a URL holds none) and HTML entities decoded; the
    FedEx href lacks its closing quote, so the `` target=`` that then ends
    it is cut. Plain text (``fedex 445291890750``) has no url. Raises
    ``ValueError`` for a cell that starts an ``<a`` tag but is not a link.
    """
    cell = _joined(lines)
    if not cell:
        return None
    url: str | None = None
    label = cell
    if "<" in cell:
        match = _LINK.search(cell)
        if match is None:
            raise ValueError(f"not a tracking link: {cell[:80]!r}")
        href = next(h for h in match.group("dq", "sq", "uq") if h is not None)
        href = _UNQUOTED_END.sub("", "".join(href.split()))
        url = html.unescape(href) or None
        label = " ".join(html.unescape(match["text"]).split())
    elif "&" in cell:
        label = html.unescape(cell)
    match = _LABEL.fullmatch(label)
    if match is None:  # no letters first: all of it is the number
        return Tracking(None, "".join(label.split()) or None, url)
    carrier = "".join(match["carrier"].split())
    return Tracking(carrier, "".join(match["number"].split()) or None, url)


# A link text: the carrier's letters (a wrap may have put a space among them:
# "f edex"), then the number, which starts with a digit or after a space.
_LABEL = re.compile(r"(?P<carrier>[^\W\d_](?:\s?[^\W\d_])*)\s*(?P<number>.*)", re.DOTALL)


# The FedEx link's href has no closing quote: `"https://…&locale=it_IT target="`.
_UNQUOTED_END = re.compile(r"target=$", re.IGNORECASE)
