package test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/loadtest"
)

func loadCredentials(t *testing.T, dir string) loadtest.Credentials {
	t.Helper()
	c, err := loadtest.ReadCredentials(filepath.Join(dir, embedded.CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The load tool against the embedded ERP with faults injected (latency, errors, every
// order's reply lost after its commit): its audit finds no divergence, and what it
// counts by status is what the server's metrics count.
func TestLoadtestUnderFaults(t *testing.T) {
	dir, creds, _ := erpDir(t)
	// Every new order's reply is lost, a failure to the order breaker until the look-up
	// that finds it. On a loaded machine five such replies can come in a row, and a breaker
	// open for its default 5 s would refuse the rest of this 3 s run: it probes again soon.
	srv := startServer(t, dir, "B2BRIDGE_BREAKER_OPEN_FOR=250ms")
	for _, f := range []map[string]any{
		{"class": "order_writes", "latency_ms": 1, "jitter_ms": 3, "error_rate": 0.1, "fail_after_commit": true},
		{"class": "stock_reads", "latency_ms": 1, "jitter_ms": 2, "error_rate": 0.02},
	} {
		admin(t, srv, creds.AdminKey, "PUT", "/faults", f, 200)
	}
	res, err := loadtest.Run(context.Background(), loadtest.Config{Target: srv.URL, Creds: loadCredentials(t, dir),
		Duration: 3 * time.Second, Rate: 150, Mix: loadtest.Mix{loadtest.Read: 50, loadtest.Quote: 10, loadtest.Order: 40}, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	var summary strings.Builder
	res.WriteSummary(&summary)
	t.Log("\n" + summary.String())
	if n := len(res.Audit.Divergences); n != 0 || !strings.HasSuffix(summary.String(), "divergence: 0\n") {
		t.Errorf("%d divergences under faults", n)
	}
	var page strings.Builder
	if err := res.WriteReport(&page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	if strings.Count(html, "<svg") != 3 || strings.Count(html, "<polyline") < 5 || !strings.Contains(html, "divergence: 0") ||
		strings.Contains(html, "<script") || strings.Contains(html, "src=") || strings.Contains(html, "href=") {
		t.Errorf("the report is not one self-contained page with three charts and the audit:\n%.2000s", html)
	}
	if res.Orders.Confirmed < 10 || res.Orders.Retries == 0 || res.Late != 0 {
		t.Errorf("orders %+v, %d late: the run did not exercise the order path under faults", res.Orders, res.Late)
	}

	m := scrape(t, srv)
	served := func(route, method, status string) int {
		return int(value(m, "b2bridge_http_requests_total", map[string]string{"route": route, "method": method, "status": status}))
	}
	for kind, routes := range map[loadtest.Kind][][2]string{
		loadtest.Read:  {{"/v1/availability", "GET"}, {"/v1/accounts/:account/prices", "GET"}, {"/v1/accounts/:account/credit", "GET"}},
		loadtest.Quote: {{"/v1/accounts/:account/quotes", "POST"}},
		loadtest.Order: {{"/v1/accounts/:account/orders", "POST"}},
	} {
		byStatus := map[string]int{}
		for label, n := range res.Answers[kind] {
			status, _, _ := strings.Cut(label, " ")
			byStatus[status] += n
		}
		if byStatus["error"] != 0 {
			t.Errorf("%s: %d requests without an answer", kind, byStatus["error"])
		}
		for _, r := range routes {
			if served(r[0], r[1], "200")+served(r[0], r[1], "201") == 0 {
				t.Errorf("%s: no %s %s answered 2xx: the run did not send it", kind, r[1], r[0])
			}
		}
		for _, status := range []int{200, 201, 409, 422, 503} {
			s, want := strconv.Itoa(status), 0
			for _, r := range routes {
				want += served(r[0], r[1], s)
			}
			if byStatus[s] != want {
				t.Errorf("%s answered %s: %d counted by the load tool, %d by the server", kind, s, byStatus[s], want)
			}
		}
	}
}

// The audit can fail: an order the ERP lost, one whose total changed, and one the run
// was never told about are each reported.
func TestLoadtestAuditFindsDivergence(t *testing.T) {
	dir, creds, db := erpDir(t)
	srv := startServer(t, dir)
	sf := creds.Storefronts[0]
	outside, err := call(context.Background(), "POST", srv.URL+"/v1/accounts/"+sf.Accounts[0]+"/orders", sf.Key,
		order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}, "Idempotency-Key", "not-the-run")
	if err != nil || outside.Status != 201 {
		t.Fatalf("an order outside the run: %d %v", outside.Status, err)
	}
	lc := loadCredentials(t, dir)
	lc.Storefronts = lc.Storefronts[:1]
	lc.SKUs = []string{"BRG-00001", "BRG-00002", "BRG-00003"} // in stock: orders are booked
	res, err := loadtest.Run(context.Background(), loadtest.Config{Target: srv.URL, Creds: lc, Duration: time.Second, Rate: 40,
		Mix: loadtest.Mix{loadtest.Order: 1}, Seed: 3, RunID: "LTAUDIT"})
	if err != nil || len(res.Audit.Divergences) != 0 || res.Orders.Confirmed < 3 {
		t.Fatalf("the run itself: %+v %+v %v", res.Orders, res.Audit, err)
	}
	var lost, changed string
	rows, err := db.Query(`SELECT id FROM orders WHERE po_number LIKE 'LTAUDIT-%' ORDER BY id LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*string{&lost, &changed} {
		rows.Next()
		rows.Scan(p)
	}
	rows.Close()
	mustExec(t, db, `DELETE FROM order_lines WHERE order_id = ?`, lost)
	mustExec(t, db, `DELETE FROM orders WHERE id = ?`, lost)
	mustExec(t, db, `UPDATE orders SET total = total + 100 WHERE id = ?`, changed)
	mustExec(t, db, `UPDATE orders SET po_number = 'LTAUDIT-999999' WHERE id = ?`, outside.Body["order_id"])

	audit, err := res.AuditAgain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"order " + lost + " was confirmed and is not in the ERP", "order " + changed + " total",
		"LTAUDIT-999999: order " + outside.Body["order_id"].(string) + " is in the ERP and the run was never told about it"}
	if len(audit.Divergences) != len(want) {
		t.Fatalf("divergences %q, want %d", audit.Divergences, len(want))
	}
	for _, w := range want {
		found := false
		for _, d := range audit.Divergences {
			found = found || strings.Contains(d, w)
		}
		if !found {
			t.Errorf("no divergence says %q: %q", w, audit.Divergences)
		}
	}
}
