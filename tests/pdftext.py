"""Reading exports back in tests: text runs with positions, per page, via pdfminer.

Deliberately simple and independent of archid's own parser: characters from
pdfminer's interpreter are grouped into runs on the same baseline, split at
gaps wider than a few points (cells are padded, words are not).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar, LTPage, LTRect
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser


@dataclass(frozen=True)
class Run:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float
    gray: float | None  # fill level when the fill is a gray, else None


@dataclass
class Page:
    width: float
    height: float
    runs: list[Run]
    rects: list[Rect]

    def header_cells(self) -> list[str]:
        """Texts of the gray-filled cells (headers), left to right, lines joined."""
        cells = [
            r
            for r in self.rects
            if r.gray is not None and 0.05 < r.gray < 0.98 and r.x1 - r.x0 > 4 and r.y1 - r.y0 > 4
        ]
        out = []
        for cell in sorted(cells, key=lambda r: r.x0):
            inside = [
                run
                for run in self.runs
                if cell.x0 - 1 <= run.x <= cell.x1 and cell.y0 - 1 <= run.y <= cell.y1
            ]
            inside.sort(key=lambda run: (-run.y, run.x))
            out.append(" ".join(run.text for run in inside))
        return out

    def top_row(self) -> list[str]:
        """Texts of the highest baseline on the page (the header row)."""
        top = max(run.y for run in self.runs)
        return [run.text for run in sorted(self.runs, key=lambda r: r.x) if abs(run.y - top) < 3]


def read_pages(path: Path, max_pages: int | None = None, last: int | None = None) -> list[Page]:
    """The first ``max_pages`` pages, or the ``last`` ones, or all of them."""
    with path.open("rb") as f:
        document = PDFDocument(PDFParser(f))
        manager = PDFResourceManager()
        device = PDFPageAggregator(manager, laparams=None)
        interpreter = PDFPageInterpreter(manager, device)
        out: list[Page] = []
        pages = list(PDFPage.create_pages(document))
        if last is not None:
            pages = pages[-last:]
        for number, page in enumerate(pages):
            if max_pages is not None and number >= max_pages:
                break
            interpreter.process_page(page)
            layout: LTPage = device.get_result()
            chars = [item for item in layout if isinstance(item, LTChar)]
            rects = [_rect(item) for item in layout if isinstance(item, LTRect)]
            out.append(Page(layout.width, layout.height, _runs(chars), rects))
        return out


def _runs(chars: list[LTChar]) -> list[Run]:
    chars.sort(key=lambda c: (-round(c.y0, 1), c.x0))
    runs: list[Run] = []
    current: list[LTChar] = []
    for char in chars:
        if current and (abs(char.y0 - current[-1].y0) > 0.5 or char.x0 - current[-1].x1 > 2.5):
            runs.append(_run(current))
            current = []
        current.append(char)
    if current:
        runs.append(_run(current))
    return runs


def _run(chars: list[LTChar]) -> Run:
    return Run(chars[0].x0, chars[0].y0, "".join(c.get_text() for c in chars).strip())


def _rect(item: LTRect) -> Rect:
    color = item.non_stroking_color
    if isinstance(color, list | tuple):
        # DeviceGray (one component) or an RGB whose components are equal
        color = color[0] if len(color) in (1, 3) and len(set(color)) == 1 else None
    gray = float(color) if isinstance(color, int | float) else None
    return Rect(item.x0, item.y0, item.x1, item.y1, gray)
