"""How fast the simulator generates each export at the real portal's volumes.

Run: ``.venv/bin/python -m tests.bench.bench_sim_exports [--scale 1] [--sample 40]``

For each type it prints the pages generated and the pages per second, next
to a baseline measured in the same run on the same file: pdfminer.six's
``extract_pages`` reading a sample of its pages (the slowest thing that will
ever consume these files). The ratio says how many pages the simulator
writes in the time pdfminer reads one, which is what keeps tests and demos
from waiting on the simulator.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from itertools import islice
from pathlib import Path

from pdfminer.high_level import extract_pages

from archid.records import ExportType
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.layouts import ExportView, build_grid
from archid.sim.pdfwriter import write_grid_pdf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--sample", type=int, default=40, help="pages pdfminer reads")
    args = parser.parse_args()

    started = time.perf_counter()
    dataset = Dataset.generate(1, args.scale)
    print(f"dataset at scale {args.scale:g}: {time.perf_counter() - started:.2f} s")
    font = load_font()
    print(
        f"{'type':<10} {'rows':>6} {'pages':>7} {'MB':>6} {'gen s':>7} {'pages/s':>8} "
        f"{'pdfminer pages/s':>17} {'ratio':>7}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for export_type in ExportType:
            path = Path(tmp) / f"{export_type}.pdf"
            records = dataset.records(export_type)
            started = time.perf_counter()
            with path.open("wb") as out:
                stats = write_grid_pdf(out, build_grid(export_type, records, ExportView()), font)
            generate = time.perf_counter() - started
            sample = min(args.sample, stats.pages)
            started = time.perf_counter()
            for _ in islice(extract_pages(path, maxpages=sample), sample):
                pass
            baseline = sample / (time.perf_counter() - started)
            rate = stats.pages / generate
            print(
                f"{export_type:<10} {len(records):>6,} {stats.pages:>7,} "
                f"{path.stat().st_size / 1e6:>6.1f} {generate:>7.2f} {rate:>8,.0f} "
                f"{baseline:>17,.0f} {rate / baseline:>6.0f}×"
            )


if __name__ == "__main__":
    main()
