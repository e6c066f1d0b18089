"""The cell converters: Italian formats, ID spellings, the locale guard, tracking cells."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from archid.exports import values as v
from archid.exports.errors import ExportParseError, WrongLocale


def one(cell: str) -> tuple[str, ...]:
    return (cell,)


# -- text --


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ((), None),
        (("",), None),
        (("   ",), None),
        (("  Studio  Rossi ",), "Studio Rossi"),
        (("Via Roma 1", "00185 Roma RM"), "Via Roma 1 00185 Roma RM"),
        (("Via\tRoma\xa01",), "Via Roma 1"),
        (("Via\u2009Roma",), "Via Roma"),
        (("", "Roma"), "Roma"),
        (("049421",), "049421"),
        (("H1.314.016",), "H1.314.016"),
        (("Città di Castello",), "Città di Castello"),
    ],
)
def test_text_is_stripped_collapsed_and_joined(
    lines: tuple[str, ...], expected: str | None
) -> None:
    assert v.text(lines) == expected


# -- amounts, quantities, counts --


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("124.497,43 €", "124497.43"),
        ("124.497,43", "124497.43"),
        ("124.497,43€", "124497.43"),
        ("€ 12,50", "12.50"),
        ("2.112,7", "2112.7"),
        ("-2.150,88", "-2150.88"),
        ("-2.150,88 €", "-2150.88"),
        ("1,00", "1.00"),
        ("0", "0"),
        ("0,00 €", "0.00"),
        ("-0,00", "0.00"),
        ("1.234.567,891", "1234567.891"),
        ("1234,5", "1234.5"),
        ("12", "12"),
        # invoices: no €, no trailing zeros; a dot and three digits are thousands
        ("20", "20"),
        ("1.791", "1791"),
        ("-539,2", "-539.2"),
        ("-6.732", "-6732"),
        # negatives as other views of the portal wrote them
        ("(360,65)", "-360.65"),
        ("360,65-", "-360.65"),
        ("(1.360,65 €)", "-1360.65"),
        ("100.000.000", "100000000"),
    ],
)
def test_amounts_keep_the_printed_digits(cell: str, expected: str) -> None:
    value = v.amount(one(cell))
    assert isinstance(value, Decimal)
    assert str(value) == expected


@pytest.mark.parametrize(
    "cell",
    [
        "abc",
        "1,2,3",
        "1.5",
        "1,234.56",
        "12.34,5",
        "--1",
        "1 000",
        "€",
        "1,",
        ",5",
        "1.2345",
        "(360,65",
        "-360,65-",
        "16,691.51",
        "$14.34",
        "0,00 %",
    ],
)
def test_amounts_reject_what_is_not_an_italian_number(cell: str) -> None:
    with pytest.raises(ValueError, match="not an Italian number"):
        v.amount(one(cell))


def test_amount_of_an_empty_cell_is_none() -> None:
    assert v.amount(()) is None
    assert v.amount(("  ",)) is None
    assert v.quantity(("",)) is None


def test_a_wrapped_amount_is_joined() -> None:
    assert v.amount(("124.497,43", "€")) == Decimal("124497.43")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1.095", 1095),
        ("1.002", 1002),
        ("-1", -1),
        ("0", 0),
        ("2.939", 2939),
        ("12,00", 12),
        ("45", 45),
        ("11", 11),
    ],
)
def test_integers_with_thousands_dots(cell: str, expected: int) -> None:
    assert v.integer(one(cell)) == expected


@pytest.mark.parametrize("cell", ["1,5", "abc", "1.23", "12,01", "55,080"])
def test_integers_reject_fractions_and_junk(cell: str) -> None:
    with pytest.raises(ValueError):
        v.integer(one(cell))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("21,49 %", "21.49"), ("0,00 %", "0.00"), ("21,49%", "21.49"), ("-5 %", "-5"), ("7", "7")],
)
def test_percentages(cell: str, expected: str) -> None:
    value = v.percent(one(cell))
    assert isinstance(value, Decimal) and str(value) == expected


@pytest.mark.parametrize("cell", ["21.49 %", "tanto %", "%"])
def test_percentages_reject_other_formats(cell: str) -> None:
    with pytest.raises(ValueError, match="not an Italian number"):
        v.percent(one(cell))


def test_quantities_are_decimals() -> None:
    assert v.quantity(one("-5")) == Decimal(-5)
    assert str(v.quantity(one("10,00"))) == "10.00"


# -- numeric IDs --


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("71.039", "71039"),
        ("71039", "71039"),
        ("71.039,00", "71039"),
        ("71039,0", "71039"),
        ("55.220", "55220"),
        ("55220", "55220"),
        ("55.22", "55220"),
        ("55.2", "55200"),
        ("1.234.567", "1234567"),
        ("1.234.56", "1234560"),
        ("5.637.144.576", "5637144576"),
        ("0", "0"),
        ("007", "7"),
        (" 71.039 ", "71039"),
    ],
)
def test_numeric_id_spellings_are_canonicalised(cell: str, expected: str) -> None:
    assert v.numeric_id(one(cell)) == expected


def test_the_three_spellings_of_one_id_agree() -> None:
    # spec section 3 item 6: one customer, three spellings, one key
    assert {v.numeric_id(one(c)) for c in ("55.22", "55.220", "55220")} == {"55220"}


def test_the_documented_ambiguity_all_three_zeros_cut() -> None:
    # 55.000 with its zeros cut is indistinguishable from 55: it reads as 55
    assert v.numeric_id(one("55")) == "55"


@pytest.mark.parametrize(
    "cell", ["ORD/26000887", "71.0391", "1234.567", "71.039,50", "1,5", "abc", "71..039", "-71"]
)
def test_numeric_id_rejects_non_ids(cell: str) -> None:
    with pytest.raises(ValueError, match="not a numeric ID"):
        v.numeric_id(one(cell))


def test_numeric_id_of_empty_cell_is_none() -> None:
    assert v.numeric_id(()) is None


@pytest.mark.parametrize("cell", ["049421", "021752K1", "002", "001", "00185"])
def test_codes_keep_their_leading_zeros(cell: str) -> None:
    assert v.text(one(cell)) == cell
    assert v.code(one(cell)) == cell


# -- dates --


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("21/01/2026", date(2026, 1, 21)),
        ("01/02/2026", date(2026, 2, 1)),
        ("1/2/2026", date(2026, 2, 1)),
        ("31/12/2154", date(2154, 12, 31)),
        ("21/01/2026 00:00:00", date(2026, 1, 21)),
    ],
)
def test_dates_are_day_first(cell: str, expected: date) -> None:
    assert v.day(one(cell)) == expected


@pytest.mark.parametrize("cell", ["2026-01-21", "21.01.2026", "31/02/2026", "00/01/2026", "x"])
def test_bad_dates_raise_value_error(cell: str) -> None:
    with pytest.raises(ValueError):
        v.day(one(cell))


def test_a_date_with_a_time_of_day_is_not_a_date() -> None:
    with pytest.raises(ValueError, match="time of day"):
        v.day(one("21/01/2026 12:04:22"))


def test_a_date_time_column_holding_a_date_is_midnight() -> None:
    assert v.moment(one("20/01/2026")) == datetime(2026, 1, 20)


def test_date_times() -> None:
    assert v.moment(one("20/01/2026 12:04:22")) == datetime(2026, 1, 20, 12, 4, 22)
    assert v.moment(one("20/01/2026 08:04")) == datetime(2026, 1, 20, 8, 4)
    assert v.moment(("20/01/2026", "12:04:22")) == datetime(2026, 1, 20, 12, 4, 22)
    assert v.moment(()) is None
    value = v.moment(one("20/01/2026 12:04:22"))
    assert value is not None and value.tzinfo is None


@pytest.mark.parametrize("cell", ["20/01", "20/01/2026 25:00:00", "20/01/2026 12:61"])
def test_bad_date_times_raise_value_error(cell: str) -> None:
    with pytest.raises(ValueError):
        v.moment(one(cell))


@pytest.mark.parametrize(
    ("convert", "cell"),
    [
        (v.day, "01/21/2026"),
        (v.day, "12/13/2025"),
        (v.moment, "01/20/2026 12:04:22"),
        (v.moment, "1/20/2026 12:04:22 PM"),
        (v.moment, "01/02/2026 9:04:22 AM"),  # ambiguous digits, but an English clock
    ],
)
def test_month_first_dates_raise_wrong_locale(convert: object, cell: str) -> None:
    assert callable(convert)
    with pytest.raises(WrongLocale, match=r"Italian|it-IT") as info:
        convert(one(cell))
    # not a ValueError: parse.py must not wrap it into BadValue
    assert not isinstance(info.value, ValueError)
    assert isinstance(info.value, ExportParseError)
    assert "--lang=it-IT" in str(info.value)


# -- flags --


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Checked", True),
        ("Unchecked", False),
        ("Sì", True),
        ("Si", True),
        ("SI", True),
        ("No", False),
        ("True", True),
        ("False", False),
        ("Yes", True),
        ("no", False),
    ],
)
def test_flags(cell: str, expected: bool) -> None:
    assert v.flag(one(cell)) is expected


def test_flag_rejects_junk_and_empty_is_none() -> None:
    assert v.flag(()) is None
    for cell in ("Maybe", "1", "Check"):
        with pytest.raises(ValueError, match="not a flag"):
            v.flag(one(cell))


# -- tracking --

FEDEX_URL = "https://www.fedex.com/fedextrack/?trknbr=445291890750&locale=it_IT"
FEDEX_HTML = f'<a href = "{FEDEX_URL}" target="_blank">fedex 445291890750</a>'


def test_tracking_html_on_one_line() -> None:
    assert v.tracking(one(FEDEX_HTML)) == v.Tracking("fedex", "445291890750", FEDEX_URL)


def test_tracking_the_fedex_href_without_its_closing_quote() -> None:
    # as the portal writes it (spec section 2)
    cell = f'<a href = "{FEDEX_URL} target="_blank">fedex 445291890750</a>'
    assert v.tracking(one(cell)) == v.Tracking("fedex", "445291890750", FEDEX_URL)
    lines = ('<a href = "https://www.fedex.com/fedextrack/?trknbr=4452918907', "50&locale=it_IT",
             'target="_blank">fedex 4452918', "90750</a>")  # fmt: skip
    assert v.tracking(lines) == v.Tracking("fedex", "445291890750", FEDEX_URL)


def test_tracking_ups_and_dhl_keep_the_carrier_as_printed() -> None:
    ups_url = (
        "https://www.ups.com/track?HTMLVersion=5.0&loc=it_IT&Requester=UPSHome&tracknum=1Z9A"
        "&ignore=&track.x=42&track.y=6/trackdetails"
    )
    ups = f'<a href="{ups_url}" target="_blank">Ups 1Z9A</a>'
    assert v.tracking(one(ups)) == v.Tracking("Ups", "1Z9A", ups_url)
    dhl_url = "https://www.dhl.com/it-it/home/tracking.html?submit=1&tracking-id=4041"
    dhl = f'<a href="{dhl_url}" target="_blank">dhl 4041</a>'
    assert v.tracking(one(dhl)) == v.Tracking("dhl", "4041", dhl_url)


def test_tracking_plain_text() -> None:
    assert v.tracking(one("fedex 445291890750")) == v.Tracking("fedex", "445291890750", None)
    assert v.tracking(one("FedEx 445291890750")) == v.Tracking("FedEx", "445291890750", None)
    assert v.tracking(one("ups")) == v.Tracking("ups", None, None)
    assert v.tracking(()) is None


def test_tracking_html_wrapped_at_spaces() -> None:
    lines = ("<a href =", f'"{FEDEX_URL}"', 'target="_blank">fedex', "445291890750</a>")
    assert v.tracking(lines) == v.Tracking("fedex", "445291890750", FEDEX_URL)


def test_tracking_html_wrapped_mid_url() -> None:
    # the writer breaks a word longer than the column between characters
    lines = (
        "<a href =",
        '"https://www.fedex.com/fedextr',
        "ack/?trknbr=445291890750&loc",
        'ale=it_IT" target="_blank">fedex',
        "445291890750</a>",
    )
    assert v.tracking(lines) == v.Tracking("fedex", "445291890750", FEDEX_URL)


def test_tracking_html_wrapped_inside_the_tags() -> None:
    lines = (
        "<a hr",
        'ef = "https://ups.com/t?n=1Z9&amp;loc=it" tar',
        'get="_blank">UPS 1Z9</',
        "a>",
    )
    assert v.tracking(lines) == v.Tracking("UPS", "1Z9", "https://ups.com/t?n=1Z9&loc=it")


def test_tracking_decodes_entities() -> None:
    cell = '<a href="https://x.it/?a=1&amp;b=2">gls 12&#32;34</a>'
    assert v.tracking(one(cell)) == v.Tracking("gls", "1234", "https://x.it/?a=1&b=2")


def test_tracking_link_without_text_keeps_the_url() -> None:
    assert v.tracking(one('<a href="https://x.it/">  </a>')) == v.Tracking(
        None, None, "https://x.it/"
    )


def test_tracking_tolerates_odd_quoting_and_a_missing_end_tag() -> None:
    expected = v.Tracking("brt", "123", "https://brt.it/?n=123")
    assert v.tracking(one("<a href='https://brt.it/?n=123'>brt 123</a>")) == expected
    assert v.tracking(one("<a href=https://brt.it/?n=123 target=_blank>brt 123</a>")) == expected
    assert v.tracking(one('<a href="https://brt.it/?n=123">brt 123')) == expected


def test_tracking_broken_html_raises() -> None:
    with pytest.raises(ValueError, match="not a tracking link"):
        v.tracking(one('<a href = "https://www.fedex.com/'))


def test_tracking_link_text_wrapped_inside_its_words() -> None:
    lines = (
        '<a href="https://www.dhl.com/it-it/home/tracking.html?submit=1&tracking-id=404',
        '1" target="_blank">d',
        "hl 40",
        "41</a>",
    )
    url = "https://www.dhl.com/it-it/home/tracking.html?submit=1&tracking-id=4041"
    assert v.tracking(lines) == v.Tracking("dhl", "4041", url)
    assert v.tracking(one("1Z9A")) == v.Tracking(None, "1Z9A", None)
