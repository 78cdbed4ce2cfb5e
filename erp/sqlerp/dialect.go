package sqlerp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/govalues/decimal"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect is what differs between the databases that carry the ERP interface schema.
type Dialect struct {
	// Name picks the DDL directory under schema/.
	Name string
	// ForUpdate is appended to the stock read of an order to lock its rows; empty where
	// the database locks otherwise (SQLite: the whole database, by BEGIN IMMEDIATE).
	ForUpdate string
	// LockTable is the statement (a format for the table's name) that takes a table's
	// write lock until the transaction ends, letting reads through; empty where the
	// database has one writer (SQLite).
	LockTable string
	// PrepareReads keeps the read pool's statements prepared (readRunner): for drivers
	// that compile every statement they are given (modernc's SQLite). pgx keeps a cache
	// of its own.
	PrepareReads bool
	// ReadOnlyTx are the options of a quote's read transaction.
	ReadOnlyTx *sql.TxOptions
	// Limit ends a query whose last bind parameter is the most rows to return.
	Limit string
	// Statements splits a DDL script into the statements one Exec can run.
	Statements func(script string) []string
	// Placeholder renders the n-th (1-based) bind parameter.
	Placeholder func(n int) string
	// OrderTx runs f in a transaction of pool and commits it; a failed COMMIT is a
	// *commitError. Nil for SQLite, whose orders are booked by a group commit.
	OrderTx func(ctx context.Context, pool *sql.DB, f func(Runner) error) error
	// InsertID turns an INSERT (rebound) into the statement that also returns the id
	// the database gives the row, and reads that id from the statement's result:
	// RETURNING where the database has it, RETURNING INTO an out parameter on Oracle.
	InsertID func(insert string, args []any) (statement, func(results) (int64, error))
	// Money encodes an amount as the schema's money column takes it.
	Money func(d decimal.Decimal) (any, error)
	// Time encodes a timestamp for a timestamp column.
	Time func(t time.Time) any
	// Date encodes a calendar date for a date column.
	Date func(t time.Time) any
	// IsUniqueViolation reports a unique constraint violation.
	IsUniqueViolation func(err error) bool
	// IsRetryable reports a serialization failure, deadlock or busy database: the
	// transaction rolled back and may be run again.
	IsRetryable func(err error) bool
}

// rebind numbers q's placeholders for the dialect. It runs on every statement of an
// order, so it copies the text between placeholders rather than rune by rune ('?' is
// one byte in UTF-8, never part of another character).
func (d Dialect) rebind(q string) string {
	if d.Placeholder == nil || strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + len(q)/4)
	for n := 1; ; n++ {
		i := strings.IndexByte(q, '?')
		if i < 0 {
			break
		}
		b.WriteString(q[:i])
		b.WriteString(d.Placeholder(n))
		q = q[i+1:]
	}
	b.WriteString(q)
	return b.String()
}

// sqliteTimeLayout is fixed-width so that text order is time order (keyset pagination).
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// moneyScale is the fixed scale SQLite stores money in: integers of 1/10,000, exact
// where SQLite's own NUMERIC would be a float.
const moneyScale = 4

// SQLite is the dialect of the embedded ERP (modernc.org/sqlite).
var SQLite = Dialect{
	Name:         "sqlite",
	PrepareReads: true,
	ReadOnlyTx:   &sql.TxOptions{ReadOnly: true},
	Limit:        " LIMIT ?",
	Statements:   wholeScript,
	InsertID:     insertReturning,
	Money: func(d decimal.Decimal) (any, error) {
		if d.Scale() > moneyScale {
			return nil, fmt.Errorf("amount %s has more than %d decimals", d, moneyScale)
		}
		whole, frac, ok := d.Pad(moneyScale).Int64(moneyScale)
		if !ok {
			return nil, fmt.Errorf("amount %s out of range", d)
		}
		return whole*10_000 + frac, nil
	},
	Time: func(t time.Time) any { return t.UTC().Format(sqliteTimeLayout) },
	Date: func(t time.Time) any { return t.Format(time.DateOnly) },
	IsUniqueViolation: func(err error) bool {
		var e *sqlite.Error
		return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsRetryable: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		code := e.Code() & 0xff
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	},
}

// insertReturning is InsertID for databases with INSERT ... RETURNING (SQLite ≥ 3.35,
// PostgreSQL).
func insertReturning(insert string, args []any) (statement, func(results) (int64, error)) {
	return statement{insert + " RETURNING id", args}, func(res results) (int64, error) {
		var id int64
		rs, err := res.query()
		return id, scanFirst(rs, err, &id)
	}
}

// wholeScript is Statements for drivers that run a whole script in one Exec.
func wholeScript(script string) []string { return []string{script} }
