"""The parsers against the six exports written by other producers.

For every preset of ``variants.py`` and every export type, a small simulated
dataset rendered with that producer's habits must parse to exactly the
records the simulator says the export holds: the parser may not depend on
the simulator writer's fonts, sizes, operators, drawing order or file
structure.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from archid.exports import SPECS, parse_export
from archid.records import ExportType, to_json
from archid.sim.dataset import Dataset
from archid.sim.layouts import ExportView, build_grid, file_name, truth_json
from tests.exports.variants import VARIANTS, render_variant

SEED = 7
SCALE = 0.02
#: The prices export is one price per cycle (about 300 pages at this scale):
#: a few presets parse it unmarked, the others are marked slow (``-m "not slow"``).
PRICES_PRESETS = {"baseline", "glyph_by_glyph", "helvetica_8_kerning", "kitchen_sink"}


@cache
def dataset() -> Dataset:
    return Dataset.generate(SEED, SCALE)


@cache
def truth(t: ExportType) -> list[dict[str, Any]]:
    return truth_json(dataset(), t, ExportView())


def _cases() -> list[Any]:
    cases = []
    for name in VARIANTS:
        for t in ExportType:
            marks = (
                [pytest.mark.slow] if t is ExportType.PRICES and name not in PRICES_PRESETS else []
            )
            cases.append(pytest.param(name, t, id=f"{name}-{t.value}", marks=marks))
    return cases


def describe_difference(got: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> str:
    """A short account of how two record lists differ (for the failure message)."""
    lines = [f"{len(got)} records parsed, {len(wanted)} expected"]
    for index, (a, b) in enumerate(zip(got, wanted, strict=False)):
        if a != b:
            fields = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            lines.append(f"first difference at record {index}:")
            lines += [f"  {k}: parsed {a.get(k)!r}, expected {b.get(k)!r}" for k in fields[:8]]
            break
    different = sum(a != b for a, b in zip(got, wanted, strict=False))
    lines.append(f"{different} of the first {min(len(got), len(wanted))} records differ")
    return "\n".join(lines)


@pytest.mark.parametrize(("name", "t"), _cases())
def test_other_producers_parse_to_the_truth(name: str, t: ExportType, tmp_path: Path) -> None:
    grid = build_grid(t, dataset().records(t), ExportView())
    path = tmp_path / file_name(t)
    path.write_bytes(render_variant(grid, VARIANTS[name]))
    got = [to_json(record) for record in parse_export(SPECS[t], path)]
    wanted = truth(t)
    assert got == wanted, f"{name} / {t.value}: " + describe_difference(got, wanted)
