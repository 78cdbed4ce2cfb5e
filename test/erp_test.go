package test

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// erpTarget is the ERP that a test's servers share, and the test's own connection to it
// for setting up and checking the ERP directly.
type erpTarget struct {
	dir   string   // data directory: the embedded ERP, or only the demo credentials
	env   []string // what a server needs to reach the ERP
	creds *embedded.Credentials
	db    *sqlerp.DB
}

// eachERP runs f as subtests sqlite (the embedded ERP) and postgres (a schema of its own
// in embeddedtest.PostgresEnv's database; skipped when that is unset).
func eachERP(t *testing.T, f func(t *testing.T, e *erpTarget)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := embeddedtest.Dir(t)
		creds, err := embedded.ReadCredentials(dir)
		if err != nil {
			t.Fatal(err)
		}
		f(t, &erpTarget{dir: dir, creds: creds, db: openDB(t, "sqlite:"+filepath.Join(dir, embedded.DatabaseFile))})
	})
	t.Run("postgres", func(t *testing.T) { f(t, postgresTarget(t)) })
}

// postgresTarget returns a seeded schema of its own in embeddedtest.PostgresEnv's
// database, or skips.
func postgresTarget(t *testing.T) *erpTarget {
	dsn, creds := embeddedtest.PostgresDSN(t)
	dir := t.TempDir()
	if err := creds.Write(dir); err != nil {
		t.Fatal(err)
	}
	return &erpTarget{dir: dir, env: []string{"B2BRIDGE_ERP_DSN=" + dsn}, creds: creds, db: openDB(t, dsn)}
}

func openDB(t *testing.T, dsn string) *sqlerp.DB {
	t.Helper()
	db, err := sqlerp.Open(context.Background(), dsn, sqlerp.Options{Synchronous: "NORMAL", WriteConns: 2, ReadConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// start runs a server on the ERP, with extra environment.
func (e *erpTarget) start(t *testing.T, env ...string) *server {
	t.Helper()
	return startServer(t, e.dir, append(append([]string{}, e.env...), env...)...)
}

// cli runs a b2bridge command on the ERP and returns its standard output; it fails the
// test unless the command succeeds or fails as wantOK says.
func (e *erpTarget) cli(t *testing.T, wantOK bool, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(os.Environ(), e.env...), "B2BRIDGE_DATA="+e.dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if (err == nil) != wantOK {
		t.Fatalf("b2bridge %s: err %v, want ok %v:\n%s%s", strings.Join(args, " "), err, wantOK, out, stderr.String())
	}
	return string(out) + stderr.String()
}

// exec runs a statement written with ? placeholders.
func (e *erpTarget) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := e.db.Writer().Exec(e.db.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// query runs a query written with ? placeholders.
func (e *erpTarget) query(t *testing.T, q string, args ...any) *sql.Rows {
	t.Helper()
	rows, err := e.db.Writer().Query(e.db.Rebind(q), args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return rows
}

// queryRow scans the one row of a query written with ? placeholders.
func (e *erpTarget) queryRow(t *testing.T, q string, args []any, dest ...any) {
	t.Helper()
	if err := e.db.Writer().QueryRow(e.db.Rebind(q), args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// amount encodes an amount for the dialect's money columns.
func (e *erpTarget) amount(t *testing.T, s string) any {
	t.Helper()
	m, err := e.db.Dialect().Money(decimal.MustParse(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sameMoney compares a wire amount with an amount read from the ERP.
func sameMoney(wire any, erp decimal.Decimal) bool {
	s, _ := wire.(string)
	d, err := decimal.Parse(s)
	return err == nil && d.Cmp(erp) == 0
}
