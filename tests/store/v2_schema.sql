-- The schema of an archid database at user_version 2, as the code before
-- migration 3 wrote it (sqlite_schema of a new file; sqlite_sequence omitted).
CREATE TABLE sync_runs (
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
) STRICT;
CREATE INDEX sync_runs_type ON sync_runs (type, id);
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    key TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'restore')),
    run_id INTEGER NOT NULL REFERENCES sync_runs (id),
    fields TEXT
) STRICT;
CREATE TABLE "customers" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "profile" TEXT,
    "name" TEXT,
    "vat_number" TEXT,
    "pec" TEXT,
    "sdi" TEXT,
    "fiscal_code" TEXT,
    "delivery_terms" TEXT,
    "street" TEXT,
    "postal_code" TEXT,
    "city" TEXT,
    "phone" TEXT,
    "mobile" TEXT,
    "url" TEXT,
    "attention_to" TEXT,
    "last_order_date" TEXT,
    "order_count" INTEGER,
    "sales_amount" TEXT,
    "previous_order_count" INTEGER,
    "previous_sales" TEXT,
    "previous_order_count_2" INTEGER,
    "previous_sales_2" TEXT,
    "description" TEXT,
    "type" TEXT,
    "external_account" TEXT,
    "our_account" TEXT,
    "content_hash" BLOB NOT NULL,
    "first_seen" TEXT NOT NULL,
    "last_changed" TEXT NOT NULL,
    "deleted_at" TEXT,
    "pending_blank" TEXT,
    "missing_count" INTEGER NOT NULL DEFAULT 0,
    "missing_since_run" INTEGER REFERENCES sync_runs (id)
) STRICT;
CREATE INDEX "customers_attention" ON "customers" ("id") WHERE deleted_at IS NOT NULL OR pending_blank IS NOT NULL OR missing_count > 0;
CREATE TABLE "customers_seen" (
    "id" TEXT PRIMARY KEY NOT NULL,
    last_seen TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE "products" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "name" TEXT,
    "description" TEXT,
    "group" TEXT,
    "package_content" TEXT,
    "search_name" TEXT,
    "price_unit" TEXT,
    "product_group_id" TEXT,
    "group_description" TEXT,
    "min_qty" TEXT,
    "multiple_qty" TEXT,
    "max_qty" TEXT,
    "figure" TEXT,
    "data_area_id" TEXT,
    "record_id" TEXT,
    "modified_at" TEXT,
    "stopped" INTEGER,
    "block_id" TEXT,
    "pack" TEXT,
    "shank" TEXT,
    "size" TEXT,
    "config_id" TEXT,
    "created_by" TEXT,
    "created_on" TEXT,
    "default_qty" TEXT,
    "display_number" TEXT,
    "total_absolute_discount" INTEGER,
    "line_discount" INTEGER,
    "modified_by" TEXT,
    "orderable" INTEGER,
    "purchase_price" TEXT,
    "standard_config_id" TEXT,
    "standard_qty" TEXT,
    "vat_item_id" TEXT,
    "unit_id" TEXT,
    "content_hash" BLOB NOT NULL,
    "first_seen" TEXT NOT NULL,
    "last_changed" TEXT NOT NULL,
    "deleted_at" TEXT,
    "pending_blank" TEXT,
    "missing_count" INTEGER NOT NULL DEFAULT 0,
    "missing_since_run" INTEGER REFERENCES sync_runs (id)
) STRICT;
CREATE INDEX "products_attention" ON "products" ("id") WHERE deleted_at IS NOT NULL OR pending_blank IS NOT NULL OR missing_count > 0;
CREATE TABLE "products_seen" (
    "id" TEXT PRIMARY KEY NOT NULL,
    last_seen TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE "prices" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "account_code" TEXT,
    "account" TEXT,
    "account_description" TEXT,
    "item_selection" TEXT,
    "item_description" TEXT,
    "from_date" TEXT,
    "to_date" TEXT,
    "qty_from" TEXT,
    "qty_to" TEXT,
    "price_unit" TEXT,
    "unit_price" TEXT,
    "currency" TEXT,
    "net_price_brasseler" TEXT,
    "content_hash" BLOB NOT NULL,
    "first_seen" TEXT NOT NULL,
    "last_changed" TEXT NOT NULL,
    "deleted_at" TEXT,
    "pending_blank" TEXT,
    "missing_count" INTEGER NOT NULL DEFAULT 0,
    "missing_since_run" INTEGER REFERENCES sync_runs (id)
) STRICT;
CREATE INDEX "prices_attention" ON "prices" ("id") WHERE deleted_at IS NOT NULL OR pending_blank IS NOT NULL OR missing_count > 0;
CREATE TABLE "prices_seen" (
    "id" TEXT PRIMARY KEY NOT NULL,
    last_seen TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE "orders" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "sales_id" TEXT,
    "customer_profile" TEXT,
    "sales_name" TEXT,
    "delivery_name" TEXT,
    "delivery_address" TEXT,
    "created_at" TEXT NOT NULL,
    "delivery_date" TEXT,
    "description" TEXT,
    "customer_reference" TEXT,
    "sales_status" TEXT,
    "order_type" TEXT,
    "document_status" TEXT,
    "sales_origin" TEXT,
    "transfer_status" TEXT,
    "transfer_date" TEXT,
    "completed_date" TEXT,
    "quote" INTEGER,
    "apply_discount" TEXT,
    "gross_amount" TEXT,
    "total_amount" TEXT,
    "gift_order" INTEGER,
    "email" TEXT,
    "content_hash" BLOB NOT NULL,
    "first_seen" TEXT NOT NULL,
    "last_changed" TEXT NOT NULL,
    "deleted_at" TEXT,
    "pending_blank" TEXT,
    "missing_count" INTEGER NOT NULL DEFAULT 0,
    "missing_since_run" INTEGER REFERENCES sync_runs (id)
) STRICT;
CREATE INDEX "orders_attention" ON "orders" ("id") WHERE deleted_at IS NOT NULL OR pending_blank IS NOT NULL OR missing_count > 0;
CREATE TABLE "orders_seen" (
    "id" TEXT PRIMARY KEY NOT NULL,
    last_seen TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE "ddt" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "ddt_number" TEXT NOT NULL,
    "delivery_date" TEXT,
    "sales_id" TEXT NOT NULL,
    "order_account" TEXT,
    "sales_name" TEXT,
    "delivery_name" TEXT,
    "delivery_address" TEXT,
    "quantity" TEXT,
    "customer_reference" TEXT,
    "description" TEXT,
    "tracking_carrier" TEXT,
    "tracking_number" TEXT,
    "tracking_url" TEXT,
    "delivery_terms" TEXT,
    "delivery_mode" TEXT,
    "attention_to" TEXT,
    "delivery_city" TEXT,
    "content_hash" BLOB NOT NULL,
    "first_seen" TEXT NOT NULL,
    "last_changed" TEXT NOT NULL,
    "deleted_at" TEXT,
    "pending_blank" TEXT,
    "missing_count" INTEGER NOT NULL DEFAULT 0,
    "missing_since_run" INTEGER REFERENCES sync_runs (id)
) STRICT;
CREATE INDEX "ddt_attention" ON "ddt" ("id") WHERE deleted_at IS NOT NULL OR pending_blank IS NOT NULL OR missing_count > 0;
CREATE TABLE "ddt_seen" (
    "id" TEXT PRIMARY KEY NOT NULL,
    last_seen TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE "invoices" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "invoice_date" TEXT,
    "account" TEXT,
    "billing_name" TEXT,
    "quantity" TEXT,
    "sales_balance" TEXT,
    "line_discount_sum" TEXT,
    "total_discount" TEXT,
    "tax_sum" TEXT,
    "invoice_amount" TEXT,
    "purchase_order" TEXT,
    "customer_reference" TEXT,
    "due_date" TEXT,
    "payment_term_id" TEXT,
    "days_past_due" INTEGER,
    "settled_amount" TEXT,
    "last_payment_id" TEXT,
    "last_settlement_date" TEXT,
    "closed" INTEGER,
    "remaining_amount" TEXT,
    "sales_id" TEXT,
    "content_hash" BLOB NOT NULL,
    "first_seen" TEXT NOT NULL,
    "last_changed" TEXT NOT NULL,
    "deleted_at" TEXT,
    "pending_blank" TEXT,
    "missing_count" INTEGER NOT NULL DEFAULT 0,
    "missing_since_run" INTEGER REFERENCES sync_runs (id)
) STRICT;
CREATE INDEX "invoices_attention" ON "invoices" ("id") WHERE deleted_at IS NOT NULL OR pending_blank IS NOT NULL OR missing_count > 0;
CREATE TABLE "invoices_seen" (
    "id" TEXT PRIMARY KEY NOT NULL,
    last_seen TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE daemon_last_runs (type TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE daemon_pauses (scope TEXT PRIMARY KEY);
CREATE TABLE daemon_queue (
        type TEXT PRIMARY KEY,
        priority INTEGER NOT NULL,
        mode TEXT NOT NULL,
        trigger TEXT NOT NULL,
        seq INTEGER NOT NULL,
        running INTEGER NOT NULL DEFAULT 0
    );
CREATE TABLE dead_letters (
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
    );
PRAGMA user_version = 2;
