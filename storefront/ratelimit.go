package storefront

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"github.com/b2bridge/b2bridge/bridge"
)

// RateLimits bounds the requests one storefront makes per route class, counted over a
// sliding window. Both of a storefront's keys (during a rotation) share its limits.
type RateLimits struct {
	Reads  int           // availability, prices, credit and order history; 0: unlimited
	Writes int           // quotes and orders; 0: unlimited
	Admin  int           // the admin API, per admin key; 0: unlimited
	Window time.Duration // the sliding window
	// Storage keeps the counts: nil is this process's memory; Redis makes the limits
	// hold across replicas.
	Storage fiber.Storage
}

// DefaultRateLimits are limits a demo, or a storefront behaving normally, never meets.
var DefaultRateLimits = RateLimits{Reads: 60_000, Writes: 6_000, Admin: 6_000, Window: time.Minute}

// RateLimit is the limiter of one route class. An answer within the limit carries
// Fiber's X-RateLimit-Limit, -Remaining and -Reset; past it, 429 rate_limited with
// Retry-After and both those and the IETF httpapi draft's RateLimit-Limit, -Remaining
// and -Reset (three header fields more on every read measured 5% of a cached read). It
// runs after authentication: it counts per storefront.
func RateLimit(class string, max int, l RateLimits) fiber.Handler {
	if max <= 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	limit := strconv.Itoa(max)
	next := limiter.New(limiter.Config{
		Max:               max,
		Expiration:        l.Window,
		Storage:           l.Storage,
		LimiterMiddleware: limiter.SlidingWindow{},
		KeyGenerator: func(c *fiber.Ctx) string {
			p := Principal(c)
			who := p.Storefront
			if who == "" {
				who = p.KeyID
			}
			if l.Storage == nil {
				return who // each class's limiter keeps its own counts in memory
			}
			return class + "\x00" + who // one store serves every class
		},
		LimitReached: func(c *fiber.Ctx) error {
			retry := c.GetRespHeader(fiber.HeaderRetryAfter)
			for _, prefix := range []string{"RateLimit-", "X-RateLimit-"} {
				c.Set(prefix+"Limit", limit)
				c.Set(prefix+"Remaining", "0")
				c.Set(prefix+"Reset", retry)
			}
			return bridge.Errorf(bridge.CodeRateLimited, "more than %d %s requests in %v from this storefront: retry after %s s",
				max, class, l.Window, c.GetRespHeader(fiber.HeaderRetryAfter))
		},
	})
	return next
}
