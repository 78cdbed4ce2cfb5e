package storefront

import (
	"context"

	"github.com/gofiber/fiber/v2"
)

// DemoBuyers is what the demo storefront page offers: the demo storefronts with their
// keys and accounts, and SKUs worth trying (in stock, scarce, out of stock).
type DemoBuyers struct {
	Storefronts []DemoStorefront `json:"storefronts"`
	SKUs        []string         `json:"skus"`
}

// DemoStorefront is one demo storefront. Its key mints the page's browser tokens; a real
// storefront keeps its key on its server, and the demo's are public demo data.
type DemoStorefront struct {
	Name     string   `json:"name"`
	Key      string   `json:"key"`
	Accounts []string `json:"accounts"`
}

// DemoItem is one item of the demo catalog.
type DemoItem struct {
	SKU  string `json:"sku"`
	Name string `json:"name"`
}

// DemoSearch finds up to limit catalog items whose SKU or name contains q.
type DemoSearch func(ctx context.Context, q string, limit int) ([]DemoItem, error)

// MountDemo serves the demo storefront page at / from the binary's embedded assets: a
// client of /v1 with browser tokens, for the demo ERP's buyers, with a catalog search
// of its own (the storefront API has none).
func MountDemo(app *fiber.App, buyers DemoBuyers, search DemoSearch) {
	ServeFiles(app, assets, map[string]string{"/": "assets/demo/index.html", "/demo/app.js": "assets/demo/app.js",
		"/demo/style.css": "assets/demo/style.css"})
	app.Get("/demo/storefronts", func(c *fiber.Ctx) error {
		return c.JSON(buyers)
	})
	app.Get("/demo/catalog", func(c *fiber.Ctx) error {
		q := c.Query("q")
		if len(q) > 64 {
			return invalid("q", "at most 64 characters")
		}
		items, err := search(c.UserContext(), q, 20)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": items})
	})
}
