// Command barefiber is the baseline of the read budget: a bare Fiber handler returning a
// fixed JSON body (the size of a one-SKU availability answer), with Fiber's default
// settings and nothing else. b2bridge's timeouts and read buffer measured no different
// here (wrk, five pairs of rounds, 2026-12-05).
package main

import (
	"flag"
	"log"

	"github.com/gofiber/fiber/v2"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	flag.Parse()
	body := []byte(`{"items":[{"sku":"BRG-00001","unit":"EA","available":8484,"warehouses":[{"warehouse":"WH-CENTRAL","available":2191},{"warehouse":"WH-NORTH","available":4762},{"warehouse":"WH-SOUTH","available":1531}],"source":"cache","as_of":"2026-11-23T16:44:51.886002356Z"}]}`)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(body)
	})
	log.Fatal(app.Listen(*addr))
}
