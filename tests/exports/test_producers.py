"""The parsers against the six exports written by other producers.

For every preset of ``variants.py`` and every export type, a small simulated
dataset rendered with that producer's habits must parse to exactly the
records the simulator says the export holds: the parser may not depend on
the simulator writer's fonts, sizes, operators, drawing order or file
structure.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from archid.exports import SPECS, parse_export
from archid.records import ExportType, Record, to_json
from archid.sim.dataset import Dataset
from archid.sim.layouts import EPOCHS, ExportView, build_grid, expected_records, file_name
from tests.exports import samples
from tests.exports.variants import VARIANTS, plan_variant, render_variant
from tests.spec_layouts import EPOCH_HEADERS

SEED = 7
SCALE = 0.02
#: The prices export is the longest at this scale: a few presets parse it
#: unmarked, the others are marked slow (``-m "not slow"``).
PRICES_PRESETS = {"baseline", "glyph_by_glyph", "helvetica_8_kerning", "kitchen_sink", "text_only"}
#: The presets that draw no filled data cells, or no rules, or cells closer
#: than a space: run against both epochs.
BARE = {
    "no_fills",
    "header_fills",
    "text_only",
    "tight_glyphs",
    "tight_header_fills",
    "portal_spacing_strokes",
    "portal_spacing_header_fills",
    "kitchen_sink",
}


@cache
def dataset() -> Dataset:
    return Dataset.generate(SEED, SCALE)


def _cases() -> list[Any]:
    cases = []
    for layout in EPOCHS:
        for name in VARIANTS:
            if layout != EPOCHS[-1] and name not in BARE:
                continue
            for t in ExportType:
                slow = t is ExportType.PRICES and name not in PRICES_PRESETS
                marks = [pytest.mark.slow] if slow else []
                cases.append(
                    pytest.param(name, t, layout, id=f"{name}-{t.value}-{layout}", marks=marks)
                )
    return cases


def describe_difference(got: list[Record], wanted: list[Record]) -> str:
    """A short account of how two record lists differ (for the failure message)."""
    lines = [f"{len(got)} records parsed, {len(wanted)} expected"]
    for index, (a, b) in enumerate(zip(got, wanted, strict=False)):
        ja, jb = to_json(a), to_json(b)
        if ja != jb or a.unread != b.unread:
            fields = sorted(k for k in ja.keys() | jb.keys() if ja.get(k) != jb.get(k))
            lines.append(f"first difference at record {index}: unread {a.unread} / {b.unread}")
            lines += [f"  {k}: parsed {ja.get(k)!r}, expected {jb.get(k)!r}" for k in fields[:8]]
            break
    different = sum(a != b for a, b in zip(got, wanted, strict=False))
    lines.append(f"{different} of the first {min(len(got), len(wanted))} records differ")
    return "\n".join(lines)


@pytest.mark.parametrize(("name", "t", "layout"), _cases())
def test_other_producers_parse_to_the_truth(
    name: str, t: ExportType, layout: str, tmp_path: Path
) -> None:
    view = ExportView(layout=layout)
    records = dataset().records(t)
    path = tmp_path / file_name(t, view)
    path.write_bytes(render_variant(build_grid(t, records, view), VARIANTS[name]))
    got = list(parse_export(SPECS[t], path))
    wanted = expected_records(t, records, view)
    same = [to_json(r) for r in got] == [to_json(r) for r in wanted]
    assert same and [r.unread for r in got] == [r.unread for r in wanted], (
        f"{name} / {t.value} / {layout}: " + describe_difference(got, wanted)
    )


@pytest.mark.parametrize("name", sorted(BARE | {"baseline", "glyph_by_glyph", "helvetica"}))
@pytest.mark.parametrize("t", [t.value for t in ExportType])
def test_the_hand_written_samples_parse_alike_from_other_producers(name: str, t: str) -> None:
    """Every column's spec v2 examples, printed by another producer, read as typed."""
    pages = EPOCH_HEADERS[EPOCHS[-1]][t]
    grid = samples.sample_grid(t, pages, 13)
    got = list(parse_export(SPECS[ExportType(t)], io.BytesIO(render_variant(grid, VARIANTS[name]))))
    assert len(got) == 13
    present = {h for page in pages for h in page}
    for index, record in enumerate(got):
        want = samples.expected(t, index, present)
        assert {k: getattr(record, k) for k in want} == want, f"{name} {t} row {index}"


@pytest.mark.parametrize(
    "name", ["size_8", "no_fills", "header_fills", "text_only", "portal_spacing_header_fills"]
)
@pytest.mark.parametrize("t", [t.value for t in ExportType])
def test_wrapped_headers_and_cells_in_narrow_columns(name: str, t: str) -> None:
    """Columns 78 pt wide: most headers wrap to two or three lines, long cells wrap too."""
    pages = EPOCH_HEADERS[EPOCHS[-1]][t]
    grid = samples.sample_grid(t, pages, 9, width=78.0)
    wrapped = plan_variant(samples.sample_grid(t, pages, 9, width=78.0), VARIANTS[name])
    assert sum(len(cell) > 1 for cell in wrapped.header.cells) >= 6
    got = list(parse_export(SPECS[ExportType(t)], io.BytesIO(render_variant(grid, VARIANTS[name]))))
    assert len(got) == 9
    present = {h for page in pages for h in page}
    for index, record in enumerate(got):
        want = samples.expected(t, index, present)
        assert {k: getattr(record, k) for k in want} == want, f"{name} {t} row {index}"
