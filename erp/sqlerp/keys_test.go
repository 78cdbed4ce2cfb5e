package sqlerp_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

func activeKey(t *testing.T, e *embedded.ERP, hash string) (erp.APIKey, bool) {
	t.Helper()
	keys, err := e.APIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(keys, func(k erp.APIKey) bool { return k.Hash == hash })
	if i < 0 {
		return erp.APIKey{}, false
	}
	return keys[i], true
}

// A key's attributes round-trip; narrowing by account or customer group picks the
// storefront's accounts; a revoked key leaves the active set and the change log says so;
// recording its use does not (it is not a change a bridge must act on).
func TestKeys(t *testing.T) {
	dialects(t, func(t *testing.T, e *embedded.ERP) {
		ctx := context.Background()
		var group string
		queryRow(t, e, `SELECT a.customer_group FROM storefront_accounts sa JOIN accounts a ON a.id = sa.account_id
			WHERE sa.storefront = 'north-shop' AND sa.account_id = 'C1001'`, nil, &group)
		var inGroup []string
		rows, err := e.Writer().Query(e.DB.Rebind(`SELECT sa.account_id FROM storefront_accounts sa JOIN accounts a ON a.id = sa.account_id
			WHERE sa.storefront = 'north-shop' AND a.customer_group = ? ORDER BY sa.account_id`), group)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a string
			rows.Scan(&a)
			inGroup = append(inGroup, a)
		}
		rows.Close()

		expires := time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)
		k := erp.APIKey{Name: "shop", Storefront: "north-shop", Scopes: []string{"prices:read"}, OnlyAccounts: []string{"C1001"}, ExpiresAt: &expires}
		if err := e.DB.CreateKey(ctx, "hash-accounts", k); err != nil {
			t.Fatal(err)
		}
		got, ok := activeKey(t, e, "hash-accounts")
		if !ok || got.Name != "shop" || !slices.Equal(got.Scopes, k.Scopes) || !slices.Equal(got.Accounts, []string{"C1001"}) ||
			got.ExpiresAt == nil || !got.ExpiresAt.Equal(expires) || got.CreatedAt.IsZero() || got.LastUsedAt != nil {
			t.Fatalf("key narrowed to C1001: %+v", got)
		}
		if err := e.DB.CreateKey(ctx, "hash-group", erp.APIKey{Name: "group", Storefront: "north-shop", OnlyGroups: []string{group}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := activeKey(t, e, "hash-group"); !slices.Equal(got.Accounts, inGroup) {
			t.Errorf("key narrowed to group %s acts for %v, want %v", group, got.Accounts, inGroup)
		}

		var logged, after int
		count := `SELECT COUNT(*) FROM change_log WHERE entity = 'keys'`
		queryRow(t, e, count, nil, &logged)
		used := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
		if err := e.TouchKeys(ctx, map[string]time.Time{"hash-accounts": used}); err != nil {
			t.Fatal(err)
		}
		if got, _ := activeKey(t, e, "hash-accounts"); got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) {
			t.Errorf("last used %v, want %v", got.LastUsedAt, used)
		}
		queryRow(t, e, count, nil, &after)
		if after != logged {
			t.Errorf("recording use wrote %d change-log rows, want none", after-logged)
		}

		if _, err := e.DB.RevokeKey(ctx, "hash-acc"); err != nil {
			t.Fatal(err)
		}
		if _, ok := activeKey(t, e, "hash-accounts"); ok {
			t.Error("a revoked key is still active")
		}
		queryRow(t, e, count, nil, &after)
		if after <= logged {
			t.Error("revoking a key wrote nothing to the change log: replicas would keep accepting it")
		}
		if _, err := e.DB.RevokeKey(ctx, "hash-"); !errors.Is(err, sqlerp.ErrKeyNotFound) {
			t.Errorf("an ambiguous ID: %v, want ErrKeyNotFound", err)
		}
		if _, err := e.DB.RevokeKey(ctx, ""); !errors.Is(err, sqlerp.ErrKeyNotFound) {
			t.Errorf("an empty ID: %v, want ErrKeyNotFound", err)
		}
	})
}
