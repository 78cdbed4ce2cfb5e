package loadtest

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReadSKUs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skus")
	if err := os.WriteFile(path, []byte("# the catalog\nBRG-00001\n\n  BRG-00002 \r\nBRG-00003"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSKUs(path)
	if want := []string{"BRG-00001", "BRG-00002", "BRG-00003"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ReadSKUs = %q, %v; want %q", got, err, want)
	}
	if err := os.WriteFile(path, []byte("# nothing\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSKUs(path); err == nil {
		t.Error("a file without SKUs was accepted")
	}
}

// Carts draw distinct SKUs: a catalog of fewer than three SKUs still ends each cart.
func TestCartsFromASmallCatalog(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, skus := range [][]string{{"A"}, {"A", "B"}, {"A", "B", "C", "D"}} {
		r := &run{cfg: Config{Creds: Credentials{SKUs: skus}}}
		for range 100 {
			c := r.cart(rng)
			if len(c) < 1 || len(c) > min(3, len(skus)) {
				t.Fatalf("%d SKUs: a cart of %d lines", len(skus), len(c))
			}
			for i := range c {
				if !slices.Contains(skus, c[i].SKU) || slices.ContainsFunc(c[i+1:], func(l line) bool { return l.SKU == c[i].SKU }) {
					t.Fatalf("%d SKUs: cart %v", len(skus), c)
				}
			}
		}
	}
}
