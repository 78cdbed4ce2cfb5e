package storefront

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

type tokenResponse struct {
	Token     string   `json:"token"`
	Account   string   `json:"account"`
	Scopes    []string `json:"scopes"`
	ExpiresAt string   `json:"expires_at"`
}

// POST /v1/accounts/:account/tokens: a short-lived token for one account, for the
// storefront's pages to call /v1 from the browser.
func (h handlers) mintToken(c *fiber.Ctx) error {
	t, err := h.svc.MintToken(Principal(c), c.Params("account"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(tokenResponse{Token: t.Token, Account: t.Account, Scopes: t.Scopes,
		ExpiresAt: t.ExpiresAt.Format(time.RFC3339)})
}

// cors answers browsers for the storefronts that allow their origins (origins: storefront
// name → origins); with none configured it does nothing. A preflight carries no key, so
// it passes for an origin of any storefront; the answer itself is readable only by the
// origins of the storefront whose key or token made the request. Any other origin gets
// no CORS headers, and the browser keeps the answer from its page.
func cors(origins map[string][]string) fiber.Handler {
	byStorefront := map[string]map[string]bool{}
	anyStorefront := map[string]bool{}
	for sf, list := range origins {
		byStorefront[sf] = map[string]bool{}
		for _, o := range list {
			byStorefront[sf][o] = true
			anyStorefront[o] = true
		}
	}
	const (
		methods = "GET, POST"
		headers = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
		exposed = "Location, Idempotent-Replayed, Retry-After, X-Request-Id, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, " +
			"X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
	)
	return func(c *fiber.Ctx) error {
		if len(anyStorefront) == 0 {
			return c.Next()
		}
		origin := c.Get(fiber.HeaderOrigin)
		c.Append(fiber.HeaderVary, fiber.HeaderOrigin)
		if c.Method() == fiber.MethodOptions && c.Get(fiber.HeaderAccessControlRequestMethod) != "" {
			if anyStorefront[origin] {
				c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
				c.Set(fiber.HeaderAccessControlAllowMethods, methods)
				c.Set(fiber.HeaderAccessControlAllowHeaders, headers)
				c.Set(fiber.HeaderAccessControlMaxAge, "600")
			}
			return c.SendStatus(fiber.StatusNoContent)
		}
		err := c.Next()
		allowed := anyStorefront[origin] // a 401 has no storefront: let the page read why
		if p := Principal(c); p != nil {
			allowed = byStorefront[p.Storefront][origin]
		}
		if origin != "" && allowed {
			c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
			c.Set(fiber.HeaderAccessControlExposeHeaders, exposed)
		}
		return err
	}
}
