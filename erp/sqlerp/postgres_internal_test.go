package sqlerp

import (
	"context"
	"database/sql"
	"os"
	"testing"
)

// TestPgxRowsFreeTheConnectionAtTheirEnd: as with database/sql, rows read to their end
// leave the transaction's connection free for its next statement before they are closed.
// pgx's pipeline holds the connection until its batch is closed, which a deferred Close
// does only when the function returns.
func TestPgxRowsFreeTheConnectionAtTheirEnd(t *testing.T) {
	dsn := os.Getenv("B2BRIDGE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set B2BRIDGE_TEST_POSTGRES_DSN")
	}
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	err = pgxOrderTx(ctx, pool, func(r Runner) error {
		for range 2 { // the first query begins the transaction, the second runs in it
			rs, err := r.query(ctx, `SELECT n FROM generate_series(1, 3) n`)
			if err != nil {
				return err
			}
			defer rs.Close()
			n := 0
			for rs.Next() {
				n++
			}
			if err := rs.Err(); err != nil {
				return err
			}
			if n != 3 {
				t.Errorf("%d rows, want 3", n)
			}
		}
		_, err := r.exec(ctx, `SELECT 1`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
