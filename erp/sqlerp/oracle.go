package sqlerp

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/govalues/decimal"
	goora "github.com/sijms/go-ora/v2"
	"github.com/sijms/go-ora/v2/network"
)

// Oracle is the dialect of Oracle Database 23ai and later through go-ora. Money is
// NUMBER(19,4), bound as an exact Oracle NUMBER built from decimal text (never a float,
// and independent of the session's NLS decimal separator). Oracle stores the empty string
// as NULL, so statements never rely on one.
var Oracle = Dialect{
	Name:        "oracle",
	ReadOnlyTx:  nil, // go-ora refuses read-only transactions
	ForUpdate:   " FOR UPDATE",
	LockTable:   "LOCK TABLE %s IN EXCLUSIVE MODE",
	Limit:       " FETCH FIRST ? ROWS ONLY",
	Statements:  slashSeparated,
	Placeholder: func(n int) string { return ":" + strconv.Itoa(n) },
	OrderTx:     sqlTx,
	InsertID: func(insert string, args []any) (statement, func(results) (int64, error)) {
		id := new(int64)
		args = append(args[:len(args):len(args)], sql.Out{Dest: id}) // never into the caller's array
		return statement{insert + " RETURNING id INTO :" + strconv.Itoa(len(args)), args}, func(res results) (int64, error) {
			_, err := res.exec()
			return *id, err
		}
	},
	Money: func(d decimal.Decimal) (any, error) {
		if d.Scale() > moneyScale {
			return nil, fmt.Errorf("amount %s has more than %d decimals", d, moneyScale)
		}
		return goora.NewNumberFromString(d.String())
	},
	Time:              func(t time.Time) any { return t.UTC() },
	Date:              func(t time.Time) any { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) },
	IsUniqueViolation: func(err error) bool { return oraCode(err) == 1 },
	IsRetryable: func(err error) bool {
		code := oraCode(err)
		return code == 60 || code == 8177 // deadlock, cannot serialize
	},
}

// oraCode returns the ORA- error number of err, or 0.
func oraCode(err error) int {
	var e *network.OracleError
	if errors.As(err, &e) {
		return e.ErrCode
	}
	return 0
}

// slashSeparated splits an Oracle script on lines that hold only "/", as SQL*Plus does,
// so that PL/SQL bodies keep their semicolons.
func slashSeparated(script string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if s := strings.TrimSpace(b.String()); s != "" && !onlyComments(s) {
			out = append(out, s)
		}
		b.Reset()
	}
	for _, line := range strings.Split(script, "\n") {
		if strings.TrimSpace(line) == "/" {
			flush()
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	flush()
	return out
}

// onlyComments reports whether a script chunk holds nothing but -- comments.
func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}
