"""How fast archid reads export PDFs, side by side with pdfminer.six and pdfplumber.

Run: ``.venv/bin/python tests/bench/bench_parse.py [--scale 1] [--sample 300] [--skip-plumber]``

On the same simulator-generated files, in the same run:

* ``pdfminer extract_pages``: pdfminer.six's layout analysis (the baseline);
* ``pdfplumber extract_words``;
* ``archid pages``: :func:`archid.exports.pdftext.open_pdf`, text runs and rules;
* ``archid rows``: :func:`archid.exports.table.open_table`, whole rows;
* ``archid records``: :func:`archid.exports.parse.parse_export`, typed records,
  with one process and with two (``workers=2``).

The orders and customers files are read whole by every reader; on the
15,000-page prices file the two baselines read a sample of pages (and say
so) and their time is scaled to the whole file. Ratios are baseline time
over archid time for the same pages. CPU seconds are printed next to wall
seconds because a loaded machine distorts wall time, most of all for two
processes.

Then peak memory (``ru_maxrss`` of a fresh process parsing the prices
export) for a tenth of the pages and for all of them, to show it does not
grow with the page count.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import pdfplumber
from pdfminer.high_level import extract_pages

from archid.exports import SPECS
from archid.exports.layout import ParseStats
from archid.exports.parse import parse_export
from archid.exports.pdftext import open_pdf
from archid.exports.table import open_table
from archid.records import ExportType
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.layouts import ExportView, build_grid
from archid.sim.pdfwriter import write_grid_pdf


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(work: Callable[[], int]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (this process and its children), and what ``work`` counted."""
    cpu, children, wall = time.process_time(), children_cpu(), time.perf_counter()
    count = work()
    wall = time.perf_counter() - wall
    return wall, time.process_time() - cpu + children_cpu() - children, count


def pdfminer_pages(path: Path, pages: int) -> int:
    return sum(1 for _ in islice(extract_pages(path, maxpages=pages), pages))


def plumber_pages(path: Path, pages: int) -> int:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages[:pages]:
            page.extract_words()
            page.flush_cache()
    return pages


def archid_pages(path: Path) -> int:
    with open_pdf(path) as pdf:
        return sum(1 for _ in pdf.pages())


def archid_rows(path: Path) -> int:
    with open_table(path) as table:
        return sum(1 for _ in table.rows())


def archid_records(export_type: ExportType, path: Path, workers: int) -> int:
    stats = ParseStats()
    return sum(1 for _ in parse_export(SPECS[export_type], path, stats=stats, workers=workers))


def write(path: Path, export_type: ExportType, dataset: Dataset) -> int:
    with path.open("wb") as out:
        grid = build_grid(export_type, dataset.records(export_type), ExportView())
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
n = sum(1 for _ in parse_export(SPECS[ExportType.PRICES], Path(sys.argv[1])))
print(n, before, peak())
"""


def peak_memory(path: Path) -> tuple[int, float, float]:
    """Records, and peak RSS in MB after imports and after parsing ``path``, in a fresh process."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    ).stdout.split()
    return int(out[0]), int(out[1]) / 1024, int(out[2]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--sample", type=int, default=300, help="baseline pages on big files")
    parser.add_argument("--skip-plumber", action="store_true")
    parser.add_argument(
        "--types", default="orders,customers,prices", help="comma-separated export types"
    )
    args = parser.parse_args()
    wanted = [ExportType(name) for name in args.types.split(",")]

    dataset = Dataset.generate(1, args.scale)
    small = Dataset.generate(1, args.scale / 10)
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for export_type in wanted:
            path = Path(tmp) / f"{export_type}.pdf"
            files[export_type] = (path, write(path, export_type, dataset))
        tenth = Path(tmp) / "prices-tenth.pdf"
        tenth_pages = write(tenth, ExportType.PRICES, small)

        print(f"{'file':<10} {'reader':<26} {'pages':>7} {'wall s':>8} {'cpu s':>7} "
              f"{'pages/s':>8} {'vs pdfminer':>12} {'vs plumber':>11}")  # fmt: skip
        for export_type, (path, pages) in files.items():
            sample = pages if export_type is not ExportType.PRICES else min(args.sample, pages)
            note = "" if sample == pages else f" (sample of {sample}, scaled)"
            scale = pages / sample
            miner = timed(lambda: pdfminer_pages(path, sample))  # noqa: B023
            miner_s = miner[0] * scale
            print(f"{export_type:<10} {'pdfminer extract_pages':<26} {pages:>7,} {miner_s:>8.2f} "
                  f"{miner[1] * scale:>7.2f} {pages / miner_s:>8,.0f}{note}")  # fmt: skip
            plumber_s = None
            if not args.skip_plumber:
                plumber = timed(lambda: plumber_pages(path, sample))  # noqa: B023
                plumber_s = plumber[0] * scale
                print(f"{'':<10} {'pdfplumber extract_words':<26} {pages:>7,} {plumber_s:>8.2f} "
                      f"{plumber[1] * scale:>7.2f} {pages / plumber_s:>8,.0f}{note}")  # fmt: skip
            readers: list[tuple[str, Callable[[], int]]] = [
                ("archid pages", lambda: archid_pages(path)),  # noqa: B023
                ("archid rows", lambda: archid_rows(path)),  # noqa: B023
            ]
            if export_type in SPECS:
                readers.append(("archid records", lambda: archid_records(export_type, path, 1)))  # noqa: B023
                readers.append(("archid records, 2 workers",
                                lambda: archid_records(export_type, path, 2)))  # noqa: B023  # fmt: skip
            for name, work in readers:
                wall, cpu, count = timed(work)
                versus = f"{miner_s / wall:>11.1f}×"
                plumb = f"{plumber_s / wall:>10.1f}×" if plumber_s else ""
                print(f"{'':<10} {name:<26} {pages:>7,} {wall:>8.2f} {cpu:>7.2f} "
                      f"{pages / wall:>8,.0f} {versus} {plumb}   ({count:,} items)")  # fmt: skip

        if ExportType.PRICES in files:
            print("\npeak memory of a fresh process parsing the prices export (VmHWM):")
            for path, pages in ((tenth, tenth_pages), files[ExportType.PRICES]):
                records, before, after = peak_memory(path)
                print(f"  {pages:>7,} pages, {records:>6,} records: {after:6.1f} MB "
                      f"(after imports: {before:.1f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
