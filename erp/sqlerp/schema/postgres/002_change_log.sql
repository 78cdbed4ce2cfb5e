-- The change log: triggers record every change to stock, prices and credit, and each
-- bridge replica follows it by sequence number to invalidate its caches.
-- entity is 'stock' (key: SKU), 'item_prices' (key: SKU; list or group prices of the
-- item changed, for every account), 'account' (key: account id; credit, currency, group
-- or agreements changed) or 'all_prices' (a price list's header changed).
-- Sequence values are taken at insert and commit out of order: followers re-read a
-- window behind their last sequence number.
CREATE TABLE change_log (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity     TEXT NOT NULL,
    key        TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- An item's stock or prices: the row's item, old and new.
CREATE FUNCTION change_log_item() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO change_log (entity, key) SELECT TG_ARGV[0], sku FROM items WHERE id = OLD.item_id;
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.item_id <> OLD.item_id) THEN
        INSERT INTO change_log (entity, key) SELECT TG_ARGV[0], sku FROM items WHERE id = NEW.item_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER stock_changed AFTER INSERT OR DELETE OR UPDATE OF on_hand, reserved, next_receipt_date, next_receipt_qty
    ON stock FOR EACH ROW EXECUTE FUNCTION change_log_item('stock');
CREATE TRIGGER list_price_changed AFTER INSERT OR UPDATE OR DELETE
    ON list_prices FOR EACH ROW EXECUTE FUNCTION change_log_item('item_prices');
CREATE TRIGGER price_list_entry_changed AFTER INSERT OR UPDATE OR DELETE
    ON price_list_entries FOR EACH ROW EXECUTE FUNCTION change_log_item('item_prices');

CREATE FUNCTION change_log_price_list() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('all_prices', NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER price_list_changed AFTER UPDATE ON price_lists FOR EACH ROW EXECUTE FUNCTION change_log_price_list();

-- An account's agreements: the account of the agreement, old and new.
CREATE FUNCTION change_log_agreement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO change_log (entity, key) VALUES ('account', OLD.account_id);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.account_id <> OLD.account_id) THEN
        INSERT INTO change_log (entity, key) VALUES ('account', NEW.account_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER agreement_changed AFTER INSERT OR UPDATE OR DELETE ON agreements FOR EACH ROW EXECUTE FUNCTION change_log_agreement();

CREATE FUNCTION change_log_agreement_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO change_log (entity, key) SELECT 'account', account_id FROM agreements WHERE id = OLD.agreement_id;
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.agreement_id <> OLD.agreement_id) THEN
        INSERT INTO change_log (entity, key) SELECT 'account', account_id FROM agreements WHERE id = NEW.agreement_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER agreement_line_changed AFTER INSERT OR UPDATE OR DELETE ON agreement_lines FOR EACH ROW EXECUTE FUNCTION change_log_agreement_line();

CREATE FUNCTION change_log_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('account', NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER account_changed AFTER UPDATE OF currency, customer_group, credit_limit, exposure, credit_hold, terms
    ON accounts FOR EACH ROW EXECUTE FUNCTION change_log_account();
