package sqlerp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/govalues/decimal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL is the dialect of PostgreSQL through pgx: its database/sql driver, and its
// own API for order transactions (pgxOrderTx). Money is NUMERIC(19,4), passed as decimal
// text so that no float ever carries it.
var PostgreSQL = Dialect{
	Name:        "postgres",
	ReadOnlyTx:  &sql.TxOptions{ReadOnly: true},
	ForUpdate:   " FOR UPDATE",
	LockTable:   "LOCK TABLE %s IN EXCLUSIVE MODE",
	Limit:       " LIMIT ?",
	Statements:  wholeScript, // pgx runs an argument-less Exec as one simple-protocol script
	Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
	OrderTx:     pgxOrderTx,
	InsertID:    insertReturning,
	Money:       decimalText,
	Time:        func(t time.Time) any { return t.UTC() },
	Date:        func(t time.Time) any { return t.Format(time.DateOnly) },
	IsUniqueViolation: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505"
	},
	IsRetryable: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01") // serialization failure, deadlock
	},
}

// decimalText is Money for NUMERIC(19,4) columns: the amount as exact decimal text,
// refused rather than rounded when it has more decimals than the column keeps.
func decimalText(d decimal.Decimal) (any, error) {
	if d.Scale() > moneyScale {
		return nil, fmt.Errorf("amount %s has more than %d decimals", d, moneyScale)
	}
	return d.String(), nil
}

// pgxOrderTx is Dialect.OrderTx on pgx's own connection, borrowed from the database/sql
// pool, so that the order's statements can share round trips: its BEGIN travels with its
// first statement, and statements sent together share one (send). That, not the driver,
// is what measured faster through the binary (test/bench/orders-pg.sh;
// BenchmarkRoundTripsPostgres for the round trips alone).
func pgxOrderTx(ctx context.Context, pool *sql.DB, f func(Runner) error) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		r := &pgxRunner{conn: driverConn.(*stdlib.Conn).Conn()}
		defer func() {
			if r.tx != nil {
				r.tx.Rollback(context.WithoutCancel(ctx)) // after Commit, a no-op
			}
		}()
		if err := f(r); err != nil {
			return err
		}
		if r.tx == nil {
			return nil
		}
		if err := r.tx.Commit(ctx); err != nil {
			return &commitError{err}
		}
		return nil
	})
}

// pgxRunner runs the statements of one transaction on a pgx connection. The transaction
// begins with its first statement, in the same round trip.
type pgxRunner struct {
	conn *pgx.Conn
	tx   pgx.Tx // nil until the first statement is sent
}

// pipeline sends stmts in one round trip, led by the transaction's BEGIN if it has not
// begun.
func (r *pgxRunner) pipeline(ctx context.Context, stmts ...statement) results {
	b := &pgx.Batch{}
	begin := r.tx == nil
	if begin {
		b.BeginTx(pgx.TxOptions{})
	}
	for _, s := range stmts {
		b.Queue(s.query, s.args...)
	}
	if !begin {
		return &pgxResults{res: r.tx.SendBatch(ctx, b)}
	}
	res := r.conn.SendBatch(ctx, b)
	r.tx = res.Tx()
	return &pgxResults{res: res, begin: true}
}

// pgxResults reads a pipeline's results.
type pgxResults struct {
	res   pgx.BatchResults
	begin bool // BEGIN's result is still to be read
}

// skipBegin reads BEGIN's result. In a pipeline it carries any failure to send or
// prepare the batch too: no "begin" prefix, the caller names the statement.
func (p *pgxResults) skipBegin() error {
	if !p.begin {
		return nil
	}
	p.begin = false
	_, err := p.res.Exec()
	return err
}

func (p *pgxResults) query() (rows, error) {
	if err := p.skipBegin(); err != nil {
		return nil, err
	}
	rs, err := p.res.Query()
	if err != nil {
		rs.Close()
		return nil, err
	}
	return pgxBatchRows{rs}, nil
}

func (p *pgxResults) exec() (int64, error) {
	if err := p.skipBegin(); err != nil {
		return 0, err
	}
	tag, err := p.res.Exec()
	return tag.RowsAffected(), err
}

func (p *pgxResults) close() error { return p.res.Close() }

// pgxBatchRows are pgx's rows of one statement of a pipeline.
type pgxBatchRows struct{ pgx.Rows }

func (r pgxBatchRows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}

func (r *pgxRunner) query(ctx context.Context, query string, args ...any) (rows, error) {
	res := r.pipeline(ctx, statement{query, args}).(*pgxResults)
	rs, err := res.query()
	if err != nil {
		res.close()
		return nil, err
	}
	return &pgxRows{Rows: rs.(pgxBatchRows).Rows, res: res.res}, nil
}

func (r *pgxRunner) exec(ctx context.Context, query string, args ...any) (int64, error) {
	n, err := execAll(ctx, r, statement{query, args})
	if err != nil {
		return 0, err
	}
	return n[0], nil
}

// pgxRows gives the rows of a one-query batch the shape of database/sql's: the last
// Next closes them, so that the connection is free for the next statement before Close
// (pgx's pipeline holds it until the batch is closed).
type pgxRows struct {
	pgx.Rows
	res pgx.BatchResults // nil once closed
	err error            // closing res
}

func (r *pgxRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *pgxRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

func (r *pgxRows) Close() error {
	if r.res != nil {
		r.Rows.Close()
		r.err = r.res.Close()
		r.res = nil
	}
	return r.Err()
}
