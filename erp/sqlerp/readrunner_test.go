package sqlerp

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"
)

// readAll runs query on r and returns its one integer column; on an error it reports it
// and returns nil (with t.Error: it runs on the tests' own goroutines too, where t.Fatal
// must not be called).
func readAll(t *testing.T, r Runner, query string, args ...any) []int {
	t.Helper()
	rs, err := r.query(context.Background(), query, args...)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer rs.Close()
	var out []int
	for rs.Next() {
		var n int
		if err := rs.Scan(&n); err != nil {
			t.Error(err)
			return nil
		}
		out = append(out, n)
	}
	if err := rs.Err(); err != nil {
		t.Error(err)
		return nil
	}
	return out
}

// openWAL opens a pool on dsn (a file in WAL mode), closed when the test ends.
func openWAL(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestReadRunnerKeepsStatementsUpToItsBoundAndSeesEachCommit(t *testing.T) {
	file := "file:" + t.TempDir() + "/t.db?_pragma=journal_mode(WAL)"
	write, read := openWAL(t, file), openWAL(t, file+"&_query_only=1")
	read.SetMaxOpenConns(4)
	if _, err := write.Exec(`CREATE TABLE t (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	r := &readRunner{sqlRunner: sqlRunner{read}, pool: read}

	// A kept statement is reset when its rows close: it must not pin the snapshot of its
	// last run, or readers would see old stock and the WAL could never be checkpointed.
	// Many readers at once, so that it is prepared on several connections.
	const sum = `SELECT COALESCE(SUM(n), 0) FROM t WHERE n > ?`
	for i := 1; i <= 5; i++ {
		if _, err := write.Exec(`INSERT INTO t (n) VALUES (?)`, i); err != nil {
			t.Fatal(err)
		}
		want := i * (i + 1) / 2
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if got := readAll(t, r, sum, 0); len(got) != 1 || got[0] != want {
					t.Errorf("after inserting 1..%d the sum read %v, want %d", i, got, want)
				}
			})
		}
		wg.Wait()
	}
	if n := r.n.Load(); n != 1 {
		t.Fatalf("kept %d statements for one query", n)
	}
	// A statement that does not compile is an error, and is neither kept nor counted.
	if _, err := r.query(context.Background(), `SELECT nope FROM t`); err == nil {
		t.Error("a query of a missing column ran")
	}
	if n := r.n.Load(); n != 1 {
		t.Fatalf("after a failed prepare %d statements are counted, want 1", n)
	}

	// Past the bound a query still answers, compiled for its one run and not kept.
	for i := int(r.n.Load()); i < maxReadPrepared; i++ {
		readAll(t, r, fmt.Sprintf(`SELECT n FROM t WHERE n = %d`, i))
	}
	if got := readAll(t, r, `SELECT n FROM t WHERE n >= ? ORDER BY n`, 4); fmt.Sprint(got) != "[4 5]" {
		t.Errorf("past the bound read %v, want [4 5]", got)
	}
	if n := r.n.Load(); n != maxReadPrepared {
		t.Errorf("kept %d statements, want the bound %d", n, maxReadPrepared)
	}
	// Nor does a transaction start a background prepare of it.
	tx, err := read.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, r.inTx(tx), `SELECT n FROM t WHERE n >= ? ORDER BY n`, 5); fmt.Sprint(got) != "[5]" {
		t.Errorf("past the bound a transaction read %v, want [5]", got)
	}
	tx.Rollback()
	r.preparing.Range(func(k, _ any) bool { t.Errorf("past the bound %q is being prepared", k); return true })
	kept := 0
	r.stmts.Range(func(any, any) bool { kept++; return true })
	if kept != maxReadPrepared {
		t.Errorf("the map holds %d statements, the count says %d", kept, maxReadPrepared)
	}
}

func TestReadTransactionsNeverWaitForASecondConnection(t *testing.T) {
	db := openWAL(t, "file:"+t.TempDir()+"/t.db?_pragma=journal_mode(WAL)")
	if _, err := db.Exec(`CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3)`); err != nil {
		t.Fatal(err)
	}
	const conns = 2
	db.SetMaxOpenConns(conns)
	r := &readRunner{sqlRunner: sqlRunner{db}, pool: db}
	const sum = `SELECT SUM(n) FROM t WHERE n >= ?`

	// Every connection is held by a transaction running a statement not kept yet. Had
	// each prepared it on the pool, it would wait for a connection that none frees.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	begun := make(chan *sql.Tx, conns)
	for range conns {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		begun <- tx
	}
	var wg sync.WaitGroup
	for range conns {
		tx := <-begun
		wg.Go(func() {
			defer tx.Rollback()
			if got := readAll(t, r.inTx(tx), sum, 2); len(got) != 1 || got[0] != 5 {
				t.Errorf("read %v in a transaction, want [5]", got)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("the transactions' reads waited for a connection")
	}

	// The statement is kept once a connection is free, and later transactions run it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, ok := r.stmts.Load(sum); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the statement was never kept")
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if got := readAll(t, r.inTx(tx), sum, 1); len(got) != 1 || got[0] != 6 {
		t.Errorf("read %v with the kept statement, want [6]", got)
	}
	if n := r.n.Load(); n != 1 {
		t.Errorf("kept %d statements, want 1", n)
	}
}
