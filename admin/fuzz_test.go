package admin_test

import (
	"strings"
	"testing"

	"github.com/b2bridge/b2bridge/admin"
	"github.com/b2bridge/b2bridge/bridge"
)

// FuzzReadCSV: no file makes the CSV import panic, every refusal names a line of the
// file, and every row it accepts is a well-formed mapping of its kind.
func FuzzReadCSV(f *testing.F) {
	for _, seed := range []string{
		"storefront,sku,erp_sku,unit,factor\n,A,B,BOX,12\n",
		"\ufeffstorefront,sku,erp_sku,unit,factor,updated_at\r\nshop,A,B,BOX,1,2026-01-01T00:00:00Z\r\n",
		"storefront,sku,erp_sku,unit,factor\n,A,B,BOX,x\n,\"C,D\n",
		"sku\n", "", "\"", "storefront,sku,erp_sku,unit,factor\n,A\xff,B,BOX,2\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rows, lines, refused, err := admin.ReadCSV(bridge.MappingSKUs, strings.NewReader(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if len(lines) != len(rows) {
			t.Fatalf("%d rows, %d lines", len(rows), len(lines))
		}
		last := strings.Count(in, "\n") + 1
		for _, r := range refused {
			if r.Line < 1 || r.Line > last || r.Reason == "" {
				t.Errorf("%q: refusal %+v names no line of the file", in, r)
			}
		}
		for _, m := range rows {
			if m.Kind != bridge.MappingSKUs || m.Factor < 1 {
				t.Errorf("%q: accepted %+v", in, m)
			}
		}
	})
}
