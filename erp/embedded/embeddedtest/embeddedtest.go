// Package embeddedtest gives tests a seeded embedded ERP of their own quickly: the demo
// data is generated once per test binary and each test gets a copy of the file.
package embeddedtest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/b2bridge/b2bridge/erp/embedded"
)

var (
	once     sync.Once
	template string
	errSeed  error
)

// Dir returns a new data directory holding a freshly seeded ERP and its credentials.
func Dir(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		template, errSeed = os.MkdirTemp("", "b2bridge-template-")
		if errSeed != nil {
			return
		}
		var e *embedded.ERP
		if e, errSeed = embedded.Open(context.Background(), template, embedded.Options{}); errSeed == nil {
			errSeed = e.Close() // checkpoints the WAL into erp.db
		}
	})
	if errSeed != nil {
		t.Fatalf("seed template ERP: %v", errSeed)
	}
	dir := t.TempDir()
	for _, name := range []string{embedded.DatabaseFile, embedded.CredentialsFile} {
		if err := copyFile(filepath.Join(template, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Open returns the embedded ERP on a fresh Dir, closed when the test ends.
func Open(t testing.TB) *embedded.ERP {
	t.Helper()
	e, err := embedded.Open(context.Background(), Dir(t), embedded.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
