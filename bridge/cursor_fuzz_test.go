package bridge

import (
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/erp"
)

// FuzzOrderCursor: any string decodes to a cursor or an error, never a panic, and a
// cursor that decodes names an order (an ID) and survives encoding again unchanged, so
// a page never repeats or skips an order.
func FuzzOrderCursor(f *testing.F) {
	f.Add(encodeCursor(erp.OrderCursor{CreatedAt: time.Date(2026, 11, 24, 9, 30, 0, 123456789, time.UTC), ID: "42"}))
	f.Add(encodeCursor(erp.OrderCursor{CreatedAt: time.Date(2026, 11, 24, 9, 30, 0, 0, time.FixedZone("x", 3600)), ID: "a|b"}))
	for _, s := range []string{"", "!!", "fA", "MjAyNi0xMS0yNFQwOTozMDowMFp8", "fDQy", "eHw0Mg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil || c == nil {
			return
		}
		if c.ID == "" {
			t.Fatalf("cursor %q decodes to no order", s)
		}
		again, err := decodeCursor(encodeCursor(*c))
		if err != nil || again.ID != c.ID || !again.CreatedAt.Equal(c.CreatedAt) {
			t.Fatalf("cursor %q: %+v, encoded and decoded again %+v %v", s, c, again, err)
		}
	})
}
