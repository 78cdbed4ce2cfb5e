// Package admin is the admin REST API for ERP admins and SREs on Fiber, at /admin/v1:
// mappings (CRUD with ETags, CSV import and export, the audit trail), caches and
// breakers. Keys are authenticated as the storefront API's are; errors are problem+json through the
// app's error handler, like the storefront API's.
package admin

import (
	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/storefront"
)

// MaxImportBytes bounds a CSV import: 100,000 SKU mappings take about 6 MB.
const MaxImportBytes = 32 << 20

// Mount adds /admin/v1 to the app and returns its group, so that the server can add
// routes of its own (the embedded ERP's faults) behind the same admin authentication.
// Every route: who may ask (401, or 403 for a storefront key), then how often (limit),
// then the route's scope.
func Mount(app *fiber.App, svc *bridge.Service, limit fiber.Handler) fiber.Router {
	g := app.Group("/admin/v1", storefront.Authenticate(svc), Scope(svc, ""), limit)
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
		if err := svc.AuthorizeAdmin(storefront.Principal(c), scope); err != nil {
			return err
		}
		return c.Next()
	}
}

// invalid is a 400 naming the offending field.
func invalid(field, reason string) error {
	return &bridge.Error{Code: bridge.CodeInvalidRequest, Detail: field + " " + reason,
		Fields: []bridge.FieldError{{Field: field, Reason: reason}}}
}
