package admin

import (
	"testing"

	"github.com/b2bridge/b2bridge/bridge"
)

// FuzzMappingCursor: any string decodes to a cursor or an error, never a panic, and a
// cursor that decodes names a row and survives encoding again unchanged.
func FuzzMappingCursor(f *testing.F) {
	f.Add(encodeCursor(bridge.Mapping{Storefront: "north-shop", Key: "X-BOX3"}))
	f.Add(encodeCursor(bridge.Mapping{Key: "BRG-00001"}))
	for _, s := range []string{"", "!!", "AA", "eAB5", "AHg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := decodeCursor(s)
		if err != nil {
			return
		}
		if m.Key == "" {
			t.Fatalf("cursor %q decodes to no row", s)
		}
		again, err := decodeCursor(encodeCursor(m))
		if err != nil || again.Storefront != m.Storefront || again.Key != m.Key {
			t.Fatalf("cursor %q: %+v, encoded and decoded again %+v %v", s, m, again, err)
		}
	})
}
