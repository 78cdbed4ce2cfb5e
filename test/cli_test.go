package test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
)

// An ERP admin's first steps on a database of their own: serve refuses an empty one and
// says how to migrate, migrate and seed make it usable, and the DSN's password shows
// nowhere.
func TestServeMigrateSeedOnAnEmptyDatabase(t *testing.T) {
	const password = "s3cret-pw"
	for _, tc := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "erp.db") }},
		{"postgres", func(t *testing.T) string { return emptyPostgresSchema(t, password) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn, data := tc.dsn(t), t.TempDir()
			run := func(wantOK bool, args ...string) string {
				t.Helper()
				cmd := exec.Command(binary, args...)
				cmd.Env = append(os.Environ(), "B2BRIDGE_ERP_DSN="+dsn)
				out, err := cmd.CombinedOutput()
				if (err == nil) != wantOK {
					t.Fatalf("b2bridge %s: err %v, want ok %v:\n%s", strings.Join(args, " "), err, wantOK, out)
				}
				if strings.Contains(string(out), password) {
					t.Errorf("b2bridge %s printed the DSN's password:\n%s", strings.Join(args, " "), out)
				}
				return string(out)
			}
			out := run(false, "serve", "--addr", "127.0.0.1:0", "--data", data)
			if !strings.Contains(out, "b2bridge erp migrate --dsn") {
				t.Errorf("serve on an empty database does not say how to migrate:\n%s", out)
			}
			run(true, "erp", "migrate")
			out = run(true, "erp", "seed", "--data", data, "--items", "100", "--accounts", "10")
			creds, err := embedded.ReadCredentials(data)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, creds.AdminKey) || !strings.Contains(out, creds.Storefronts[0].Key) {
				t.Errorf("erp seed does not print the new keys:\n%s", out)
			}
			if out := run(true, "erp", "seed", "--data", data, "--if-empty"); !strings.Contains(out, "not seeding") {
				t.Errorf("erp seed --if-empty seeded a seeded ERP:\n%s", out)
			}
			srv := startServer(t, data, "B2BRIDGE_ERP_DSN="+dsn)
			r, err := call(context.Background(), "GET", srv.URL+"/v1/availability?sku="+embedded.SKU(1), creds.Storefronts[0].Key, nil)
			if err != nil || r.Status != 200 {
				t.Fatalf("availability: %d %v %v", r.Status, r.Body, err)
			}
			srv.stop()
			if strings.Contains(srv.stderr.String(), password) {
				t.Errorf("serve logged the DSN's password:\n%s", srv.stderr)
			}
		})
	}
}

// emptyPostgresSchema returns a DSN, with a password, for a new empty schema.
func emptyPostgresSchema(t *testing.T, password string) string {
	u, err := url.Parse(embeddedtest.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password) // trust auth ignores it
	return u.String()
}

// The mapping commands for scripts: export, edit, dry run, import, against the
// configured ERP, with the same report and all-or-nothing rule as the admin API.
func TestMappingCommands(t *testing.T) {
	eachERP(t, func(t *testing.T, e *erpTarget) {
		run := func(wantOK bool, args ...string) string { t.Helper(); return e.cli(t, wantOK, args...) }
		file := filepath.Join(t.TempDir(), "customers.csv")
		run(true, "mapping", "export", "--data", e.dir, "--kind", "customers", file)
		exported, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(exported), "north-shop,acme-gmbh,C1001,") {
			t.Fatalf("export: %s %v", exported, err)
		}
		edited := string(exported) + "north-shop,zeta-kg,C1005,\n"
		if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
			t.Fatal(err)
		}
		if out := run(true, "mapping", "import", "--data", e.dir, "--kind", "customers", "--dry-run", file); !strings.Contains(out, `"created": 1`) {
			t.Errorf("dry run:\n%s", out)
		}
		if got := run(true, "mapping", "export", "--data", e.dir, "--kind", "customers", "-"); got != string(exported) {
			t.Errorf("a dry run changed the mappings:\n%s", got)
		}
		if out := run(true, "mapping", "import", "--data", e.dir, "--kind", "customers", file); !strings.Contains(out, `"created": 1`) {
			t.Errorf("import:\n%s", out)
		}
		if err := os.WriteFile(file, []byte(edited+"north-shop,ghost,C9999,\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out := run(false, "mapping", "import", "--data", e.dir, "--kind", "customers", file); !strings.Contains(out, `"line": 6`) ||
			!strings.Contains(out, "unknown ERP account") {
			t.Errorf("import with an unknown account:\n%s", out)
		}
		var n int
		e.queryRow(t, `SELECT COUNT(*) FROM mapping_audit WHERE source = 'cli' AND actor LIKE 'cli%'`, nil, &n)
		if n != 1 {
			t.Errorf("%d audit entries from the command line, want 1", n)
		}
	})
}
