package sqlerp

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/b2bridge/b2bridge/erp"
)

// SQLite's planner has no statistics, so a statement's plan is the same on an empty
// schema as on 100,000 items: these tests read the plans on an empty one.

// planOf returns SQLite's plan of a statement, one step per element.
func planOf(t *testing.T, db *DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// emptySQLite is an embedded ERP with the schema and no data.
func emptySQLite(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), "sqlite:"+t.TempDir()+"/erp.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// Every price-list entry and agreement line the price read reads must be found by its
// item, not read with every other entry of its list: left to choose, the planner did that
// from four SKUs on, and a read of five prices over 100,000 items took 19 ms instead of
// 130 µs.
func TestPriceReadsFindEntriesByItemForAnyNumberOfSKUs(t *testing.T) {
	db := emptySQLite(t)
	for n := 1; n <= 200; n = max(n+1, n*5/4) {
		skus := make([]string, n)
		for i := range skus {
			skus[i] = fmt.Sprint("SKU-", i)
		}
		// An order's read, with the account known, and a price read's, which reads it.
		for _, p := range []statement{db.pricingQuery(account{id: "C1", currency: "EUR", group: "G"}, skus), db.accountPricingQuery("C1", skus)} {
			plan := planOf(t, db, p.query, p.args...)
			for _, step := range plan {
				if (strings.Contains(step, " e ") || strings.Contains(step, " l ")) && !strings.Contains(step, "item_id=?") {
					t.Errorf("%d SKUs: %q reads entries without their item; plan:\n%s", n, step, strings.Join(plan, "\n"))
				}
			}
		}
	}
}

// A page of order history after a cursor seeks to it in the account's index, rather than
// reading every newer order of the account first.
func TestOrderHistorySeeksToItsCursor(t *testing.T) {
	db := emptySQLite(t)
	plan := planOf(t, db, db.Rebind(ordersAfter+db.dialect.Limit), "C1", "t", "t", 1, 20)
	if len(plan) != 1 || !strings.Contains(plan[0], "account_id=? AND created_at<?") {
		t.Errorf("the page after a cursor is read by %q", plan)
	}
}

// A page of mappings after a cursor seeks to it, within one storefront or across all.
func TestMappingPagesSeekToTheirCursor(t *testing.T) {
	db := emptySQLite(t)
	shop := "shop"
	for _, c := range []struct {
		f    erp.MappingFilter
		want []string // a search of each, in this order
	}{
		{erp.MappingFilter{Kind: erp.MappingSKUs, Storefront: &shop, After: &erp.Mapping{Storefront: shop, Key: "A"}, Limit: 100},
			[]string{"(storefront=? AND sku>?)"}},
		{erp.MappingFilter{Kind: erp.MappingSKUs, After: &erp.Mapping{Storefront: shop, Key: "A"}, Limit: 100},
			[]string{"(storefront=? AND sku>?)", "(storefront>?)"}},
		{erp.MappingFilter{Kind: erp.MappingCustomers, Storefront: &shop, After: &erp.Mapping{Storefront: shop, Key: "A"}, Limit: 100},
			[]string{"(storefront=? AND customer>?)"}},
	} {
		query, args, err := db.mappingsQuery(c.f)
		if err != nil {
			t.Fatal(err)
		}
		plan := planOf(t, db, query, args...)
		var searches []string
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") && strings.Contains(step, "_mappings") { // not a subquery's rows
				t.Errorf("%s after (%s, %s): %q in plan %q", c.f.Kind, c.f.After.Storefront, c.f.After.Key, step, plan)
			}
			if strings.HasPrefix(step, "SEARCH ") {
				searches = append(searches, step)
			}
		}
		ok := len(searches) == len(c.want)
		for i := 0; ok && i < len(searches); i++ {
			ok = strings.Contains(searches[i], c.want[i])
		}
		if !ok {
			t.Errorf("%s after (%s, %s) is read by %q, want searches %q", c.f.Kind, c.f.After.Storefront, c.f.After.Key, plan, c.want)
		}
	}
}
