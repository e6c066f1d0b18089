"""Subprocess of the crash test: apply state B of the synthetic prices.

``python -m tests.store.crash_writer DB N`` prints ``ready`` just before
the apply starts and ``done`` after it committed.
"""

from __future__ import annotations

import sys

from archid.records import ExportType
from archid.store import apply_sync, open_database
from tests.store.synthetic import fixed_clock, prices


def main() -> None:
    path, n = sys.argv[1], int(sys.argv[2])
    records = prices(n, 1)
    db = open_database(path, clock=fixed_clock)
    print("ready", flush=True)
    apply_sync(db, ExportType.PRICES, records)
    print("done", flush=True)
    db.close()


if __name__ == "__main__":
    main()
