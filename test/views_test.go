package test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// Views mode (docs/views): the bridge reads items, stock and accounts from views over an
// ERP's own tables with other names and types; a change made in those tables reaches the
// cache through the change log; and an order reserves and books on them.
func TestViewsOverALegacySchema(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		e := postgresTarget(t)
		for _, file := range []string{"../docs/views/postgres-legacy.sql", "../docs/views/postgres-views.sql"} {
			script, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			e.exec(t, string(script))
		}
		sf := e.creds.Storefronts[0]
		account := sf.Accounts[0]
		e.exec(t, `UPDATE erp_stock_balance SET qty_on_hand = 111, qty_allocated = 11 WHERE art_no = 3`)
		e.exec(t, `UPDATE erp_customer SET credit_line = 5000, open_items = 1234.5, blocked = 'N' WHERE cust_no = ?`, account)
		srv := e.start(t, "B2BRIDGE_CACHE_STOCK_TTL=60s", "B2BRIDGE_CACHE_CREDIT_TTL=60s", "B2BRIDGE_FOLLOW_INTERVAL=50ms")
		get := func(path string) map[string]any {
			t.Helper()
			r, err := call(context.Background(), "GET", srv.URL+path, sf.Key, nil)
			if err != nil || r.Status != 200 {
				t.Fatalf("GET %s: %d %v %v", path, r.Status, r.Body, err)
			}
			return r.Body
		}
		available := func() float64 {
			return get("/v1/availability?sku=BRG-00003")["items"].([]any)[0].(map[string]any)["available"].(float64)
		}
		eventually := func(what string, ok func() bool) {
			t.Helper()
			for start := time.Now(); !ok(); time.Sleep(20 * time.Millisecond) {
				if time.Since(start) > 3*time.Second {
					t.Fatalf("%s: not seen after 3s", what)
				}
			}
		}
		if got := available(); got != 300 {
			t.Errorf("availability from the views: %v, want 3 × (111 - 11) = 300", got)
		}
		credit := get("/v1/accounts/" + account + "/credit")
		if !sameMoney(credit["exposure"], decimal.MustParse("1234.5")) || credit["on_hold"] != false {
			t.Errorf("credit from the views: %v, want exposure 1234.50, not on hold", credit)
		}

		e.exec(t, `UPDATE erp_stock_balance SET qty_on_hand = 211 WHERE art_no = 3`) // cached for 60s
		eventually("a stock change in the ERP's table", func() bool { return available() == 600 })

		r, err := call(context.Background(), "POST", srv.URL+"/v1/accounts/"+account+"/orders", sf.Key,
			order{Lines: []orderLine{{SKU: "BRG-00003", Qty: 5}}}, "Idempotency-Key", "views-order")
		if err != nil || r.Status != 201 {
			t.Fatalf("order: %d %v %v", r.Status, r.Body, err)
		}
		var allocated int
		var openItems decimal.Decimal
		e.queryRow(t, `SELECT SUM(qty_allocated) FROM erp_stock_balance WHERE art_no = 3`, nil, &allocated)
		e.queryRow(t, `SELECT open_items FROM erp_customer WHERE cust_no = ?`, []any{account}, sqlerp.MoneyScanner(&openItems))
		booked, _ := openItems.Sub(decimal.MustParse("1234.5"))
		if allocated != 38 || !sameMoney(r.Body["total"], booked) {
			t.Errorf("the ERP's tables have %d allocated and open items %s after an order of 5 for %v; want 38 and 1234.50 + the total",
				allocated, openItems, r.Body["total"])
		}

		e.exec(t, `UPDATE erp_customer SET blocked = 'Y' WHERE cust_no = ?`, account)
		eventually("a credit hold set in the ERP's table", func() bool { return get("/v1/accounts/" + account + "/credit")["on_hold"] == true })
	})
}
