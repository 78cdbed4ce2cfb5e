package storefront_test

import (
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
	"github.com/b2bridge/b2bridge/storefront"
)

// BenchmarkCachedReads measures the storefront's cached read path in process (no
// network): key check, account scope, cache look-up, JSON. "bare" is a Fiber handler
// returning a fixed JSON body, the baseline of the read budget.
func BenchmarkCachedReads(b *testing.B) {
	e := embeddedtest.Open(b)
	key := e.Credentials.Storefronts[0].Key
	account := e.Credentials.Storefronts[0].Accounts[0]
	bare := fiber.New()
	body := []byte(`{"items":[{"sku":"BRG-00001","unit":"EA","available":8484,"source":"cache"}]}`)
	bare.Get("/", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(body)
	})
	// The limiter runs, with limits the benchmark never reaches.
	app := newAppLimited(b, e, storefront.RateLimits{Reads: 1 << 30, Writes: 1 << 30, Window: time.Minute})
	unlimited := newAppLimited(b, e, storefront.RateLimits{Window: time.Minute})
	for _, bc := range []struct {
		name string
		h    fasthttp.RequestHandler
		path string
	}{
		{"bare", bare.Handler(), "/"},
		{"availability", app.Handler(), "/v1/availability?sku=BRG-00001"},
		{"availability_unlimited", unlimited.Handler(), "/v1/availability?sku=BRG-00001"},
		{"availability_3skus", app.Handler(), "/v1/availability?sku=BRG-00001&sku=BRG-00002&sku=BRG-00003"},
		{"prices", app.Handler(), "/v1/accounts/" + account + "/prices?sku=BRG-00001&qty=1"},
		{"availability_box", app.Handler(), "/v1/availability?sku=BRG-00001-BOX12"},
		{"prices_box", app.Handler(), "/v1/accounts/" + account + "/prices?sku=BRG-00001-BOX12&qty=1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var ctx fasthttp.RequestCtx
			ctx.Request.SetRequestURI(bc.path)
			ctx.Request.Header.Set("Authorization", "Bearer "+key)
			bc.h(&ctx) // warm the cache
			if ctx.Response.StatusCode() != 200 {
				b.Fatalf("%s: %d %s", bc.path, ctx.Response.StatusCode(), ctx.Response.Body())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// A request of its own each time: its URI is parsed again, as a new
				// request's is.
				ctx.Request.SetRequestURI(bc.path)
				ctx.Response.Reset()
				bc.h(&ctx)
			}
			if ctx.Response.StatusCode() != 200 {
				b.Fatalf("%s: ended with %d %s", bc.path, ctx.Response.StatusCode(), ctx.Response.Body())
			}
		})
	}
}
