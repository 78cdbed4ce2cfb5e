package main

import (
	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp/embedded"
)

// addOps mounts the health and metrics routes beside the storefront API.
func addOps(app *fiber.App, svc *bridge.Service, m *metrics) {
	app.Get("/metrics", m.handler())
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

// addFaults adds the embedded ERP's fault injection to the admin API, for keys with the
// ops scope.
func addFaults(admin fiber.Router, ops fiber.Handler, faults *embedded.Faults) {
	admin.Get("/faults", ops, func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"faults": faults.List()})
	})
	admin.Put("/faults", ops, func(c *fiber.Ctx) error {
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
	admin.Delete("/faults", ops, func(c *fiber.Ctx) error {
		faults.Clear()
		return c.SendStatus(fiber.StatusNoContent)
	})
}
