"""Simulated exports of both layout epochs parse back to exactly the simulator's truth.

The simulator writes each export as the real portal does (spec v2 section 2);
:func:`archid.sim.layouts.expected_records` is what a correct parser yields,
``unread`` included. The comparison is on the JSON form, record by record,
in export order, plus each record's ``unread``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from archid.exports import SPECS, MissingHeader, ParseStats, WrongLocale, parse_export
from archid.exports.values import amount
from archid.records import ExportType, Record, to_json
from archid.sim.cache import ExportCache
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.layouts import (
    EPOCHS,
    FULL_VIEW,
    PRODUCTS_GRID_FILTER,
    ExportView,
    build_grid,
    default_hidden,
    expected_records,
    file_name,
    format_int,
    printed_sum,
)
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


def parse_records(
    t: ExportType, source: bytes | Path, stats: ParseStats | None = None
) -> list[Record]:
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    return list(parse_export(SPECS[t], stream, stats=stats))


def assert_same(parsed: list[Record], truth: list[Record]) -> None:
    """Equal records and ``unread`` sets, with the first differing record shown when not."""
    for index, (got, want) in enumerate(zip(parsed, truth, strict=False)):
        a, b = to_json(got), to_json(want)
        diff = {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        assert not diff, f"record {index} ({want.key}): field (parsed, truth): {diff}"
        assert got.unread == want.unread, f"record {index} ({want.key}): unread"
    assert len(parsed) == len(truth)


@pytest.mark.parametrize("layout", EPOCHS)
@pytest.mark.parametrize("t", ALL)
def test_every_type_and_epoch_parses_to_the_truth(
    dataset: Dataset, t: ExportType, layout: str
) -> None:
    view = ExportView(layout=layout)
    stats = ParseStats()
    parsed = parse_records(t, export_bytes(dataset, t, view), stats)
    truth = expected_records(t, dataset.records(t), view)
    assert truth, "the dataset must have records of every type"
    assert_same(parsed, truth)
    assert stats.records == stats.rows == len(truth) and not stats.dropped
    assert stats.bad_cell_count == 0
    assert_summary_agrees(t, stats, parsed)


def assert_summary_agrees(t: ExportType, stats: ParseStats, parsed: list[Record]) -> None:
    """The printed Count= is the record count; each Sum= is what the portal prints."""
    # A summary cell wider than its column wraps mid-word ("Count=2.93" / "9"):
    # the reader joins its lines with a space, so spaces are dropped here.
    summary = {header: "".join(text.split()) for header, text in stats.summary.items()}
    counts = [text for text in summary.values() if text.startswith("Count=")]
    assert counts == ([] if t is ExportType.INVOICES else [f"Count={format_int(stats.rows)}"])
    fields = {c.header: c.field for c in SPECS[t].columns}
    sums = {h: text for h, text in summary.items() if text.startswith("Sum=")}
    if t in (ExportType.ORDERS, ExportType.DDT, ExportType.INVOICES):
        assert sums, "these exports print sums"
    for header, text in sums.items():
        field = fields[header]
        assert field is not None
        printed = amount((text.removeprefix("Sum="),))
        assert printed == printed_sum(t, header, parsed, field), header
        if not (t is ExportType.ORDERS and header == "IMPORTO TOTALE"):
            values = [getattr(r, field) for r in parsed if getattr(r, field) is not None]
            assert printed == sum((Decimal(v) for v in values), Decimal(0)), header


@pytest.mark.parametrize(
    ("layout", "t", "cycle"),
    [
        ("2026-01", ExportType.CUSTOMERS, 8),
        ("2026-03", ExportType.CUSTOMERS, 9),
        ("2026-01", ExportType.PRODUCTS, 8),
        ("2026-03", ExportType.PRODUCTS, 9),
        ("2026-01", ExportType.DDT, 6),
        ("2026-03", ExportType.DDT, 7),
        ("2026-03", ExportType.PRICES, 3),
        ("2026-03", ExportType.ORDERS, 7),
        ("2026-03", ExportType.INVOICES, 7),
    ],
)
def test_cycle_lengths(dataset: Dataset, layout: str, t: ExportType, cycle: int) -> None:
    stats = ParseStats()
    parse_records(t, export_bytes(dataset, t, ExportView(layout=layout)), stats)
    assert stats.cycle_length == cycle and stats.pages == cycle * stats.cycles


def test_an_epoch_switch_between_two_exports_gives_the_same_records(dataset: Dataset) -> None:
    for t in ALL:
        old = parse_records(t, export_bytes(dataset, t, ExportView(layout="2026-01")))
        new = parse_records(t, export_bytes(dataset, t, ExportView(layout="2026-03")))
        assert [r.key for r in old] == [r.key for r in new]
        for a, b in zip(old, new, strict=True):
            # the same values, but for the fields one epoch does not show
            hidden = a.unread | b.unread
            assert {k: v for k, v in to_json(a).items() if k not in hidden} == {
                k: v for k, v in to_json(b).items() if k not in hidden
            }


def test_invoices_without_the_order_column_leave_it_unread(dataset: Dataset) -> None:
    view = ExportView(hidden=frozenset({"ID VENDITE"}))
    stats = ParseStats()
    parsed = parse_records(
        ExportType.INVOICES, export_bytes(dataset, ExportType.INVOICES, view), stats
    )
    assert_same(
        parsed, expected_records(ExportType.INVOICES, dataset.records(ExportType.INVOICES), view)
    )
    assert all(r.unread == {"order_number"} for r in parsed)
    assert any("'ID VENDITE' is not in this export" in w for w in stats.warnings)


def test_a_fresh_products_session_fails_naming_hidden_columns(dataset: Dataset) -> None:
    data = export_bytes(
        dataset, ExportType.PRODUCTS, ExportView(hidden=default_hidden(ExportType.PRODUCTS))
    )
    with pytest.raises(
        MissingHeader, match=r"'ID GRUPPO DI PRODOTTI'.*'CREATO DA:'.*column chooser"
    ):
        parse_records(ExportType.PRODUCTS, data)


@pytest.mark.parametrize(
    "view",
    [
        ExportView(filter="ListViewSalesTableOrdersThisMonth"),
        ExportView(filter=PRODUCTS_GRID_FILTER),
    ],
    ids=["orders-this-month", "saved-products-filter"],
)
def test_other_views_parse_to_their_truth(dataset: Dataset, view: ExportView) -> None:
    t = ExportType.PRODUCTS if view.filter == PRODUCTS_GRID_FILTER else ExportType.ORDERS
    parsed = parse_records(t, export_bytes(dataset, t, view))
    assert_same(parsed, expected_records(t, dataset.records(t), view))


@pytest.mark.parametrize("t", ALL)
def test_an_english_export_is_caught(dataset: Dataset, t: ExportType, tmp_path: Path) -> None:
    view = ExportView(english=True)
    path = tmp_path / file_name(t, view)
    path.write_bytes(export_bytes(dataset, t, view))
    with pytest.raises(WrongLocale, match=r"not an Italian .*it-IT"):
        parse_records(t, path)
    with pytest.raises(WrongLocale):  # the file's name is not what gives it away
        parse_records(t, path.read_bytes())


def test_an_export_of_another_type_does_not_parse(dataset: Dataset) -> None:
    from archid.exports import WrongExportType

    with pytest.raises(WrongExportType, match="invoices export"):
        parse_records(ExportType.ORDERS, export_bytes(dataset, ExportType.INVOICES))


def test_changed_data_parses_to_the_changed_truth() -> None:
    dataset = Dataset.generate(SIM_SEED + 1, SIM_SCALE)
    for t in ALL:
        dataset.mutate(t, 1, 6)
        assert_same(parse_records(t, export_bytes(dataset, t)), dataset.records(t))


def test_a_renumbering_changes_ids_not_keys() -> None:
    dataset = Dataset.generate(SIM_SEED + 2, SIM_SCALE)
    for t in (ExportType.ORDERS, ExportType.DDT, ExportType.PRICES, ExportType.PRODUCTS):
        before = parse_records(t, export_bytes(dataset, t))
        dataset.renumber(t, 3)
        after = parse_records(t, export_bytes(dataset, t))
        assert_same(after, dataset.records(t))
        # the order of rows may follow the IDs; the keys stay, but pending
        # orders', which are their IDs until they get a number
        assert len(after) == len(before)
        numbered = {r.key: r for r in before if r.key != getattr(r, "id")}  # noqa: B009
        assert numbered
        for record in after:
            if record.key in numbered:
                assert getattr(record, "id") != getattr(numbered.pop(record.key), "id")  # noqa: B009
        assert not numbered


def _full_scale_paths() -> Iterator[tuple[ExportType, str, Dataset, Path]]:
    dataset = Dataset.generate(SIM_SEED, 1.0)
    cache = ExportCache(SIM_CACHE, load_font(None))
    for layout in EPOCHS:
        view = ExportView(layout=layout)
        for t in ALL:
            path = cache.get(t, dataset.fingerprint, dataset.records(t), view)
            yield t, layout, dataset, path


@pytest.mark.slow
def test_full_scale_exports_parse_to_the_truth() -> None:
    for t, layout, dataset, path in _full_scale_paths():
        stats = ParseStats()
        parsed = parse_records(t, path, stats)
        assert_same(parsed, expected_records(t, dataset.records(t), ExportView(layout=layout)))
        assert stats.rows == stats.records and stats.bad_cell_count == 0
        assert_summary_agrees(t, stats, parsed)
