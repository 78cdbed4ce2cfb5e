package test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/bridge"
)

// admin sends an admin API call and fails the test on an unexpected status.
func admin(t *testing.T, s *server, key, method, path string, body any, want int) reply {
	t.Helper()
	r, err := call(context.Background(), method, s.URL+"/admin/v1"+path, key, body)
	if err != nil || r.Status != want {
		t.Fatalf("%s %s: %d %v %v, want %d", method, path, r.Status, r.Raw, err, want)
	}
	return r
}

// timed is a reply with how long it took.
func timed(t *testing.T, method, url, key string, body any, headers ...string) (reply, time.Duration) {
	t.Helper()
	start := time.Now()
	r, err := call(context.Background(), method, url, key, body, headers...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r, time.Since(start)
}

func itemSource(r reply) (string, string) {
	items, _ := r.Body["items"].([]any)
	if len(items) == 0 {
		return "", ""
	}
	it := items[0].(map[string]any)
	return fmt.Sprint(it["source"]), fmt.Sprint(it["as_of"])
}

// With the ERP hanging, reads answer from cache, flagged stale, at their normal
// latency; orders answer 503 within the write timeout; after recovery the breakers
// close and reads are fresh again.
func TestHangingERPDegradesHonestlyAndRecovers(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir, "B2BRIDGE_CACHE_STOCK_TTL=200ms", "B2BRIDGE_CACHE_PRICE_TTL=200ms",
		"B2BRIDGE_CACHE_REVALIDATE=0s", "B2BRIDGE_CACHE_MAX_STALE=5m", "B2BRIDGE_READ_TIMEOUT=300ms",
		"B2BRIDGE_ORDER_TIMEOUT=1s", "B2BRIDGE_BREAKER_OPEN_FOR=1s")
	sf := creds.Storefronts[0]
	availURL := srv.URL + "/v1/availability?sku=BRG-00001"
	priceURL := srv.URL + "/v1/accounts/" + sf.Accounts[0] + "/prices?sku=BRG-00001&qty=1"
	orderURL := srv.URL + "/v1/accounts/" + sf.Accounts[0] + "/orders"

	warm, _ := timed(t, "GET", availURL, sf.Key, nil)
	if src, _ := itemSource(warm); src != "erp" {
		t.Fatalf("first read: %v", warm.Body)
	}
	warmPrice, _ := timed(t, "GET", priceURL, sf.Key, nil)
	_, warmAsOf := itemSource(warm)

	for _, class := range []string{"stock_reads", "price_reads", "order_writes"} {
		admin(t, srv, creds.AdminKey, "PUT", "/faults", map[string]any{"class": class, "hang": true}, 200)
	}
	time.Sleep(250 * time.Millisecond) // past the TTL: every read now needs the ERP

	// Until the breakers open, a read waits for its timeout; after, it answers at once.
	var slowest time.Duration
	for i := 0; i < 30; i++ {
		r, d := timed(t, "GET", availURL, sf.Key, nil)
		src, asOf := itemSource(r)
		if r.Status != 200 || src != "stale" || asOf != warmAsOf {
			t.Fatalf("read %d with the ERP hanging: %d %v, want the cached value flagged stale with as_of %s", i, r.Status, r.Body, warmAsOf)
		}
		if i >= 10 {
			slowest = max(slowest, d)
		}
	}
	if slowest > 100*time.Millisecond {
		t.Errorf("stale reads after the breaker opened took up to %v, want their normal latency", slowest)
	}
	for i := 0; i < 10; i++ {
		if p, _ := timed(t, "GET", priceURL, sf.Key, nil); p.Status != 200 || p.Body["source"] != "stale" ||
			p.Body["as_of"] != warmPrice.Body["as_of"] {
			t.Fatalf("price read with the ERP hanging: %d %v", p.Status, p.Body)
		}
	}
	if h, _ := timed(t, "GET", srv.URL+"/readyz", "", nil); h.Body["breakers"].(map[string]any)["stock_reads"] == "closed" {
		t.Errorf("readyz with the ERP hanging: %v, want the stock_reads breaker open or probing", h.Body)
	}

	o, d := timed(t, "POST", orderURL, sf.Key, order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}, "Idempotency-Key", "during-hang")
	if o.Status != 503 || o.Header.Get("Retry-After") == "" || d > 1500*time.Millisecond {
		t.Errorf("order with the ERP hanging: %d %v after %v, want 503 with Retry-After within the 1s write timeout", o.Status, o.Body, d)
	}

	admin(t, srv, creds.AdminKey, "DELETE", "/faults", nil, 204)
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, _ := timed(t, "GET", availURL, sf.Key, nil)
		p, _ := timed(t, "GET", priceURL, sf.Key, nil)
		src, _ := itemSource(r)
		if (src == "erp" || src == "cache") && (p.Body["source"] == "erp" || p.Body["source"] == "cache") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reads still not fresh 5s after the ERP recovered: %v %v", r.Body, p.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	o, _ = timed(t, "POST", orderURL, sf.Key, order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}, "Idempotency-Key", "after-hang")
	if o.Status != 201 {
		t.Errorf("order after recovery: %d %v", o.Status, o.Body)
	}
	h, _ := timed(t, "GET", srv.URL+"/readyz", "", nil)
	for class, state := range h.Body["breakers"].(map[string]any) {
		if state != "closed" && class != "order_writes" { // order_writes closes on its next call
			t.Errorf("breaker %s is %v after recovery", class, state)
		}
	}
}

// Every order commits and then loses its reply: clients retrying with their key end with
// exactly one ERP order per key, and no 201 names an order the ERP does not have.
func TestCommitThenLostReplyWithRetries(t *testing.T) {
	eachERP(t, func(t *testing.T, e *erpTarget) {
		creds := e.creds
		e.exec(t, `UPDATE accounts SET credit_hold = 0, credit_limit = ?`, e.amount(t, "100000000"))
		srv := e.start(t)
		admin(t, srv, creds.AdminKey, "PUT", "/faults", map[string]any{"class": "order_writes", "fail_after_commit": true}, 200)
		sf := creds.Storefronts[0]
		const keys = 20
		answered := make([][]string, keys) // order ids answered 2xx per key
		var wg sync.WaitGroup
		for k := 0; k < keys; k++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				account := sf.Accounts[k%len(sf.Accounts)]
				for attempt := 0; attempt < 3; attempt++ { // a client retrying with its key
					r, err := call(context.Background(), "POST", srv.URL+"/v1/accounts/"+account+"/orders", sf.Key,
						order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}, "Idempotency-Key", fmt.Sprint("lost-reply-", k))
					if err != nil {
						t.Errorf("key %d: %v", k, err)
						return
					}
					if r.Status == 201 || r.Status == 200 {
						answered[k] = append(answered[k], r.Body["order_id"].(string))
					} else if r.Status != 503 {
						t.Errorf("key %d: %d %v", k, r.Status, r.Body)
					}
				}
			}(k)
		}
		wg.Wait()
		for k := 0; k < keys; k++ {
			ref := bridge.ExternalRef(sf.Name, sf.Accounts[k%len(sf.Accounts)], fmt.Sprint("lost-reply-", k))
			var ids []string
			rows := e.query(t, `SELECT id FROM orders WHERE external_ref = ?`, ref)
			for rows.Next() {
				var id string
				rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			if len(ids) != 1 {
				t.Errorf("key %d: %d ERP orders, want 1", k, len(ids))
				continue
			}
			if len(answered[k]) == 0 {
				t.Errorf("key %d: no attempt was answered with its order", k)
			}
			for _, id := range answered[k] {
				if id != ids[0] {
					t.Errorf("key %d: answered order %s, the ERP has %s", k, id, ids[0])
				}
			}
		}
	})
}

// 1,000 concurrent reads of one cold key make one ERP call.
func TestStampedeOnAColdKey(t *testing.T) {
	dir, creds, _ := erpDir(t)
	// A TTL longer than the test: a later revalidation would be a second, legitimate call.
	srv := startServer(t, dir, "B2BRIDGE_CACHE_STOCK_TTL=60s")
	// A slow ERP makes sure the readers overlap.
	admin(t, srv, creds.AdminKey, "PUT", "/faults", map[string]any{"class": "stock_reads", "latency_ms": 300}, 200)
	loads := func() float64 {
		r := admin(t, srv, creds.AdminKey, "GET", "/cache", nil, 200)
		return r.Body["caches"].(map[string]any)["stock"].(map[string]any)["loads"].(float64)
	}
	before := loads()
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := call(context.Background(), "GET", srv.URL+"/v1/availability?sku=BRG-00042", creds.Storefronts[0].Key, nil)
			if err != nil || r.Status != 200 {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// The burst dialed connections that it never used: the server answers each 408 when
	// its read timeout passes, and a later request that picks one up would read that.
	client.CloseIdleConnections()
	t.Logf("cache stats after: %v", admin(t, srv, creds.AdminKey, "GET", "/cache", nil, 200).Body["caches"].(map[string]any)["stock"])
	if n := loads() - before; n != 1 || failed != 0 {
		t.Errorf("%v ERP stock reads for 1,000 concurrent cold reads (%d failed), want 1", n, failed)
	}
}

// A change made in the ERP by anything else reaches every replica's cache through the
// change log: here well before the 30s TTL, within a follow interval.
func TestChangeLogInvalidatesEveryReplica(t *testing.T) {
	eachERP(t, func(t *testing.T, e *erpTarget) {
		creds := e.creds
		env := []string{"B2BRIDGE_CACHE_STOCK_TTL=30s", "B2BRIDGE_FOLLOW_INTERVAL=200ms"}
		a, b := e.start(t, env...), e.start(t, env...)
		sf := creds.Storefronts[0]
		available := func(s *server) float64 {
			r, err := call(context.Background(), "GET", s.URL+"/v1/availability?sku=BRG-00003", sf.Key, nil)
			if err != nil || r.Status != 200 {
				t.Fatalf("read: %v %v", r.Body, err)
			}
			return r.Body["items"].([]any)[0].(map[string]any)["available"].(float64)
		}
		waitFor := func(s *server, want float64, what string) {
			t.Helper()
			start := time.Now()
			for available(s) != want {
				if time.Since(start) > 2*time.Second {
					t.Fatalf("%s: still %v after 2s, want %v", what, available(s), want)
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("%s: seen after %v", what, time.Since(start))
		}
		available(a)
		available(b) // both caches warm
		e.exec(t, `UPDATE stock SET on_hand = 500, reserved = 0 WHERE item_id = 3`)
		waitFor(a, 1500, "direct ERP change on replica a")
		waitFor(b, 1500, "direct ERP change on replica b")

		r, err := call(context.Background(), "POST", a.URL+"/v1/accounts/"+sf.Accounts[0]+"/orders", sf.Key,
			order{Lines: []orderLine{{SKU: "BRG-00003", Qty: 7}}}, "Idempotency-Key", "cross-replica")
		if err != nil || r.Status != 201 {
			t.Fatalf("order: %d %v %v", r.Status, r.Body, err)
		}
		if got := available(a); got != 1493 {
			t.Errorf("replica a right after its own order: %v, want 1493", got)
		}
		waitFor(b, 1493, "replica a's order on replica b")
	})
}

func TestAdminFaultsAPI(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir)
	admin(t, srv, creds.Storefronts[0].Key, "GET", "/faults", nil, 403)
	admin(t, srv, "", "GET", "/faults", nil, 401)
	admin(t, srv, creds.AdminKey, "PUT", "/faults", map[string]any{"class": "nope"}, 400)
	admin(t, srv, creds.AdminKey, "PUT", "/faults", map[string]any{"class": "stock_reads", "error_rate": 2}, 400)
	admin(t, srv, creds.AdminKey, "PUT", "/faults", map[string]any{"class": "credit_reads", "error_rate": 1}, 200)
	r := admin(t, srv, creds.AdminKey, "GET", "/faults", nil, 200)
	if fs := r.Body["faults"].([]any); len(fs) != 1 || fs[0].(map[string]any)["class"] != "credit_reads" {
		t.Errorf("faults: %v", r.Body)
	}
	c, _ := timed(t, "GET", srv.URL+"/v1/accounts/"+creds.Storefronts[0].Accounts[0]+"/credit", creds.Storefronts[0].Key, nil)
	if c.Status != 503 || c.Body["code"] != "erp_unavailable" {
		t.Errorf("credit with every credit read failing and nothing cached: %d %v", c.Status, c.Body)
	}
	admin(t, srv, creds.AdminKey, "DELETE", "/faults", nil, 204)
	if r := admin(t, srv, creds.AdminKey, "GET", "/faults", nil, 200); len(r.Body["faults"].([]any)) != 0 {
		t.Errorf("faults after DELETE: %v", r.Body)
	}
}

// Sequence numbers are taken at insert and become visible at commit, so the change log
// can show a later number before an earlier one. A follower that only reads past its
// highest number would miss the earlier change and serve the old stock until the TTL.
func TestChangeCommittedOutOfSequenceOrderReachesTheCache(t *testing.T) {
	eachERP(t, func(t *testing.T, e *erpTarget) {
		if e.db.Dialect().Name == "sqlite" {
			t.Skip("sqlite: one writer at a time, so changes commit in sequence order")
		}
		srv := e.start(t, "B2BRIDGE_CACHE_STOCK_TTL=60s", "B2BRIDGE_FOLLOW_INTERVAL=50ms")
		key := e.creds.Storefronts[0].Key
		available := func(sku string) float64 {
			r, err := call(context.Background(), "GET", srv.URL+"/v1/availability?sku="+sku, key, nil)
			if err != nil || r.Status != 200 {
				t.Fatalf("read %s: %v %v", sku, r.Body, err)
			}
			return r.Body["items"].([]any)[0].(map[string]any)["available"].(float64)
		}
		waitFor := func(sku string, want float64) {
			t.Helper()
			for start := time.Now(); available(sku) != want; time.Sleep(20 * time.Millisecond) {
				if time.Since(start) > 3*time.Second {
					t.Fatalf("%s: still %v after 3s, want %v", sku, available(sku), want)
				}
			}
		}
		available("BRG-00003") // both cached
		available("BRG-00001")
		early, err := e.db.Writer().Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer early.Rollback()
		if _, err := early.Exec(e.db.Rebind(`UPDATE stock SET on_hand = 700, reserved = 0 WHERE item_id = 3`)); err != nil {
			t.Fatal(err)
		}
		e.exec(t, `UPDATE stock SET on_hand = 300, reserved = 0 WHERE item_id = 1`) // a later number, committed first
		waitFor("BRG-00001", 900)                                                   // the follower has read past the early change's number
		if err := early.Commit(); err != nil {
			t.Fatal(err)
		}
		waitFor("BRG-00003", 2100)
	})
}
