package embeddedtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// The environment variables that name the databases the contract suite runs on besides
// SQLite. Each test gets a schema of its own in the PostgreSQL database; the Oracle
// schema is migrated once and reseeded for every test.
const (
	PostgresEnv = "B2BRIDGE_TEST_POSTGRES_DSN"
	OracleEnv   = "B2BRIDGE_TEST_ORACLE_DSN"
)

// Dialects runs f as one subtest per dialect — sqlite, postgres, oracle — each on a
// freshly seeded ERP of its own. A dialect whose database is not configured is skipped,
// and the skip names the variable to set.
func Dialects(t *testing.T, f func(t *testing.T, e *embedded.ERP)) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *embedded.ERP
	}{{"sqlite", Open}, {"postgres", Postgres}, {"oracle", Oracle}} {
		t.Run(d.name, func(t *testing.T) { f(t, d.open(t)) })
	}
}

// Postgres returns the ERP on a new seeded schema of the PostgreSQL database, or skips.
func Postgres(t testing.TB) *embedded.ERP {
	t.Helper()
	dsn, creds := PostgresDSN(t)
	e := openDSN(t, dsn)
	e.Credentials = creds
	return e
}

// PostgresDSN returns the DSN of a new PostgresSchema, migrated and seeded, with the
// demo credentials.
func PostgresDSN(t testing.TB) (string, *embedded.Credentials) {
	t.Helper()
	dsn := PostgresSchema(t)
	return dsn, migrateAndSeed(t, dsn)
}

// PostgresSchema creates an empty schema in the PostgreSQL database that PostgresEnv
// names, drops it when the test ends, and returns a DSN whose search_path is that
// schema. It skips if PostgresEnv is unset.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("postgres: set %s to a database to run on PostgreSQL", PostgresEnv)
	}
	ctx := context.Background()
	admin, err := sqlerp.Open(ctx, base, sqlerp.Options{WriteConns: 1, ReadConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "b2bridge_test_" + hex.EncodeToString(b)
	if _, err := admin.Writer().ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := sqlerp.Open(context.Background(), base, sqlerp.Options{WriteConns: 1, ReadConns: 1})
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Writer().Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var oracleMigrated sync.Once

// Oracle returns the ERP on the Oracle schema that OracleEnv names, reseeded, or skips.
func Oracle(t testing.TB) *embedded.ERP {
	t.Helper()
	dsn := os.Getenv(OracleEnv)
	if dsn == "" {
		t.Skipf("oracle: set %s to an Oracle schema (oracle://user:pass@host:1521/service) to run on Oracle", OracleEnv)
	}
	var creds *embedded.Credentials
	oracleMigrated.Do(func() { creds = migrateAndSeed(t, dsn) })
	e := openDSN(t, dsn)
	if creds == nil {
		var err error
		if creds, err = embedded.Seed(context.Background(), e.DB, embedded.SeedOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.Credentials = creds
	return e
}

func migrateAndSeed(t testing.TB, dsn string) *embedded.Credentials {
	t.Helper()
	ctx := context.Background()
	db, err := sqlerp.Open(ctx, dsn, sqlerp.Options{WriteConns: 1, ReadConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	creds, err := embedded.Seed(ctx, db, embedded.SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func openDSN(t testing.TB, dsn string) *embedded.ERP {
	t.Helper()
	db, err := sqlerp.Open(context.Background(), dsn, sqlerp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return embedded.Wrap(db)
}
