package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// keysCommand parses a keys subcommand's flags and opens the configured ERP.
func keysCommand(ctx context.Context, name string, args []string, extra func(*flag.FlagSet)) (*sqlerp.DB, *erpAdmin, error) {
	a := &erpAdmin{}
	if err := a.parse(name, args, extra); err != nil {
		return nil, nil, err
	}
	db, err := a.open(ctx)
	return db, a, err
}

// keysCreate creates a key and shows it once: only its hash is stored.
func keysCreate(ctx context.Context, args []string, stdout io.Writer) error {
	var k erp.APIKey
	var scopes, accounts, groups, expires string
	db, _, err := keysCommand(ctx, "keys create", args, func(fs *flag.FlagSet) {
		fs.StringVar(&k.Name, "name", "", "what the key is for (required)")
		fs.StringVar(&k.Storefront, "storefront", "", "the storefront the key acts for")
		fs.BoolVar(&k.Admin, "admin", false, "an admin key (for /admin/v1) instead of a storefront key")
		fs.StringVar(&scopes, "scopes", "", "comma-separated scopes (default: every scope of the role)")
		fs.StringVar(&accounts, "accounts", "", "comma-separated ERP accounts the key is narrowed to")
		fs.StringVar(&groups, "groups", "", "comma-separated customer groups whose accounts the key is narrowed to")
		fs.StringVar(&expires, "expires", "", "when the key stops working: YYYY-MM-DD (end of that day, UTC) or RFC 3339")
	})
	if err != nil {
		return err
	}
	defer db.Close()
	k.Scopes, k.OnlyAccounts, k.OnlyGroups = list(scopes), list(accounts), list(groups)
	if k.ExpiresAt, err = expiry(expires); err != nil {
		return err
	}
	key, err := createKey(ctx, db, k)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created key %s (%s); it is shown this once, store it now:\n\n  %s\n\n", erp.KeyID(erp.HashKey(key)), k.Name, key)
	return nil
}

// createKey validates k and stores a new key with its attributes.
func createKey(ctx context.Context, db *sqlerp.DB, k erp.APIKey) (string, error) {
	if k.Name == "" {
		return "", errors.New("--name is required")
	}
	if k.ExpiresAt != nil && k.ExpiresAt.Before(time.Now()) {
		return "", fmt.Errorf("--expires %s is in the past", k.ExpiresAt.Format(time.RFC3339))
	}
	if k.Admin == (k.Storefront != "") {
		return "", errors.New("give either --storefront NAME or --admin")
	}
	role := erp.StorefrontScopes
	if k.Admin {
		role = erp.AdminScopes
		if len(k.OnlyAccounts) > 0 || len(k.OnlyGroups) > 0 {
			return "", errors.New("--accounts and --groups narrow storefront keys only")
		}
	}
	for _, s := range k.Scopes {
		if !slices.Contains(role, s) {
			return "", fmt.Errorf("scope %q: want some of %s", s, strings.Join(role, ", "))
		}
	}
	if !k.Admin {
		served, err := served(ctx, db, k.Storefront)
		if err != nil {
			return "", err
		}
		if len(served) == 0 {
			return "", fmt.Errorf("storefront %q has no accounts (or does not exist)", k.Storefront)
		}
		for _, a := range k.OnlyAccounts {
			if !slices.Contains(served, a) {
				return "", fmt.Errorf("account %q is not one storefront %s serves", a, k.Storefront)
			}
		}
		for _, g := range k.OnlyGroups {
			var n int
			if err := db.Writer().QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*) FROM customer_groups WHERE code = ?`), g).Scan(&n); err != nil {
				return "", err
			}
			if n == 0 {
				return "", fmt.Errorf("customer group %q does not exist", g)
			}
		}
	}
	prefix := "sk_"
	if k.Admin {
		prefix = "adm_"
	}
	key := embedded.NewKey(prefix)
	return key, db.CreateKey(ctx, erp.HashKey(key), k)
}

func served(ctx context.Context, db *sqlerp.DB, storefront string) ([]string, error) {
	rows, err := db.Writer().QueryContext(ctx, db.Rebind(`SELECT account_id FROM storefront_accounts WHERE storefront = ?`), storefront)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// keysList prints every key, revoked ones included; never a key, only its ID.
func keysList(ctx context.Context, args []string, stdout io.Writer) error {
	db, _, err := keysCommand(ctx, "keys list", args, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	keys, err := db.Keys(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tROLE\tSCOPES\tNARROWED TO\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
	for _, k := range keys {
		role, scopes := "storefront "+k.Storefront, strings.Join(k.Scopes, ",")
		if k.Admin {
			role = "admin"
		}
		if scopes == "" {
			scopes = "all"
		}
		narrowed := strings.Join(append(append([]string{}, k.OnlyAccounts...), k.OnlyGroups...), ",")
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID(), or(k.Name, "-"), role, scopes, or(narrowed, "-"),
			k.CreatedAt.Format(time.DateOnly), when(k.ExpiresAt), when(k.LastUsedAt), when(k.RevokedAt))
	}
	return w.Flush()
}

// keysRevoke revokes a key by its ID; every bridge drops it within one follow interval.
func keysRevoke(ctx context.Context, args []string, stdout io.Writer) error {
	db, a, err := keysCommand(ctx, "keys revoke", args, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if len(a.args) != 1 {
		return errors.New("keys revoke: give the key's ID (b2bridge keys list shows them)")
	}
	k, err := db.RevokeKey(ctx, a.args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked key %s (%s); bridges stop accepting it within one change-log interval\n", k.ID(), or(k.Name, "-"))
	return nil
}

// keysRotate creates a successor with the same attributes and shows it once; both work
// until the old one is revoked, so a storefront can switch without an outage.
func keysRotate(ctx context.Context, args []string, stdout io.Writer) error {
	db, a, err := keysCommand(ctx, "keys rotate", args, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if len(a.args) != 1 {
		return errors.New("keys rotate: give the key's ID (b2bridge keys list shows them)")
	}
	old, err := db.Key(ctx, a.args[0])
	if err != nil {
		return err
	}
	if old.RevokedAt != nil {
		return fmt.Errorf("key %s is revoked: create a new one instead", old.ID())
	}
	key, err := createKey(ctx, db, erp.APIKey{Name: old.Name, Admin: old.Admin, Storefront: old.Storefront, Scopes: old.Scopes,
		OnlyAccounts: old.OnlyAccounts, OnlyGroups: old.OnlyGroups, ExpiresAt: old.ExpiresAt})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created key %s to replace %s; it is shown this once, store it now:\n\n  %s\n\n"+
		"Both work until you revoke the old one: b2bridge keys revoke %s\n", erp.KeyID(erp.HashKey(key)), old.ID(), key, old.ID())
	return nil
}

func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func expiry(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		end := d.Add(24*time.Hour - time.Microsecond)
		return &end, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, fmt.Errorf("--expires %q: want YYYY-MM-DD or RFC 3339", s)
	}
	return &t, nil
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
