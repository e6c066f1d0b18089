"""The DDL every released migration ran, frozen.

A migration must do the same thing forever, whatever the record classes
become, so it never builds its tables from :data:`archid.store.schema.TABLES`
(which follows the code of the day): it runs the statements written here
for it. Never edit a released entry; a schema change adds a migration and,
here, the DDL it runs. :func:`archid.store.migrations.check_schema` and the
store's tests compare the result with what the code of the day expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: Bookkeeping columns of every record table, the same from version 1 on.
_BOOKKEEPING: Final = (
    '"content_hash" BLOB NOT NULL',
    '"first_seen" TEXT NOT NULL',
    '"last_changed" TEXT NOT NULL',
    '"deleted_at" TEXT',
    '"pending_blank" TEXT',
    '"missing_count" INTEGER NOT NULL DEFAULT 0',
    '"missing_since_run" INTEGER REFERENCES sync_runs (id)',
)

_ATTENTION: Final = "deleted_at IS NOT NULL OR pending_blank IS NOT NULL OR missing_count > 0"


def _quoted(definition: str) -> str:
    name, rest = definition.split(" ", 1)
    return f'"{name}" {rest}'


def record_tables(columns: Mapping[str, str], *, key: str, key_is_column: bool) -> tuple[str, ...]:
    """The statements creating record tables, their index and ``_seen`` tables.

    *columns* maps a table to its record columns (``name TYPE``, comma
    separated). *key* names the primary key column; *key_is_column* says
    whether it is the first of *columns* (version 1) or a column of its own
    in front of them (version 3).
    """
    out: list[str] = []
    for table, text in columns.items():
        definitions = [_quoted(part.strip()) for part in text.split(",")]
        if key_is_column:
            first = definitions[0].removesuffix(" NOT NULL")
            definitions[0] = first + " PRIMARY KEY NOT NULL"
        else:
            definitions.insert(0, f'"{key}" TEXT PRIMARY KEY NOT NULL')
        body = ",\n    ".join([*definitions, *_BOOKKEEPING])
        out += [
            f'CREATE TABLE "{table}" (\n    {body}\n) STRICT',
            f'CREATE INDEX "{table}_attention" ON "{table}" ("{key}") WHERE {_ATTENTION}',
            f'CREATE TABLE "{table}_seen" (\n'
            f'    "{key}" TEXT PRIMARY KEY NOT NULL,\n'
            "    last_seen TEXT NOT NULL\n"
            ") STRICT, WITHOUT ROWID",
        ]
    return tuple(out)


V1_SYNC_RUNS: Final = """CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('full', 'recent')),
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'session')),
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'rejected', 'failed')),
    parsed INTEGER NOT NULL DEFAULT 0,
    inserted INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    restored INTEGER NOT NULL DEFAULT 0,
    dropped INTEGER NOT NULL DEFAULT 0,
    missing INTEGER NOT NULL DEFAULT 0,
    blanks_held INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER,
    pages INTEGER,
    stage_seconds TEXT NOT NULL DEFAULT '{}',
    error_stage TEXT,
    error_class TEXT,
    error_message TEXT,
    first_seq INTEGER,
    last_seq INTEGER
) STRICT"""

V1_RUNS_INDEX: Final = "CREATE INDEX sync_runs_type ON sync_runs (type, id)"

V1_CHANGES: Final = """CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    key TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'restore')),
    run_id INTEGER NOT NULL REFERENCES sync_runs (id),
    fields TEXT
) STRICT"""

#: Version 1's record columns: the records as archid first knew them, each
#: table keyed by its first column, ``id``.
V1_COLUMNS: Final[Mapping[str, str]] = {
    "customers": (
        "id TEXT NOT NULL, profile TEXT, name TEXT, vat_number TEXT, pec TEXT, sdi TEXT,"
        " fiscal_code TEXT, delivery_terms TEXT, street TEXT, postal_code TEXT, city TEXT,"
        " phone TEXT, mobile TEXT, url TEXT, attention_to TEXT, last_order_date TEXT,"
        " order_count INTEGER, sales_amount TEXT, previous_order_count INTEGER,"
        " previous_sales TEXT, previous_order_count_2 INTEGER, previous_sales_2 TEXT,"
        " description TEXT, type TEXT, external_account TEXT, our_account TEXT"
    ),
    "products": (
        "id TEXT NOT NULL, name TEXT, description TEXT, group TEXT, package_content TEXT,"
        " search_name TEXT, price_unit TEXT, product_group_id TEXT, group_description TEXT,"
        " min_qty TEXT, multiple_qty TEXT, max_qty TEXT, figure TEXT, data_area_id TEXT,"
        " record_id TEXT, modified_at TEXT, stopped INTEGER, block_id TEXT, pack TEXT,"
        " shank TEXT, size TEXT, config_id TEXT, created_by TEXT, created_on TEXT,"
        " default_qty TEXT, display_number TEXT, total_absolute_discount INTEGER,"
        " line_discount INTEGER, modified_by TEXT, orderable INTEGER, purchase_price TEXT,"
        " standard_config_id TEXT, standard_qty TEXT, vat_item_id TEXT, unit_id TEXT"
    ),
    "prices": (
        "id TEXT NOT NULL, account_code TEXT, account TEXT, account_description TEXT,"
        " item_selection TEXT, item_description TEXT, from_date TEXT, to_date TEXT,"
        " qty_from TEXT, qty_to TEXT, price_unit TEXT, unit_price TEXT, currency TEXT,"
        " net_price_brasseler TEXT"
    ),
    "orders": (
        "id TEXT NOT NULL, sales_id TEXT, customer_profile TEXT, sales_name TEXT,"
        " delivery_name TEXT, delivery_address TEXT, created_at TEXT NOT NULL,"
        " delivery_date TEXT, description TEXT, customer_reference TEXT, sales_status TEXT,"
        " order_type TEXT, document_status TEXT, sales_origin TEXT, transfer_status TEXT,"
        " transfer_date TEXT, completed_date TEXT, quote INTEGER, apply_discount TEXT,"
        " gross_amount TEXT, total_amount TEXT, gift_order INTEGER, email TEXT"
    ),
    "ddt": (
        "id TEXT NOT NULL, ddt_number TEXT NOT NULL, delivery_date TEXT, sales_id TEXT NOT NULL,"
        " order_account TEXT, sales_name TEXT, delivery_name TEXT, delivery_address TEXT,"
        " quantity TEXT, customer_reference TEXT, description TEXT, tracking_carrier TEXT,"
        " tracking_number TEXT, tracking_url TEXT, delivery_terms TEXT, delivery_mode TEXT,"
        " attention_to TEXT, delivery_city TEXT"
    ),
    "invoices": (
        "id TEXT NOT NULL, invoice_date TEXT, account TEXT, billing_name TEXT, quantity TEXT,"
        " sales_balance TEXT, line_discount_sum TEXT, total_discount TEXT, tax_sum TEXT,"
        " invoice_amount TEXT, purchase_order TEXT, customer_reference TEXT, due_date TEXT,"
        " payment_term_id TEXT, days_past_due INTEGER, settled_amount TEXT,"
        " last_payment_id TEXT, last_settlement_date TEXT, closed INTEGER,"
        " remaining_amount TEXT, sales_id TEXT"
    ),
}

V1: Final = (
    V1_SYNC_RUNS,
    V1_RUNS_INDEX,
    V1_CHANGES,
    *record_tables(V1_COLUMNS, key="id", key_is_column=True),
)
"""Migration 1: ``sync_runs``, ``changes`` and the six record tables."""

V2: Final = (
    "CREATE TABLE daemon_last_runs (type TEXT PRIMARY KEY, at REAL NOT NULL)",
    "CREATE TABLE daemon_pauses (scope TEXT PRIMARY KEY)",
    """CREATE TABLE daemon_queue (
        type TEXT PRIMARY KEY,
        priority INTEGER NOT NULL,
        mode TEXT NOT NULL,
        trigger TEXT NOT NULL,
        seq INTEGER NOT NULL,
        running INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        priority INTEGER NOT NULL,
        mode TEXT NOT NULL,
        trigger TEXT NOT NULL,
        error TEXT NOT NULL,
        stage TEXT,
        message TEXT NOT NULL,
        attempts TEXT NOT NULL,
        at REAL NOT NULL
    )""",
)
"""Migration 2: the daemon's last runs, pauses, queue and dead letters."""

#: Version 3's record columns (spec v2): fields named after what the
#: columns hold; the stable key is a column of its own, ``key``.
V3_COLUMNS: Final[Mapping[str, str]] = {
    "customers": (
        "id TEXT NOT NULL, account TEXT, name TEXT, vat_number TEXT, pec TEXT, sdi TEXT,"
        " fiscal_code TEXT, delivery_mode TEXT, street TEXT, postal_code TEXT, city TEXT,"
        " phone TEXT, mobile TEXT, url TEXT, attention_to TEXT, last_order_date TEXT,"
        " order_count INTEGER, sales_this_year TEXT, order_count_last_year INTEGER,"
        " sales_last_year TEXT, order_count_year_before INTEGER, sales_year_before TEXT,"
        " description TEXT, type_code TEXT, external_account TEXT, our_account TEXT"
    ),
    "products": (
        "article TEXT NOT NULL, catalogue_number TEXT, description TEXT, group TEXT,"
        " pack_size TEXT, search_name TEXT, price_unit TEXT, product_group_id TEXT,"
        " group_description TEXT, min_qty TEXT, multiple_qty TEXT, max_qty TEXT, figure TEXT,"
        " data_area_id TEXT, id TEXT, modified_at TEXT, stopped INTEGER, block_id TEXT,"
        " pack TEXT, shank TEXT, size TEXT, config_id TEXT, created_by TEXT, created_at TEXT,"
        " default_qty TEXT, display_number TEXT, total_absolute_discount TEXT,"
        " line_discount TEXT, modified_by TEXT, orderable TEXT, purchase_price TEXT,"
        " standard_config_id TEXT, standard_qty TEXT, vat_item_id TEXT, unit_id TEXT"
    ),
    "prices": (
        "id TEXT, account_code TEXT, price_group TEXT, price_group_name TEXT,"
        " article TEXT NOT NULL, catalogue_number TEXT, valid_from TEXT, valid_to TEXT,"
        " qty_from TEXT, qty_to TEXT, price_unit TEXT, unit_price TEXT, currency TEXT,"
        " net_price INTEGER"
    ),
    "orders": (
        "id TEXT NOT NULL, order_number TEXT, account TEXT, account_name TEXT,"
        " delivery_name TEXT, delivery_address TEXT, created_at TEXT NOT NULL,"
        " delivery_date TEXT, purchase_order TEXT, customer_reference TEXT, sales_status TEXT,"
        " order_type TEXT, document_status TEXT, sales_origin TEXT, transfer_status TEXT,"
        " transfer_date TEXT, completed_date TEXT, quote INTEGER, discount_percent TEXT,"
        " gross_amount TEXT, total_amount TEXT, gift_order INTEGER, email TEXT"
    ),
    "ddt": (
        "id TEXT, ddt_number TEXT NOT NULL, delivery_date TEXT, order_number TEXT NOT NULL,"
        " order_account TEXT, account_name TEXT, delivery_name TEXT, delivery_address TEXT,"
        " quantity INTEGER, customer_reference TEXT, purchase_order TEXT,"
        " tracking_carrier TEXT, tracking_number TEXT, tracking_url TEXT, delivery_terms TEXT,"
        " delivery_mode TEXT, attention_to TEXT, delivery_email TEXT"
    ),
    "invoices": (
        "invoice_number TEXT NOT NULL, invoice_date TEXT, account TEXT, billing_name TEXT,"
        " quantity INTEGER, sales_balance TEXT, line_discount_sum TEXT, total_discount TEXT,"
        " tax_sum TEXT, invoice_amount TEXT, purchase_order TEXT, customer_reference TEXT,"
        " due_date TEXT, payment_terms TEXT, days_past_due INTEGER, settled_amount TEXT,"
        " last_payment_id TEXT, last_settlement_date TEXT, closed_on TEXT,"
        " remaining_amount TEXT, order_number TEXT"
    ),
}

V3_RECORD_TABLES: Final = record_tables(V3_COLUMNS, key="key", key_is_column=False)
"""Migration 3's new record tables (created after the version-1 ones are renamed)."""

V3_KEY_MAP: Final = """CREATE TABLE key_map (
    type TEXT NOT NULL,
    old_key TEXT NOT NULL,
    new_key TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (type, old_key)
) STRICT, WITHOUT ROWID"""

V3_ALTER: Final = (
    "ALTER TABLE sync_runs ADD COLUMN warnings TEXT",
    "ALTER TABLE changes ADD COLUMN old_key TEXT",
)
"""Migration 3's additions to ``sync_runs`` (the parse's warnings) and
``changes`` (the key a row had before a key change)."""

V4: Final = (
    """CREATE TABLE dead_letters_v4 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        priority INTEGER NOT NULL,
        mode TEXT NOT NULL,
        trigger TEXT NOT NULL,
        error TEXT NOT NULL,
        stage TEXT,
        message TEXT NOT NULL,
        attempts TEXT NOT NULL,
        at REAL NOT NULL
    )""",
    "INSERT INTO dead_letters_v4 SELECT * FROM dead_letters",
    "DROP TABLE dead_letters",
    "ALTER TABLE dead_letters_v4 RENAME TO dead_letters",
)
"""Migration 4: dead-letter ids are never handed out twice (``AUTOINCREMENT``),
so an admin's ``drop 3`` cannot reach a newer letter that took a retried
one's number."""

V5_SYNC_RUNS: Final = """CREATE TABLE sync_runs_v5 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('full', 'recent')),
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'session')),
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN (
        'ok', 'unchanged', 'rejected', 'failed', 'cancelled', 'preempted', 'interrupted'
    )),
    parsed INTEGER NOT NULL DEFAULT 0,
    inserted INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    restored INTEGER NOT NULL DEFAULT 0,
    dropped INTEGER NOT NULL DEFAULT 0,
    missing INTEGER NOT NULL DEFAULT 0,
    blanks_held INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER,
    pages INTEGER,
    stage_seconds TEXT NOT NULL DEFAULT '{}',
    error_stage TEXT,
    error_class TEXT,
    error_message TEXT,
    first_seq INTEGER,
    last_seq INTEGER,
    warnings TEXT,
    requested_by TEXT
) STRICT"""

#: Version 4's ``sync_runs`` columns, the ones migration 5 carries over.
_V4_RUN_COLUMNS: Final = (
    "id, type, mode, trigger, started_at, ended_at, {outcome}, parsed, inserted, updated,"
    " unchanged, deleted, restored, dropped, missing, blanks_held, bytes, pages,"
    " stage_seconds, error_stage, error_class, error_message, first_seq, last_seq, warnings"
)

V5_OUTCOME: Final = (
    "CASE WHEN outcome = 'failed' AND error_class = 'Cancelled' THEN 'cancelled'"
    " WHEN outcome = 'failed' AND error_class = 'Interrupted' THEN 'interrupted'"
    " ELSE outcome END"
)
"""Migration 5's outcome of a version-4 row: the attempts version 4 recorded
as ``failed`` with the error class ``Cancelled`` (an admin's cancel, a stop)
or ``Interrupted`` (archid died during it) take their own outcome; every
other row keeps its own (``SyncTimeout`` stays ``failed``, ``rejected``
stays ``rejected``). ``error_class`` is kept as it was."""

V5: Final = (
    V5_SYNC_RUNS,
    f"INSERT INTO sync_runs_v5 ({_V4_RUN_COLUMNS.format(outcome='outcome')})"
    f" SELECT {_V4_RUN_COLUMNS.format(outcome=V5_OUTCOME)} FROM sync_runs ORDER BY id",
    # The AUTOINCREMENT counter is the old table's, not the highest id copied:
    # the row the INSERT gave the new table goes, the old one takes its name
    # (and ALTER TABLE … RENAME below renames it back).
    "DELETE FROM sqlite_sequence WHERE name = 'sync_runs_v5'",
    "UPDATE sqlite_sequence SET name = 'sync_runs_v5' WHERE name = 'sync_runs'",
    "DROP TABLE sync_runs",
    "ALTER TABLE sync_runs_v5 RENAME TO sync_runs",
    V1_RUNS_INDEX,
    """CREATE TABLE list_marks (
    type TEXT PRIMARY KEY NOT NULL,
    newest_modified TEXT,
    row_count INTEGER,
    export_started_at TEXT NOT NULL,
    run_id INTEGER REFERENCES sync_runs (id)
) STRICT""",
)
"""Migration 5: ``sync_runs`` rebuilt (SQLite cannot alter a CHECK) with
the outcomes ``unchanged``, ``cancelled``, ``preempted`` and
``interrupted`` and the column ``requested_by``, keeping every row, its id
and the ``AUTOINCREMENT`` counter; ``list_marks``, what each list looked
like at the start of its last applied full export. Runs with foreign keys
off (``changes`` and the record tables point at ``sync_runs``): see
:class:`archid.store.migrations.Migration`."""
