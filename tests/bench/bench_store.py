"""How fast the store applies a large export, next to a plain insert.

Run: ``.venv/bin/python -m tests.bench.bench_store [--rows 100000] [--type products]``

Builds *rows* distinct records of one type by tiling the simulator's
(unique keys), then measures, in the same run on the same disk, each in a
fresh database file with the store's settings (WAL, ``synchronous=FULL``):

* baseline: the records converted to rows and inserted with one plain
  ``executemany`` into an empty table with the same columns and key;
* first load: :func:`archid.store.apply_sync` into an empty table (hashes,
  bookkeeping, one change-feed entry per row, the run's row);
* resync, nothing changed: the same records again, in the same process
  (warm) and after reopening the database (cold: no in-process memory);
* resync, 1 % changed: a price or description changed on every 100th row.

Each figure is the best of ``--repeat`` tries; the machines are shared, so
read the ratios.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import apsw

from archid.records import ExportType, Record, data_fields
from archid.sim.dataset import Dataset
from archid.store import TABLES, RunResult, apply_sync, open_database
from archid.store.schema import quote

#: Fields no edit of changed() touches: every type's key fields and the internal ID.
_KEY_PARTS = frozenset({"id"}).union(*(spec.key_fields for spec in TABLES.values()))


def _replace(record: Record, **changes: Any) -> Record:
    changed: Record = dataclasses.replace(record, **changes)
    return changed


def tiled(export_type: ExportType, rows: int) -> list[Record]:
    """*rows* records of *export_type*, the simulator's repeated under new keys."""
    base = Dataset.generate(1, 1.0).records(export_type)
    key_fields = TABLES[export_type].key_fields
    out: list[Record] = []
    copy = 0
    while len(out) < rows:
        for record in base:
            # A new key: every text field the key is made of gets a suffix.
            fields = {
                name: f"{getattr(record, name)}~{copy}"
                for name in key_fields
                if copy and isinstance(getattr(record, name), str)
            }
            out.append(_replace(record, **fields))
            if len(out) == rows:
                break
        copy += 1
    return out


def changed(records: list[Record], every: int) -> list[Record]:
    """A copy of *records* with one field changed on every *every*-th one."""
    out = list(records)
    for index in range(0, len(out), every):
        record = out[index]
        names = {f.name for f in dataclasses.fields(record)}
        for name in ("purchase_price", "unit_price", "total_amount", "sales_this_year"):
            value = getattr(record, name, None) if name in names else None
            if isinstance(value, Decimal):
                out[index] = _replace(record, **{name: value + Decimal("0.01")})
                break
        else:
            # no amount: change the first text field that is not part of the key
            name = next(
                f.name
                for f in data_fields(type(record))
                if f.name not in _KEY_PARTS and isinstance(getattr(record, f.name), str)
            )
            out[index] = _replace(record, **{name: f"{getattr(record, name)} *"})
    return out


def baseline(path: Path, export_type: ExportType, records: list[Record]) -> float:
    spec = TABLES[export_type]
    connection = apsw.Connection(str(path))
    connection.execute("PRAGMA journal_mode = WAL").fetchall()
    connection.execute("PRAGMA synchronous = FULL")
    columns = ", ".join(
        [f"{quote(spec.key_name)} TEXT PRIMARY KEY NOT NULL"] + [c.ddl() for c in spec.columns]
    )
    connection.execute(f"CREATE TABLE plain ({columns}) STRICT")
    names = ", ".join(quote(name) for name in (spec.key_name, *spec.field_names))
    marks = ", ".join("?" * (len(spec.columns) + 1))
    to_row, key_of = spec.to_row, spec.key_of
    start = time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany(
        f"INSERT INTO plain ({names}) VALUES ({marks})",
        [(key_of(r), *to_row(r)) for r in records],
    )
    connection.execute("COMMIT")
    seconds = time.perf_counter() - start
    connection.close()
    return seconds


def timed(action: Callable[[], RunResult]) -> tuple[float, RunResult]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--type", default="products", choices=[t.value for t in ExportType])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    export_type = ExportType(args.type)
    records = tiled(export_type, args.rows)
    # A resync reads a new export: equal records, but new objects.
    again = tiled(export_type, args.rows)
    one_percent = changed(tiled(export_type, args.rows), 100)
    best: dict[str, float] = {}

    def note(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, seconds), seconds)

    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(args.repeat):
            note(
                "baseline", baseline(Path(folder) / f"plain{attempt}.sqlite3", export_type, records)
            )
            path = Path(folder) / f"archid{attempt}.sqlite3"
            db = open_database(path)
            seconds, result = timed(partial(apply_sync, db, export_type, records))
            assert result.counts.inserted == len(records), result
            note("first load", seconds)
            seconds, result = timed(partial(apply_sync, db, export_type, again))
            assert result.counts.unchanged == len(records), result
            note("resync unchanged (warm)", seconds)
            db.close()
            db = open_database(path)
            seconds, result = timed(partial(apply_sync, db, export_type, again))
            assert result.counts.unchanged == len(records), result
            note("resync unchanged (cold)", seconds)
            seconds, result = timed(partial(apply_sync, db, export_type, one_percent))
            assert result.counts.updated == len(range(0, len(records), 100)), result
            note("resync 1 % changed (warm)", seconds)
            db.close()
            db = open_database(path)
            seconds, result = timed(partial(apply_sync, db, export_type, records))
            assert result.counts.updated == len(range(0, len(records), 100)), result
            note("resync 1 % changed (cold)", seconds)
            db.close()

    first = best["first load"]
    print(f"{args.rows:,} {export_type} records, best of {args.repeat}")
    print(f"{'step':<28} {'seconds':>8}  ratio")
    print(f"{'baseline executemany':<28} {best['baseline']:>8.3f}")
    print(f"{'first load':<28} {first:>8.3f}  {first / best['baseline']:.2f}x baseline")
    for name, seconds in best.items():
        if name.startswith("resync"):
            print(f"{name:<28} {seconds:>8.3f}  {first / seconds:.2f}x faster than first load")


if __name__ == "__main__":
    main()
