package test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Truth rule 2: reads may come from cache, an order never does. With the price cache warm
// and the change log followed only every minute, an order placed right after the ERP's
// price changed books the new price while price reads still answer the cached one.
func TestOrderNeverTrustsTheCache(t *testing.T) {
	dir, creds, db := erpDir(t)
	srv := startServer(t, dir, "B2BRIDGE_CACHE_PRICE_TTL=10m", "B2BRIDGE_FOLLOW_INTERVAL=1m")
	sf := creds.Storefronts[0]
	account := sf.Accounts[0]
	priceURL := srv.URL + "/v1/accounts/" + account + "/prices?sku=BRG-00001&qty=1"
	r, err := call(context.Background(), "GET", priceURL, sf.Key, nil)
	if err != nil || r.Status != 200 {
		t.Fatalf("warm-up: %v %v", r.Body, err)
	}
	old := r.Body["lines"].([]any)[0].(map[string]any)["unit_price"]
	mustExec(t, db, `INSERT INTO agreements (id, account_id, currency, valid_from, valid_to)
		SELECT 'FRESH', id, currency, date('now', '-1 day'), date('now', '+1 day') FROM accounts WHERE id = ?`, account)
	mustExec(t, db, `INSERT INTO agreement_lines (agreement_id, item_id, min_qty, price) VALUES ('FRESH', 1, 1, 12345)`) // 1.2345

	r, _ = call(context.Background(), "GET", priceURL, sf.Key, nil)
	if line := r.Body["lines"].([]any)[0].(map[string]any); line["unit_price"] != old || r.Body["source"] != "cache" {
		t.Fatalf("the read should still be the cached %v: %v", old, r.Body)
	}
	o, err := call(context.Background(), "POST", srv.URL+"/v1/accounts/"+account+"/orders", sf.Key,
		order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}, "Idempotency-Key", "fresh-price")
	if err != nil || o.Status != 201 {
		t.Fatalf("order: %d %v %v", o.Status, o.Body, err)
	}
	if got := o.Body["lines"].([]any)[0].(map[string]any)["unit_price"]; got != "1.2345" {
		t.Errorf("order booked unit price %v (cached read said %v), want the ERP's 1.2345", got, old)
	}
	// A buyer who saw the cached price and sends it is told the price changed.
	o, _ = call(context.Background(), "POST", srv.URL+"/v1/accounts/"+account+"/orders", sf.Key,
		order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1, UnitPrice: fmt.Sprint(old)}}}, "Idempotency-Key", "stale-price")
	if o.Status != 409 || o.Body["code"] != "price_changed" {
		t.Errorf("order at the cached price: %d %v, want 409 price_changed", o.Status, o.Body)
	}
}

// Truth rule 7 under concurrency: accounts with different contracts reading the same SKU
// at once through one cache each see their own price, never another's.
func TestConcurrentBuyersSeeOnlyTheirOwnPrices(t *testing.T) {
	dir, creds, db := erpDir(t)
	sf := creds.Storefronts[0]
	want := map[string]string{}
	for i, account := range sf.Accounts[:6] {
		id := fmt.Sprint("OWN-", i)
		mustExec(t, db, `INSERT INTO agreements (id, account_id, currency, valid_from, valid_to)
			SELECT ?, id, currency, date('now', '-1 day'), date('now', '+1 day') FROM accounts WHERE id = ?`, id, account)
		mustExec(t, db, `INSERT INTO agreement_lines (agreement_id, item_id, min_qty, price) VALUES (?, 2, 1, ?)`, id, 10000*(i+1))
		want[account] = fmt.Sprintf("%d.00", i+1)
	}
	srv := startServer(t, dir)
	var wg sync.WaitGroup
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			account := sf.Accounts[i%6]
			r, err := call(context.Background(), "GET", srv.URL+"/v1/accounts/"+account+"/prices?sku=BRG-00002&qty=1", sf.Key, nil)
			if err != nil || r.Status != 200 {
				t.Errorf("%s: %v %v", account, r.Body, err)
				return
			}
			if got := r.Body["lines"].([]any)[0].(map[string]any)["unit_price"]; got != want[account] || r.Body["account"] != account {
				t.Errorf("%s saw %v for account %v, want its own %s", account, got, r.Body["account"], want[account])
			}
		}(i)
	}
	wg.Wait()
}

// Shutdown drains: an order in flight when SIGTERM arrives commits and answers, and the
// process then exits cleanly.
func TestShutdownDrainsAnOrderInFlight(t *testing.T) {
	dir, creds, db := erpDir(t)
	srv := startServer(t, dir)
	admin(t, srv, creds.AdminKey, "PUT", "/faults", map[string]any{"class": "order_writes", "latency_ms": 1500}, 200)
	sf := creds.Storefronts[0]
	done := make(chan reply, 1)
	go func() {
		r, err := call(context.Background(), "POST", srv.URL+"/v1/accounts/"+sf.Accounts[0]+"/orders", sf.Key,
			order{PONumber: "PO-DRAIN", Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}, "Idempotency-Key", "drain-me")
		if err != nil {
			t.Errorf("order in flight: %v", err)
		}
		done <- r
	}()
	time.Sleep(500 * time.Millisecond) // the order is inside the ERP call
	srv.stop()                         // SIGTERM; waits for the clean exit
	r := <-done
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM orders WHERE po_number = 'PO-DRAIN'`).Scan(&n)
	if r.Status != 201 || n != 1 {
		t.Errorf("order in flight at SIGTERM: %d %v, %d in the ERP; want 201 and 1", r.Status, r.Body, n)
	}
}
