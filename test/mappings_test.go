package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// send is a request with a raw body; the reply's JSON is decoded when it is JSON.
func send(t *testing.T, method, url, key, contentType, body string, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := reply{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("%s %s: %q: %v", method, url, raw, err)
		}
	}
	return out
}

// get is a GET that must answer 200.
func get(t *testing.T, url, key string) map[string]any {
	t.Helper()
	r, err := call(context.Background(), "GET", url, key, nil)
	if err != nil || r.Status != 200 {
		t.Fatalf("GET %s: %d %s %v", url, r.Status, r.Raw, err)
	}
	return r.Body
}

func firstLine(body map[string]any, field string) map[string]any {
	return body[field].([]any)[0].(map[string]any)
}

func mustDecimal(t *testing.T, v any) decimal.Decimal {
	t.Helper()
	d, err := decimal.Parse(fmt.Sprint(v))
	if err != nil {
		t.Fatalf("%v: %v", v, err)
	}
	return d
}

// A box of 12 end to end on the real binary: availability, price and order in boxes
// agree with the ERP's pieces, and the order answers in boxes from the ERP afterwards.
func TestBoxOfTwelveAgreesWithTheERPsPieces(t *testing.T) {
	eachERP(t, func(t *testing.T, e *erpTarget) {
		e.exec(t, `UPDATE accounts SET credit_hold = 0, credit_limit = ?, exposure = 0`, e.amount(t, "100000000"))
		e.exec(t, `UPDATE stock SET on_hand = CASE warehouse WHEN 'WH-CENTRAL' THEN 100 ELSE 0 END, reserved = 0
			WHERE item_id = (SELECT id FROM items WHERE sku = 'BRG-00001')`)
		srv := e.start(t)
		sf := e.creds.Storefronts[0]
		account := sf.Accounts[0]
		v1 := srv.URL + "/v1"

		avail := get(t, v1+"/availability?sku=BRG-00001-BOX12&sku=BRG-00001", sf.Key)
		box, piece := avail["items"].([]any)[0].(map[string]any), avail["items"].([]any)[1].(map[string]any)
		if box["sku"] != "BRG-00001-BOX12" || box["unit"] != "BOX12" || box["available"] != 8.0 || piece["available"] != 100.0 {
			t.Fatalf("availability: box %v, piece %v; want 8 BOX12 (100 pieces ÷ 12, rounded down) and 100", box, piece)
		}

		// The price of 3 boxes is the ERP's price of 36 pieces, times 12.
		pieces := firstLine(get(t, v1+"/accounts/"+account+"/prices?sku=BRG-00001&qty=36", sf.Key), "lines")
		boxes := firstLine(get(t, v1+"/accounts/"+account+"/prices?sku=BRG-00001-BOX12&qty=3", sf.Key), "lines")
		unit := mustDecimal(t, pieces["unit_price"])
		perBox, _ := unit.Mul(decimal.MustNew(12, 0))
		if got := mustDecimal(t, boxes["unit_price"]); got.Cmp(perBox) != 0 || boxes["qty"] != 3.0 {
			t.Fatalf("3 boxes priced %v, want the ERP's %s × 12 = %s", boxes, unit, perBox)
		}

		r, err := call(context.Background(), "POST", v1+"/accounts/"+account+"/orders", sf.Key,
			order{Lines: []orderLine{{SKU: "BRG-00001-BOX12", Qty: 3, UnitPrice: perBox.String()}}}, "Idempotency-Key", "boxes-1")
		if err != nil || r.Status != 201 {
			t.Fatalf("order of 3 boxes: %d %s %v", r.Status, r.Raw, err)
		}
		line := firstLine(r.Body, "lines")
		wantTotal, _ := unit.Mul(decimal.MustNew(36, 0))
		wantTotal = wantTotal.Round(2) // rounded once, on the ERP's pieces
		if line["sku"] != "BRG-00001-BOX12" || line["qty"] != 3.0 || mustDecimal(t, line["unit_price"]).Cmp(perBox) != 0 ||
			mustDecimal(t, line["line_total"]).Cmp(wantTotal) != 0 {
			t.Errorf("order line %v; want 3 × BRG-00001-BOX12 at %s, total %s", line, perBox, wantTotal)
		}

		// In the ERP: 36 pieces reserved, the line booked in pieces at the piece price.
		var reserved, qty, factor int
		var erpUnit, erpTotal decimal.Decimal
		var orderedSKU string
		e.queryRow(t, `SELECT SUM(reserved) FROM stock WHERE item_id = (SELECT id FROM items WHERE sku = 'BRG-00001')`, nil, &reserved)
		e.queryRow(t, `SELECT qty, unit_price, line_total, ordered_sku, factor FROM order_lines WHERE order_id = ?`,
			[]any{r.Body["order_id"]}, &qty, sqlerp.MoneyScanner(&erpUnit), sqlerp.MoneyScanner(&erpTotal), &orderedSKU, &factor)
		if reserved != 36 || qty != 36 || erpUnit.Cmp(unit) != 0 || erpTotal.Cmp(wantTotal) != 0 || orderedSKU != "BRG-00001-BOX12" || factor != 12 {
			t.Errorf("ERP: reserved %d, line %d × %s = %s as %s × %d; want 36 reserved, 36 × %s = %s as BRG-00001-BOX12 × 12",
				reserved, qty, erpUnit, erpTotal, orderedSKU, factor, unit, wantTotal)
		}

		// History answers in the units ordered; availability sees the order at once.
		hist := firstLine(get(t, v1+"/accounts/"+account+"/orders/"+r.Body["order_id"].(string), sf.Key), "lines")
		if hist["sku"] != "BRG-00001-BOX12" || hist["qty"] != 3.0 || mustDecimal(t, hist["unit_price"]).Cmp(perBox) != 0 {
			t.Errorf("order read back as %v; want 3 × BRG-00001-BOX12 at %s", hist, perBox)
		}
		avail = get(t, v1+"/availability?sku=BRG-00001-BOX12", sf.Key)
		if got := avail["items"].([]any)[0].(map[string]any)["available"]; got != 5.0 {
			t.Errorf("after the order: %v boxes available, want 5 (64 pieces)", got)
		}

		// A quote in boxes says what is left in boxes.
		q, err := call(context.Background(), "POST", v1+"/accounts/"+account+"/quotes", sf.Key,
			order{Lines: []orderLine{{SKU: "BRG-00001-BOX12", Qty: 6}}})
		ql := firstLine(q.Body, "lines")
		if err != nil || q.Status != 200 || ql["problem"] != "insufficient_stock" || ql["available"] != 5.0 || ql["sku"] != "BRG-00001-BOX12" {
			t.Errorf("quote of 6 boxes: %d %v %v; want insufficient_stock with 5 available", q.Status, q.Body, err)
		}
		// So does the refusal of an order.
		r, _ = call(context.Background(), "POST", v1+"/accounts/"+account+"/orders", sf.Key,
			order{Lines: []orderLine{{SKU: "BRG-00001-BOX12", Qty: 6}}}, "Idempotency-Key", "boxes-2")
		if r.Status != 409 || firstLine(r.Body, "lines")["available"] != 5.0 || firstLine(r.Body, "lines")["sku"] != "BRG-00001-BOX12" {
			t.Errorf("order of 6 boxes: %d %s; want 409 with 5 boxes available", r.Status, r.Raw)
		}
	})
}

// A storefront addresses an account by its own customer id or the ERP's; the answer
// names both, and a customer id of another storefront gets nothing.
func TestCustomerIDsAddressTheirAccount(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir)
	north, south := creds.Storefronts[0], creds.Storefronts[1]
	for _, id := range []string{"acme-gmbh", north.Accounts[0]} {
		c := get(t, srv.URL+"/v1/accounts/"+id+"/credit", north.Key)
		if c["account"] != north.Accounts[0] || c["customer"] != "acme-gmbh" {
			t.Errorf("credit of %s: %v; want account %s, customer acme-gmbh", id, c, north.Accounts[0])
		}
	}
	r, _ := call(context.Background(), "GET", srv.URL+"/v1/accounts/acme-gmbh/credit", south.Key, nil)
	if r.Status != 403 {
		t.Errorf("south-shop asking for north-shop's customer: %d %s, want 403", r.Status, r.Raw)
	}
	// One order, whichever id placed it: the idempotency reference names the ERP account.
	var ids []any
	for _, id := range []string{"acme-gmbh", north.Accounts[0]} {
		r, err := call(context.Background(), "POST", srv.URL+"/v1/accounts/"+id+"/orders", north.Key,
			order{Lines: []orderLine{{SKU: "BRG-00002", Qty: 1}}}, "Idempotency-Key", "by-customer-id")
		if err != nil || (r.Status != 201 && r.Status != 200) {
			t.Fatalf("order as %s: %d %s %v", id, r.Status, r.Raw, err)
		}
		ids = append(ids, r.Body["order_id"])
	}
	if ids[0] != ids[1] {
		t.Errorf("the same key through the customer id and the account booked two orders: %v", ids)
	}
}

// Truth rule 5 through mappings: concurrent orders for one item through its piece SKU
// and its box of 12, from two bridge processes, never reserve more than the ERP has;
// and one account's concurrent orders through both never pass its credit limit.
func TestTwoSKUsOfOneItemNeverOversellOrOverspend(t *testing.T) {
	eachERP(t, func(t *testing.T, e *erpTarget) {
		e.exec(t, `UPDATE accounts SET credit_hold = 0, credit_limit = ?, exposure = 0`, e.amount(t, "100000000"))
		e.exec(t, `UPDATE stock SET on_hand = CASE warehouse WHEN 'WH-CENTRAL' THEN 100 ELSE 0 END, reserved = 0
			WHERE item_id = (SELECT id FROM items WHERE sku = 'BRG-00001')`)
		servers := []*server{e.start(t), e.start(t)}
		const n = 60
		pieces := make([]int, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				account := embedded.Account(1 + i%60)
				line, per := orderLine{SKU: "BRG-00001-BOX12", Qty: 1}, 12
				if i%2 == 1 {
					line, per = orderLine{SKU: "BRG-00001", Qty: 7}, 1
				}
				r, err := call(context.Background(), "POST", fmt.Sprintf("%s/v1/accounts/%s/orders", servers[i%2].URL, account),
					storefrontOf(t, e.creds, account), order{Lines: []orderLine{line}}, "Idempotency-Key", fmt.Sprint("two-skus-", i))
				switch {
				case err != nil:
					t.Errorf("order %d: %v", i, err)
				case r.Status == 201:
					pieces[i] = line.Qty * per
				case r.Status != 409:
					t.Errorf("order %d: %d %s", i, r.Status, r.Raw)
				}
			}(i)
		}
		wg.Wait()
		booked := 0
		for _, p := range pieces {
			booked += p
		}
		var reserved, left int
		e.queryRow(t, `SELECT SUM(reserved), SUM(on_hand - reserved) FROM stock WHERE item_id = (SELECT id FROM items WHERE sku = 'BRG-00001')`,
			nil, &reserved, &left)
		if booked != reserved || left < 0 || booked > 100 || left >= 7 {
			t.Errorf("201s booked %d pieces, the ERP reserved %d and has %d left; want equal, ≤ 100, and fewer than 7 left", booked, reserved, left)
		}

		// Credit: one account, a limit of a few orders, orders through both SKUs at once.
		account := e.creds.Storefronts[0].Accounts[1]
		key := e.creds.Storefronts[0].Key
		e.exec(t, `UPDATE stock SET on_hand = 100000, reserved = 0 WHERE item_id = (SELECT id FROM items WHERE sku = 'BRG-00001')`)
		price := mustDecimal(t, firstLine(get(t, servers[0].URL+"/v1/accounts/"+account+"/prices?sku=BRG-00001&qty=12", key), "lines")["unit_price"])
		box, _ := price.Mul(decimal.MustNew(12, 0))
		limit, _ := box.Mul(decimal.MustNew(5, 0)) // five boxes' worth
		e.exec(t, `UPDATE accounts SET credit_limit = ?, exposure = 0 WHERE id = ?`, e.amount(t, limit.Round(2).String()), account)
		totals := make([]decimal.Decimal, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				line := orderLine{SKU: "BRG-00001-BOX12", Qty: 1}
				if i%2 == 1 {
					line = orderLine{SKU: "BRG-00001", Qty: 12}
				}
				r, err := call(context.Background(), "POST", servers[i%2].URL+"/v1/accounts/"+account+"/orders", key,
					order{Lines: []orderLine{line}}, "Idempotency-Key", fmt.Sprint("credit-two-skus-", i))
				switch {
				case err != nil:
					t.Errorf("order %d: %v", i, err)
				case r.Status == 201:
					totals[i] = mustDecimal(t, r.Body["total"])
				case r.Status != 422 || r.Body["code"] != "credit_limit_exceeded":
					t.Errorf("order %d: %d %s", i, r.Status, r.Raw)
				}
			}(i)
		}
		wg.Wait()
		sum := decimal.Zero
		for _, tot := range totals {
			sum, _ = sum.Add(tot)
		}
		var exposure, erpLimit decimal.Decimal
		e.queryRow(t, `SELECT exposure, credit_limit FROM accounts WHERE id = ?`, []any{account},
			sqlerp.MoneyScanner(&exposure), sqlerp.MoneyScanner(&erpLimit))
		if exposure.Cmp(sum) != 0 || exposure.Cmp(erpLimit) > 0 {
			t.Errorf("201s total %s, the ERP's exposure is %s against a limit of %s; want equal and within it", sum, exposure, erpLimit)
		}
	})
}

// An ERP admin's tools: CSV export, import and dry run, all or nothing, with a report
// naming every bad row; ETags that stop two admins overwriting each other; the audit
// trail; keys that reach only their own API; and a change that reaches another replica
// through the change log.
func TestMappingAdminAPI(t *testing.T) {
	eachERP(t, func(t *testing.T, e *erpTarget) {
		srv := e.start(t)
		replica := e.start(t, "B2BRIDGE_FOLLOW_INTERVAL=100ms")
		adminKey, sf := e.creds.AdminKey, e.creds.Storefronts[0]
		skus := srv.URL + "/admin/v1/mappings/skus"
		export := func() string {
			t.Helper()
			r := send(t, "GET", skus, adminKey, "", "", "Accept", "text/csv")
			if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("export: %d %s", r.Status, r.Raw)
			}
			return r.Raw
		}

		// Round trip: export → import → export is byte-identical.
		first := export()
		if !strings.HasPrefix(first, "storefront,sku,erp_sku,unit,factor,updated_at\n") || !strings.Contains(first, ",BRG-00001-BOX12,BRG-00001,BOX12,12,") {
			t.Fatalf("export:\n%s", first)
		}
		r := send(t, "PUT", skus, adminKey, "text/csv", first)
		if r.Status != 200 || r.Body["unchanged"] != 5.0 || r.Body["created"] != 0.0 || r.Body["changed"] != 0.0 || r.Body["deleted"] != 0.0 {
			t.Fatalf("import of the export: %d %s; want 5 unchanged", r.Status, r.Raw)
		}
		if again := export(); again != first {
			t.Fatalf("export → import → export differs:\n%s\n---\n%s", first, again)
		}

		// Regions and customers round-trip too.
		for _, kind := range []string{"regions", "customers"} {
			url := srv.URL + "/admin/v1/mappings/" + kind
			csv := send(t, "GET", url, adminKey, "", "", "Accept", "text/csv").Raw
			r := send(t, "PUT", url, adminKey, "text/csv", csv)
			if r.Status != 200 || r.Body["unchanged"] != 3.0 || send(t, "GET", url, adminKey, "", "", "Accept", "text/csv").Raw != csv {
				t.Errorf("%s round trip: %d %s\n%s", kind, r.Status, r.Raw, csv)
			}
		}

		// Every bad row is named with its line, and nothing changes.
		bad := "storefront,sku,erp_sku,unit,factor\n" +
			",OK-1,BRG-00005,EA,1\n" + // 2: fine
			",NOPE-1,NO-SUCH-ITEM,EA,1\n" + // 3: unknown ERP item
			",OK-1,BRG-00006,EA,1\n" + // 4: duplicate
			",HALF,BRG-00007,EA,1.5\n" + // 5: factor not a whole number
			",ZERO,BRG-00007,EA,0\n" + // 6: factor not positive
			",BAD\xff,BRG-00007,EA,2\n" + // 7: not UTF-8
			",SHORT,BRG-00007\n" // 8: too few fields
		r = send(t, "PUT", skus, adminKey, "text/csv", bad)
		if r.Status != 422 || r.Body["code"] != "invalid_mappings" {
			t.Fatalf("bad import: %d %s; want 422 invalid_mappings", r.Status, r.Raw)
		}
		var lines []int
		for _, rf := range r.Body["report"].(map[string]any)["refused"].([]any) {
			lines = append(lines, int(rf.(map[string]any)["line"].(float64)))
		}
		if fmt.Sprint(lines) != "[3 4 5 6 7 8]" {
			t.Errorf("refused lines %v, want [3 4 5 6 7 8]: %s", lines, r.Raw)
		}
		if got := export(); got != first {
			t.Errorf("a refused import changed the mappings:\n%s", got)
		}
		r = send(t, "PUT", skus, adminKey, "text/csv", "sku,erp_sku,factor,colour\nA,B,1,red\n")
		if r.Status != 422 || !strings.Contains(r.Raw, `"line":1`) || !strings.Contains(r.Raw, "wrong header") {
			t.Errorf("wrong header: %d %s", r.Status, r.Raw)
		}

		// A dry run reports what it would create, change and delete, and changes nothing.
		edited := strings.Replace(first, ",BRG-00002-BOX10,BRG-00002,BOX10,10,", ",BRG-00002-BOX10,BRG-00002,BOX20,20,", 1)
		edited = strings.Join(slicesDelete(strings.Split(edited, "\n"), "BRG-00003-BOX50"), "\n") + "\n,BRG-00005-BOX6,BRG-00005,BOX6,6,\n"
		r = send(t, "PUT", skus+"?dry_run=true", adminKey, "text/csv", edited)
		if r.Status != 200 || r.Body["dry_run"] != true || r.Body["created"] != 1.0 || r.Body["changed"] != 1.0 || r.Body["deleted"] != 1.0 ||
			!strings.Contains(r.Raw, `"sku":"BRG-00003-BOX50"`) || !strings.Contains(r.Raw, `"rows":[{"line":4,"action":"change"},{"line":6,"action":"create"}]`) {
			t.Fatalf("dry run: %d %s; want 1 created, 1 changed, 1 deleted (BRG-00003-BOX50)", r.Status, r.Raw)
		}
		if got := export(); got != first {
			t.Errorf("a dry run changed the mappings:\n%s", got)
		}
		r = send(t, "PUT", skus, adminKey, "text/csv", edited)
		if r.Status != 200 || r.Body["created"] != 1.0 || r.Body["changed"] != 1.0 || r.Body["deleted"] != 1.0 {
			t.Fatalf("import: %d %s", r.Status, r.Raw)
		}
		// The storefront sees it at once here, and on the replica through the change log.
		for _, s := range []*server{srv, replica} {
			deadline := time.Now().Add(5 * time.Second)
			for {
				item := get(t, s.URL+"/v1/availability?sku=BRG-00005-BOX6&sku=BRG-00003-BOX50", sf.Key)["items"].([]any)
				if item[0].(map[string]any)["unit"] == "BOX6" && item[1].(map[string]any)["error"] == "unknown_sku" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s still answers %v five seconds after the import", s.URL, item)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}

		// Two admins update one mapping with the same ETag: one wins, the other gets 412.
		one := skus + "/BRG-00002-BOX10"
		got := send(t, "GET", one, adminKey, "", "")
		etag := got.Header.Get("ETag")
		if got.Status != 200 || etag == "" || got.Body["factor"] != 20.0 {
			t.Fatalf("get: %d %s %q", got.Status, got.Raw, etag)
		}
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				body := fmt.Sprintf(`{"erp_sku":"BRG-00002","unit":"BOX%d","factor":%d}`, 30+i, 30+i)
				statuses[i] = send(t, "PUT", one, adminKey, "application/json", body, "If-Match", etag).Status
			}(i)
		}
		wg.Wait()
		if !(statuses[0] == 200 && statuses[1] == 412 || statuses[0] == 412 && statuses[1] == 200) {
			t.Errorf("two updates with one ETag answered %v, want one 200 and one 412", statuses)
		}
		if r := send(t, "PUT", one, adminKey, "application/json", `{"erp_sku":"BRG-00002","unit":"BOX9","factor":9}`); r.Status != 428 {
			t.Errorf("update without If-Match: %d %s, want 428", r.Status, r.Raw)
		}
		if r := send(t, "POST", skus, adminKey, "application/json", `{"sku":"BRG-00002-BOX10","erp_sku":"BRG-00002","unit":"BOX9","factor":9}`); r.Status != 409 {
			t.Errorf("create of an existing mapping: %d %s, want 409", r.Status, r.Raw)
		}
		if r := send(t, "POST", skus, adminKey, "application/json", `{"sku":"X-1","erp_sku":"BRG-00002","unit":"BOX","factor":3,"colour":1}`); r.Status != 400 {
			t.Errorf("create with an unknown field: %d %s, want 400", r.Status, r.Raw)
		}
		created := send(t, "POST", skus, adminKey, "application/json", `{"storefront":"north-shop","sku":"X-1","erp_sku":"BRG-00002","unit":"BOX","factor":3}`)
		if created.Status != 201 || created.Header.Get("Location") != "/admin/v1/mappings/skus/X-1?storefront=north-shop" {
			t.Fatalf("create: %d %s %v", created.Status, created.Raw, created.Header)
		}
		del := send(t, "DELETE", srv.URL+created.Header.Get("Location"), adminKey, "", "", "If-Match", created.Header.Get("ETag"))
		if del.Status != 204 || send(t, "GET", srv.URL+created.Header.Get("Location"), adminKey, "", "").Status != 404 {
			t.Errorf("delete: %d %s", del.Status, del.Raw)
		}

		// The audit trail: who, when, before and after, for API changes and imports.
		audit := get(t, srv.URL+"/admin/v1/mappings/audit?kind=skus&limit=3", adminKey)
		entries := audit["entries"].([]any)
		last := entries[0].(map[string]any)
		if len(entries) != 3 || last["source"] != "api" || last["after"] != nil || last["before"].(map[string]any)["sku"] != "X-1" ||
			!strings.HasPrefix(last["actor"].(string), "key:") || audit["next_cursor"] == nil {
			t.Errorf("audit: %v", audit)
		}
		all := get(t, srv.URL+"/admin/v1/mappings/audit?kind=skus&limit=1000", adminKey)["entries"].([]any)
		csvEntries := 0
		for _, e := range all {
			if e.(map[string]any)["source"] == "csv" {
				csvEntries++
			}
		}
		if csvEntries != 3 {
			t.Errorf("%d audit entries from CSV imports, want 3 (one created, one changed, one deleted)", csvEntries)
		}

		// Keys reach their own API only.
		if r, _ := call(context.Background(), "GET", skus, sf.Key, nil); r.Status != 403 {
			t.Errorf("storefront key on the admin API: %d", r.Status)
		}
		if r, _ := call(context.Background(), "PUT", skus, sf.Key, nil); r.Status != 403 {
			t.Errorf("storefront key importing mappings: %d", r.Status)
		}
		r2, _ := call(context.Background(), "POST", srv.URL+"/v1/accounts/"+sf.Accounts[0]+"/orders", adminKey,
			order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}, "Idempotency-Key", "admin-order")
		if r2.Status != 403 {
			t.Errorf("admin key placing an order: %d %s", r2.Status, r2.Raw)
		}
	})
}

// Strict mappings: only mapped SKUs exist for storefronts, on every path.
func TestStrictMappingsHideUnmappedSKUs(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir, "B2BRIDGE_MAPPINGS_STRICT=true")
	sf := creds.Storefronts[0]
	items := get(t, srv.URL+"/v1/availability?sku=BRG-00001&sku=BRG-00001-BOX12", sf.Key)["items"].([]any)
	if items[0].(map[string]any)["error"] != "unknown_sku" || items[1].(map[string]any)["unit"] != "BOX12" {
		t.Errorf("strict availability: %v", items)
	}
	r, _ := call(context.Background(), "POST", srv.URL+"/v1/accounts/"+sf.Accounts[0]+"/orders", sf.Key,
		order{Lines: []orderLine{{SKU: "BRG-00001-BOX12", Qty: 1}, {SKU: "BRG-00001", Qty: 1}}}, "Idempotency-Key", "strict")
	if r.Status != 422 || r.Body["code"] != "unknown_sku" || len(r.Body["lines"].([]any)) != 1 ||
		firstLine(r.Body, "lines")["sku"] != "BRG-00001" || firstLine(r.Body, "lines")["line"] != 2.0 {
		t.Errorf("strict order with an unmapped SKU: %d %s", r.Status, r.Raw)
	}
}

func slicesDelete(lines []string, containing string) []string {
	var out []string
	for _, l := range lines {
		if l != "" && !strings.Contains(l, containing) {
			out = append(out, l)
		}
	}
	return out
}
