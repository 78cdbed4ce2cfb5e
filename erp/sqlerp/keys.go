package sqlerp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/b2bridge/b2bridge/erp"
)

const keyColumns = `key_hash, name, admin, storefront, scopes, accounts, customer_groups, created_at, expires_at, revoked_at, last_used_at`

// APIKeys implements erp.ERP: the keys not revoked, each with the accounts it may act
// for.
func (db *DB) APIKeys(ctx context.Context) ([]erp.APIKey, error) {
	keys, err := db.Keys(ctx)
	if err != nil {
		return nil, err
	}
	// Each storefront's accounts, with their customer groups, to narrow keys by.
	rows, err := db.read.QueryContext(ctx, `SELECT sa.storefront, sa.account_id, a.customer_group
		FROM storefront_accounts sa JOIN accounts a ON a.id = sa.account_id ORDER BY sa.storefront, sa.account_id`)
	if err != nil {
		return nil, fmt.Errorf("read storefront accounts: %w", err)
	}
	defer rows.Close()
	type account struct{ id, group string }
	served := map[string][]account{}
	for rows.Next() {
		var sf string
		var a account
		if err := rows.Scan(&sf, &a.id, text{&a.group}); err != nil {
			return nil, fmt.Errorf("read storefront accounts: %w", err)
		}
		served[sf] = append(served[sf], a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read storefront accounts: %w", err)
	}
	out := keys[:0]
	for _, k := range keys {
		if k.RevokedAt != nil {
			continue
		}
		for _, a := range served[k.Storefront] {
			narrowed := len(k.OnlyAccounts) > 0 || len(k.OnlyGroups) > 0
			if !narrowed || slices.Contains(k.OnlyAccounts, a.id) || (a.group != "" && slices.Contains(k.OnlyGroups, a.group)) {
				k.Accounts = append(k.Accounts, a.id)
			}
		}
		out = append(out, k)
	}
	return out, nil
}

// Keys lists every key, revoked ones included, oldest first: for b2bridge keys list.
func (db *DB) Keys(ctx context.Context) ([]erp.APIKey, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, key_hash`)
	if err != nil {
		return nil, fmt.Errorf("read api keys: %w", err)
	}
	defer rows.Close()
	var out []erp.APIKey
	for rows.Next() {
		var k erp.APIKey
		var scopes, accounts, groups string
		var expires, revoked, used time.Time
		ex, rv, us := &timestamp{t: &expires}, &timestamp{t: &revoked}, &timestamp{t: &used}
		if err := rows.Scan(&k.Hash, text{&k.Name}, flag{&k.Admin}, text{&k.Storefront}, text{&scopes}, text{&accounts},
			text{&groups}, &timestamp{t: &k.CreatedAt}, ex, rv, us); err != nil {
			return nil, fmt.Errorf("read api keys: %w", err)
		}
		k.Scopes, k.OnlyAccounts, k.OnlyGroups = strings.Fields(scopes), strings.Fields(accounts), strings.Fields(groups)
		for _, t := range []struct {
			ts  *timestamp
			v   time.Time
			dst **time.Time
		}{{ex, expires, &k.ExpiresAt}, {rv, revoked, &k.RevokedAt}, {us, used, &k.LastUsedAt}} {
			if t.ts.valid {
				v := t.v.UTC()
				*t.dst = &v
			}
		}
		k.CreatedAt = k.CreatedAt.UTC()
		out = append(out, k)
	}
	return out, rows.Err()
}

// TouchKeys implements erp.ERP.
func (db *DB) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	var stmts []statement
	for hash, at := range used {
		stmts = append(stmts, statement{db.Rebind(`UPDATE api_keys SET last_used_at = ? WHERE key_hash = ?`),
			[]any{db.dialect.Time(at), hash}})
	}
	if len(stmts) == 0 {
		return nil
	}
	return sqlTx(ctx, db.write, func(tx Runner) error {
		_, err := execAll(ctx, tx, stmts...)
		return err
	})
}

// ErrKeyNotFound means no key, or more than one, has the ID given.
var ErrKeyNotFound = errors.New("no API key with that ID")

// CreateKey stores a new key (by its hash) with the attributes of k.
func (db *DB) CreateKey(ctx context.Context, hash string, k erp.APIKey) error {
	var storefront, expires any
	if !k.Admin {
		storefront = k.Storefront
	}
	if k.ExpiresAt != nil {
		expires = db.dialect.Time(*k.ExpiresAt)
	}
	admin := 0
	if k.Admin {
		admin = 1
	}
	_, err := db.write.ExecContext(ctx, db.Rebind(`INSERT INTO api_keys
		(key_hash, name, admin, storefront, scopes, accounts, customer_groups, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		hash, nullString(k.Name), admin, storefront, nullString(strings.Join(k.Scopes, " ")), nullString(strings.Join(k.OnlyAccounts, " ")),
		nullString(strings.Join(k.OnlyGroups, " ")), db.dialect.Time(db.now()), expires)
	if err != nil {
		return fmt.Errorf("create API key: %w", err)
	}
	return nil
}

// Key returns the key with this ID (the start of its hash), or ErrKeyNotFound.
func (db *DB) Key(ctx context.Context, id string) (erp.APIKey, error) {
	keys, err := db.Keys(ctx)
	if err != nil {
		return erp.APIKey{}, err
	}
	var found []erp.APIKey
	for _, k := range keys {
		if id != "" && strings.HasPrefix(k.Hash, id) {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		return erp.APIKey{}, fmt.Errorf("%w: %q", ErrKeyNotFound, id)
	}
	return found[0], nil
}

// RevokeKey revokes the key with this ID; every bridge stops accepting it when it next
// follows the change log.
func (db *DB) RevokeKey(ctx context.Context, id string) (erp.APIKey, error) {
	k, err := db.Key(ctx, id)
	if err != nil || k.RevokedAt != nil {
		return k, err
	}
	now := db.now().UTC()
	if _, err := db.write.ExecContext(ctx, db.Rebind(`UPDATE api_keys SET revoked_at = ? WHERE key_hash = ? AND revoked_at IS NULL`),
		db.dialect.Time(now), k.Hash); err != nil {
		return k, fmt.Errorf("revoke API key %s: %w", id, err)
	}
	k.RevokedAt = &now
	return k, nil
}
