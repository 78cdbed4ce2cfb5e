package sqlerp

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/govalues/decimal"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL is the dialect of PostgreSQL through pgx's database/sql driver. Money is
// NUMERIC(19,4), passed as decimal text so that no float ever carries it.
var PostgreSQL = Dialect{
	Name:        "postgres",
	ReadOnlyTx:  &sql.TxOptions{ReadOnly: true},
	ForUpdate:   " FOR UPDATE",
	Limit:       " LIMIT ?",
	Statements:  wholeScript, // pgx runs an argument-less Exec as one simple-protocol script
	Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
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
