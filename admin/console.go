package admin

import (
	"embed"

	"github.com/gofiber/fiber/v2"
)

//go:embed assets
var assets embed.FS

// MountConsole serves the admin console at /admin from the binary's embedded assets. The
// page itself is public; everything it shows comes from /admin/v1 with the admin key the
// user signs in with, and from /metrics.
func MountConsole(app *fiber.App) {
	for path, file := range map[string]struct{ name, contentType string }{
		"/admin":             {"assets/index.html", fiber.MIMETextHTMLCharsetUTF8},
		"/admin/console.js":  {"assets/console.js", fiber.MIMEApplicationJavaScriptCharsetUTF8},
		"/admin/console.css": {"assets/console.css", "text/css; charset=utf-8"},
	} {
		body, err := assets.ReadFile(file.name)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		app.Get(path, func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentType, file.contentType)
			return c.Send(body)
		})
	}
}
