package storefront

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
)

const principalKey = "principal"

// Authenticate resolves the bearer key before any handler reads anything.
func Authenticate(svc *bridge.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if !ok {
			key = ""
		}
		p, err := svc.Authenticate(strings.TrimSpace(key))
		if err != nil {
			return err
		}
		c.Locals(principalKey, p)
		return c.Next()
	}
}

// authorize refuses a key that lacks the route's scope, or may not act for the :account
// it names, before the request is validated or counted against a rate limit.
func authorize(svc *bridge.Service, scope string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := svc.Authorize(Principal(c), scope, c.Params("account")); err != nil {
			return err
		}
		return c.Next()
	}
}

// Principal is the key Authenticate found for the request.
func Principal(c *fiber.Ctx) *bridge.Principal {
	p, _ := c.Locals(principalKey).(*bridge.Principal)
	return p
}
