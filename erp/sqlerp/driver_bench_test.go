package sqlerp_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
)

// The order transaction's round trips on PostgreSQL through the two ways pgx offers:
// database/sql over pgx's stdlib driver (what sqlerp uses), and pgx's native pool, one
// statement per round trip or all of the writes pipelined in one batch. Each transaction
// is BEGIN, two reads, four writes and COMMIT, as the shape of an order. The figures
// decide whether the order path should leave database/sql (see issue 10's note).
const (
	roundTripRead1 = `SELECT currency, credit_limit, exposure FROM accounts WHERE id = $1`
	roundTripRead2 = `SELECT item_id, warehouse, on_hand - reserved FROM stock WHERE item_id IN ($1, $2, $3) ORDER BY item_id, warehouse FOR UPDATE`
	roundTripWrite = `UPDATE stock SET reserved = reserved WHERE item_id = $1 AND warehouse = 'WH-CENTRAL'`
	roundTripCheck = `UPDATE accounts SET exposure = exposure WHERE id = $1`
)

func BenchmarkRoundTripsPostgres(b *testing.B) {
	if os.Getenv(embeddedtest.PostgresEnv) == "" {
		b.Skipf("set %s", embeddedtest.PostgresEnv)
	}
	dsn, _ := embeddedtest.PostgresDSN(b)
	ctx := context.Background()
	account := func(i int) string { return fmt.Sprintf("C%04d", 1001+i%60) }
	item := func(i, k int) int { return 1 + (i*3+k)%1000 }

	b.Run("stdlib", func(b *testing.B) {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		parallel(b, func(i int) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var cur string
			var limit, exposure string
			if err := tx.QueryRowContext(ctx, roundTripRead1, account(i)).Scan(&cur, &limit, &exposure); err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, roundTripRead2, item(i, 0), item(i, 1), item(i, 2))
			if err != nil {
				return err
			}
			rows.Close()
			for k := 0; k < 3; k++ {
				if _, err := tx.ExecContext(ctx, roundTripWrite, item(i, k)); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, roundTripCheck, account(i)); err != nil {
				return err
			}
			return tx.Commit()
		})
	})

	pool, err := pgxpool.New(ctx, dsn+"&pool_max_conns=32")
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	reads := func(tx pgx.Tx, i int) error {
		var cur, limit, exposure string
		if err := tx.QueryRow(ctx, roundTripRead1, account(i)).Scan(&cur, &limit, &exposure); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, roundTripRead2, item(i, 0), item(i, 1), item(i, 2))
		if err != nil {
			return err
		}
		rows.Close()
		return rows.Err()
	}
	b.Run("native", func(b *testing.B) {
		parallel(b, func(i int) error {
			return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if err := reads(tx, i); err != nil {
					return err
				}
				for k := 0; k < 3; k++ {
					if _, err := tx.Exec(ctx, roundTripWrite, item(i, k)); err != nil {
						return err
					}
				}
				_, err := tx.Exec(ctx, roundTripCheck, account(i))
				return err
			})
		})
	})
	b.Run("native-batched-writes", func(b *testing.B) {
		parallel(b, func(i int) error {
			return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if err := reads(tx, i); err != nil {
					return err
				}
				batch := &pgx.Batch{}
				for k := 0; k < 3; k++ {
					batch.Queue(roundTripWrite, item(i, k))
				}
				batch.Queue(roundTripCheck, account(i))
				return tx.SendBatch(ctx, batch).Close()
			})
		})
	})
}

// parallel runs f with 32 calls in flight and reports transactions per second.
func parallel(b *testing.B, f func(i int) error) {
	var n atomic.Int64
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := f(int(n.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}
