package sqlerp

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"testing"

	_ "modernc.org/sqlite"
)

// onDriverConn runs f with a driverRunner on a fresh SQLite database's connection.
func onDriverConn(t *testing.T, f func(r driverRunner)) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+t.TempDir()+"/t.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		r := driverRunner{conn: dc.(driver.ConnPrepareContext), stmts: map[string]driver.Stmt{}}
		f(r)
		for _, s := range r.stmts {
			s.Close()
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestDriverRunnerKeepsStatementsUpToItsBound(t *testing.T) {
	onDriverConn(t, func(r driverRunner) {
		ctx := context.Background()
		if _, err := r.exec(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER)`); err != nil {
			t.Fatal(err)
		}
		type status string // a named type, as erp.Status: converted as database/sql does
		for i := range 3 {
			if n, err := r.exec(ctx, `INSERT INTO t (name, n) VALUES (?, ?)`, status(fmt.Sprint("n", i)), i); err != nil || n != 1 {
				t.Fatalf("insert %d: %d rows, %v", i, n, err)
			}
		}
		if len(r.stmts) != 2 {
			t.Fatalf("kept %d statements, want the two run (%v)", len(r.stmts), r.stmts)
		}
		for i := len(r.stmts); i < maxPrepared; i++ { // fill the bound with stand-ins
			r.stmts[fmt.Sprint("stand-in ", i)] = nil
		}
		var names []string
		for range 2 { // past the bound: prepared, run and closed each time
			rs, err := r.query(ctx, `SELECT name, n FROM t WHERE n >= ? ORDER BY n`, 1)
			if err != nil {
				t.Fatal(err)
			}
			for rs.Next() {
				var name string
				var n int
				if err := rs.Scan(&name, &n); err != nil {
					t.Fatal(err)
				}
				names = append(names, fmt.Sprint(name, "=", n))
			}
			if err := rs.Err(); err != nil {
				t.Fatal(err)
			}
			if err := rs.Close(); err != nil {
				t.Fatal(err)
			}
			if err := rs.Close(); err != nil { // scanRow closes twice
				t.Fatalf("second close: %v", err)
			}
		}
		if got, want := fmt.Sprint(names), "[n1=1 n2=2 n1=1 n2=2]"; got != want {
			t.Errorf("read %s, want %s", got, want)
		}
		if len(r.stmts) != maxPrepared {
			t.Errorf("kept %d statements past the bound of %d", len(r.stmts), maxPrepared)
		}
		for k := range r.stmts {
			if r.stmts[k] == nil {
				delete(r.stmts, k)
			}
		}
	})
}

func TestDriverRowsRefuseWhatDatabaseSQLRefuses(t *testing.T) {
	onDriverConn(t, func(r driverRunner) {
		ctx := context.Background()
		var s string
		err := scanRow(ctx, r, `SELECT NULL`, nil, &s)
		if err == nil {
			t.Errorf("NULL scanned into a string as %q", s)
		}
		var n int64
		if err := scanRow(ctx, r, `SELECT 'x'`, nil, &n); err == nil {
			t.Errorf("text scanned into an int64 as %d", n)
		}
		if err := scanRow(ctx, r, `SELECT 1 WHERE 0`, nil, &n); err != sql.ErrNoRows {
			t.Errorf("no row: %v, want sql.ErrNoRows", err)
		}
		var ns sql.NullString
		if err := scanRow(ctx, r, `SELECT NULL`, nil, &ns); err != nil || ns.Valid {
			t.Errorf("NULL into a sql.NullString: %+v, %v", ns, err)
		}
	})
}
