"""Speed of the PDF writer: ``.venv/bin/python tests/bench/bench_pdfwriter.py``.

Prints pages/s, bytes/page and the share of each content stream that is
text objects (the spec says about a sixth) for full 26-row pages of 20
narrow columns holding short numbers, and of 5 columns of price-list-like
values, 3 pages a cycle (the real exports' shape), and of the prices
export's 15,000 one-row pages.
"""

from __future__ import annotations

import io
import re
import time
import zlib
from collections.abc import Callable, Iterator

from archid.sim.font import load_font
from archid.sim.grid import Column, Grid
from archid.sim.pdfwriter import write_grid_pdf


class _Sink:
    """A write-only file that only counts, so the bench measures the writer."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def _euro(i: int) -> str:
    text = f"{(i * 37) % 100000 / 100:,.2f} €"
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


_SAMPLES: tuple[Callable[[int], str], ...] = (
    lambda i: f"{70000 + i:,}".replace(",", "."),
    lambda i: f"{i % 100000:06d}",
    lambda i: f"Studio Dentistico {i % 997}",
    _euro,
    lambda i: f"{1 + i % 28:02d}/01/2026",
    lambda i: "",
    lambda i: "EUR",
    lambda i: f"H1.{i % 1000:03d}.016",
    lambda i: "1,00",
    lambda i: "Sì" if i % 3 else "No",
)


def _rows(count: int, width: int, short: bool) -> Iterator[list[str]]:
    for i in range(count):
        if short:
            yield [str((i * 7 + j) % 1000) for j in range(width)]
        else:
            yield [_SAMPLES[j % len(_SAMPLES)](i) for j in range(width)]


def _grid(columns_per_page: int, cycle: int, rows: int) -> Grid:
    width = 468 / columns_per_page
    pages = [
        [
            Column(f"COL {p}.{c}", width, "right" if c % 10 == 3 else "left")
            for c in range(columns_per_page)
        ]
        for p in range(cycle)
    ]
    short = columns_per_page > 8
    return Grid(pages=pages, rows=_rows(rows, columns_per_page * cycle, short), rows_per_page=26)


def bench(columns_per_page: int, cycle: int, cycles: int, rows_per_page: int = 26) -> None:
    font = load_font()
    sink = _Sink()
    start = time.perf_counter()
    grid = _grid(columns_per_page, cycle, rows_per_page * cycles)
    grid.rows_per_page = rows_per_page
    stats = write_grid_pdf(sink, grid, font)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    print(
        f"{columns_per_page:2d} columns/page, {rows_per_page} rows: "
        f"{stats.pages} pages in {elapsed:.2f} s = "
        f"{stats.pages / elapsed:,.0f} pages/s, {stats.bytes / stats.pages:,.0f} bytes/page"
    )


def text_share(columns_per_page: int) -> None:
    out = io.BytesIO()
    write_grid_pdf(out, _grid(columns_per_page, 1, 26), load_font())
    stream = re.search(rb"stream\n(.*?)\nendstream", out.getvalue(), re.S)
    assert stream is not None
    content = zlib.decompress(stream.group(1))
    text = sum(len(m) for m in re.findall(rb"BT .*? ET\n", content))
    print(
        f"{columns_per_page:2d} columns/page: content {len(content):,} bytes, "
        f"text objects {text / len(content):.0%}"
    )


if __name__ == "__main__":
    for columns in (20, 5):
        text_share(columns)
    bench(20, 1, 1000)
    bench(5, 3, 1000)
    bench(5, 3, 5000, rows_per_page=1)  # the prices export: one price a cycle
