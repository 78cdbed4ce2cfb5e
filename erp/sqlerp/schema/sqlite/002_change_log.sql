-- The change log: triggers record every change to stock, prices and credit, and each
-- bridge replica follows it by sequence number to invalidate its caches.
-- entity is 'stock' (key: SKU), 'item_prices' (key: SKU; list or group prices of the
-- item changed, for every account), 'account' (key: account id; credit, currency, group
-- or agreements changed) or 'all_prices' (a price list's header changed).
CREATE TABLE change_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    entity     TEXT NOT NULL,
    key        TEXT NOT NULL,
    changed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TRIGGER stock_changed AFTER UPDATE OF on_hand, reserved, next_receipt_date, next_receipt_qty ON stock
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'stock', sku FROM items WHERE id = NEW.item_id;
END;
CREATE TRIGGER stock_added AFTER INSERT ON stock
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'stock', sku FROM items WHERE id = NEW.item_id;
END;
CREATE TRIGGER stock_removed AFTER DELETE ON stock
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'stock', sku FROM items WHERE id = OLD.item_id;
END;

CREATE TRIGGER list_price_changed AFTER UPDATE ON list_prices
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'item_prices', sku FROM items WHERE id = NEW.item_id;
END;
CREATE TRIGGER list_price_added AFTER INSERT ON list_prices
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'item_prices', sku FROM items WHERE id = NEW.item_id;
END;
CREATE TRIGGER list_price_removed AFTER DELETE ON list_prices
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'item_prices', sku FROM items WHERE id = OLD.item_id;
END;

CREATE TRIGGER price_list_entry_changed AFTER UPDATE ON price_list_entries
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'item_prices', sku FROM items WHERE id IN (OLD.item_id, NEW.item_id);
END;
CREATE TRIGGER price_list_entry_added AFTER INSERT ON price_list_entries
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'item_prices', sku FROM items WHERE id = NEW.item_id;
END;
CREATE TRIGGER price_list_entry_removed AFTER DELETE ON price_list_entries
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'item_prices', sku FROM items WHERE id = OLD.item_id;
END;
CREATE TRIGGER price_list_changed AFTER UPDATE ON price_lists
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('all_prices', NEW.id);
END;

CREATE TRIGGER agreement_changed AFTER UPDATE ON agreements
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('account', OLD.account_id), ('account', NEW.account_id);
END;
CREATE TRIGGER agreement_added AFTER INSERT ON agreements
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('account', NEW.account_id);
END;
CREATE TRIGGER agreement_removed AFTER DELETE ON agreements
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('account', OLD.account_id);
END;
CREATE TRIGGER agreement_line_changed AFTER UPDATE ON agreement_lines
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'account', account_id FROM agreements WHERE id IN (OLD.agreement_id, NEW.agreement_id);
END;
CREATE TRIGGER agreement_line_added AFTER INSERT ON agreement_lines
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'account', account_id FROM agreements WHERE id = NEW.agreement_id;
END;
CREATE TRIGGER agreement_line_removed AFTER DELETE ON agreement_lines
BEGIN
    INSERT INTO change_log (entity, key) SELECT 'account', account_id FROM agreements WHERE id = OLD.agreement_id;
END;

CREATE TRIGGER account_changed AFTER UPDATE OF currency, customer_group, credit_limit, exposure, credit_hold, terms ON accounts
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('account', NEW.id);
END;
