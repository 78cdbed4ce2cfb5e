package test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// placed is one order's answer, kept for comparing with the ERP afterwards.
type placed struct {
	status int
	code   string
	body   map[string]any
	err    error
}

// Truth rule 5 across processes: 200 concurrent orders from different accounts through
// two bridge processes on one ERP for an item with 37 units.
func TestConcurrentOrdersNeverOversellAcrossProcesses(t *testing.T) {
	eachERP(t, func(t *testing.T, e *erpTarget) {
		creds := e.creds
		e.exec(t, `UPDATE accounts SET credit_hold = 0, credit_limit = ?, exposure = 0`, e.amount(t, "100000000"))
		e.exec(t, `UPDATE stock SET on_hand = CASE warehouse WHEN 'WH-CENTRAL' THEN 37 ELSE 0 END, reserved = 0
			WHERE item_id = (SELECT id FROM items WHERE sku = 'BRG-00005')`)
		servers := []*server{e.start(t), e.start(t)}

		const n = 200
		qty := make([]int, n) // 150 orders of 1 and 50 of 2, shuffled
		for i := range qty {
			qty[i] = 1 + min(1, i/150)
		}
		rand.Shuffle(n, func(i, j int) { qty[i], qty[j] = qty[j], qty[i] })
		results := make([]placed, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				account := embedded.Account(1 + i%60)
				url := fmt.Sprintf("%s/v1/accounts/%s/orders", servers[i%2].URL, account)
				r, err := call(context.Background(), "POST", url, storefrontOf(t, creds, account),
					order{Lines: []orderLine{{SKU: "BRG-00005", Qty: qty[i]}}}, "Idempotency-Key", fmt.Sprint("oversell-", i))
				results[i] = placed{status: r.Status, body: r.Body, err: err}
				if code, ok := r.Body["code"].(string); ok {
					results[i].code = code
				}
			}(i)
		}
		wg.Wait()

		booked := map[string]placed{}
		units := 0
		for i, r := range results {
			switch {
			case r.err != nil:
				t.Errorf("order %d: %v", i, r.err)
			case r.status == 201:
				booked[r.body["order_id"].(string)] = r
				units += qty[i]
			case r.status == 409 && r.code == "insufficient_stock":
				line := r.body["lines"].([]any)[0].(map[string]any)
				if _, ok := line["available"]; !ok {
					t.Errorf("order %d: 409 without the available quantity: %v", i, r.body)
				}
			default:
				t.Errorf("order %d: %d %v", i, r.status, r.body)
			}
		}
		var avail int
		e.queryRow(t, `SELECT SUM(on_hand - reserved) FROM stock WHERE item_id = (SELECT id FROM items WHERE sku = 'BRG-00005')`, nil, &avail)
		if units != 37 || avail != 0 {
			t.Errorf("201s booked %d units and the ERP has %d left; want 37 and 0", units, avail)
		}

		// The set of 201 answers is the set of ERP orders: same ids, lines and totals.
		rows := e.query(t, `SELECT o.id, o.total, l.qty, l.unit_price, l.line_total FROM orders o JOIN order_lines l ON l.order_id = o.id`)
		defer rows.Close()
		inERP := 0
		for rows.Next() {
			var id string
			var total, unit, lineTotal decimal.Decimal
			var q int
			if err := rows.Scan(&id, sqlerp.MoneyScanner(&total), &q, sqlerp.MoneyScanner(&unit), sqlerp.MoneyScanner(&lineTotal)); err != nil {
				t.Fatal(err)
			}
			inERP++
			r, ok := booked[id]
			if !ok {
				t.Errorf("ERP order %s was never confirmed with a 201", id)
				continue
			}
			line := r.body["lines"].([]any)[0].(map[string]any)
			if !sameMoney(r.body["total"], total) || !sameMoney(line["unit_price"], unit) || !sameMoney(line["line_total"], lineTotal) ||
				int(line["qty"].(float64)) != q {
				t.Errorf("order %s: answered %v, ERP has total %s qty %d unit %s", id, r.body, total, q, unit)
			}
		}
		if inERP != len(booked) {
			t.Errorf("%d orders in the ERP, %d answered 201", inERP, len(booked))
		}
	})
}

// Truth rule 4 across processes: 20 concurrent requests with one key and body.
func TestConcurrentRetriesOfOneKeyAcrossProcesses(t *testing.T) {
	eachERP(t, func(t *testing.T, e *erpTarget) {
		servers := []*server{e.start(t), e.start(t)}
		sf := e.creds.Storefronts[0]
		body := order{PONumber: "PO-RETRY", Lines: []orderLine{{SKU: "BRG-00001", Qty: 3}, {SKU: "BRG-00002", Qty: 1}}}
		results := make([]reply, 20)
		errs := make([]error, 20)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				results[i], errs[i] = call(context.Background(), "POST", servers[i%2].URL+"/v1/accounts/"+sf.Accounts[0]+"/orders",
					sf.Key, body, "Idempotency-Key", "retry-me")
			}(i)
		}
		wg.Wait()
		created, replayed := 0, 0
		ids := map[any]bool{}
		for i, r := range results {
			switch {
			case errs[i] != nil:
				t.Fatalf("request %d: %v", i, errs[i])
			case r.Status == 201:
				created++
			case r.Status == 200 && r.Header.Get("Idempotent-Replayed") == "true":
				replayed++
			default:
				t.Errorf("request %d: %d %v", i, r.Status, r.Body)
			}
			ids[r.Body["order_id"]] = true
		}
		var n int
		e.queryRow(t, `SELECT COUNT(*) FROM orders WHERE po_number = 'PO-RETRY'`, nil, &n)
		if n != 1 || created != 1 || replayed != 19 || len(ids) != 1 {
			t.Errorf("%d ERP orders, %d created, %d replayed, %d distinct order ids; want 1, 1, 19, 1", n, created, replayed, len(ids))
		}
	})
}

// Truth rule 5 for credit, with the hold policy: excess orders are booked on hold.
func TestConcurrentOrdersOnCreditHoldPolicy(t *testing.T) {
	dir, creds, db := erpDir(t)
	account := creds.Storefronts[0].Accounts[0]
	mustExec(t, db, `UPDATE accounts SET credit_hold = 0, exposure = 0, credit_limit = 10000000 WHERE id = ?`, account) // 1,000.00
	mustExec(t, db, `DELETE FROM agreement_lines WHERE item_id = 1`)
	mustExec(t, db, `DELETE FROM price_list_entries WHERE item_id = 1`)
	mustExec(t, db, `UPDATE list_prices SET price = 1000000 WHERE item_id = 1`) // 100.00
	srv := startServer(t, dir, "B2BRIDGE_CREDIT_POLICY=hold")
	statuses := make([]string, 30)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := call(context.Background(), "POST", srv.URL+"/v1/accounts/"+account+"/orders", creds.Storefronts[0].Key,
				order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}, "Idempotency-Key", fmt.Sprint("credit-", i))
			if err != nil || r.Status != 201 {
				t.Errorf("order %d: %d %v %v", i, r.Status, r.Body, err)
				return
			}
			statuses[i] = r.Body["status"].(string)
		}(i)
	}
	wg.Wait()
	count := map[string]int{}
	for _, s := range statuses {
		count[s]++
	}
	var exposure, limit int64
	db.QueryRow(`SELECT exposure, credit_limit FROM accounts WHERE id = ?`, account).Scan(&exposure, &limit)
	if count["open"] != 10 || count["credit_hold"] != 20 || exposure != limit {
		t.Errorf("statuses %v, exposure %d of %d; want 10 open, 20 credit_hold, exposure at the limit", count, exposure, limit)
	}
	r, _ := call(context.Background(), "GET", srv.URL+"/v1/accounts/"+account+"/credit", creds.Storefronts[0].Key, nil)
	if r.Body["available"] != "0.00" || r.Body["exposure"] != "1000.00" {
		t.Errorf("credit after: %v", r.Body)
	}
}

// A refused order leaves nothing in the ERP, and the same key may then be retried.
func TestRefusedOrderLeavesNoTraceAndItsKeyStaysFree(t *testing.T) {
	dir, creds, db := erpDir(t)
	srv := startServer(t, dir)
	sf := creds.Storefronts[0]
	url := srv.URL + "/v1/accounts/" + sf.Accounts[0] + "/orders"
	snapshot := func() string {
		var s string
		db.QueryRow(`SELECT (SELECT COUNT(*) FROM orders) || '/' || (SELECT SUM(reserved) FROM stock) || '/' || (SELECT SUM(exposure) FROM accounts)`).Scan(&s)
		return s
	}
	before := snapshot()
	short := order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}, {SKU: "BRG-00002", Qty: 1}, {SKU: "BRG-00010", Qty: 1}}}
	r, err := call(context.Background(), "POST", url, sf.Key, short, "Idempotency-Key", "k-short")
	if err != nil || r.Status != 409 || r.Body["code"] != "insufficient_stock" {
		t.Fatalf("short order: %d %v %v", r.Status, r.Body, err)
	}
	if after := snapshot(); after != before {
		t.Errorf("ERP changed by a refused order: %s → %s", before, after)
	}
	ok := order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}
	if r, err := call(context.Background(), "POST", url, sf.Key, ok, "Idempotency-Key", "k-short"); err != nil || r.Status != 201 {
		t.Errorf("retry of a refused key with another body: %d %v %v", r.Status, r.Body, err)
	}
}

func TestHealthAndUnauthenticatedAccess(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		if r, err := call(context.Background(), "GET", srv.URL+path, "", nil); err != nil || r.Status != want {
			t.Errorf("%s: %d %v", path, r.Status, err)
		}
	}
	other := creds.Storefronts[1].Accounts[0]
	for key, want := range map[string]int{"": 401, "sk_wrong": 401, creds.AdminKey: 403, creds.Storefronts[0].Key: 403} {
		r, err := call(context.Background(), "GET", srv.URL+"/v1/accounts/"+other+"/credit", key, nil)
		if err != nil || r.Status != want || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("key %q: %d %q %v, want %d problem+json", key, r.Status, r.Header.Get("Content-Type"), err, want)
		}
	}
}
