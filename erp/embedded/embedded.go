// Package embedded is the zero-setup ERP: the ERP interface schema on a SQLite file in a
// data directory (modernc.org/sqlite, pure Go), created and filled with demo data on
// first start. Its demo data and fault injection serve the other dialects too.
package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// File names inside the data directory.
const (
	DatabaseFile    = "erp.db"
	CredentialsFile = "demo-credentials.json"
)

// Options configures the embedded ERP.
type Options struct {
	// Synchronous is SQLite's synchronous setting: FULL (default; a confirmed order
	// survives a power cut) or NORMAL (faster; survives a crash of the process only).
	Synchronous string
	// TimeZone is the ERP company's time zone for validity dates.
	TimeZone *time.Location
	// OnGroupCommit is told of each group commit of orders (sqlerp.Options).
	OnGroupCommit func(orders int, commit time.Duration)
}

// ERP is the sqlerp port with fault injection: the embedded ERP, or any ERP interface
// schema an SRE rehearses failures against.
type ERP struct {
	erp.ERP // the port, with Faults injected
	DB      *sqlerp.DB
	// Faults are the faults in force; none by default.
	Faults *Faults
	// Credentials are the demo keys, read from the data directory (nil if absent).
	Credentials *Credentials
}

// Wrap returns the port on db with fault injection (none in force).
func Wrap(db *sqlerp.DB) *ERP {
	faults := &Faults{}
	return &ERP{ERP: faulty{ERP: db, faults: faults}, DB: db, Faults: faults}
}

// Close closes the database.
func (e *ERP) Close() error { return e.DB.Close() }

// Writer returns the database's write pool, for tests that write the schema directly.
func (e *ERP) Writer() *sql.DB { return e.DB.Writer() }

// Open opens the ERP in dir, creating, migrating and seeding it with the default demo
// data on first start.
func Open(ctx context.Context, dir string, opts Options) (*ERP, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	db, err := sqlerp.Open(ctx, "sqlite:"+filepath.Join(dir, DatabaseFile),
		sqlerp.Options{Synchronous: opts.Synchronous, TimeZone: opts.TimeZone, OnGroupCommit: opts.OnGroupCommit})
	if err != nil {
		return nil, err
	}
	e := Wrap(db)
	created, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if created {
		if e.Credentials, err = Seed(ctx, db, SeedOptions{}); err != nil {
			db.Close()
			return nil, err
		}
		if err := e.Credentials.Write(dir); err != nil {
			db.Close()
			return nil, err
		}
		return e, nil
	}
	if e.Credentials, err = ReadCredentials(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		db.Close()
		return nil, err
	}
	return e, nil
}

// Credentials are the demo keys written beside the database on first start.
type Credentials struct {
	AdminKey    string           `json:"admin_key"`
	Storefronts []StorefrontKeys `json:"storefronts"`
	SKUs        []string         `json:"skus"`
}

// StorefrontKeys is one demo storefront: its key and the accounts it may act for.
type StorefrontKeys struct {
	Name     string   `json:"name"`
	Key      string   `json:"key"`
	Accounts []string `json:"accounts"`
}

// Write stores the credentials in dir, readable by the owner only.
func (c *Credentials) Write(dir string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, CredentialsFile), append(b, '\n'), 0o600)
}

// ReadCredentials reads the credentials of the data directory dir.
func ReadCredentials(dir string) (*Credentials, error) {
	b, err := os.ReadFile(filepath.Join(dir, CredentialsFile))
	if err != nil {
		return nil, err
	}
	c := &Credentials{}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("%s: %w", CredentialsFile, err)
	}
	return c, nil
}

// CatalogItem is one item of the demo catalog.
type CatalogItem struct {
	SKU  string `json:"sku"`
	Name string `json:"name"`
}

// SearchCatalog returns up to limit items whose SKU or name contains q (any case), by
// SKU: the demo storefront's catalog search. The storefront API has no catalog route;
// this one serves the demo page only.
func (e *ERP) SearchCatalog(ctx context.Context, q string, limit int) ([]CatalogItem, error) {
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
	rows, err := e.DB.Reader().QueryContext(ctx, e.DB.Rebind(`
		SELECT sku, name FROM items WHERE lower(sku) LIKE ? ESCAPE '\' OR lower(name) LIKE ? ESCAPE '\'
		 ORDER BY sku`), like, like)
	if err != nil {
		return nil, fmt.Errorf("search catalog: %w", err)
	}
	defer rows.Close()
	out := []CatalogItem{}
	for len(out) < limit && rows.Next() {
		var it CatalogItem
		if err := rows.Scan(&it.SKU, &it.Name); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}
