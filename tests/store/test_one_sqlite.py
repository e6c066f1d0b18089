"""archid's process links one SQLite library: apsw's.

The standard library's ``sqlite3`` links another. Two SQLite libraries in
one process break each other's POSIX locks on the same file (closing a file
drops every lock the process holds on it), and the WAL index can then be
reset under apsw's map of it: the demo died of SIGBUS that way while it
read ``sync_runs`` through ``sqlite3`` beside the daemon. Readers in the
process use :func:`archid.store.database.open_reader`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import archid

PACKAGE = Path(archid.__file__).parent


def sqlite3_imports(source: str) -> list[int]:
    """Lines of ``source`` that import the standard library's ``sqlite3``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "sqlite3" or name.startswith("sqlite3.") for name in names):
            lines.append(node.lineno)
    return lines


def test_the_check_finds_an_import_of_sqlite3() -> None:
    assert sqlite3_imports("import os\nimport sqlite3\n") == [2]
    assert sqlite3_imports("from sqlite3 import connect\n") == [1]
    assert sqlite3_imports("import apsw\nx = 'import sqlite3'\n") == []


def test_no_module_of_archid_imports_the_standard_librarys_sqlite3() -> None:
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := sqlite3_imports(path.read_text()))
    }
    assert found == {}
