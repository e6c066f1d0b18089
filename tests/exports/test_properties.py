"""Properties: any simulated portal, changed at random, parses back to its truth.

Also the converters against the simulator's formatters over random values.
Example counts are kept small so the file runs in well under a minute.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archid.exports import SPECS, parse_export
from archid.exports import values as v
from archid.exports.errors import WrongLocale
from archid.records import ExportType, to_json
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.layouts import (
    EPOCHS,
    FULL_VIEW,
    PRODUCTS_GRID_FILTER,
    ExportView,
    build_grid,
    expected_records,
    format_date,
    format_datetime,
    format_decimal,
    format_id,
    format_int,
)
from archid.sim.pdfwriter import write_grid_pdf

ITALIAN = ExportView()

export_types = st.sampled_from(list(ExportType))


#: the views a correct parse reads (Italian, all product columns; unread fields allowed)
lossless_views = st.builds(
    ExportView,
    layout=st.sampled_from(EPOCHS),
    hidden=st.sampled_from([frozenset(), frozenset({"ID VENDITE"}), frozenset({"E-MAIL"})]),
)

#: a saved filter of each list that lets only some records through
NARROW: dict[ExportType, str] = {
    ExportType.CUSTOMERS: "Free_customers",
    ExportType.PRODUCTS: PRODUCTS_GRID_FILTER,
    ExportType.PRICES: "ActivePrices",
    ExportType.ORDERS: "ListViewSalesTableOrdersThisMonth",
    ExportType.DDT: "ListViewPackingSlipsThisMonth",
    ExportType.INVOICES: "open_invoices",
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    t=export_types,
    seed=st.integers(0, 10_000),
    scale=st.floats(0.003, 0.03),
    mutation_seed=st.integers(0, 1_000),
    changes=st.integers(0, 12),
    view=st.just(FULL_VIEW) | lossless_views,
    narrow=st.booleans(),
)
def test_mutated_exports_parse_to_the_truth(
    t: ExportType,
    seed: int,
    scale: float,
    mutation_seed: int,
    changes: int,
    view: ExportView,
    narrow: bool,
) -> None:
    if narrow:
        view = dataclasses.replace(view, filter=NARROW[t])
    dataset = Dataset.generate(seed, scale)
    dataset.mutate(t, mutation_seed, changes)
    out = io.BytesIO()
    write_grid_pdf(out, build_grid(t, dataset.records(t), view), load_font(None))
    out.seek(0)
    parsed = list(parse_export(SPECS[t], out))
    truth = expected_records(t, dataset.records(t), view)
    assert [to_json(r) for r in parsed] == [to_json(r) for r in truth]
    assert [r.unread for r in parsed] == [r.unread for r in truth]


# -- converters against the simulator's formatters --

decimals = st.decimals(
    min_value=Decimal("-9999999.99"),
    max_value=Decimal("9999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
) | st.integers(-(10**9), 10**9).map(Decimal)


@given(value=decimals, euro=st.booleans())
def test_amounts_read_what_the_portal_prints(value: Decimal, euro: bool) -> None:
    parsed = v.amount((format_decimal(value, euro=euro),))
    assert parsed == value
    # the exact digits, so that the JSON form is the same
    assert str(parsed) == str(abs(value) if value.is_zero() else value)


@given(value=st.integers(-(10**9), 10**9))
def test_counts_read_what_the_portal_prints(value: int) -> None:
    assert v.count((format_int(value),)) == value


@given(key=st.integers(0, 10**12))
def test_numeric_ids_read_every_spelling(key: int) -> None:
    dotted = format_id(str(key))
    spellings = {str(key), dotted, f"{dotted},00"}
    if "." in dotted and dotted.endswith("0") and not dotted.endswith("000"):
        spellings.add(dotted.rstrip("0"))  # "55.220" read as a decimal: "55.22"
    for spelling in spellings:
        assert v.numeric_id((spelling,)) == str(key), spelling


moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 12, 31))


@given(moment=moments)
def test_dates_read_what_an_italian_browser_prints(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    assert v.day((format_date(moment.date(), ITALIAN),)) == moment.date()
    assert v.moment((format_datetime(moment, ITALIAN),)) == moment


@given(day=st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31)))
def test_month_first_dates_are_caught_or_harmless(day: date) -> None:
    # A month-first date either reveals itself (day > 12) or reads as some date;
    # it never reads as a wrong date silently when its day is above 12.
    printed = format_date(day, ExportView(english=True))
    if day.day > 12:
        try:
            v.day((printed,))
        except WrongLocale:
            return
        raise AssertionError(f"{printed} was not caught")
    assert v.day((printed,)) == date(day.year, day.day, day.month)


@given(offset=st.integers(0, 3650))
def test_far_dates(offset: int) -> None:
    value = date(2154, 12, 31) - timedelta(days=offset)
    assert v.day((value.strftime("%d/%m/%Y"),)) == value
