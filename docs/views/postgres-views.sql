-- Views mode on PostgreSQL: the bridge reads items, stock and accounts from views over the
-- ERP's own tables (here those of postgres-legacy.sql) instead of tables it owns. Run it
-- after `b2bridge erp migrate`, in the same schema, as a user that may create views and
-- triggers on the ERP's tables.
--
-- The views are simple enough (one table, columns renamed) for PostgreSQL to update them
-- in place, so order placement reserves stock on erp_stock_balance and books exposure on
-- erp_customer within its own transaction. A view that joins or computes a column the
-- order transaction writes must use an INSTEAD OF trigger or an ERP-side procedure.

-- The bridge-owned tables these views replace, with the foreign keys that point at them.
DROP TABLE stock CASCADE;
DROP TABLE items CASCADE;
DROP TABLE accounts CASCADE;

CREATE VIEW items AS
SELECT art_no AS id, art_code AS sku, description AS name, uom AS unit,
       min_order_qty AS min_qty, pack_qty AS order_multiple
  FROM erp_article;

CREATE VIEW stock AS
SELECT art_no AS item_id, store_code AS warehouse, qty_on_hand AS on_hand, qty_allocated AS reserved,
       next_delivery AS next_receipt_date, next_delivery_qty AS next_receipt_qty
  FROM erp_stock_balance;

-- credit_hold is computed, so read-only; exposure, the column orders write, is not.
CREATE VIEW accounts AS
SELECT cust_no AS id, cust_name AS name, cur AS currency, price_group AS customer_group,
       credit_line::NUMERIC(19, 4) AS credit_limit, open_items AS exposure,
       CASE blocked WHEN 'Y' THEN 1 ELSE 0 END AS credit_hold, pay_terms AS terms,
       main_address AS default_ship_to
  FROM erp_customer;

-- The change log is what keeps every bridge's cache in step with the ERP: the ERP's own
-- tables record their changes in it, keyed as the bridge knows them (SKU, account id).
CREATE FUNCTION erp_stock_balance_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_log (entity, key)
    SELECT 'stock', art_code FROM erp_article
     WHERE art_no IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.art_no END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.art_no END);
    RETURN NULL;
END $$;
CREATE TRIGGER erp_stock_balance_changed AFTER INSERT OR UPDATE OR DELETE ON erp_stock_balance
    FOR EACH ROW EXECUTE FUNCTION erp_stock_balance_changed();

CREATE FUNCTION erp_customer_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('account', NEW.cust_no);
    RETURN NULL;
END $$;
CREATE TRIGGER erp_customer_changed AFTER UPDATE ON erp_customer
    FOR EACH ROW EXECUTE FUNCTION erp_customer_changed();
