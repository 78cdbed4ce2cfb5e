package main

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp/embedded"
)

// addOps mounts the health routes beside the storefront API.
func addOps(app *fiber.App, svc *bridge.Service) {
	app.Get("/healthz", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok"})
	})
	// /readyz: 200 while the ERP answers, with each breaker's state and the change-log
	// follower's lag. An open breaker alone does not make the replica unready: it still
	// answers reads from cache.
	app.Get("/readyz", func(c *fiber.Ctx) error {
		h := svc.Health()
		body := fiber.Map{"status": "ready", "erp": "ok", "breakers": h.Breakers, "change_log": fiber.Map{
			"following": h.Follower.Started, "last_seq": h.Follower.LastSeq, "lag_ms": h.Follower.Lag.Milliseconds(),
			"error": h.Follower.Error}}
		if err := svc.Ready(c.UserContext()); err != nil {
			body["status"], body["erp"] = "unavailable", err.Error()
			return c.Status(fiber.StatusServiceUnavailable).JSON(body)
		}
		return c.JSON(body)
	})
}

// addAdmin mounts /admin/v1 for admin keys: breakers, caches and the embedded ERP's
// fault injection.
func addAdmin(app *fiber.App, svc *bridge.Service, faults *embedded.Faults) {
	admin := app.Group("/admin/v1", func(c *fiber.Ctx) error {
		key, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		p, err := svc.Authenticate(strings.TrimSpace(key))
		if err != nil {
			return err
		}
		if !p.Admin {
			return bridge.Errorf(bridge.CodeForbidden, "an admin key is required")
		}
		return c.Next()
	})
	admin.Get("/breakers", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"breakers": svc.Health().Breakers})
	})
	admin.Get("/cache", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"caches": svc.CacheStats()})
	})
	admin.Delete("/cache", func(c *fiber.Ctx) error {
		svc.PurgeCaches()
		return c.SendStatus(fiber.StatusNoContent)
	})
	admin.Get("/faults", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"faults": faults.List()})
	})
	admin.Put("/faults", func(c *fiber.Ctx) error {
		var f embedded.Fault
		if err := c.BodyParser(&f); err != nil {
			return &bridge.Error{Code: bridge.CodeInvalidRequest, Detail: "body: " + err.Error(),
				Fields: []bridge.FieldError{{Field: "body", Reason: "must be a JSON fault"}}}
		}
		if err := faults.Set(f); err != nil {
			return &bridge.Error{Code: bridge.CodeInvalidRequest, Detail: err.Error(),
				Fields: []bridge.FieldError{{Field: "body", Reason: err.Error()}}}
		}
		return c.JSON(fiber.Map{"faults": faults.List()})
	})
	admin.Delete("/faults", func(c *fiber.Ctx) error {
		faults.Clear()
		return c.SendStatus(fiber.StatusNoContent)
	})
}
