// Package sqlerp implements the ERP port over database/sql on the ERP interface schema
// (schema/): the tables or views an ERP exposes for items, stock, prices, credit and
// orders. It prices and allocates inside its own order transaction; the dialect type
// carries what differs between databases.
package sqlerp

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/b2bridge/b2bridge/erp"
)

//go:embed schema
var schemaFS embed.FS

// DB is the ERP port on an ERP interface schema.
type DB struct {
	write   *sql.DB      // order transactions; for SQLite one connection, as SQLite has one writer
	read    *sql.DB      // reads and quotes
	reads   Runner       // the storefront's reads on read (not the admin's): statements kept prepared where the dialect says so
	group   *groupCommit // SQLite's orders; nil where the database has many writers
	dialect Dialect
	loc     *time.Location
	now     func() time.Time

	// writeTurns admits orders to the write pool in arrival order, one per connection:
	// database/sql hands a freed connection to a random waiter, and the tail would not
	// follow the median. nil where group commit queues the orders.
	writeTurns chan struct{}
}

var _ erp.ERP = (*DB)(nil)

// New returns the port over two pools of one database: write for order transactions,
// read for everything else (they may be the same pool).
func New(write, read *sql.DB, d Dialect, opts Options) *DB {
	db := &DB{write: write, read: read, reads: sqlRunner{read}, dialect: d, loc: opts.TimeZone, now: time.Now}
	if d.PrepareReads {
		db.reads = &readRunner{sqlRunner: sqlRunner{read}, pool: read}
	}
	if db.loc == nil {
		db.loc = time.UTC
	}
	return db
}

// Close stops booking orders and closes both pools.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.close()
	}
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

// Reader returns the pool reads use, for tools that read the schema directly.
func (db *DB) Reader() *sql.DB { return db.read }

// Dialect returns the database's dialect, for tools that write the schema directly.
func (db *DB) Dialect() Dialect { return db.dialect }

// Rebind rewrites a statement written with ? placeholders for the database.
func (db *DB) Rebind(query string) string { return db.dialect.rebind(query) }

// Ping checks that the read pool reaches the database (the write pool's one connection
// may be busy with an order).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping erp: %w", err)
	}
	return nil
}

// Migrate applies the schema versions the database does not have yet, each in its own
// transaction (Oracle commits each DDL statement itself), and reports whether the
// database was empty before.
func (db *DB) Migrate(ctx context.Context) (created bool, err error) {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	have, err := db.schemaVersion(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	names, err := db.migrations()
	if err != nil {
		return false, err
	}
	for i, name := range names {
		version := i + 1
		if version <= have {
			continue
		}
		ddl, err := schemaFS.ReadFile(name)
		if err != nil {
			return false, err
		}
		if err := sqlTx(ctx, db.write, func(tx Runner) error {
			for _, stmt := range db.dialect.Statements(string(ddl)) {
				if _, err := tx.exec(ctx, stmt); err != nil {
					return fmt.Errorf("%.60s: %w", stmt, err)
				}
			}
			_, err := tx.exec(ctx, db.Rebind(`INSERT INTO schema_migrations (version) VALUES (?)`), version)
			return err
		}); err != nil {
			return false, fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return have == 0, nil
}

// migrations lists the dialect's schema files in version order.
func (db *DB) migrations() ([]string, error) {
	names, err := fs.Glob(schemaFS, "schema/"+db.dialect.Name+"/*.sql")
	sort.Strings(names)
	return names, err
}

func (db *DB) schemaVersion(ctx context.Context) (int, error) {
	var have int
	err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have)
	return have, err
}

// ErrSchema means the database lacks the ERP interface schema, or has an older version
// of it than this b2bridge needs: b2bridge erp migrate brings it up to date.
var ErrSchema = errors.New("the ERP interface schema is missing or out of date")

// CheckSchema returns an error wrapping ErrSchema unless the database has every schema
// version this b2bridge knows.
func (db *DB) CheckSchema(ctx context.Context) error {
	names, err := db.migrations()
	if err != nil {
		return err
	}
	have, err := db.schemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("%w (cannot read schema_migrations: %v)", ErrSchema, err)
	}
	if have < len(names) {
		return fmt.Errorf("%w: the database has version %d, this b2bridge needs %d", ErrSchema, have, len(names))
	}
	return nil
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// inShape is how many placeholders an IN list of n values is written with: n itself up
// to 4, else the next power of two, the list filled out by repeating its last value.
// Each shape of a statement is one more to keep prepared (maxReadPrepared, maxPrepared),
// and a storefront may send any number of SKUs up to its limit: written exactly, reads
// of 1 to 100 SKUs were 100 shapes of one statement, enough to fill the bound and leave
// every shape after it compiled on each call.
func inShape(n int) int {
	if n <= 4 {
		return n
	}
	return 1 << bits.Len(uint(n-1))
}

// inList is the placeholders of an IN list of n values (inShape).
func inList(n int) string { return placeholders(inShape(n)) }

// appendIn appends the values of an IN list written with inList(len(vals)).
func appendIn[T any](args []any, vals []T) []any {
	for _, v := range vals {
		args = append(args, v)
	}
	for i := len(vals); i < inShape(len(vals)); i++ {
		args = append(args, vals[len(vals)-1])
	}
	return args
}

// Runner runs statements on a pool or in a transaction: through database/sql, or for
// PostgreSQL's order transactions on pgx's own connection (see Dialect.OrderTx).
type Runner interface {
	query(ctx context.Context, query string, args ...any) (rows, error)
	// exec returns the number of rows affected.
	exec(ctx context.Context, query string, args ...any) (int64, error)
}

// pipeliner is a Runner that sends statements together, in one round trip: pgxRunner.
type pipeliner interface {
	pipeline(ctx context.Context, stmts ...statement) results
}

// results are the results of sent statements, read in the order they were sent.
type results interface {
	// query returns the next statement's rows, to be closed before the next result.
	query() (rows, error)
	// exec returns the number of rows the next statement affected.
	exec() (int64, error)
	close() error
}

// send sends stmts in one round trip where r pipelines them; elsewhere each statement
// runs when its result is read.
func send(ctx context.Context, r Runner, stmts ...statement) results {
	if p, ok := r.(pipeliner); ok {
		return p.pipeline(ctx, stmts...)
	}
	return &eachResults{ctx: ctx, r: r, stmts: stmts}
}

// eachResults runs each statement when its result is read.
type eachResults struct {
	ctx   context.Context
	r     Runner
	stmts []statement
}

func (e *eachResults) next() (statement, error) {
	if len(e.stmts) == 0 {
		return statement{}, errors.New("no statement left to read a result of")
	}
	s := e.stmts[0]
	e.stmts = e.stmts[1:]
	return s, nil
}

func (e *eachResults) query() (rows, error) {
	s, err := e.next()
	if err != nil {
		return nil, err
	}
	return e.r.query(e.ctx, s.query, s.args...)
}

func (e *eachResults) exec() (int64, error) {
	s, err := e.next()
	if err != nil {
		return 0, err
	}
	return e.r.exec(e.ctx, s.query, s.args...)
}

func (e *eachResults) close() error { return nil }

// execAll runs the statements in order, in one round trip where r pipelines them, and
// returns the rows each affected; the first error ends it, naming its statement.
func execAll(ctx context.Context, r Runner, stmts ...statement) ([]int64, error) {
	res := send(ctx, r, stmts...)
	defer res.close()
	n := make([]int64, len(stmts))
	for i, s := range stmts {
		var err error
		if n[i], err = res.exec(); err != nil {
			return nil, fmt.Errorf("%.40s: %w", s.query, err)
		}
	}
	return n, res.close()
}

// statement is a rebound statement with its arguments.
type statement struct {
	query string
	args  []any
}

// rows is what reads need of a result set.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// sqlRunner runs statements through database/sql: a *sql.DB or a *sql.Tx.
type sqlRunner struct {
	db interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	}
}

func (r sqlRunner) query(ctx context.Context, query string, args ...any) (rows, error) {
	rs, err := r.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rs, nil
}

func (r sqlRunner) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := r.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// maxReadPrepared bounds the statements readRunner keeps, each prepared on up to every
// read connection: the shapes storefronts use (one per count of SKUs, or of orders on a
// page of order history) are a few dozen; a statement past the bound is compiled for its
// one run, as without the runner.
const maxReadPrepared = 128

// readRunner is sqlRunner on the read pool with each query prepared once and kept:
// modernc's SQLite compiles every statement it is given, and on reads that miss the cache
// compiling took as much CPU as running (perf, 100,000 items: prepare 21 %, step 19 %).
// database/sql prepares a kept statement on each connection the first time it runs there.
type readRunner struct {
	sqlRunner
	pool      *sql.DB
	stmts     sync.Map // query → *sql.Stmt
	n         atomic.Int32
	preparing sync.Map // query → struct{}: prepareLater's in flight
}

func (r *readRunner) query(ctx context.Context, query string, args ...any) (rows, error) {
	s, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return r.sqlRunner.query(ctx, query, args...)
	}
	rs, err := s.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// stmt returns query prepared, or nil past the bound.
func (r *readRunner) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := r.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	if r.n.Add(1) > maxReadPrepared {
		r.n.Add(-1)
		return nil, nil
	}
	s, err := r.pool.PrepareContext(ctx, query)
	if err != nil {
		r.n.Add(-1)
		return nil, err
	}
	if kept, loaded := r.stmts.LoadOrStore(query, s); loaded { // another reader prepared it first
		r.n.Add(-1)
		s.Close()
		return kept.(*sql.Stmt), nil
	}
	return s, nil
}

// inTx returns the runner of a read transaction (a quote's) on tx. A kept statement runs
// on the transaction's connection, where database/sql prepares it once and keeps it. One
// not kept yet is compiled for this run and prepared in the background: preparing it here
// would take a second connection while holding one, and with every connection held by a
// transaction doing the same, none would be freed.
func (r *readRunner) inTx(tx *sql.Tx) Runner { return txReadRunner{sqlRunner{tx}, tx, r} }

// In a transaction every run of a kept statement is the one statement on its
// connection: a query's rows must be closed before the same query runs again (planOrder
// closes each read's rows before its next read).
type txReadRunner struct {
	sqlRunner // on tx
	tx        *sql.Tx
	reads     *readRunner
}

func (r txReadRunner) query(ctx context.Context, query string, args ...any) (rows, error) {
	s, ok := r.reads.stmts.Load(query)
	if !ok {
		r.reads.prepareLater(query)
		return r.sqlRunner.query(ctx, query, args...)
	}
	rs, err := r.tx.StmtContext(ctx, s.(*sql.Stmt)).QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// prepareLater keeps query prepared, from a goroutine that waits for a free connection
// holding none. A failure is the foreground run's to report.
func (r *readRunner) prepareLater(query string) {
	if r.n.Load() >= maxReadPrepared {
		return
	}
	if _, busy := r.preparing.LoadOrStore(query, struct{}{}); busy {
		return
	}
	go func() {
		defer r.preparing.Delete(query)
		r.stmt(context.Background(), query)
	}()
}

// readTx is the runner of a read transaction on tx.
func (db *DB) readTx(tx *sql.Tx) Runner {
	if r, ok := db.reads.(*readRunner); ok {
		return r.inTx(tx)
	}
	return sqlRunner{tx}
}

// scanRow scans the first row of a query into dest; sql.ErrNoRows if there is none.
func scanRow(ctx context.Context, r Runner, query string, args []any, dest ...any) error {
	rs, err := r.query(ctx, query, args...)
	return scanFirst(rs, err, dest...)
}

// scanFirst scans the first row of rs, the result of a query that returned err, into
// dest; sql.ErrNoRows if there is none.
func scanFirst(rs rows, err error, dest ...any) error {
	if err != nil {
		return err
	}
	defer rs.Close()
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rs.Scan(dest...); err != nil {
		return err
	}
	return rs.Close()
}

// commitError is a failed COMMIT: the transaction's outcome is unknown.
type commitError struct{ err error }

func (e *commitError) Error() string { return "commit: " + e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// sqlTx runs f in a transaction of pool and commits it, a failed COMMIT being a
// *commitError: Dialect.OrderTx through database/sql, and how migrations run.
func sqlTx(ctx context.Context, pool *sql.DB, f func(Runner) error) error {
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := f(sqlRunner{tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return &commitError{err}
	}
	return nil
}
