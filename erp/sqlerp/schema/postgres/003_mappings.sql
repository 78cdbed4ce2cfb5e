-- Mappings between what storefronts say and what the ERP books, edited by ERP admins
-- through the bridge's admin API. storefront '*' is a SKU mapping shared by every
-- storefront (Oracle stores '' as NULL, which a primary key refuses). No foreign keys
-- to items or accounts: an ERP admin may expose those as views; the bridge checks
-- references when it writes a mapping.

-- A storefront SKU is factor ERP units of the ERP item erp_sku, sold as unit.
CREATE TABLE sku_mappings (
    storefront TEXT NOT NULL,
    sku        TEXT NOT NULL,
    erp_sku    TEXT NOT NULL,
    unit       TEXT NOT NULL,
    factor     INTEGER NOT NULL CHECK (factor >= 1),
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (storefront, sku)
);
CREATE INDEX sku_mappings_erp_sku ON sku_mappings (erp_sku);

-- A storefront's own id for one of the ERP's customer accounts.
CREATE TABLE customer_mappings (
    storefront TEXT NOT NULL,
    customer   TEXT NOT NULL,
    account_id TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (storefront, customer)
);
CREATE INDEX customer_mappings_account ON customer_mappings (account_id);

-- A region as one editable row; its warehouses stay in region_warehouses.
CREATE TABLE regions (
    region     TEXT PRIMARY KEY,
    updated_at TIMESTAMPTZ NOT NULL
);
INSERT INTO regions (region, updated_at) SELECT DISTINCT region, date_trunc('milliseconds', now()) FROM region_warehouses;

-- Every change to a mapping: who, when, how, and the row before and after (JSON in
-- the admin API's field names; NULL where the row did not exist).
CREATE TABLE mapping_audit (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at   TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,
    source       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    storefront   TEXT NOT NULL,
    mapping_key  TEXT NOT NULL,
    before_value TEXT,
    after_value  TEXT
);
CREATE INDEX mapping_audit_kind ON mapping_audit (kind, id);

-- What the storefront ordered a line as, so the order answers in its units.
ALTER TABLE order_lines ADD COLUMN ordered_sku TEXT;
ALTER TABLE order_lines ADD COLUMN factor INTEGER NOT NULL DEFAULT 1;

-- entity 'mappings', key: the kind. A bridge reloads that kind's mappings, so one row
-- per statement is enough (an import of 100,000 rows logs a handful).
CREATE FUNCTION change_log_mappings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('mappings', TG_ARGV[0]);
    RETURN NULL;
END $$;
CREATE TRIGGER sku_mappings_changed AFTER INSERT OR UPDATE OR DELETE
    ON sku_mappings FOR EACH STATEMENT EXECUTE FUNCTION change_log_mappings('skus');
CREATE TRIGGER customer_mappings_changed AFTER INSERT OR UPDATE OR DELETE
    ON customer_mappings FOR EACH STATEMENT EXECUTE FUNCTION change_log_mappings('customers');
CREATE TRIGGER regions_changed AFTER INSERT OR UPDATE OR DELETE
    ON regions FOR EACH STATEMENT EXECUTE FUNCTION change_log_mappings('regions');
