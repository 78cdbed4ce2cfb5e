-- The ERP interface schema, SQLite edition. Money columns are INTEGER in units of
-- 1/10,000 (exact; SQLite's NUMERIC would be a float). Dates are TEXT YYYY-MM-DD in the
-- ERP company's time zone; timestamps are TEXT 2006-01-02T15:04:05.000000Z (UTC).

CREATE TABLE warehouses (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

-- Which warehouses serve a ship-to region, tried in priority order.
CREATE TABLE region_warehouses (
    region    TEXT NOT NULL,
    warehouse TEXT NOT NULL REFERENCES warehouses (code),
    priority  INTEGER NOT NULL,
    PRIMARY KEY (region, warehouse)
);

CREATE TABLE items (
    id             INTEGER PRIMARY KEY,
    sku            TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    unit           TEXT NOT NULL,
    min_qty        INTEGER NOT NULL DEFAULT 1 CHECK (min_qty >= 1),
    order_multiple INTEGER NOT NULL DEFAULT 1 CHECK (order_multiple >= 1)
);

CREATE TABLE list_prices (
    item_id  INTEGER NOT NULL REFERENCES items (id),
    currency TEXT NOT NULL,
    price    INTEGER NOT NULL CHECK (price >= 0),
    PRIMARY KEY (item_id, currency)
);

-- Available to promise is on_hand - reserved.
CREATE TABLE stock (
    item_id           INTEGER NOT NULL REFERENCES items (id),
    warehouse         TEXT NOT NULL REFERENCES warehouses (code),
    on_hand           INTEGER NOT NULL,
    reserved          INTEGER NOT NULL DEFAULT 0,
    next_receipt_date TEXT,
    next_receipt_qty  INTEGER,
    PRIMARY KEY (item_id, warehouse),
    CHECK (on_hand >= 0 AND reserved >= 0)
);

CREATE TABLE customer_groups (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    currency        TEXT NOT NULL,
    customer_group  TEXT REFERENCES customer_groups (code),
    credit_limit    INTEGER NOT NULL,
    exposure        INTEGER NOT NULL DEFAULT 0,
    credit_hold     INTEGER NOT NULL DEFAULT 0,
    terms           TEXT NOT NULL,
    default_ship_to TEXT
);

CREATE TABLE ship_tos (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    region     TEXT NOT NULL,
    name       TEXT NOT NULL
);
CREATE INDEX ship_tos_account ON ship_tos (account_id);

CREATE TABLE price_lists (
    id             TEXT PRIMARY KEY,
    customer_group TEXT NOT NULL REFERENCES customer_groups (code),
    currency       TEXT NOT NULL,
    valid_from     TEXT,
    valid_to       TEXT
);

CREATE TABLE price_list_entries (
    price_list_id TEXT NOT NULL REFERENCES price_lists (id),
    item_id       INTEGER NOT NULL REFERENCES items (id),
    min_qty       INTEGER NOT NULL,
    price         INTEGER NOT NULL CHECK (price >= 0),
    PRIMARY KEY (price_list_id, item_id, min_qty)
);
CREATE INDEX price_list_entries_item ON price_list_entries (item_id);

CREATE TABLE agreements (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    currency   TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to   TEXT NOT NULL
);
CREATE INDEX agreements_account ON agreements (account_id);

CREATE TABLE agreement_lines (
    agreement_id TEXT NOT NULL REFERENCES agreements (id),
    item_id      INTEGER NOT NULL REFERENCES items (id),
    min_qty      INTEGER NOT NULL,
    price        INTEGER NOT NULL CHECK (price >= 0),
    PRIMARY KEY (agreement_id, item_id, min_qty)
);
CREATE INDEX agreement_lines_item ON agreement_lines (item_id);

-- external_ref is derived from the storefront, account and Idempotency-Key; its unique
-- index is what makes a retried order land once, across any number of bridges. The
-- header is inserted before the account is read, so account_id has no foreign key: the
-- order transaction refuses an unknown account itself.
CREATE TABLE orders (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    order_number            TEXT UNIQUE,
    account_id              TEXT NOT NULL,
    external_ref            TEXT NOT NULL UNIQUE,
    request_hash            TEXT NOT NULL,
    status                  TEXT NOT NULL,
    currency                TEXT NOT NULL,
    total                   INTEGER NOT NULL DEFAULT 0,
    po_number               TEXT,
    ship_to                 TEXT,
    requested_delivery_date TEXT,
    created_at              TEXT NOT NULL
);
CREATE INDEX orders_account_created ON orders (account_id, created_at DESC, id DESC);

CREATE TABLE order_lines (
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    line_no    INTEGER NOT NULL,
    item_id    INTEGER NOT NULL REFERENCES items (id),
    sku        TEXT NOT NULL,
    qty        INTEGER NOT NULL CHECK (qty > 0),
    unit_price INTEGER NOT NULL,
    line_total INTEGER NOT NULL,
    warehouse  TEXT NOT NULL REFERENCES warehouses (code),
    PRIMARY KEY (order_id, line_no)
);

-- Bridge-owned: storefronts, the accounts each may act for, and API keys (SHA-256 only).
CREATE TABLE storefronts (
    name TEXT PRIMARY KEY
);

CREATE TABLE storefront_accounts (
    storefront TEXT NOT NULL REFERENCES storefronts (name),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (storefront, account_id)
);

CREATE TABLE api_keys (
    key_hash   TEXT PRIMARY KEY,
    storefront TEXT REFERENCES storefronts (name),
    admin      INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    CHECK ((admin = 1) = (storefront IS NULL))
);
