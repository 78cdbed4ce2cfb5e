-- Mappings between what storefronts say and what the ERP books, edited by ERP admins
-- through the bridge's admin API. storefront '*' is a SKU mapping shared by every
-- storefront (Oracle stores '' as NULL, which a primary key refuses). No foreign keys
-- to items or accounts: an ERP admin may expose those as views; the bridge checks
-- references when it writes a mapping. Statements end with a line holding a slash.

CREATE TABLE sku_mappings (
    storefront VARCHAR2(64) NOT NULL,
    sku        VARCHAR2(64) NOT NULL,
    erp_sku    VARCHAR2(64) NOT NULL,
    unit       VARCHAR2(32) NOT NULL,
    factor     NUMBER(10) NOT NULL CHECK (factor >= 1),
    updated_at TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    PRIMARY KEY (storefront, sku)
)
/
CREATE INDEX sku_mappings_erp_sku ON sku_mappings (erp_sku)
/

CREATE TABLE customer_mappings (
    storefront VARCHAR2(64) NOT NULL,
    customer   VARCHAR2(64) NOT NULL,
    account_id VARCHAR2(64) NOT NULL,
    updated_at TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    PRIMARY KEY (storefront, customer)
)
/
CREATE INDEX customer_mappings_account ON customer_mappings (account_id)
/

CREATE TABLE regions (
    region     VARCHAR2(64) PRIMARY KEY,
    updated_at TIMESTAMP(6) WITH TIME ZONE NOT NULL
)
/
INSERT INTO regions (region, updated_at) SELECT DISTINCT region, SYSTIMESTAMP FROM region_warehouses
/

CREATE TABLE mapping_audit (
    id           NUMBER(19) GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at   TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    actor        VARCHAR2(128) NOT NULL,
    source       VARCHAR2(16) NOT NULL,
    kind         VARCHAR2(16) NOT NULL,
    storefront   VARCHAR2(64) NOT NULL,
    mapping_key  VARCHAR2(64) NOT NULL,
    before_value VARCHAR2(4000),
    after_value  VARCHAR2(4000)
)
/
CREATE INDEX mapping_audit_kind ON mapping_audit (kind, id)
/

ALTER TABLE order_lines ADD (ordered_sku VARCHAR2(64), factor NUMBER(10) DEFAULT 1 NOT NULL)
/

-- Statement triggers: a bridge reloads the whole kind, so one row per statement is enough.
CREATE TRIGGER sku_mappings_changed AFTER INSERT OR UPDATE OR DELETE ON sku_mappings
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('mappings', 'skus');
END;
/
CREATE TRIGGER customer_mappings_changed AFTER INSERT OR UPDATE OR DELETE ON customer_mappings
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('mappings', 'customers');
END;
/
CREATE TRIGGER regions_changed AFTER INSERT OR UPDATE OR DELETE ON regions
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('mappings', 'regions');
END;
/
