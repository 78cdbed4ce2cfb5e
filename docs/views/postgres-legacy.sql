-- Stands in for a real ERP's own tables, with its own names and types, in the schema
-- where `b2bridge erp migrate` created the interface tables. It copies their demo data,
-- so that the views in postgres-views.sql answer what the tables answered.
CREATE TABLE erp_article (
    art_no        BIGINT PRIMARY KEY,
    art_code      VARCHAR(40) NOT NULL UNIQUE,
    description   VARCHAR(200) NOT NULL,
    uom           VARCHAR(10) NOT NULL,
    min_order_qty INTEGER NOT NULL,
    pack_qty      INTEGER NOT NULL
);
INSERT INTO erp_article SELECT id, sku, name, unit, min_qty, order_multiple FROM items;

CREATE TABLE erp_stock_balance (
    art_no            BIGINT NOT NULL REFERENCES erp_article (art_no),
    store_code        VARCHAR(20) NOT NULL,
    qty_on_hand       INTEGER NOT NULL,
    qty_allocated     INTEGER NOT NULL,
    next_delivery     DATE,
    next_delivery_qty INTEGER,
    PRIMARY KEY (art_no, store_code)
);
INSERT INTO erp_stock_balance SELECT item_id, warehouse, on_hand, reserved, next_receipt_date, next_receipt_qty FROM stock;

CREATE TABLE erp_customer (
    cust_no      VARCHAR(20) PRIMARY KEY,
    cust_name    VARCHAR(200) NOT NULL,
    cur          CHAR(3) NOT NULL,
    price_group  VARCHAR(20),
    credit_line  NUMERIC(15, 2) NOT NULL,
    open_items   NUMERIC(15, 2) NOT NULL,
    blocked      CHAR(1) NOT NULL CHECK (blocked IN ('Y', 'N')),
    pay_terms    VARCHAR(10) NOT NULL,
    main_address VARCHAR(20)
);
INSERT INTO erp_customer
SELECT id, name, currency, customer_group, credit_limit, exposure, CASE credit_hold WHEN 1 THEN 'Y' ELSE 'N' END,
       terms, default_ship_to
  FROM accounts;
