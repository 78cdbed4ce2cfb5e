package admin

import (
	"embed"

	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/storefront"
)

//go:embed assets
var assets embed.FS

// MountConsole serves the admin console at /admin from the binary's embedded assets. The
// page itself is public; everything it shows comes from /admin/v1 with the admin key the
// user signs in with, and from /metrics.
func MountConsole(app *fiber.App) {
	storefront.ServeFiles(app, assets, map[string]string{"/admin": "assets/index.html", "/admin/console.js": "assets/console.js",
		"/admin/console.css": "assets/console.css"})
}
