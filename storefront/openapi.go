package storefront

import (
	"embed"
	"fmt"

	"github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"gopkg.in/yaml.v3"
)

// OpenAPI is the OpenAPI 3.1 document of every route the binary serves: the storefront
// API, the admin API and the ops routes. The end-to-end tests hold each response to it.
//
//go:embed openapi.yaml
var OpenAPI []byte

//go:embed assets/docs.html assets/redoc.standalone.js assets/demo
var assets embed.FS

// openAPIJSON is the document as JSON, converted once.
var openAPIJSON = func() []byte {
	var doc any
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		panic(fmt.Sprintf("openapi.yaml: %v", err)) // embedded: a test catches it first
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("openapi.yaml as JSON: %v", err))
	}
	return b
}()

// MountDocs serves the document at /openapi.yaml and /openapi.json and renders it at
// /docs with Redoc's bundle from the binary, so that the page works with no network.
func MountDocs(app *fiber.App) {
	redoc, err := assets.ReadFile("assets/redoc.standalone.js")
	if err != nil {
		panic(err) // embedded: a test catches it first
	}
	app.Get("/openapi.yaml", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/yaml")
		return c.Send(OpenAPI)
	})
	app.Get("/openapi.json", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(openAPIJSON)
	})
	ServeFiles(app, assets, map[string]string{"/docs": "assets/docs.html"})
	app.Get("/docs/redoc.standalone.js", compress.New(), func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJavaScriptCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
		return c.Send(redoc)
	})
}
