package bridge_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
)

// The bytes the caches charge are the heap they hold, within a quarter, for entries read
// from a real ERP: cache.max_bytes then bounds memory, not an estimate of it. (It once
// charged about half of what stock and price entries held: 1.94 here.)
func TestCachesChargeTheHeapTheyHold(t *testing.T) {
	e := embeddedtest.Open(t)
	cfg := bridge.DefaultConfig
	cfg.Cache.MaxBytes = 1 << 30 // nothing evicted
	svc, err := bridge.New(e, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()
	if err := svc.LoadKeys(ctx); err != nil {
		t.Fatal(err)
	}
	sf := e.Credentials.Storefronts[0]
	p, err := svc.Authenticate(sf.Key)
	if err != nil {
		t.Fatal(err)
	}
	heap := func() int64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	const items, chunk = 500, 50
	read := func(from int) { // every SKU's stock, and every account's prices of them
		skus, lines := make([]string, chunk), make([]bridge.PriceQuery, chunk)
		for i := from; i <= items; i += chunk {
			for j := range skus {
				skus[j] = embedded.SKU(i + j)
				lines[j] = bridge.PriceQuery{SKU: skus[j], Qty: 1}
			}
			if _, err := svc.Availability(ctx, p, skus, ""); err != nil {
				t.Fatal(err)
			}
			for _, a := range sf.Accounts {
				if _, err := svc.Prices(ctx, p, a, lines); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	read(items - chunk + 1) // the statements prepared, the connections open
	charged0 := charged(svc)
	before := heap()
	read(1)
	held, cost := heap()-before, charged(svc)-charged0
	t.Logf("the entries read hold %d bytes of heap and are charged %d", held, cost)
	if r := float64(held) / float64(cost); r < 0.8 || r > 1.25 {
		t.Errorf("the caches hold %.2f times the bytes they charge", r)
	}
}

func charged(svc *bridge.Service) int64 {
	var n int64
	for _, s := range svc.CacheStats() {
		n += int64(s.CostBytes)
	}
	return n
}
