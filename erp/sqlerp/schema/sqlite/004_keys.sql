-- API keys as an operator manages them (b2bridge keys): a name, scopes, the accounts or
-- customer groups a storefront key is narrowed to, an expiry, a revocation and when it
-- was last used. Lists are space-separated; NULL scopes are every scope of the key's
-- role, NULL accounts and groups are every account of its storefront.
ALTER TABLE api_keys ADD COLUMN name TEXT;
ALTER TABLE api_keys ADD COLUMN scopes TEXT;
ALTER TABLE api_keys ADD COLUMN accounts TEXT;
ALTER TABLE api_keys ADD COLUMN customer_groups TEXT;
ALTER TABLE api_keys ADD COLUMN expires_at TEXT;
ALTER TABLE api_keys ADD COLUMN revoked_at TEXT;
ALTER TABLE api_keys ADD COLUMN last_used_at TEXT;

-- entity 'keys': every bridge reloads its keys, so a revoked key stops working on every
-- replica within one follow interval. Recording a key's use changes nothing a bridge holds.
CREATE TRIGGER api_key_added AFTER INSERT ON api_keys
BEGIN INSERT INTO change_log (entity, key) VALUES ('keys', '*'); END;
CREATE TRIGGER api_key_changed AFTER UPDATE OF storefront, admin, scopes, accounts, customer_groups, expires_at, revoked_at ON api_keys
BEGIN INSERT INTO change_log (entity, key) VALUES ('keys', '*'); END;
CREATE TRIGGER api_key_removed AFTER DELETE ON api_keys
BEGIN INSERT INTO change_log (entity, key) VALUES ('keys', '*'); END;
CREATE TRIGGER storefront_account_added AFTER INSERT ON storefront_accounts
BEGIN INSERT INTO change_log (entity, key) VALUES ('keys', '*'); END;
CREATE TRIGGER storefront_account_removed AFTER DELETE ON storefront_accounts
BEGIN INSERT INTO change_log (entity, key) VALUES ('keys', '*'); END;
