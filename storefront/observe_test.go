package storefront

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
	"time"
)

// The hand-written access line says what slog's JSONHandler says of the same record,
// for plain values and for ones that need escaping.
func TestAccessLineIsWhatSlogWouldWrite(t *testing.T) {
	at := time.Date(2026, 11, 25, 2, 50, 1, 123456789, time.UTC)
	for _, r := range []Request{
		{ID: "a1b2", Method: "GET", Route: "/v1/availability", Status: 200, Duration: 1234 * time.Microsecond},
		{ID: "req-9", Method: "POST", Route: "/v1/accounts/:account/orders", Status: 201, Duration: time.Millisecond,
			Storefront: "north", Account: "C1001", OrderID: "42", OrderNumber: "SO-00000042", ERP: 700 * time.Microsecond},
		{ID: "x", Method: "GET", Route: "unmatched", Status: 404, Code: "not_found",
			Account: "a\"b\\c\x01d<é>\xff&", Storefront: "süd \n"},
	} {
		got := appendAccessLine(nil, at, r)
		var want bytes.Buffer
		rec := slog.NewRecord(at, slog.LevelInfo, "request", 0)
		rec.AddAttrs(slog.String("request_id", r.ID), slog.String("method", r.Method), slog.String("route", r.Route),
			slog.Int("status", r.Status), slog.Int64("latency_us", r.Duration.Microseconds()))
		for _, a := range [...]struct{ k, v string }{{"code", r.Code}, {"storefront", r.Storefront}, {"account", r.Account},
			{"order_id", r.OrderID}, {"order_number", r.OrderNumber}} {
			if a.v != "" {
				rec.AddAttrs(slog.String(a.k, a.v))
			}
		}
		if r.ERP > 0 {
			rec.AddAttrs(slog.Int64("erp_us", r.ERP.Microseconds()))
		}
		if err := slog.NewJSONHandler(&want, nil).Handle(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		var g, w map[string]any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%q: %v", got, err)
		}
		if err := json.Unmarshal(want.Bytes(), &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) || got[len(got)-1] != '\n' || bytes.Count(got, []byte("\n")) != 1 {
			t.Errorf("access line\n%s\nslog writes\n%s", got, want.Bytes())
		}
	}
}

// The access log's time is what time.RFC3339Nano writes, whatever the zone and the
// nanoseconds, from one call to the next within a second and across seconds.
func TestLogTimeIsRFC3339Nano(t *testing.T) {
	base := time.Date(2026, 12, 5, 23, 59, 59, 0, time.UTC)
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("IST", 5*3600+1800), time.FixedZone("BRT", -3*3600)}
	for i, ns := range []int{0, 1, 10, 120_000_000, 123_456_789, 999_999_999, 500_000_000, 0, 7} {
		for _, z := range zones {
			at := base.Add(time.Duration(i/3) * time.Second).Add(time.Duration(ns)).In(z)
			got, want := string(appendLogTime(nil, at)), at.Format(time.RFC3339Nano)
			if got != want {
				t.Errorf("%v: got %s, want %s", at, got, want)
			}
		}
	}
}
