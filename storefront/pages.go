package storefront

import (
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/gofiber/fiber/v2"
)

// contentTypes are those of the files the pages are made of.
var contentTypes = map[string]string{
	".html": fiber.MIMETextHTMLCharsetUTF8,
	".js":   fiber.MIMEApplicationJavaScriptCharsetUTF8,
	".css":  "text/css; charset=utf-8",
}

// ServeFiles serves embedded files at fixed paths (path → file), each read once, with
// the content type of its extension: the pages of the storefront and admin transports.
func ServeFiles(app *fiber.App, files fs.FS, routes map[string]string) {
	for path, name := range routes {
		body, err := fs.ReadFile(files, name)
		ctype, ok := contentTypes[filepath.Ext(name)]
		if err != nil || !ok {
			panic(fmt.Sprintf("page file %s: %v", name, err)) // embedded: a test catches it first
		}
		app.Get(path, func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentType, ctype)
			return c.Send(body)
		})
	}
}
