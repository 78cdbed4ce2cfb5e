-- API keys as an operator manages them (b2bridge keys): a name, scopes, the accounts or
-- customer groups a storefront key is narrowed to, an expiry, a revocation and when it
-- was last used. Lists are space-separated; NULL scopes are every scope of the key's
-- role, NULL accounts and groups are every account of its storefront.
ALTER TABLE api_keys ADD (name VARCHAR2(128), scopes VARCHAR2(512), accounts VARCHAR2(4000), customer_groups VARCHAR2(1000),
    expires_at TIMESTAMP(6) WITH TIME ZONE, revoked_at TIMESTAMP(6) WITH TIME ZONE, last_used_at TIMESTAMP(6) WITH TIME ZONE)
/

-- entity 'keys': every bridge reloads its keys, so a revoked key stops working on every
-- replica within one follow interval. Recording a key's use changes nothing a bridge holds.
CREATE TRIGGER api_keys_changed
    AFTER INSERT OR DELETE OR UPDATE OF storefront, admin, scopes, accounts, customer_groups, expires_at, revoked_at
    ON api_keys
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('keys', '*');
END;
/
CREATE TRIGGER storefront_accounts_changed AFTER INSERT OR DELETE ON storefront_accounts
BEGIN
    INSERT INTO change_log (entity, key) VALUES ('keys', '*');
END;
/
