package sqlerp

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/b2bridge/b2bridge/erp"
)

// SQLite's planner has no statistics, so the price read's plan is the same on an empty
// schema as on 100,000 items. Every price-list entry and agreement line it reads must be
// found by its item, not read with every other entry of its list: left to choose, the
// planner did that from four SKUs on, and a read of five prices over 100,000 items took
// 19 ms instead of 130 µs.
func TestPriceReadsFindEntriesByItemForAnyNumberOfSKUs(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+t.TempDir()+"/erp.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 200; n = max(n+1, n*5/4) {
		skus := make([]string, n)
		for i := range skus {
			skus[i] = fmt.Sprint("SKU-", i)
		}
		p := db.pricingQuery(account{id: "C1", currency: "EUR", group: "G"}, skus)
		rows, err := db.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+p.query, p.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		for _, step := range plan {
			if (strings.Contains(step, " e ") || strings.Contains(step, " l ")) && !strings.Contains(step, "item_id=?") {
				t.Errorf("%d SKUs: %q reads entries without their item; plan:\n%s", n, step, strings.Join(plan, "\n"))
			}
		}
	}
}

// A page of order history after a cursor seeks to it in the account's index, rather than
// reading every newer order of the account first.
func TestOrderHistorySeeksToItsCursor(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+t.TempDir()+"/erp.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var id, parent, unused int
	var plan string
	err = db.read.QueryRowContext(ctx, "EXPLAIN QUERY PLAN "+db.Rebind(ordersAfter+db.dialect.Limit), "C1", "t", "t", 1, 20).
		Scan(&id, &parent, &unused, &plan)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "account_id=? AND created_at<?") {
		t.Errorf("the page after a cursor is read by %q", plan)
	}
}

// A page of mappings after a cursor seeks to it, within one storefront or across all.
func TestMappingPagesSeekToTheirCursor(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+t.TempDir()+"/erp.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	shop := "shop"
	for _, c := range []struct {
		f    erp.MappingFilter
		want string
	}{
		{erp.MappingFilter{Kind: erp.MappingSKUs, Storefront: &shop, After: &erp.Mapping{Storefront: shop, Key: "A"}, Limit: 100}, "(storefront=? AND sku>?)"},
		{erp.MappingFilter{Kind: erp.MappingSKUs, After: &erp.Mapping{Storefront: shop, Key: "A"}, Limit: 100}, "(storefront>?)"},
		{erp.MappingFilter{Kind: erp.MappingCustomers, Storefront: &shop, After: &erp.Mapping{Storefront: shop, Key: "A"}, Limit: 100}, "(storefront=? AND customer>?)"},
	} {
		query, args, err := db.mappingsQuery(c.f)
		if err != nil {
			t.Fatal(err)
		}
		var id, parent, unused int
		var plan string
		if err := db.read.QueryRowContext(ctx, "EXPLAIN QUERY PLAN "+query, args...).Scan(&id, &parent, &unused, &plan); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, c.want) {
			t.Errorf("%s after (%s, %s) is read by %q, want a search %s", c.f.Kind, c.f.After.Storefront, c.f.After.Key, plan, c.want)
		}
	}
}
