package storefront

import (
	"reflect"
	"testing"
	"time"
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

// A malformed null where a null is allowed is a syntax error, not a loop: the decoder does
// not move past "nul", and an array of optional values would peek at it forever.
func TestCheckJSONRefusesABrokenNullInAnArray(t *testing.T) {
	type tagged struct {
		Tags []*string `json:"tags"`
	}
	for _, body := range []string{`{"tags":[nul]}`, `{"tags":[n]}`, `{"tags":[null,nul]}`} {
		done := make(chan error, 1)
		go func() { done <- checkJSON([]byte(body), reflect.TypeFor[tagged]()) }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: accepted", body)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no answer in 5 s", body)
		}
	}
	if err := checkJSON([]byte(`{"tags":[null,"a"]}`), reflect.TypeFor[tagged]()); err != nil {
		t.Errorf("nulls in an array of optional values: %v", err)
	}
}
