"""Simulated exports parse back to exactly the simulator's truth.

The simulator writes each export as the real portal does (spec section 2);
:func:`archid.sim.layouts.truth_json` is what a correct parser yields. The
comparison is on the JSON form, record by record, in export order.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from archid.exports import SPECS, MissingHeader, ParseStats, WrongLocale, parse_export
from archid.exports.values import amount
from archid.records import Customer, ExportType, to_json
from archid.sim.cache import ExportCache
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.layouts import FULL_VIEW, ExportView, build_grid, format_int, truth_json
from archid.sim.pdfwriter import write_grid_pdf
from tests.conftest import SIM_CACHE, SIM_SCALE, SIM_SEED

ALL = list(ExportType)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset.generate(SIM_SEED, SIM_SCALE)


def export_bytes(dataset: Dataset, t: ExportType, view: ExportView = FULL_VIEW) -> bytes:
    """The export of ``t`` the simulated portal would download with ``view``."""
    out = io.BytesIO()
    write_grid_pdf(out, build_grid(t, dataset.records(t), view), load_font(None))
    return out.getvalue()


def parse_json(
    t: ExportType, source: bytes | Path, stats: ParseStats | None = None
) -> list[dict[str, Any]]:
    """The records of an export in JSON form."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    return [to_json(r) for r in parse_export(SPECS[t], stream, stats=stats)]


def assert_same(parsed: list[dict[str, Any]], truth: list[dict[str, Any]]) -> None:
    """Equal lists, with the first differing record shown when not."""
    for index, (got, want) in enumerate(zip(parsed, truth, strict=False)):
        diff = {
            k: (got.get(k), want.get(k))
            for k in want.keys() | got.keys()
            if got.get(k) != want.get(k)
        }
        assert not diff, f"record {index} ({want.get('id')}): field (parsed, truth): {diff}"
    assert len(parsed) == len(truth)
    assert parsed == truth


@pytest.mark.parametrize("t", ALL)
def test_full_view_parses_to_the_truth(dataset: Dataset, t: ExportType) -> None:
    stats = ParseStats()
    parsed = parse_json(t, export_bytes(dataset, t), stats)
    truth = truth_json(dataset, t)
    assert truth, "the dataset must have records of every type"
    assert_same(parsed, truth)
    assert stats.records == len(truth)
    assert stats.rows == len(truth) + sum(stats.dropped.values())
    assert_summary_agrees(t, stats, parsed)


def assert_summary_agrees(t: ExportType, stats: ParseStats, parsed: list[dict[str, Any]]) -> None:
    """The printed Count= is every grid row; each Sum= is the sum over the records."""
    # A summary cell wider than its column wraps mid-word ("Count=2.93" / "9"):
    # the reader joins its lines with a space, so spaces are dropped here.
    summary = {header: "".join(text.split()) for header, text in stats.summary.items()}
    counts = [text for text in summary.values() if text.startswith("Count=")]
    assert counts == [f"Count={format_int(stats.rows)}"]
    fields = {c.header: c.field for c in SPECS[t].columns}
    sums = {h: text for h, text in summary.items() if text.startswith("Sum=")}
    if t in (ExportType.ORDERS, ExportType.DDT, ExportType.INVOICES):
        assert sums, "these exports print sums"
    for header, text in sums.items():
        field = fields[header]
        assert field is not None
        total = sum((Decimal(r[field]) for r in parsed if r[field] is not None), Decimal(0))
        assert amount((text.removeprefix("Sum="),)) == total, header


def test_full_view_cycle_lengths(dataset: Dataset) -> None:
    expected = {
        ExportType.CUSTOMERS: 9,
        ExportType.PRODUCTS: 9,
        ExportType.PRICES: 3,
        ExportType.ORDERS: 7,
        ExportType.DDT: 6,
        ExportType.INVOICES: 7,
    }
    for t, n in expected.items():
        stats = ParseStats()
        parse_json(t, export_bytes(dataset, t), stats)
        assert stats.cycle_length == n, t
        assert stats.pages == n * stats.cycles, t


def test_customer_artefacts_are_dropped(dataset: Dataset) -> None:
    stats = ParseStats()
    parsed = parse_json(ExportType.CUSTOMERS, export_bytes(dataset, ExportType.CUSTOMERS), stats)
    assert all(r["id"] != "0" for r in parsed)
    assert stats.dropped.get("artefact", 0) > 0
    assert set(stats.dropped) == {"artefact"}


def test_junk_orders_and_ddt_are_dropped(dataset: Dataset) -> None:
    orders = ParseStats()
    parse_json(ExportType.ORDERS, export_bytes(dataset, ExportType.ORDERS), orders)
    assert orders.dropped.get("id 0", 0) >= 1
    assert orders.dropped.get("no creation date", 0) >= 1
    ddt = ParseStats()
    parse_json(ExportType.DDT, export_bytes(dataset, ExportType.DDT), ddt)
    assert ddt.dropped.get("no ddt number", 0) >= 1
    assert ddt.dropped.get("no order number", 0) >= 1


def test_profile_spellings_are_canonical(dataset: Dataset) -> None:
    # the orders print PROFILO CLIENTE: as 55.220, 55220 or 55.22: one key each
    profiles = {c.profile for c in dataset.records(ExportType.CUSTOMERS) if isinstance(c, Customer)}
    parsed = parse_json(ExportType.ORDERS, export_bytes(dataset, ExportType.ORDERS))
    assert {r["customer_profile"] for r in parsed} <= profiles


def test_draft_orders_keep_their_own_key(dataset: Dataset) -> None:
    parsed = parse_json(ExportType.ORDERS, export_bytes(dataset, ExportType.ORDERS))
    drafts = [r for r in parsed if r["sales_id"] is None]
    assert drafts, "the dataset has drafts"
    assert len({r["id"] for r in parsed}) == len(parsed)


def test_orders_without_the_email_column(dataset: Dataset) -> None:
    view = ExportView(orders_email_column=False)
    parsed = parse_json(ExportType.ORDERS, export_bytes(dataset, ExportType.ORDERS, view))
    assert_same(parsed, truth_json(dataset, ExportType.ORDERS, view))
    assert all(r["email"] is None for r in parsed)


def test_orders_with_the_email_column_keep_it(dataset: Dataset) -> None:
    parsed = parse_json(ExportType.ORDERS, export_bytes(dataset, ExportType.ORDERS))
    assert any(r["email"] for r in parsed)


@pytest.mark.parametrize(
    ("t", "view"),
    [
        (ExportType.ORDERS, ExportView(orders_all=False, orders_email_column=True)),
        (ExportType.PRODUCTS, ExportView(products_filter=True)),
        (ExportType.DDT, ExportView(ddt_extra_page=True)),
    ],
    ids=["open-orders", "saved-products-filter", "ddt-7th-page"],
)
def test_other_views_parse_to_their_truth(
    dataset: Dataset, t: ExportType, view: ExportView
) -> None:
    parsed = parse_json(t, export_bytes(dataset, t, view))
    assert_same(parsed, truth_json(dataset, t, view))


@pytest.mark.parametrize("t", ALL)
def test_month_first_dates_raise_wrong_locale(dataset: Dataset, t: ExportType) -> None:
    data = export_bytes(dataset, t, dataclasses.replace(FULL_VIEW, month_first_dates=True))
    with pytest.raises(WrongLocale, match="it-IT"):
        parse_json(t, data)


def test_hidden_product_columns_are_missing_headers(dataset: Dataset) -> None:
    # A fresh session hides 16 product columns (5-page cycle): their data is
    # lost, so the parse must fail rather than blank those fields.
    data = export_bytes(dataset, ExportType.PRODUCTS, ExportView(products_all_columns=False))
    with pytest.raises(MissingHeader, match=r"NOME DELLA RICERCA|DATETIME MODIFICATO|CREATO DA"):
        parse_json(ExportType.PRODUCTS, data)


def test_an_export_of_another_type_does_not_parse(dataset: Dataset) -> None:
    from archid.exports import LayoutChanged

    data = export_bytes(dataset, ExportType.INVOICES)
    with pytest.raises(LayoutChanged):
        parse_json(ExportType.ORDERS, data)


def test_changed_data_parses_to_the_changed_truth() -> None:
    dataset = Dataset.generate(SIM_SEED + 1, SIM_SCALE)
    for t in ALL:
        dataset.mutate(t, 1, 6)
        assert_same(parse_json(t, export_bytes(dataset, t)), truth_json(dataset, t))


def _full_scale_paths() -> Iterator[tuple[ExportType, Dataset, Path]]:
    dataset = Dataset.generate(SIM_SEED, 1.0)
    cache = ExportCache(SIM_CACHE, load_font(None))
    for t in ALL:
        yield t, dataset, cache.get(t, dataset.fingerprint, dataset.records(t), FULL_VIEW)


@pytest.mark.slow
def test_full_scale_exports_parse_to_the_truth() -> None:
    for t, dataset, path in _full_scale_paths():
        stats = ParseStats()
        parsed = parse_json(t, path, stats)
        assert_same(parsed, truth_json(dataset, t))
        assert stats.rows == stats.records + sum(stats.dropped.values())
        assert_summary_agrees(t, stats, parsed)
