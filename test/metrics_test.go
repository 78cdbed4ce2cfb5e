package test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the server's /metrics.
func scrape(t *testing.T, s *server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := client.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	return families
}

// value is the counter or gauge of the family with exactly these labels (0 if none).
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := families[name]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

// After a scripted set of requests, /metrics and the access log say exactly what was
// sent: requests by route template, method and status; orders placed, replayed and
// refused with their reason; the ERP's order calls by outcome; one JSON log line per
// request with its id, and the order's id and number where there is one.
func TestMetricsAndLogsMatchWhatWasSent(t *testing.T) {
	dir, creds, db := erpDir(t)
	srv := startServer(t, dir)
	sf := creds.Storefronts[0]
	acct := sf.Accounts[0]
	mustExec(t, db, `UPDATE stock SET on_hand = 0, reserved = 0 WHERE item_id = 4`)
	send := func(method, path, key string, body any, want int, headers ...string) reply {
		t.Helper()
		r, err := call(context.Background(), method, srv.URL+path, key, body, headers...)
		if err != nil || r.Status != want {
			t.Fatalf("%s %s: %d %s %v, want %d", method, path, r.Status, r.Raw, err, want)
		}
		return r
	}
	for range 3 {
		send("GET", "/v1/availability?sku=BRG-00001", sf.Key, nil, 200)
	}
	send("GET", "/v1/accounts/"+acct+"/prices?sku=BRG-00001&qty=1", sf.Key, nil, 200)
	cart := order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}
	placed := send("POST", "/v1/accounts/"+acct+"/orders", sf.Key, cart, 201, "Idempotency-Key", "metrics-1", "X-Request-ID", "script-order-1")
	send("POST", "/v1/accounts/"+acct+"/orders", sf.Key, cart, 200, "Idempotency-Key", "metrics-1")
	send("POST", "/v1/accounts/"+acct+"/orders", sf.Key, order{Lines: []orderLine{{SKU: "BRG-00004", Qty: 1}}}, 409, "Idempotency-Key", "metrics-2")
	send("GET", "/nowhere", sf.Key, nil, 404)
	send("GET", "/v1/availability?sku=BRG-00001", "", nil, 401)
	if got := placed.Header.Get("X-Request-Id"); got != "script-order-1" {
		t.Errorf("X-Request-ID sent as script-order-1, answered %q", got)
	}

	m := scrape(t, srv)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"b2bridge_http_requests_total", map[string]string{"route": "/v1/availability", "method": "GET", "status": "200"}, 3},
		{"b2bridge_http_requests_total", map[string]string{"route": "/v1/accounts/:account/prices", "method": "GET", "status": "200"}, 1},
		{"b2bridge_http_requests_total", map[string]string{"route": "/v1/accounts/:account/orders", "method": "POST", "status": "201"}, 1},
		{"b2bridge_http_requests_total", map[string]string{"route": "/v1/accounts/:account/orders", "method": "POST", "status": "200"}, 1},
		{"b2bridge_http_requests_total", map[string]string{"route": "/v1/accounts/:account/orders", "method": "POST", "status": "409"}, 1},
		{"b2bridge_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "status": "404"}, 1},
		{"b2bridge_http_requests_total", map[string]string{"route": "/v1", "method": "GET", "status": "401"}, 1},
		{"b2bridge_http_request_duration_seconds", map[string]string{"route": "/v1/availability", "method": "GET"}, 3},
		{"b2bridge_orders_total", map[string]string{"outcome": "placed", "reason": ""}, 1},
		{"b2bridge_orders_total", map[string]string{"outcome": "replayed", "reason": ""}, 1},
		{"b2bridge_orders_total", map[string]string{"outcome": "refused", "reason": "insufficient_stock"}, 1},
		{"b2bridge_erp_calls_total", map[string]string{"class": "order_writes", "outcome": "ok"}, 2},
		{"b2bridge_erp_calls_total", map[string]string{"class": "order_writes", "outcome": "refused"}, 1},
		// One at a time, each of the three orders that reached the ERP is a group of its own.
		{"b2bridge_erp_order_group_size", map[string]string{}, 3},
		{"b2bridge_erp_order_group_commit_seconds", map[string]string{}, 3},
		{"b2bridge_cache_hits_total", map[string]string{"cache": "stock"}, 2},
		{"b2bridge_http_requests_in_flight", map[string]string{}, 1}, // the scrape itself
		{"b2bridge_breaker_state", map[string]string{"class": "order_writes"}, 0},
	} {
		if got := value(m, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "b2bridge_change_log_lag_seconds", "b2bridge_cache_evictions_total",
		"b2bridge_cache_refreshes_total", "b2bridge_cache_refreshes_dropped_total"} {
		if m[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if f := m["b2bridge_erp_order_group_size"]; f == nil || f.Metric[0].Histogram.GetSampleSum() != 3 {
		t.Errorf("b2bridge_erp_order_group_size: %v, want 3 orders in all", f)
	}
	dashboardQueriesExist(t, m)

	srv.stop()
	var lines []map[string]any
	for _, l := range strings.Split(srv.stderr.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "request" {
			lines = append(lines, rec)
		}
	}
	count := map[string]int{}
	for _, l := range lines {
		count[fmt.Sprint(l["method"], " ", l["route"], " ", l["status"])]++
		if id, _ := l["request_id"].(string); id == "" {
			t.Errorf("a log line without a request id: %v", l)
		}
	}
	for line, want := range map[string]int{"GET /v1/availability 200": 3, "GET /v1/accounts/:account/prices 200": 1,
		"POST /v1/accounts/:account/orders 201": 1, "POST /v1/accounts/:account/orders 200": 1,
		"POST /v1/accounts/:account/orders 409": 1, "GET unmatched 404": 1, "GET /v1 401": 1, "GET /metrics 200": 1} {
		if count[line] != want {
			t.Errorf("%d log lines %q, want %d (all: %v)", count[line], line, want, count)
		}
	}
	if len(lines) != 10 {
		t.Errorf("%d request log lines for 10 requests", len(lines))
	}
	for _, l := range lines {
		if l["request_id"] == "script-order-1" {
			if l["order_id"] != placed.Body["order_id"] || l["order_number"] != placed.Body["erp_order_number"] || l["storefront"] != sf.Name ||
				l["account"] != acct {
				t.Errorf("the order's log line: %v; the order: %v", l, placed.Body)
			}
			// Its ERP time is the order transaction's, inside the request's latency.
			erpUS, _ := l["erp_us"].(float64)
			latencyUS, _ := l["latency_us"].(float64)
			if erpUS <= 0 || erpUS > latencyUS {
				t.Errorf("the order's log line has erp_us %v and latency_us %v; want 0 < erp_us <= latency_us", l["erp_us"], l["latency_us"])
			}
			return
		}
	}
	t.Error("no log line carries the request id the client sent")
}

var metricName = regexp.MustCompile(`\b(?:b2bridge|go|process)_[a-z_]+\b`)

// dashboardQueriesExist checks that every metric the Grafana dashboard queries is one
// the server exposes: a renamed metric would leave a panel silently empty.
func dashboardQueriesExist(t *testing.T, scraped map[string]*dto.MetricFamily) {
	t.Helper()
	b, err := os.ReadFile("../deploy/grafana/dashboards/b2bridge.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	queried := 0
	for _, p := range dash.Panels {
		for _, q := range p.Targets {
			for _, name := range metricName.FindAllString(q.Expr, -1) {
				queried++
				family := name
				for _, series := range []string{"_bucket", "_sum", "_count"} { // a histogram's series
					if f, ok := strings.CutSuffix(name, series); ok && scraped[f] != nil {
						family = f
					}
				}
				if scraped[family] == nil {
					t.Errorf("dashboard panel %q queries %s, which /metrics does not expose", p.Title, name)
				}
			}
		}
	}
	if queried < 10 {
		t.Errorf("the dashboard queries %d metrics: its panels were not read", queried)
	}
}
