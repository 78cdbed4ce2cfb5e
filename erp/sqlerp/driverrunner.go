package sqlerp

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// driverRunner runs statements on a database/sql driver's connection directly, each
// prepared once and kept in stmts: group commit's runner, which holds the write pool's one
// SQLite connection for a whole group. Through database/sql each statement of a
// transaction also takes locks, wraps the prepared statement for the transaction and, for
// a query, starts a goroutine that watches the transaction's context: a PRIMARY KEY read
// took three times the instructions it takes on the driver (callgrind).
type driverRunner struct {
	conn  driver.ConnPrepareContext
	stmts map[string]driver.Stmt
}

// stmt returns query prepared, and whether it is kept (a statement past maxPrepared is
// the caller's to close).
func (r driverRunner) stmt(ctx context.Context, query string) (driver.Stmt, bool, error) {
	if s, ok := r.stmts[query]; ok {
		return s, true, nil
	}
	s, err := r.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	if len(r.stmts) >= maxPrepared {
		return s, false, nil
	}
	r.stmts[query] = s
	return s, true, nil
}

func (r driverRunner) query(ctx context.Context, query string, args ...any) (rows, error) {
	nv, err := namedValues(args)
	if err != nil {
		return nil, err
	}
	s, kept, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	sq, ok := s.(driver.StmtQueryContext)
	if !ok {
		return nil, fmt.Errorf("the driver's statement (%T) cannot query with a context", s)
	}
	rs, err := sq.QueryContext(ctx, nv)
	if err != nil {
		if !kept {
			s.Close()
		}
		return nil, err
	}
	dr := &driverRows{rows: rs, row: make([]driver.Value, len(rs.Columns()))}
	if !kept {
		dr.stmt = s
	}
	return dr, nil
}

func (r driverRunner) exec(ctx context.Context, query string, args ...any) (int64, error) {
	nv, err := namedValues(args)
	if err != nil {
		return 0, err
	}
	s, kept, err := r.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	if !kept {
		defer s.Close()
	}
	se, ok := s.(driver.StmtExecContext)
	if !ok {
		return 0, fmt.Errorf("the driver's statement (%T) cannot execute with a context", s)
	}
	res, err := se.ExecContext(ctx, nv)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// namedValues converts arguments as database/sql does for a driver without a
// NamedValueChecker: driver.DefaultParameterConverter.
func namedValues(args []any) ([]driver.NamedValue, error) {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv, nil
}

// driverRows is a driver's result set read through the rows interface.
type driverRows struct {
	rows   driver.Rows
	row    []driver.Value
	stmt   driver.Stmt // closed with the rows: a statement that was not kept
	err    error
	closed bool
}

func (r *driverRows) Next() bool {
	if r.closed || r.err != nil {
		return false
	}
	if err := r.rows.Next(r.row); err != nil {
		if !errors.Is(err, io.EOF) {
			r.err = err
		}
		return false
	}
	return true
}

// Scan assigns the current row to dest: the destinations the order transaction scans into
// (sql.Scanner, *string, *int64, *int), each from the driver's type for it.
func (r *driverRows) Scan(dest ...any) error {
	if len(dest) != len(r.row) {
		return fmt.Errorf("scan: %d destinations for %d columns", len(dest), len(r.row))
	}
	for i, d := range dest {
		if err := assign(d, r.row[i]); err != nil {
			return fmt.Errorf("scan column %d: %w", i+1, err)
		}
	}
	return nil
}

func assign(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case sql.Scanner:
		return d.Scan(v)
	case *string:
		if s, ok := v.(string); ok {
			*d = s
			return nil
		}
	case *int64:
		if n, ok := v.(int64); ok {
			*d = n
			return nil
		}
	case *int:
		if n, ok := v.(int64); ok {
			*d = int(n)
			return nil
		}
	}
	return fmt.Errorf("cannot scan %T into %T", v, dest)
}

func (r *driverRows) Err() error { return r.err }

// Close may be called more than once (scanRow closes, then defers a close).
func (r *driverRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.rows.Close()
	if r.stmt != nil {
		if cerr := r.stmt.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
