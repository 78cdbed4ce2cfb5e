// Package admin is the admin REST API for ERP admins and SREs on Fiber, at /admin/v1:
// mappings (CRUD with ETags, CSV import and export, the audit trail), caches and
// breakers. It authenticates admin keys itself; errors are problem+json through the
// app's error handler, like the storefront API's.
package admin

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
)

// MaxImportBytes bounds a CSV import: 100,000 SKU mappings take about 6 MB.
const MaxImportBytes = 32 << 20

const principalKey = "admin_principal"

// Mount adds /admin/v1 to the app and returns its group, so that the server can add
// routes of its own (the embedded ERP's faults) behind the same admin authentication.
func Mount(app *fiber.App, svc *bridge.Service) fiber.Router {
	g := app.Group("/admin/v1", func(c *fiber.Ctx) error {
		key, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		p, err := svc.Authenticate(strings.TrimSpace(key))
		if err != nil {
			return err
		}
		if !p.Admin {
			return bridge.Errorf(bridge.CodeForbidden, "an admin key is required")
		}
		c.Locals(principalKey, p)
		return c.Next()
	})
	ops := Scope(svc, "ops")
	g.Get("/breakers", ops, func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"breakers": svc.Health().Breakers})
	})
	g.Get("/cache", ops, func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"caches": svc.CacheStats()})
	})
	g.Delete("/cache", ops, func(c *fiber.Ctx) error {
		svc.PurgeCaches()
		return c.SendStatus(fiber.StatusNoContent)
	})
	h := mappings{svc: svc}
	read, write := Scope(svc, "mappings:read"), Scope(svc, "mappings:write")
	g.Get("/mappings/audit", read, h.audit)
	g.Get("/mappings/:kind", read, h.list)
	g.Post("/mappings/:kind", write, h.create)
	g.Put("/mappings/:kind", write, h.importCSV)
	g.Get("/mappings/:kind/:key", read, h.get)
	g.Put("/mappings/:kind/:key", write, h.update)
	g.Delete("/mappings/:kind/:key", write, h.delete)
	return g
}

// Scope refuses an admin key that lacks the scope a route needs: mappings:read,
// mappings:write or ops.
func Scope(svc *bridge.Service, scope string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := svc.AuthorizeAdmin(principal(c), scope); err != nil {
			return err
		}
		return c.Next()
	}
}

func principal(c *fiber.Ctx) *bridge.Principal {
	p, _ := c.Locals(principalKey).(*bridge.Principal)
	return p
}

// invalid is a 400 naming the offending field.
func invalid(field, reason string) error {
	return &bridge.Error{Code: bridge.CodeInvalidRequest, Detail: field + " " + reason,
		Fields: []bridge.FieldError{{Field: field, Reason: reason}}}
}
