package sqlerp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"
	_ "github.com/sijms/go-ora/v2"     // the database/sql driver "oracle"
	_ "modernc.org/sqlite"             // the database/sql driver "sqlite"
)

// Options configures a DB.
type Options struct {
	// TimeZone is the ERP company's time zone, in which validity dates are read.
	TimeZone *time.Location
	// Synchronous is SQLite's synchronous setting: FULL (default; a confirmed order
	// survives a power cut) or NORMAL (faster; survives a crash of the process only).
	Synchronous string
	// WriteConns and ReadConns size the pools of a client-server database: order
	// transactions, and everything else. SQLite always writes through one connection.
	WriteConns, ReadConns int
	// OnGroupCommit, when set, is told of each group commit on SQLite: how many orders
	// the group carried and how long its COMMIT took. For metrics; it must not block.
	OnGroupCommit func(orders int, commit time.Duration)
}

// Pool sizes, and how much of the file and of memory a SQLite reader uses.
const (
	DefaultWriteConns = 16
	DefaultReadConns  = 16
	sqliteReadConns   = 8       // readers do not block each other in WAL mode
	sqliteReadMap     = 1 << 30 // bytes of the file a reader maps; past them it reads with pread
	// sqliteReadCacheKiB bounds a reader's page cache. Mapped, a reader caches only the
	// pages it reads from the WAL, and SQLite empties a reader's cache whenever a write
	// came between two of its read transactions, so under orders a cache serves one
	// transaction. At SQLite's 2 MiB each, the memory outside Go grew all through 10
	// minutes of mixed load at 1,200 requests/s, by 11.5 MiB; at 64 KiB, by 2.1.
	sqliteReadCacheKiB = 64
)

// Open connects to the ERP interface schema that dsn names: sqlite:PATH,
// postgres://... (or postgresql://...) or oracle://.... It checks that the database
// answers, not that the schema is there (see SchemaVersion).
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.WriteConns <= 0 {
		opts.WriteConns = DefaultWriteConns
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = DefaultReadConns
	}
	var (
		db  *DB
		err error
	)
	switch scheme, rest, _ := strings.Cut(dsn, ":"); scheme {
	case "sqlite":
		db, err = openSQLite(rest, opts)
	case "postgres", "postgresql":
		db, err = openPool("pgx", dsn, PostgreSQL, opts)
	case "oracle":
		db, err = openPool("oracle", dsn, Oracle, opts)
	default:
		return nil, fmt.Errorf("ERP DSN %s: want sqlite:PATH, postgres://... or oracle://...", Redact(dsn))
	}
	if err != nil {
		return nil, fmt.Errorf("open ERP %s: %w", Redact(dsn), err)
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open ERP %s: %w", Redact(dsn), err)
	}
	return db, nil
}

// openSQLite opens the file at path with one writer connection, as SQLite has one
// writer (queue in Go, not in busy_timeout; orders in a group commit), and a pool of
// read-only readers.
func openSQLite(path string, opts Options) (*DB, error) {
	sync := strings.ToUpper(opts.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlite synchronous %q: want FULL or NORMAL", opts.Synchronous)
	}
	if path == "" {
		return nil, errors.New("sqlite DSN has no path")
	}
	// PRAGMAs go in the DSN: one run with db.Exec would reach one pooled connection only.
	file := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" +
		"_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)"
	// temp_store(MEMORY) keeps the savepoint journal of a group commit in memory: on a
	// file it cost a pwrite per page each order first touched, a quarter of an order's CPU.
	write, err := sql.Open("sqlite", file+"&_pragma=synchronous("+sync+")&_pragma=temp_store(MEMORY)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	// The readers map the file (mmap_size) instead of copying each page they miss into
	// their 2 MiB page cache with a pread: over a catalog larger than that cache, most
	// pages of a read miss it. The writer does not: it copies every page it changes, and
	// its orders ran no faster mapped. An I/O error on a mapped page ends the process
	// (SIGBUS) where a pread would have failed the read.
	read, err := sql.Open("sqlite", file+"&_query_only=1&_pragma=mmap_size("+strconv.Itoa(sqliteReadMap)+")"+
		"&_pragma=cache_size(-"+strconv.Itoa(sqliteReadCacheKiB)+")")
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(sqliteReadConns)
	read.SetMaxIdleConns(sqliteReadConns)
	db := New(write, read, SQLite, opts)
	db.group = newGroupCommit(db, opts.OnGroupCommit)
	return db, nil
}

// openPool opens a client-server database with a pool for order transactions and one
// for reads, so that a burst of one never starves the other.
func openPool(driver, dsn string, d Dialect, opts Options) (*DB, error) {
	write, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(opts.WriteConns)
	write.SetMaxIdleConns(opts.WriteConns)
	read, err := sql.Open(driver, dsn)
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(opts.ReadConns)
	read.SetMaxIdleConns(opts.ReadConns)
	db := New(write, read, d, opts)
	db.writeTurns = make(chan struct{}, opts.WriteConns)
	return db, nil
}

// Redact returns the DSN with its password hidden, for logs and errors. A DSN that is
// not a URL is hidden whole but for its scheme.
func Redact(dsn string) string {
	scheme, rest, _ := strings.Cut(dsn, ":")
	if scheme == "sqlite" {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil || !strings.HasPrefix(rest, "//") {
		return scheme + ":(hidden)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
