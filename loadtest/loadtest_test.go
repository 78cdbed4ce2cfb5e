package loadtest

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// Carts draw distinct SKUs, 1 to Config.Lines of them (3 by default): a catalog of fewer
// SKUs still ends each cart, and a larger one gives carts of every size up to the most.
func TestCartsDrawDistinctSKUsUpToTheMostLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		skus  []string
		lines int
	}{{[]string{"A"}, 0}, {[]string{"A", "B"}, 0}, {[]string{"A", "B", "C", "D"}, 0}, {[]string{"A", "B", "C", "D"}, 10},
		{strings.Split("ABCDEFGHIJKLMNOPQRSTUVWXYZ", ""), 12}} {
		skus, most := c.skus, c.lines
		if most == 0 {
			most = 3
		}
		r := &run{cfg: Config{Creds: Credentials{SKUs: skus}, Lines: c.lines}}
		sizes := map[int]bool{}
		for range 1000 {
			c := r.cart(rng)
			sizes[len(c)] = true
			if len(c) < 1 || len(c) > min(most, len(skus)) {
				t.Fatalf("%d SKUs: a cart of %d lines", len(skus), len(c))
			}
			for i := range c {
				if !slices.Contains(skus, c[i].SKU) || slices.ContainsFunc(c[i+1:], func(l line) bool { return l.SKU == c[i].SKU }) {
					t.Fatalf("%d SKUs: cart %v", len(skus), c)
				}
			}
		}
		if len(sizes) != min(most, len(skus)) {
			t.Errorf("%d SKUs, at most %d lines: carts of %d sizes", len(skus), most, len(sizes))
		}
	}
}
