package admin_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/admin"
	"github.com/b2bridge/b2bridge/bridge"
)

func TestReadCSV(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kind    bridge.MappingKind
		in      string
		rows    int
		refused string // "line: reason prefix; ..."
	}{
		{"spreadsheet BOM and CRLF", bridge.MappingSKUs, "\ufeffstorefront,sku,erp_sku,unit,factor\r\n,A,B,BOX,12\r\n", 1, ""},
		{"columns in any order, updated_at optional", bridge.MappingSKUs, "factor,unit,erp_sku,sku,storefront\n3,BOX,B,A,\n", 1, ""},
		{"quoted field", bridge.MappingCustomers, "storefront,customer,account\nshop,\"acme, gmbh\",C1\n", 1, ""},
		{"empty file", bridge.MappingSKUs, "", 0, "1: wrong header"},
		{"unknown column", bridge.MappingSKUs, "storefront,sku,erp_sku,unit,factor,colour\n", 0, "1: wrong header"},
		{"missing column", bridge.MappingSKUs, "sku,erp_sku,unit\n", 0, "1: wrong header"},
		{"column twice", bridge.MappingRegions, "region,region,warehouses\n", 0, "1: wrong header"},
		{"bad rows, each named", bridge.MappingSKUs,
			"storefront,sku,erp_sku,unit,factor\n,A,B,BOX,x\n,C,D,BOX,-2\n,E\xfe,F,BOX,2\n,G,H\n,I,J,BOX,4\n", 1,
			"2: factor; 3: factor; 4: bad encoding; 5: 3 fields"},
		{"bare quote stops the file", bridge.MappingSKUs, "storefront,sku,erp_sku,unit,factor\n,A,B,BOX,1\n,\"C,D,BOX,1\n", 1, "3: bad CSV"},
		{"region warehouses", bridge.MappingRegions, "region,warehouses\nNORTH,WH-1 WH-2\n", 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, lines, refused, err := admin.ReadCSV(tc.kind, strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != tc.rows || len(lines) != len(rows) {
				t.Errorf("%d rows (%d lines), want %d: %+v", len(rows), len(lines), tc.rows, rows)
			}
			var got []string
			for _, r := range refused {
				got = append(got, fmt.Sprintf("%d: %s", r.Line, r.Reason))
			}
			want := strings.Split(tc.refused, "; ")
			if tc.refused == "" {
				want = nil
			}
			if len(got) != len(want) {
				t.Fatalf("refused %q, want %q", got, want)
			}
			for i := range want {
				if !strings.HasPrefix(got[i], want[i]) {
					t.Errorf("refusal %d: %q, want %q…", i, got[i], want[i])
				}
			}
		})
	}
}

// WriteCSV and ReadCSV round-trip every kind, and the same rows give the same bytes.
func TestCSVRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 24, 12, 0, 0, 123456000, time.UTC)
	for kind, ms := range map[bridge.MappingKind][]bridge.Mapping{
		bridge.MappingSKUs: {{Kind: bridge.MappingSKUs, Key: "A-BOX12", ERPSKU: "A", Unit: "BOX12", Factor: 12, UpdatedAt: at},
			{Kind: bridge.MappingSKUs, Storefront: "shop", Key: "B,1", ERPSKU: "B", Unit: "EA", Factor: 1, UpdatedAt: at}},
		bridge.MappingCustomers: {{Kind: bridge.MappingCustomers, Storefront: "shop", Key: "acme", Account: "C1", UpdatedAt: at}},
		bridge.MappingRegions:   {{Kind: bridge.MappingRegions, Key: "NORTH", Warehouses: []string{"W2", "W1"}, UpdatedAt: at}},
	} {
		var first, second bytes.Buffer
		if err := admin.WriteCSV(&first, kind, ms); err != nil {
			t.Fatal(err)
		}
		rows, _, refused, err := admin.ReadCSV(kind, bytes.NewReader(first.Bytes()))
		if err != nil || len(refused) > 0 || len(rows) != len(ms) {
			t.Fatalf("%s: %v %v %v", kind, rows, refused, err)
		}
		for i := range rows {
			rows[i].UpdatedAt = at // ignored on import, set by the ERP
			if !rows[i].SameAs(ms[i]) {
				t.Errorf("%s row %d: %+v, want %+v", kind, i, rows[i], ms[i])
			}
		}
		if err := admin.WriteCSV(&second, kind, rows); err != nil || second.String() != first.String() {
			t.Errorf("%s: second export differs:\n%s\n%s", kind, first.String(), second.String())
		}
	}
}
