// Package sqlerp implements the ERP port over database/sql on the ERP interface schema
// (schema/): the tables or views an ERP exposes for items, stock, prices, credit and
// orders. It prices and allocates inside its own order transaction; the dialect type
// carries what differs between databases.
package sqlerp

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/b2bridge/b2bridge/erp"
)

//go:embed schema
var schemaFS embed.FS

// DB is the ERP port on an ERP interface schema.
type DB struct {
	write   *sql.DB // order transactions; for SQLite one connection, as SQLite has one writer
	read    *sql.DB // reads and quotes
	dialect Dialect
	loc     *time.Location
	now     func() time.Time
}

var _ erp.ERP = (*DB)(nil)

// Options configures a DB.
type Options struct {
	// TimeZone is the ERP company's time zone, in which validity dates are read.
	TimeZone *time.Location
}

// New returns the port over two pools of one database: write for order transactions,
// read for everything else (they may be the same pool).
func New(write, read *sql.DB, d Dialect, opts Options) *DB {
	db := &DB{write: write, read: read, dialect: d, loc: opts.TimeZone, now: time.Now}
	if db.loc == nil {
		db.loc = time.UTC
	}
	return db
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		if rerr := db.read.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// Writer returns the pool order transactions use, for seeding and admin tools.
func (db *DB) Writer() *sql.DB { return db.write }

// Ping checks that the read pool reaches the database (the write pool's one connection
// may be busy with an order).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping erp: %w", err)
	}
	return nil
}

// Migrate applies the schema versions the database does not have yet, each in its own
// transaction, and reports whether the database was empty before.
func (db *DB) Migrate(ctx context.Context) (created bool, err error) {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	var have int
	if err := db.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	dir := "schema/" + db.dialect.Name
	names, err := fs.Glob(schemaFS, dir+"/*.sql")
	if err != nil {
		return false, err
	}
	sort.Strings(names)
	for i, name := range names {
		version := i + 1
		if version <= have {
			continue
		}
		ddl, err := schemaFS.ReadFile(name)
		if err != nil {
			return false, err
		}
		if err := db.inTx(ctx, db.write, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(ddl)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, db.q(`INSERT INTO schema_migrations (version) VALUES (?)`), version)
			return err
		}); err != nil {
			return false, fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return have == 0, nil
}

// inTx runs f in a transaction of pool and commits it.
func (db *DB) inTx(ctx context.Context, pool *sql.DB, f func(*sql.Tx) error) error {
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// q rewrites a query written with ? placeholders for the dialect.
func (db *DB) q(query string) string { return db.dialect.rebind(query) }

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// querier is what reads need of a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
