package storefront

import (
	"reflect"
	"testing"
)

// BenchmarkCheckJSON is the strict reading of an order's body (before it is decoded):
// three lines, one with the unit price the buyer saw.
func BenchmarkCheckJSON(b *testing.B) {
	body := []byte(`{"po_number":"PO-2026-0042","lines":[{"sku":"BRG-00001","qty":2,"unit_price":"12.50"},` +
		`{"sku":"BRG-00302","qty":3},{"sku":"BRG-00603","qty":5}]}`)
	t := reflect.TypeFor[orderRequest]()
	b.ReportAllocs()
	for b.Loop() {
		if err := checkJSON(body, t); err != nil {
			b.Fatal(err)
		}
	}
}
