package sqlerp_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

func TestRedactHidesPasswords(t *testing.T) {
	for _, dsn := range []string{
		"postgres://app:pw-secret@db:5432/erp?sslmode=disable",
		"postgresql://app@db/erp?password=pw-secret",
		"oracle://app:pw-secret@db:1521/FREEPDB1",
		"postgres:host=db user=app password=pw-secret", // not a URL: hidden whole
	} {
		got := sqlerp.Redact(dsn)
		if strings.Contains(got, "pw-secret") {
			t.Errorf("Redact(%q) = %q", dsn, got)
		}
		if scheme, _, _ := strings.Cut(dsn, ":"); !strings.HasPrefix(got, scheme+":") {
			t.Errorf("Redact(%q) = %q: lost the scheme", dsn, got)
		}
	}
	if got := sqlerp.Redact("sqlite:/var/lib/erp.db"); got != "sqlite:/var/lib/erp.db" {
		t.Errorf("sqlite path changed: %q", got)
	}
}

func TestOpenRefusesUnknownDSNsWithoutShowingThem(t *testing.T) {
	_, err := sqlerp.Open(context.Background(), "mysql://app:pw-secret@db/erp", sqlerp.Options{})
	if err == nil || strings.Contains(err.Error(), "pw-secret") || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("err = %v, want a refusal naming the accepted forms, without the password", err)
	}
}

// The writer keeps a group commit's savepoint journal in memory (temp_store=MEMORY, 2):
// on a file, every order paid a write system call per page it first touched.
func TestSQLiteWriterKeepsSavepointJournalInMemory(t *testing.T) {
	db, err := sqlerp.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "erp.db"), sqlerp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var store int
	if err := db.Writer().QueryRow(`PRAGMA temp_store`).Scan(&store); err != nil {
		t.Fatal(err)
	}
	if store != 2 {
		t.Errorf("temp_store = %d on the writer, want 2 (MEMORY)", store)
	}
}

// The readers map the file and keep a small page cache (see sqliteReadCacheKiB); the
// writer, which copies every page it changes and keeps them from one group to the next,
// maps nothing and keeps SQLite's 2 MiB. A driver built without memory-mapped I/O answers
// 0 for mmap_size on the readers.
func TestSQLiteReadersMapTheFileAndKeepASmallPageCache(t *testing.T) {
	db, err := sqlerp.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "erp.db"), sqlerp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		pool      *sql.DB
		name      string
		mapped    bool
		cacheSize int64 // negative: KiB
	}{{db.Reader(), "a reader", true, -64}, {db.Writer(), "the writer", false, -2000}} {
		var size, cacheSize int64
		if err := c.pool.QueryRow(`PRAGMA mmap_size`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		if (size > 0) != c.mapped {
			t.Errorf("mmap_size = %d on %s", size, c.name)
		}
		if err := c.pool.QueryRow(`PRAGMA cache_size`).Scan(&cacheSize); err != nil {
			t.Fatal(err)
		}
		if cacheSize != c.cacheSize {
			t.Errorf("cache_size = %d on %s, want %d", cacheSize, c.name, c.cacheSize)
		}
	}
}
