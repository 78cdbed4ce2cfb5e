package storefront

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Request is what the access log and the metrics learn of one answered request.
type Request struct {
	ID          string
	Method      string
	Route       string // the route template (/v1/accounts/:account/orders), "unmatched" for none
	Status      int
	Code        string // the problem code of an error answer
	Duration    time.Duration
	Storefront  string
	Account     string
	OrderID     string // a placed or replayed order
	OrderNumber string // its ERP order number, once the ERP gave one
	// ERP is the time an order spent in ERP calls (bridge.WithERPTime); Duration less
	// ERP is the bridge's own overhead.
	ERP time.Duration
}

// Observer is told of each request as it starts and as it is answered, for metrics.
// Calls come from request goroutines and must not block.
type Observer interface {
	Started()
	Answered(Request)
}

// Locals that handlers set for the access log.
const (
	orderIDKey     = "order_id"
	orderNumberKey = "order_number"
	problemCodeKey = "problem_code"
	erpTimeKey     = "erp_time"
)

// observe gives every request an id (the caller's X-Request-ID if sane), answers errors
// through the app's error handler so that the status is final, then writes one log line
// and tells the observer.
func observe(log *slog.Logger, obs Observer, tracing bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		if obs != nil {
			obs.Started()
		}
		id := requestID(c)
		// A span per request (and, in bridge, per ERP call), continuing the caller's trace.
		span := trace.SpanFromContext(context.Background()) // a no-op span, unless tracing
		if tracing {
			ctx := otel.GetTextMapPropagator().Extract(c.UserContext(), headerCarrier{c})
			ctx, span = tracer.Start(ctx, c.Method(), trace.WithSpanKind(trace.SpanKindServer))
			c.SetUserContext(ctx)
		}
		if err := c.Next(); err != nil {
			if err := c.App().ErrorHandler(c, err); err != nil {
				c.Status(fiber.StatusInternalServerError)
			}
		}
		end := time.Now()
		r := Request{ID: id, Method: method(c.Method()), Route: route(c), Status: c.Response().StatusCode(), Duration: end.Sub(start),
			Code: local(c, problemCodeKey), Account: strings.Clone(c.Params("account")), OrderID: local(c, orderIDKey), OrderNumber: local(c, orderNumberKey)}
		r.ERP, _ = c.Locals(erpTimeKey).(time.Duration)
		if p := Principal(c); p != nil {
			r.Storefront = p.Storefront
		}
		if h := log.Handler(); h.Enabled(context.Background(), slog.LevelInfo) {
			h.Handle(context.Background(), accessRecord(end, r)) // a log line per request: no caller's PC to look up
		}
		if span.IsRecording() {
			span.SetName(r.Method + " " + r.Route)
			span.SetAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", r.Route),
				attribute.Int("http.response.status_code", r.Status), attribute.String("b2bridge.request_id", r.ID))
			if r.Status >= 500 {
				span.SetStatus(codes.Error, r.Code)
			}
		}
		span.End()
		if obs != nil {
			obs.Answered(r)
		}
		return nil
	}
}

// accessRecord is the access log line of a request; empty fields are left out.
func accessRecord(at time.Time, r Request) slog.Record {
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
	return rec
}

var tracer = otel.Tracer("github.com/b2bridge/b2bridge/storefront")

// headerCarrier reads and writes trace context in a request's headers.
type headerCarrier struct{ c *fiber.Ctx }

func (h headerCarrier) Get(key string) string { return h.c.Get(key) }
func (h headerCarrier) Set(key, value string) { h.c.Request().Header.Set(key, value) }
func (h headerCarrier) Keys() []string {
	var keys []string
	h.c.Request().Header.VisitAll(func(k, _ []byte) { keys = append(keys, string(k)) })
	return keys
}

// route is the template of the route that answered: never the raw path, whose ids would
// make a metric label per account and order. A request refused by a group's middleware
// (401) is labelled with the group's prefix (/v1); one that matched nothing, "unmatched".
func route(c *fiber.Ctx) string {
	r := c.Route()
	if r == nil || r.Path == "/" {
		return "unmatched"
	}
	return r.Path
}

// method is the request's method as a constant: Fiber's strings alias a buffer that the
// next request reuses, and a metric label outlives the request.
func method(m string) string {
	for _, known := range [...]string{fiber.MethodGet, fiber.MethodPost, fiber.MethodPut, fiber.MethodDelete, fiber.MethodHead,
		fiber.MethodPatch, fiber.MethodOptions} {
		if m == known {
			return known
		}
	}
	return "OTHER"
}

func local(c *fiber.Ctx, key string) string {
	s, _ := c.Locals(key).(string)
	return s
}

// requestID is the caller's X-Request-ID if it is sane (1 to 128 of letters, digits and
// -_.:), else a new one; it is returned on every answer.
func requestID(c *fiber.Ctx) string {
	id := c.Get(fiber.HeaderXRequestID)
	if !saneID(id) {
		id = utils.UUID()
	}
	c.Set(fiber.HeaderXRequestID, id)
	return id
}

func saneID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':') {
			return false
		}
	}
	return true
}
