-- API keys as an operator manages them (b2bridge keys): a name, scopes, the accounts or
-- customer groups a storefront key is narrowed to, an expiry, a revocation and when it
-- was last used. Lists are space-separated; NULL scopes are every scope of the key's
-- role, NULL accounts and groups are every account of its storefront.
ALTER TABLE api_keys ADD COLUMN name TEXT;
ALTER TABLE api_keys ADD COLUMN scopes TEXT;
ALTER TABLE api_keys ADD COLUMN accounts TEXT;
ALTER TABLE api_keys ADD COLUMN customer_groups TEXT;
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN revoked_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMPTZ;

-- entity 'keys': every bridge reloads its keys, so a revoked key stops working on every
-- replica within one follow interval. Recording a key's use changes nothing a bridge holds.
CREATE FUNCTION change_log_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('keys', '*');
    RETURN NULL;
END $$;
CREATE TRIGGER api_keys_changed AFTER INSERT OR DELETE OR UPDATE OF storefront, admin, scopes, accounts, customer_groups, expires_at, revoked_at
    ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION change_log_keys();
CREATE TRIGGER storefront_accounts_changed AFTER INSERT OR DELETE
    ON storefront_accounts FOR EACH STATEMENT EXECUTE FUNCTION change_log_keys();
