package sqlerp

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/govalues/decimal"
)

// money scans a money column: an integer of 1/10,000 (SQLite) or a decimal text.
type money struct {
	d     *decimal.Decimal
	valid bool
}

func (m *money) Scan(src any) error {
	var err error
	switch v := src.(type) {
	case nil:
		m.valid = false
		return nil
	case int64:
		*m.d, err = decimal.New(v, moneyScale)
	case string:
		*m.d, err = decimal.Parse(v)
	case []byte:
		*m.d, err = decimal.Parse(string(v))
	default:
		err = fmt.Errorf("money column: unexpected %T", src)
	}
	m.valid = err == nil
	return err
}

// text scans a nullable text column, NULL as "": Oracle stores the empty string as NULL.
type text struct{ s *string }

func (t text) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t.s = ""
	case string:
		*t.s = v
	case []byte:
		*t.s = string(v)
	default:
		return fmt.Errorf("text column: unexpected %T", src)
	}
	return nil
}

// flag scans a 0/1 flag column, a number in every dialect, into a bool.
type flag struct{ b *bool }

func (f flag) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*f.b = v != 0
	case bool:
		*f.b = v
	case string: // go-ora's NUMBER
		*f.b = v != "0"
	case []byte:
		*f.b = string(v) != "0"
	default:
		return fmt.Errorf("flag column: unexpected %T", src)
	}
	return nil
}

// MoneyScanner scans a money column of any dialect into d, for tools and tests that read
// the schema directly.
func MoneyScanner(d *decimal.Decimal) sql.Scanner { return moneyOf(d) }

// moneyOf scans into d.
func moneyOf(d *decimal.Decimal) *money { return &money{d: d} }

// timestamp scans a timestamp column: time.Time or the SQLite text layout.
type timestamp struct {
	t     *time.Time
	valid bool
}

func (ts *timestamp) Scan(src any) error {
	var err error
	switch v := src.(type) {
	case nil:
		ts.valid = false
		return nil
	case time.Time:
		*ts.t = v.UTC()
	case string:
		*ts.t, err = time.Parse(time.RFC3339Nano, v)
	case []byte:
		*ts.t, err = time.Parse(time.RFC3339Nano, string(v))
	default:
		err = fmt.Errorf("timestamp column: unexpected %T", src)
	}
	ts.valid = err == nil
	return err
}

// date scans a date column (time.Time or YYYY-MM-DD) as midnight UTC.
type date struct {
	t     *time.Time
	valid bool
}

func (d *date) Scan(src any) error {
	var err error
	switch v := src.(type) {
	case nil:
		d.valid = false
		return nil
	case time.Time:
		*d.t = time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC)
	case string:
		*d.t, err = time.Parse(time.DateOnly, v[:min(len(v), 10)])
	case []byte:
		*d.t, err = time.Parse(time.DateOnly, string(v[:min(len(v), 10)]))
	default:
		err = fmt.Errorf("date column: unexpected %T", src)
	}
	d.valid = err == nil
	return err
}
