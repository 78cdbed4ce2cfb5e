package embedded_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
)

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestDemoDataHasWhatTheDemoPromises(t *testing.T) {
	e := embeddedtest.Open(t)
	db := e.Writer()
	checks := []struct {
		what string
		q    string
		min  int
	}{
		{"items", `SELECT COUNT(*) FROM items`, 1000},
		{"warehouses", `SELECT COUNT(*) FROM warehouses`, 3},
		{"out-of-stock items", `SELECT COUNT(*) FROM (SELECT item_id FROM stock GROUP BY item_id HAVING SUM(on_hand) = 0)`, 50},
		{"scarce items", `SELECT COUNT(*) FROM (SELECT item_id FROM stock GROUP BY item_id HAVING SUM(on_hand) BETWEEN 1 AND 5)`, 50},
		{"items with a next receipt", `SELECT COUNT(DISTINCT item_id) FROM stock WHERE next_receipt_date IS NOT NULL`, 50},
		{"group price lists", `SELECT COUNT(DISTINCT customer_group) FROM price_lists`, 2},
		{"accounts", `SELECT COUNT(*) FROM accounts`, 50},
		{"accounts on credit hold", `SELECT COUNT(*) FROM accounts WHERE credit_hold = 1`, 2},
		{"accounts with exposure", `SELECT COUNT(*) FROM accounts WHERE exposure > 0`, 10},
		{"agreement breaks", `SELECT COUNT(*) FROM agreement_lines WHERE min_qty > 1`, 100},
		{"expired agreements", `SELECT COUNT(*) FROM agreements WHERE valid_to < date('now')`, 5},
		{"future agreements", `SELECT COUNT(*) FROM agreements WHERE valid_from > date('now')`, 5},
		{"pack-size items", `SELECT COUNT(*) FROM items WHERE order_multiple > 1`, 10},
	}
	for _, c := range checks {
		if n := count(t, db, c.q); n < c.min {
			t.Errorf("%s: %d, want at least %d", c.what, n, c.min)
		}
	}
	creds := e.Credentials
	if creds == nil || len(creds.Storefronts) < 2 || creds.AdminKey == "" {
		t.Fatalf("credentials: %+v", creds)
	}
	seen := map[string]string{}
	for _, sf := range creds.Storefronts {
		for _, a := range sf.Accounts {
			if other, ok := seen[a]; ok {
				t.Errorf("account %s belongs to %s and %s", a, other, sf.Name)
			}
			seen[a] = sf.Name
		}
	}
	if n := count(t, db, `SELECT COUNT(*) FROM api_keys WHERE key_hash = '`+creds.AdminKey+`'`); n != 0 {
		t.Error("a key is stored in plain text")
	}
	// The advertised SKUs: in stock, scarce and out of stock.
	stock := map[string]int{}
	for _, sku := range creds.SKUs {
		stock[sku] = count(t, db, `SELECT SUM(on_hand) FROM stock JOIN items ON items.id = item_id WHERE sku = '`+sku+`'`)
	}
	if stock[creds.SKUs[0]] < 100 || stock[embedded.SKU(7)] == 0 || stock[embedded.SKU(7)] > 5 || stock[embedded.SKU(10)] != 0 {
		t.Errorf("demo SKUs' stock: %v", stock)
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	digest := func() string {
		e := embeddedtest.Open(t)
		today := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
		if _, err := embedded.Seed(context.Background(), e.DB, embedded.SeedOptions{Items: 200, Accounts: 10, Seed: 7, Today: today}); err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for _, q := range []string{
			`SELECT sku || unit || min_qty || order_multiple FROM items ORDER BY id`,
			`SELECT item_id || warehouse || on_hand || IFNULL(next_receipt_date, '') FROM stock ORDER BY 1`,
			`SELECT item_id || currency || price FROM list_prices ORDER BY 1`,
			`SELECT id || credit_limit || exposure || credit_hold FROM accounts ORDER BY 1`,
			`SELECT agreement_id || item_id || min_qty || price FROM agreement_lines ORDER BY 1`,
		} {
			rows, err := e.Writer().Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				rows.Scan(&s)
				fmt.Fprintln(h, s)
			}
			rows.Close()
		}
		return fmt.Sprintf("%x", h.Sum(nil))
	}
	if a, b := digest(), digest(); a != b {
		t.Errorf("same seed, different data: %s vs %s", a, b)
	}
}
