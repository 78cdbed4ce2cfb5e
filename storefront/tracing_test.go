package storefront_test

import (
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
	"github.com/b2bridge/b2bridge/storefront"
)

// With a tracer provider, a request is a server span named by its route template,
// continuing the caller's trace (W3C traceparent), and each ERP call it makes is a
// client span under it.
func TestRequestAndERPCallSpans(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTracerProvider(noop.NewTracerProvider())
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	})
	e := embeddedtest.Open(t)
	app := newAppWith(t, e, storefront.Options{Limits: storefront.DefaultRateLimits, Tracing: true})
	sf := e.Credentials.Storefronts[0]
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	got := do(t, app, "GET", "/v1/accounts/"+sf.Accounts[0]+"/credit", sf.Key, "",
		"traceparent", "00-"+traceID+"-00f067aa0ba902b7-01", "X-Request-ID", "traced-1")
	if got.status != 200 {
		t.Fatalf("credit: %d %v", got.status, got.body)
	}
	var server, erpCall sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		switch s.Name() {
		case "GET /v1/accounts/:account/credit":
			server = s
		case "erp credit_reads":
			erpCall = s
		}
	}
	if server == nil || erpCall == nil {
		var names []string
		for _, s := range spans.Ended() {
			names = append(names, s.Name())
		}
		t.Fatalf("spans %q, want the request's and its ERP call's", names)
	}
	if server.SpanContext().TraceID().String() != traceID || server.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("the request span is in trace %s under %s, want the caller's %s under 00f067aa0ba902b7",
			server.SpanContext().TraceID(), server.Parent().SpanID(), traceID)
	}
	if erpCall.Parent().SpanID() != server.SpanContext().SpanID() || erpCall.SpanContext().TraceID() != server.SpanContext().TraceID() {
		t.Errorf("the ERP call's span is not under the request's")
	}
	attrs := map[string]string{}
	for _, a := range append(server.Attributes(), erpCall.Attributes()...) {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	for k, want := range map[string]string{"http.route": "/v1/accounts/:account/credit", "http.response.status_code": "200",
		"b2bridge.request_id": "traced-1", "b2bridge.erp.outcome": "ok"} {
		if attrs[k] != want {
			t.Errorf("span attribute %s = %q, want %q", k, attrs[k], want)
		}
	}
}
