"""How fast archid reads export PDFs, side by side with three other readers in one run.

Run: ``.venv/bin/python tests/bench/bench_parse.py [--scale 1] [--sample 120] [--types …]``

For each export type, the simulator writes the file at the given scale (the
newest layout, every column switched on) and, in the same run, on the same
file:

* ``extract_pages``: pdfminer.six's layout analysis, the baseline the issue
  sets a ratio against (15× at least);
* ``extract_words``: pdfplumber's word extraction, what the predecessor
  used;
* ``PyMuPDF words``: MuPDF's C word extraction (``page.get_text("words")``),
  the fast anchor: words only, no table, no types;
* ``archid records``: :func:`archid.exports.parse.parse_export`, typed
  records out of the whole file, with one process and with two.

The two pure-Python baselines are slow, so on a file longer than
``--sample`` pages they read an even spread of that many pages and their time
is scaled to the whole file (the table says so). PyMuPDF and archid read
every page. Wall seconds are what the table compares; CPU seconds (this
process and its children) are printed too because two processes on a loaded
machine distort wall time.

Then the peak memory of a fresh process parsing the biggest file, for a
tenth of its rows and for all of them.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pymupdf
from pdfminer.high_level import extract_pages

from archid.exports import SPECS
from archid.exports.parse import parse_export
from archid.records import ExportType
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.layouts import FULL_VIEW, build_grid
from archid.sim.pdfwriter import write_grid_pdf


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class Timing:
    wall: float
    cpu: float
    count: int

    def scaled(self, factor: float) -> Timing:
        return Timing(self.wall * factor, self.cpu * factor, self.count)


def timed(work: Callable[[], int]) -> Timing:
    """Wall and CPU seconds of ``work`` (children included) and what it counted."""
    cpu, children, wall = time.process_time(), _children_cpu(), time.perf_counter()
    count = work()
    wall = time.perf_counter() - wall
    return Timing(wall, time.process_time() - cpu + _children_cpu() - children, count)


def spread(pages: int, sample: int) -> list[int]:
    """``sample`` page numbers (0-based) spread evenly over ``pages``."""
    if sample >= pages:
        return list(range(pages))
    return [round(i * (pages - 1) / (sample - 1)) for i in range(sample)]


def pdfminer_words(path: Path, numbers: Sequence[int]) -> int:
    return sum(1 for _ in extract_pages(path, page_numbers=set(numbers)))


def plumber_words(path: Path, numbers: Sequence[int]) -> int:
    words = 0
    with pdfplumber.open(path) as pdf:
        for number in numbers:
            page = pdf.pages[number]
            words += len(page.extract_words())
            page.flush_cache()
    return words


def pymupdf_words(path: Path) -> int:
    # PyMuPDF ships partial annotations: its Document constructor has none.
    with pymupdf.open(path) as document:  # type: ignore[no-untyped-call]
        return sum(len(page.get_text("words")) for page in document)


def archid_records(export_type: ExportType, path: Path, workers: int) -> int:
    return sum(1 for _ in parse_export(SPECS[export_type], path, workers=workers))


def write(path: Path, export_type: ExportType, dataset: Dataset) -> int:
    """Write ``export_type``'s full export of ``dataset`` to ``path``; its page count."""
    grid = build_grid(export_type, dataset.records(export_type), FULL_VIEW)
    with path.open("wb") as out:
        return write_grid_pdf(out, grid, load_font()).pages


# VmHWM is the peak resident set of this address space; unlike ru_maxrss,
# which Linux carries over from the parent across fork and exec, it starts
# afresh in the new process.
MEMORY_PROBE = """
import sys
from pathlib import Path
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
from archid.exports import SPECS
from archid.exports.parse import parse_export
from archid.records import ExportType
before = peak()
n = sum(1 for _ in parse_export(SPECS[ExportType(sys.argv[1])], Path(sys.argv[2])))
print(n, before, peak())
"""


def peak_memory(export_type: ExportType, path: Path) -> tuple[int, float, float]:
    """Records, and peak RSS in MB after imports and after parsing ``path``, in a fresh process."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, export_type.value, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    ).stdout.split()
    return int(out[0]), int(out[1]) / 1024, int(out[2]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument(
        "--sample", type=int, default=120, help="pages the pure-Python baselines read per file"
    )
    parser.add_argument("--types", default=",".join(t.value for t in ExportType))
    args = parser.parse_args()
    wanted = [ExportType(name) for name in args.types.split(",")]

    dataset = Dataset.generate(1, args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        files: dict[ExportType, tuple[Path, int]] = {}
        for export_type in wanted:
            path = Path(tmp) / f"{export_type}.pdf"
            files[export_type] = (path, write(path, export_type, dataset))

        header = (
            f"{'type':<10} {'pages':>6} {'records':>8} | {'extract_pages':>13} "
            f"{'extract_words':>13} {'PyMuPDF words':>13} | {'archid 1':>8} {'archid 2':>8} | "
            f"{'vs extract_pages':>16} {'vs PyMuPDF':>10}"
        )
        print("wall seconds for the whole file (* = scaled from an even sample of pages)")
        print(header)
        print("-" * len(header))
        for export_type, (path, pages) in files.items():
            numbers = spread(pages, args.sample)
            factor = pages / len(numbers)
            mark = "*" if factor > 1 else " "
            miner = timed(lambda: pdfminer_words(path, numbers)).scaled(factor)  # noqa: B023
            plumber = timed(lambda: plumber_words(path, numbers)).scaled(factor)  # noqa: B023
            mupdf = timed(lambda: pymupdf_words(path))  # noqa: B023
            one = timed(lambda: archid_records(export_type, path, 1))  # noqa: B023
            two = timed(lambda: archid_records(export_type, path, 2))  # noqa: B023
            best = min(one.wall, two.wall)
            print(
                f"{export_type:<10} {pages:>6,} {one.count:>8,} | {miner.wall:>12.2f}{mark} "
                f"{plumber.wall:>12.2f}{mark} {mupdf.wall:>13.2f} | {one.wall:>8.2f} "
                f"{two.wall:>8.2f} | {miner.wall / one.wall:>15.1f}× "
                f"{mupdf.wall / best:>9.2f}×"
            )
            print(
                f"{'  cpu s':<27} | {miner.cpu:>12.2f}{mark} {plumber.cpu:>12.2f}{mark} "
                f"{mupdf.cpu:>13.2f} | {one.cpu:>8.2f} {two.cpu:>8.2f} |"
            )
        print(
            "\nvs extract_pages: its time over archid's with one process; vs PyMuPDF: PyMuPDF's "
            "time to words over archid's best time to records (above 1 means archid is faster)"
        )

        biggest = max(files, key=lambda t: files[t][1])
        path, pages = files[biggest]
        tenth = Path(tmp) / f"{biggest}-tenth.pdf"
        tenth_pages = write(tenth, biggest, Dataset.generate(1, args.scale / 10))
        print(f"\npeak memory of a fresh process parsing the {biggest} export (VmHWM):")
        for file, count in ((tenth, tenth_pages), (path, pages)):
            records, before, after = peak_memory(biggest, file)
            print(
                f"  {count:>7,} pages, {records:>6,} records: {after:6.1f} MB "
                f"(after imports: {before:.1f} MB)"
            )


if __name__ == "__main__":
    main()
