package test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// injections are strings that would change a query if they were spliced into its text.
var injections = []string{
	`' OR '1'='1`,
	`'; DROP TABLE items; --`,
	`BRG-00001' UNION SELECT key_hash, key_hash FROM api_keys --`,
	`") OR 1=1 --`,
	`\'; UPDATE stock SET on_hand = 0; --`,
}

// SQL injection strings in every string field and query parameter reach the ERP only as
// bound parameters: each request is answered 4xx or normally, never 5xx, the ERP's
// data is as it was, and a PO number full of SQL is stored exactly as sent.
func TestInjectionStringsAreOnlyData(t *testing.T) {
	eachERP(t, func(t *testing.T, e *erpTarget) {
		srv := e.start(t)
		sf, adminKey := e.creds.Storefronts[0], e.creds.AdminKey
		account := sf.Accounts[0]
		fingerprint := func() string {
			var items, keys, stock, accounts int
			e.queryRow(t, `SELECT (SELECT COUNT(*) FROM items), (SELECT COUNT(*) FROM api_keys), (SELECT SUM(on_hand) FROM stock),
				(SELECT COUNT(*) FROM accounts) FROM items WHERE id = 1`, nil, &items, &keys, &stock, &accounts)
			return strings.Join([]string{itoa(items), itoa(keys), itoa(stock), itoa(accounts)}, "/")
		}
		before := fingerprint()
		ctx := context.Background()
		check := func(method, path, key string, body any, headers ...string) reply {
			t.Helper()
			r, err := call(ctx, method, srv.URL+path, key, body, headers...)
			if err != nil || r.Status >= 500 {
				t.Errorf("%s %s: %d %s %v", method, path, r.Status, r.Raw, err)
			}
			return r
		}
		for i, s := range injections {
			q := url.QueryEscape(s)
			p := url.PathEscape(s)
			check("GET", "/v1/availability?sku="+q+"&warehouse="+q, sf.Key, nil)
			check("GET", "/v1/accounts/"+account+"/prices?sku="+q+"&qty=1", sf.Key, nil)
			check("GET", "/v1/accounts/"+p+"/credit", sf.Key, nil)
			check("GET", "/v1/accounts/"+account+"/orders?cursor="+q, sf.Key, nil)
			check("GET", "/v1/accounts/"+account+"/orders/"+p, sf.Key, nil)
			check("POST", "/v1/accounts/"+account+"/quotes", sf.Key, order{ShipTo: s, Lines: []orderLine{{SKU: s, Qty: 1}}})
			check("GET", "/admin/v1/mappings/skus?prefix="+q+"&storefront="+q+"&erp_sku="+q, adminKey, nil)
			check("GET", "/admin/v1/mappings/skus/"+p+"?storefront="+q, adminKey, nil)
			check("POST", "/admin/v1/mappings/skus", adminKey, map[string]any{"sku": "INJ-" + itoa(i), "erp_sku": s, "unit": "EA", "factor": 1})
			r := check("POST", "/v1/accounts/"+account+"/orders", sf.Key, order{PONumber: s, Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}},
				"Idempotency-Key", s)
			if r.Status != 201 || r.Body["po_number"] != s {
				t.Errorf("order with PO number %q: %d %s", s, r.Status, r.Raw)
				continue
			}
			var stored string
			e.queryRow(t, `SELECT po_number FROM orders WHERE id = ?`, []any{r.Body["order_id"]}, &stored)
			if stored != s {
				t.Errorf("PO number stored as %q, sent %q", stored, s)
			}
		}
		e.exec(t, `UPDATE stock SET reserved = 0`) // the orders above reserved stock, legitimately
		if after := fingerprint(); after != before {
			t.Errorf("the ERP changed: %s before, %s after", before, after)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
