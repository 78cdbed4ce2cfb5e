package sqlerp_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/embedded"
)

func skuMapping(storefront, sku, erpSKU string, factor int) erp.Mapping {
	return erp.Mapping{Kind: erp.MappingSKUs, Storefront: storefront, Key: sku, ERPSKU: erpSKU, Unit: "U", Factor: factor}
}

func changeLog(t *testing.T, e *embedded.ERP, kind string) int {
	t.Helper()
	var n int
	queryRow(t, e, `SELECT COUNT(*) FROM change_log WHERE entity = 'mappings' AND key = ?`, []any{kind}, &n)
	return n
}

// One row at a time: create, refuse a second create, update only with the current ETag,
// delete; each change audited and in the change log.
func TestMappingRowChanges(t *testing.T) {
	dialects(t, func(t *testing.T, e *embedded.ERP) {
		ctx := context.Background()
		logged := changeLog(t, e, "skus")
		m := skuMapping("north-shop", "X-BOX3", "BRG-00002", 3)
		rep, err := e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingSKUs, Actor: "key:test", Source: "api", Puts: []erp.Mapping{m}, Create: true})
		if err != nil || rep.Created != 1 || len(rep.Saved) != 1 || rep.Saved[0].UpdatedAt.IsZero() {
			t.Fatalf("create: %+v %v", rep, err)
		}
		saved := rep.Saved[0]
		got, err := e.Mappings(ctx, erp.MappingFilter{Kind: erp.MappingSKUs, Storefront: &saved.Storefront, Key: "X-BOX3"})
		if err != nil || len(got) != 1 || got[0].ETag() != saved.ETag() {
			t.Fatalf("read back %+v %v; want %+v", got, err, saved)
		}
		if _, err := e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingSKUs, Puts: []erp.Mapping{m}, Create: true}); !errors.Is(err, erp.ErrExists) {
			t.Errorf("second create: %v, want ErrExists", err)
		}
		m.Factor = 4
		_, err = e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingSKUs, Actor: "key:test", Puts: []erp.Mapping{m}, IfMatch: `"stale"`})
		if !errors.Is(err, erp.ErrPreconditionFailed) {
			t.Errorf("update with a stale ETag: %v, want ErrPreconditionFailed", err)
		}
		rep, err = e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingSKUs, Actor: "key:test", Source: "api", Puts: []erp.Mapping{m}, IfMatch: saved.ETag()})
		if err != nil || rep.Changed != 1 || rep.Saved[0].Factor != 4 || rep.Saved[0].ETag() == saved.ETag() {
			t.Fatalf("update: %+v %v", rep, err)
		}
		// The old ETag no longer matches: a second admin who read before the update loses.
		if _, err := e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingSKUs, Deletes: []erp.Mapping{m}, IfMatch: saved.ETag()}); !errors.Is(err, erp.ErrPreconditionFailed) {
			t.Errorf("delete with the old ETag: %v", err)
		}
		if _, err := e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingSKUs, Actor: "key:test", Source: "api", Deletes: []erp.Mapping{m},
			IfMatch: rep.Saved[0].ETag()}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingSKUs, Deletes: []erp.Mapping{m}}); !errors.Is(err, erp.ErrNotFound) {
			t.Errorf("delete of a deleted row: %v, want ErrNotFound", err)
		}
		audit, err := e.MappingAudit(ctx, erp.AuditFilter{Kind: erp.MappingSKUs, Limit: 10})
		if err != nil || len(audit) != 3 {
			t.Fatalf("audit: %d entries %v, want 3", len(audit), err)
		}
		del, upd, cre := audit[0], audit[1], audit[2]
		if cre.Before != nil || cre.After.Factor != 3 || upd.Before.Factor != 3 || upd.After.Factor != 4 || del.After != nil ||
			del.Before.Key != "X-BOX3" || del.Actor != "key:test" || del.Before.Storefront != "north-shop" {
			t.Errorf("audit entries: create %+v, update %+v, delete %+v", cre, upd, del)
		}
		if n := changeLog(t, e, "skus"); n <= logged {
			t.Errorf("the change log has %d mapping rows after three changes, %d before", n, logged)
		}
	})
}

// A replace (a CSV import) is all or nothing, reports what it would do, and refuses
// every row that names something the ERP does not have.
func TestMappingReplace(t *testing.T) {
	dialects(t, func(t *testing.T, e *embedded.ERP) {
		ctx := context.Background()
		before, err := e.Mappings(ctx, erp.MappingFilter{Kind: erp.MappingSKUs})
		if err != nil || len(before) != 5 {
			t.Fatalf("demo SKU mappings: %d %v, want 5", len(before), err)
		}
		bad := []erp.Mapping{
			skuMapping("", "A", "BRG-00005", 2),
			skuMapping("", "B", "NO-SUCH", 2),
			skuMapping("", "A", "BRG-00006", 2),
			skuMapping("", "C", "BRG-00005", 0),
		}
		rep, err := e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingSKUs, Puts: bad, Replace: true})
		if err != nil || len(rep.Refused) != 3 || rep.Refused[0].Index != 1 || rep.Refused[1].Index != 2 || rep.Refused[2].Index != 3 {
			t.Fatalf("bad replace: %+v %v; want rows 1, 2 and 3 refused", rep, err)
		}
		puts := append([]erp.Mapping{}, before[1:]...) // drop one
		puts[0].Factor++                               // change one
		puts = append(puts, skuMapping("", "NEW-1", "BRG-00005", 6))
		for _, dry := range []bool{true, false} {
			rep, err = e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingSKUs, Source: "csv", Puts: puts, Replace: true, DryRun: dry})
			if err != nil || rep.Created != 1 || rep.Changed != 1 || rep.Deleted != 1 || rep.Unchanged != 3 || rep.Deletions[0].Key != before[0].Key {
				t.Fatalf("replace (dry run %v): %+v %v", dry, rep, err)
			}
			after, _ := e.Mappings(ctx, erp.MappingFilter{Kind: erp.MappingSKUs})
			if changed := len(after) != len(before) || after[0].Key != before[0].Key; changed == dry {
				t.Errorf("dry run %v: mappings %v", dry, after)
			}
		}
		// Paging and filters.
		page, _ := e.Mappings(ctx, erp.MappingFilter{Kind: erp.MappingSKUs, Limit: 2})
		next, _ := e.Mappings(ctx, erp.MappingFilter{Kind: erp.MappingSKUs, Limit: 10, After: &page[1]})
		all, _ := e.Mappings(ctx, erp.MappingFilter{Kind: erp.MappingSKUs})
		if len(page)+len(next) != len(all) || next[0].Key == page[1].Key {
			t.Errorf("pages %v + %v, all %v", page, next, all)
		}
		byItem, _ := e.Mappings(ctx, erp.MappingFilter{Kind: erp.MappingSKUs, Target: "BRG-00005"})
		byPrefix, _ := e.Mappings(ctx, erp.MappingFilter{Kind: erp.MappingSKUs, Prefix: "BRG-00001-"})
		if len(byItem) != 1 || len(byPrefix) != 1 || byPrefix[0].Key != "BRG-00001-PAL480" { // BRG-00001-BOX12 was deleted
			t.Errorf("by ERP item %v, by prefix %v", byItem, byPrefix)
		}

		// Customers and regions check their references too.
		rep, _ = e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingCustomers, Puts: []erp.Mapping{
			{Kind: erp.MappingCustomers, Storefront: "north-shop", Key: "ok", Account: "C1003"},
			{Kind: erp.MappingCustomers, Storefront: "north-shop", Key: "x", Account: "C9999"},
			{Kind: erp.MappingCustomers, Storefront: "no-shop", Key: "y", Account: "C1003"},
		}, Replace: true, DryRun: true})
		if len(rep.Refused) != 2 || rep.Refused[0].Index != 1 || rep.Refused[1].Index != 2 {
			t.Errorf("customer references: %+v", rep.Refused)
		}
		rep, err = e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingRegions, Actor: "t", Source: "api", Puts: []erp.Mapping{
			{Kind: erp.MappingRegions, Key: "NORTH", Warehouses: []string{"WH-SOUTH", "WH-NORTH"}},
			{Kind: erp.MappingRegions, Key: "WEST", Warehouses: []string{"WH-NOWHERE"}},
		}})
		if err != nil || len(rep.Refused) != 1 || rep.Refused[0].Index != 1 {
			t.Errorf("region references: %+v %v", rep, err)
		}
		rep, err = e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingRegions, Actor: "t", Source: "api", Puts: []erp.Mapping{
			{Kind: erp.MappingRegions, Key: "NORTH", Warehouses: []string{"WH-SOUTH", "WH-NORTH"}}}})
		regions, _ := e.Mappings(ctx, erp.MappingFilter{Kind: erp.MappingRegions, Key: "NORTH"})
		if err != nil || rep.Changed != 1 || len(regions) != 1 || len(regions[0].Warehouses) != 2 || regions[0].Warehouses[0] != "WH-SOUTH" {
			t.Errorf("region update: %+v %v → %+v", rep, err, regions)
		}
	})
}

// Two storefront SKUs of one item in one order stay two lines; together they reserve
// their sum, and the second cannot take what the first took.
func TestOneOrderThroughTwoSKUsOfOneItem(t *testing.T) {
	dialects(t, func(t *testing.T, e *embedded.ERP) {
		ctx := context.Background()
		plentyOfCredit(t, e)
		setStock(t, e, "BRG-00001", 20)
		box := erp.DraftLine{SKU: "BRG-00001", Qty: 12, Ordered: erp.Ordered{OrderedSKU: "BRG-00001-BOX12", Factor: 12}}
		pieces := func(n int) erp.DraftLine {
			return erp.DraftLine{SKU: "BRG-00001", Qty: n, Ordered: erp.Ordered{OrderedSKU: "BRG-00001", Factor: 1}}
		}
		_, err := e.PlaceOrder(ctx, draft("C1001", "two-skus-short", box, pieces(9)))
		var r *erp.Refusal
		if !errors.As(err, &r) || r.Reason != erp.ReasonInsufficientStock || len(r.Lines) != 1 || r.Lines[0].Line != 2 {
			t.Fatalf("12 + 9 of 20: %v, want line 2 short", err)
		}
		if n := available(t, e, "BRG-00001"); n != 20 {
			t.Fatalf("a refused order left %d of 20", n)
		}
		p, err := e.PlaceOrder(ctx, draft("C1001", "two-skus", box, pieces(8)))
		if err != nil || len(p.Order.Lines) != 2 || p.Order.Lines[0].OrderedSKU != "BRG-00001-BOX12" || p.Order.Lines[0].Factor != 12 {
			t.Fatalf("12 + 8 of 20: %+v %v", p.Order.Lines, err)
		}
		if n := available(t, e, "BRG-00001"); n != 0 {
			t.Errorf("after 12 + 8 of 20: %d left", n)
		}
		o, err := e.Order(ctx, "C1001", p.Order.ID)
		if err != nil || len(o.Lines) != 2 || o.Lines[0].OrderedSKU != "BRG-00001-BOX12" || o.Lines[0].Qty != 12 || o.Lines[1].Factor != 1 {
			t.Errorf("read back: %+v %v", o.Lines, err)
		}
	})
}

// Paging through mappings two at a time gives every mapping once, in order, across
// storefronts and within one, with a filter and without.
func TestMappingPagesCoverEveryMappingOnce(t *testing.T) {
	dialects(t, func(t *testing.T, e *embedded.ERP) {
		ctx := context.Background()
		var puts []erp.Mapping
		for _, sf := range []string{"", "north-shop", "south-shop"} {
			for i := range 5 {
				puts = append(puts, skuMapping(sf, fmt.Sprintf("PAGE-%d", i), "BRG-00002", 1))
			}
		}
		if _, err := e.ChangeMappings(ctx, erp.MappingChange{Kind: erp.MappingSKUs, Puts: puts}); err != nil {
			t.Fatal(err)
		}
		north := "north-shop"
		for _, f := range []erp.MappingFilter{
			{Kind: erp.MappingSKUs, Prefix: "PAGE-"},
			{Kind: erp.MappingSKUs},
			{Kind: erp.MappingSKUs, Storefront: &north},
			{Kind: erp.MappingCustomers},
		} {
			all, err := e.Mappings(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var paged []erp.Mapping
			for p := f; ; {
				p.Limit = 2
				page, err := e.Mappings(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, page...)
				if len(page) < 2 || len(paged) > len(all) {
					break
				}
				p.After = &page[1]
			}
			key := func(ms []erp.Mapping) (out []string) {
				for _, m := range ms {
					out = append(out, m.Storefront+"/"+m.Key)
				}
				return out
			}
			if fmt.Sprint(key(paged)) != fmt.Sprint(key(all)) {
				t.Errorf("%+v: pages of 2 gave %v, all at once %v", f, key(paged), key(all))
			}
		}
	})
}
