"""``archid parse``: records on stdout, a summary with ``--stats``, sysexits codes.

Run as a real process (``python -m archid parse …``).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from archid.records import Ddt, ExportType, data_fields
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.layouts import FULL_VIEW, build_grid, truth_json
from archid.sim.pdfwriter import write_grid_pdf
from tests.conftest import ROOT, SIM_SCALE, SIM_SEED
from tests.exports import samples
from tests.spec_layouts import EPOCH_HEADERS


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def archid_parse(*args: str) -> Result:
    """``archid parse ARGS`` as a real process."""
    done = subprocess.run(
        [sys.executable, "-m", "archid", "parse", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset.generate(SIM_SEED, SIM_SCALE)


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Path:
    folder = tmp_path_factory.mktemp("exports")
    for t in (ExportType.ORDERS, ExportType.DDT):
        with (folder / f"{t.value}.pdf").open("wb") as out:
            write_grid_pdf(out, build_grid(t, dataset.records(t), FULL_VIEW), load_font(None))
    return folder


def test_jsonl_is_the_truth(export_dir: Path, dataset: Dataset) -> None:
    result = archid_parse("orders", str(export_dir / "orders.pdf"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [json.loads(line) for line in lines] == truth_json(dataset, ExportType.ORDERS)


def test_csv_has_a_header_row_and_every_record(export_dir: Path, dataset: Dataset) -> None:
    result = archid_parse("ddt", str(export_dir / "ddt.pdf"), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    truth = truth_json(dataset, ExportType.DDT)
    assert len(rows) == len(truth)
    assert list(rows[0]) == [f.name for f in data_fields(Ddt)] == list(truth[0])
    for row, want in zip(rows, truth, strict=True):
        assert row["ddt_number"] == want["ddt_number"]
        assert row["tracking_url"] == (want["tracking_url"] or "")
        assert row["quantity"] == ("" if want["quantity"] is None else str(want["quantity"]))


def test_stats_summary_on_stderr(export_dir: Path, dataset: Dataset) -> None:
    result = archid_parse("orders", str(export_dir / "orders.pdf"), "--stats")
    assert result.returncode == 0, result.stderr
    records = len(truth_json(dataset, ExportType.ORDERS))
    assert len(result.stdout.splitlines()) == records
    fields = dict(
        line.split(": ", 1) for line in result.stderr.splitlines() if not line.startswith(" ")
    )
    assert fields["records"] == fields["rows"] == str(records)
    assert fields["cycle"].startswith("7 pages")
    assert fields["dropped"] == "0 (none)"
    assert fields["bad cells"] == "0" and fields["warnings"] == "0"
    assert float(fields["seconds"]) >= 0
    for key in ("pages", "summary"):
        assert key in fields


def test_stats_show_warnings_and_bad_cells(tmp_path: Path) -> None:
    path = tmp_path / "Ordini.pdf"
    pages = EPOCH_HEADERS["2026-01"]["orders"]
    path.write_bytes(
        samples.sample_pdf(
            "orders", pages, 8, override=lambda i: {"APPLICA SCONTO %:": "n/d"} if i == 5 else None
        )
    )
    result = archid_parse("orders", str(path), "--stats")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 8 and records[5]["discount_percent"] is None
    lines = result.stderr.splitlines()
    assert "warnings: 2" in lines and "bad cells: 1" in lines
    assert any("'E-MAIL' is not in this export" in line for line in lines)
    assert any("column 'APPLICA SCONTO %:'" in line and "1 of 8 cells" in line for line in lines)
    assert (
        "  page 6, row 6, column 'APPLICA SCONTO %:' (discount_percent): 'n/d': "
        "not an Italian number: 'n/d'"
    ) in lines


def test_missing_file_exits_66(tmp_path: Path) -> None:
    result = archid_parse("orders", str(tmp_path / "nope.pdf"))
    assert result.returncode == 66
    assert result.stdout == ""
    assert result.stderr.startswith("archid parse: FileNotFoundError: ")
    assert "nope.pdf" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_directory_exits_66(tmp_path: Path) -> None:
    result = archid_parse("orders", str(tmp_path))
    assert result.returncode == 66
    assert result.stderr.startswith("archid parse: IsADirectoryError: ")


def test_not_a_pdf_exits_65(tmp_path: Path) -> None:
    page = tmp_path / "Ordini.pdf"
    page.write_text("<html><body>Sessione scaduta</body></html>")
    result = archid_parse("orders", str(page))
    assert result.returncode == 65
    assert result.stderr.startswith("archid parse: NotAPdf: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_wrong_type_exits_65(export_dir: Path) -> None:
    result = archid_parse("customers", str(export_dir / "orders.pdf"))
    assert result.returncode == 65
    error_class = result.stderr.split(": ")[1]
    assert error_class in {"WrongExportType", "MissingHeader", "UnknownHeader", "LayoutChanged"}


def test_unknown_type_exits_64(export_dir: Path) -> None:
    result = archid_parse("clients", str(export_dir / "orders.pdf"))
    assert result.returncode == 64
    assert "unknown export type 'clients'" in result.stderr


def test_bad_workers_exits_64(export_dir: Path) -> None:
    result = archid_parse("orders", str(export_dir / "orders.pdf"), "--workers", "0")
    assert result.returncode == 64
    assert "--workers" in result.stderr
