package test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Tracing is off unless the standard OTEL_* variables ask for it; with an OTLP endpoint,
// the real binary exports its spans there over OTLP/HTTP, under the service name given.
func TestTracesExportOverOTLP(t *testing.T) {
	var mu sync.Mutex
	spans := map[string]string{} // span name → service name
	received := 0
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rs := range req.ResourceSpans {
			service := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					spans[s.Name] = service
					received++
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(nil)
	}))
	defer collector.Close()

	dir, creds, _ := erpDir(t)
	untraced := startServer(t, dir)
	traced := startServer(t, dir, "OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL, "OTEL_SERVICE_NAME=b2bridge-test")
	for _, s := range []*server{untraced, traced} {
		if r, err := call(context.Background(), "GET", s.URL+"/v1/availability?sku=BRG-00001", creds.Storefronts[0].Key, nil); err != nil || r.Status != 200 {
			t.Fatalf("read: %d %v", r.Status, err)
		}
	}
	untraced.stop()
	traced.stop() // flushes the batch
	mu.Lock()
	defer mu.Unlock()
	if spans["GET /v1/availability"] != "b2bridge-test" || spans["erp stock_reads"] != "b2bridge-test" {
		t.Errorf("spans received %v, want the read and its ERP call from service b2bridge-test", spans)
	}
	if received != 2 {
		t.Errorf("%d spans received, want 2: one read on the traced server, none from the untraced one", received)
	}
}
