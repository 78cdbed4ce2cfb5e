-- The change log: triggers record every change to stock, prices and credit, and each
-- bridge replica follows it by sequence number to invalidate its caches.
-- entity is 'stock' (key: SKU), 'item_prices' (key: SKU; list or group prices of the
-- item changed, for every account), 'account' (key: account id; credit, currency, group
-- or agreements changed) or 'all_prices' (the header of a price list changed).
-- Sequence values are taken at insert and commit out of order: followers re-read a
-- window behind their last sequence number. KEY is an Oracle keyword but not a reserved
-- word, in SQL and in PL/SQL, so the column needs no quotes.
--
-- The triggers are row triggers that insert what the PostgreSQL trigger functions
-- insert, for the same tables and events; :OLD and :NEW are the row before and after.
-- Each PL/SQL body keeps its semicolons; the line that holds only a slash ends it.

CREATE TABLE change_log (
    seq        NUMBER(19) GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity     VARCHAR2(32) NOT NULL,
    key        VARCHAR2(128) NOT NULL,
    changed_at TIMESTAMP(6) WITH TIME ZONE DEFAULT SYSTIMESTAMP NOT NULL
)
/

-- The stock or prices of an item: the item of the row, old and new.
CREATE TRIGGER stock_changed
    AFTER INSERT OR DELETE OR UPDATE OF on_hand, reserved, next_receipt_date, next_receipt_qty
    ON stock FOR EACH ROW
BEGIN
    IF NOT INSERTING THEN
        INSERT INTO change_log (entity, key) SELECT 'stock', sku FROM items WHERE id = :OLD.item_id;
    END IF;
    IF NOT DELETING AND (INSERTING OR :NEW.item_id <> :OLD.item_id) THEN
        INSERT INTO change_log (entity, key) SELECT 'stock', sku FROM items WHERE id = :NEW.item_id;
    END IF;
END;
/

CREATE TRIGGER list_price_changed
    AFTER INSERT OR UPDATE OR DELETE
    ON list_prices FOR EACH ROW
BEGIN
    IF NOT INSERTING THEN
        INSERT INTO change_log (entity, key) SELECT 'item_prices', sku FROM items WHERE id = :OLD.item_id;
    END IF;
    IF NOT DELETING AND (INSERTING OR :NEW.item_id <> :OLD.item_id) THEN
        INSERT INTO change_log (entity, key) SELECT 'item_prices', sku FROM items WHERE id = :NEW.item_id;
    END IF;
END;
/

CREATE TRIGGER price_list_entry_changed
    AFTER INSERT OR UPDATE OR DELETE
    ON price_list_entries FOR EACH ROW
BEGIN
    IF NOT INSERTING THEN
        INSERT INTO change_log (entity, key) SELECT 'item_prices', sku FROM items WHERE id = :OLD.item_id;
    END IF;
    IF NOT DELETING AND (INSERTING OR :NEW.item_id <> :OLD.item_id) THEN
        INSERT INTO change_log (entity, key) SELECT 'item_prices', sku FROM items WHERE id = :NEW.item_id;
    END IF;
END;
/

CREATE TRIGGER price_list_changed
    AFTER UPDATE
    ON price_lists FOR EACH ROW
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('all_prices', :NEW.id);
END;
/

-- The agreements of an account: the account of the agreement, old and new.
CREATE TRIGGER agreement_changed
    AFTER INSERT OR UPDATE OR DELETE
    ON agreements FOR EACH ROW
BEGIN
    IF NOT INSERTING THEN
        INSERT INTO change_log (entity, key) VALUES ('account', :OLD.account_id);
    END IF;
    IF NOT DELETING AND (INSERTING OR :NEW.account_id <> :OLD.account_id) THEN
        INSERT INTO change_log (entity, key) VALUES ('account', :NEW.account_id);
    END IF;
END;
/

CREATE TRIGGER agreement_line_changed
    AFTER INSERT OR UPDATE OR DELETE
    ON agreement_lines FOR EACH ROW
BEGIN
    IF NOT INSERTING THEN
        INSERT INTO change_log (entity, key) SELECT 'account', account_id FROM agreements WHERE id = :OLD.agreement_id;
    END IF;
    IF NOT DELETING AND (INSERTING OR :NEW.agreement_id <> :OLD.agreement_id) THEN
        INSERT INTO change_log (entity, key) SELECT 'account', account_id FROM agreements WHERE id = :NEW.agreement_id;
    END IF;
END;
/

CREATE TRIGGER account_changed
    AFTER UPDATE OF currency, customer_group, credit_limit, exposure, credit_hold, terms
    ON accounts FOR EACH ROW
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('account', :NEW.id);
END;
/
