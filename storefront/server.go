// Package storefront is the storefront REST API v1 on Fiber: routes, request and
// response types, validation, storefront-key authentication and problem+json errors.
package storefront

import (
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/b2bridge/b2bridge/bridge"
)

// Limits on what a request may carry.
const (
	MaxBodyBytes = 256 << 10 // an order of MaxLines lines fits many times over
	MaxLines     = 200       // lines of one order, quote or price read
	MaxSKUs      = 100       // SKUs of one availability read
	// MaxURIBytes bounds the request target, path and query (414): a price read of
	// MaxLines lines fits with SKUs of up to 60 characters.
	MaxURIBytes = 16 << 10
	// MaxHeaderBytes bounds the request line and headers together (431); it is also the
	// server's read buffer per connection.
	MaxHeaderBytes = 32 << 10
	// MaxRequestBytes is the server's body limit: the largest body any route takes (an
	// admin's CSV import). Storefront routes hold theirs to MaxBodyBytes.
	MaxRequestBytes = 32 << 20
)

// New returns the Fiber app with the storefront API mounted at /v1, each route class
// behind its rate limit. The caller adds ops and admin routes and listens.
// Options are what New needs besides the service; the zero value is a quiet app without
// rate limits.
type Options struct {
	Log *slog.Logger // nil: slog.Default()
	// AccessLog receives one JSON line per request (request id, route, status, latency,
	// ...); nil writes none.
	AccessLog io.Writer
	Limits    RateLimits
	Observer  Observer // told of every request, for metrics; nil: none
	// Tracing makes a span of every request with the global OpenTelemetry provider; off,
	// the read path does no tracing work at all.
	Tracing bool
	// CORSOrigins lists, per storefront name, the browser origins that may call /v1;
	// none: CORS is off.
	CORSOrigins map[string][]string
}

func New(svc *bridge.Service, o Options) *fiber.App {
	log, limits := o.Log, o.Limits
	if log == nil {
		log = slog.Default()
	}
	app := fiber.New(fiber.Config{
		AppName:        "b2bridge",
		BodyLimit:      MaxRequestBytes,
		ReadBufferSize: MaxHeaderBytes,
		// A connection that never sends a request holds up a graceful shutdown until this
		// expires; 5s reads any request we accept (≤ 256 KiB) many times over.
		ReadTimeout:           5 * time.Second,
		WriteTimeout:          15 * time.Second,
		IdleTimeout:           60 * time.Second,
		DisableStartupMessage: true,
		ErrorHandler:          errorHandler(log),
		JSONEncoder:           json.Marshal, // goccy/go-json: measured faster than encoding/json here
		JSONDecoder:           json.Unmarshal,
	})
	// Every request is logged and observed, a panic included: a 500 "internal error" to
	// the client, with its stack in the log only.
	app.Use(observe(o.AccessLog, o.Observer, o.Tracing), recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		log.Error("panic", "method", c.Method(), "path", c.Path(), "panic", e, "stack", string(debug.Stack()))
	}}), secureHeaders, uriLimit)
	v1 := app.Group("/v1", cors(o.CORSOrigins), Authenticate(svc))
	h := handlers{svc: svc}
	// Every route: who may ask (403 before any validation), then how often.
	reads, writes := RateLimit("read", limits.Reads, limits), RateLimit("write", limits.Writes, limits)
	v1.Get("/availability", authorize(svc, "availability:read"), reads, h.availability)
	v1.Get("/accounts/:account/prices", authorize(svc, "prices:read"), reads, h.prices)
	v1.Get("/accounts/:account/credit", authorize(svc, "credit:read"), reads, h.credit)
	v1.Post("/accounts/:account/quotes", authorize(svc, "quotes:write"), writes, h.quote)
	v1.Post("/accounts/:account/orders", authorize(svc, "orders:write"), writes, h.placeOrder)
	v1.Get("/accounts/:account/orders", authorize(svc, "orders:read"), reads, h.listOrders)
	v1.Get("/accounts/:account/orders/:id", authorize(svc, "orders:read"), reads, h.getOrder)
	v1.Post("/accounts/:account/tokens", authorize(svc, "tokens:write"), writes, h.mintToken)
	return app
}

type handlers struct {
	svc *bridge.Service
}

// stamp is a formatted timestamp.
type stamp struct {
	t time.Time
	s string
}

// lastStamp remembers the last timestamp rendered: reads of one cached value share its
// as_of, and formatting it was 5% of a cached read.
var lastStamp atomic.Pointer[stamp]

// rfc3339 renders a wire timestamp: RFC 3339, UTC.
func rfc3339(t time.Time) string {
	if p := lastStamp.Load(); p != nil && p.t.Equal(t) {
		return p.s
	}
	s := t.UTC().Format(time.RFC3339Nano)
	lastStamp.Store(&stamp{t: t, s: s})
	return s
}

// The cached reads' answers are appended by hand into pooled buffers: goccy's encoder
// and the response structs it read were a fifth of a cached read in process.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// sendJSON answers 200 with the JSON in buf, then returns buf to bodyPool.
func sendJSON(c *fiber.Ctx, buf *[]byte) error {
	c.Response().Header.SetContentTypeBytes(applicationJSON)
	c.Response().SetBody(*buf) // copies
	bodyPool.Put(buf)
	return nil
}

var applicationJSON = []byte(fiber.MIMEApplicationJSON)

// appendFreshness appends an answer's "source" and "as_of" fields.
func appendFreshness(b []byte, f bridge.Freshness) []byte {
	b = append(b, `,"source":`...)
	b = appendJSONString(b, string(f.Source))
	b = append(b, `,"as_of":"`...)
	b = append(b, rfc3339(f.AsOf)...)
	return append(b, '"')
}

// uriLimit answers 414 for a request target over MaxURIBytes, before any route reads it.
// It measures the target as received: Request.RequestURI renders the parsed URI again
// and marks it unparsed, so the query was parsed twice (7-10% of a cached read in process).
func uriLimit(c *fiber.Ctx) error {
	if n := len(c.Request().Header.RequestURI()); n > MaxURIBytes {
		return fiber.NewError(fiber.StatusRequestURITooLong, fmt.Sprintf("the request URI is %d bytes; at most %d", n, MaxURIBytes))
	}
	return c.Next()
}

// secureHeaders marks every answer, errors included, as one that no cache may keep (each
// depends on the caller's key, and account answers hold a buyer's prices and credit) and
// whose type a browser must not guess. Fiber sends no Server banner unless configured.
func secureHeaders(c *fiber.Ctx) error {
	// Keys already canonical: c.Set copies and normalises each key (measured in process:
	// a cached availability read 6% faster without).
	c.Response().Header.SetCanonical(cacheControl, noStore)
	c.Response().Header.SetCanonical(xContentTypeOptions, nosniff)
	return c.Next()
}

var (
	cacheControl, noStore        = []byte(fiber.HeaderCacheControl), []byte("no-store")
	xContentTypeOptions, nosniff = []byte(fiber.HeaderXContentTypeOptions), []byte("nosniff")
)
