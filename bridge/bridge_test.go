package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govalues/decimal"
	"github.com/stretchr/testify/mock"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/contracts"
	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/erpmock"
)

const (
	northKey = "north-key"
	southKey = "south-key"
)

// newService returns a service over a mock ERP that knows two storefronts' keys and
// nothing else: any other ERP call the test did not expect fails it.
func newService(t *testing.T) (*bridge.Service, *erpmock.ERP) {
	t.Helper()
	m := erpmock.NewERP(t)
	m.EXPECT().APIKeys(mock.Anything).Return([]erp.APIKey{
		{Hash: erp.HashKey(northKey), Storefront: "north", Accounts: []string{"A1", "A2"}},
		{Hash: erp.HashKey(southKey), Storefront: "south", Accounts: []string{"B1"}},
		{Hash: erp.HashKey("admin-key"), Admin: true},
	}, nil).Once()
	cfg := bridge.DefaultConfig
	cfg.OrderTimeout = 3 * time.Second
	svc, err := bridge.New(m, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.LoadKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc, m
}

func auth(t *testing.T, svc *bridge.Service, key string) *bridge.Principal {
	t.Helper()
	p, err := svc.Authenticate(key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var cart = bridge.OrderRequest{Lines: []bridge.Line{{SKU: "S1", Qty: 2}}}

func TestPlaceOrderOutcomes(t *testing.T) {
	hash := bridge.RequestHash("A1", cart)
	ref := bridge.ExternalRef("north", "A1", "k")
	dropped := fmt.Errorf("commit order: %w: %w", erp.ErrOutcomeUnknown, io.ErrUnexpectedEOF)
	booked := erp.Order{ID: "42", Account: "A1", RequestHash: hash, Lines: []erp.OrderLine{{SKU: "S1", Qty: 2}}}
	tests := []struct {
		name     string
		err      error
		lookup   *erp.Order // nil: no look-up expected
		lookErr  error
		want     bridge.Code // "" means 201 with order 42
		replayed bool
	}{
		{name: "committed, then the connection dropped: found", err: dropped, lookup: &booked},
		{name: "commit sent, look-up finds nothing", err: dropped, lookup: &erp.Order{}, lookErr: erp.ErrNotFound, want: bridge.CodeOutcomeUnknown},
		{name: "commit sent, look-up fails too", err: dropped, lookup: &erp.Order{}, lookErr: context.DeadlineExceeded, want: bridge.CodeOutcomeUnknown},
		{name: "commit sent, another request holds the key", err: dropped, lookup: &erp.Order{ID: "9", RequestHash: "other"}, want: bridge.CodeIdempotencyKeyReused},
		{name: "unreachable before commit: rolled back", err: errors.New("dial tcp: connection refused"), want: bridge.CodeERPUnavailable},
		{name: "deadline before commit: rolled back", err: context.DeadlineExceeded, want: bridge.CodeERPUnavailable},
		{name: "refused", err: erp.NewRefusal([]erp.LineProblem{{Line: 1, SKU: "S1", Reason: erp.ReasonInsufficientStock}}, ""), want: bridge.CodeInsufficientStock},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc, m := newService(t)
			m.EXPECT().PlaceOrder(mock.Anything, mock.Anything).Return(erp.Placement{}, tc.err).Once()
			if tc.lookup != nil {
				m.EXPECT().OrderByRef(mock.Anything, ref).RunAndReturn(func(ctx context.Context, _ string) (erp.Order, error) {
					if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > 2*time.Second {
						t.Errorf("look-up deadline %v, want its own short one", dl)
					}
					return *tc.lookup, tc.lookErr
				}).Once()
			}
			placed, err := svc.PlaceOrder(context.Background(), auth(t, svc, northKey), "A1", "k", cart)
			if tc.want == "" {
				if err != nil || placed.Order.ID != "42" || placed.Replayed {
					t.Fatalf("placed %+v, %v; want a first answer (201) with order 42", placed, err)
				}
				return
			}
			if got := bridge.ErrorCode(err); got != tc.want {
				t.Errorf("code = %s, want %s (err %v)", got, tc.want, err)
			}
		})
	}
}

func TestWriteBreakerOpensAndFailsFast(t *testing.T) {
	svc, m := newService(t)
	down := errors.New("connection refused")
	m.EXPECT().PlaceOrder(mock.Anything, mock.Anything).Return(erp.Placement{}, down).Times(5)
	p := auth(t, svc, northKey)
	for i := 0; i < 5; i++ {
		svc.PlaceOrder(context.Background(), p, "A1", "k", cart)
	}
	start := time.Now()
	_, err := svc.PlaceOrder(context.Background(), p, "A1", "k", cart) // a sixth ERP call would fail the mock
	if bridge.ErrorCode(err) != bridge.CodeERPUnavailable || time.Since(start) > 50*time.Millisecond {
		t.Errorf("with the breaker open: %v after %v, want erp_unavailable at once", err, time.Since(start))
	}
	if got := svc.Health().Breakers[bridge.OrderWrites]; got != "open" {
		t.Errorf("order_writes breaker %s, want open", got)
	}
	if got := svc.Health().Breakers[bridge.StockReads]; got != "closed" {
		t.Errorf("stock_reads breaker %s, want closed: classes are separate", got)
	}
}

func TestReadsFallBackToStaleCacheThenFail(t *testing.T) {
	m := erpmock.NewERP(t)
	m.EXPECT().APIKeys(mock.Anything).Return([]erp.APIKey{{Hash: erp.HashKey(northKey), Storefront: "north"}}, nil).Once()
	cfg := bridge.DefaultConfig
	cfg.Cache.StockTTL, cfg.Cache.Revalidate, cfg.Cache.MaxStale = 20*time.Millisecond, 0, 200*time.Millisecond
	svc, err := bridge.New(m, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc.LoadKeys(context.Background())
	p := auth(t, svc, northKey)
	m.EXPECT().Stock(mock.Anything, []string{"S1"}, "").Return([]erp.Stock{{SKU: "S1", Warehouses: []erp.WarehouseStock{{Warehouse: "W", Available: 5}}}}, nil).Once()
	first, err := svc.Availability(context.Background(), p, []string{"S1"}, "")
	if err != nil || first[0].Source != bridge.SourceERP {
		t.Fatalf("first read: %+v %v", first, err)
	}
	if again, _ := svc.Availability(context.Background(), p, []string{"S1"}, ""); again[0].Source != bridge.SourceCache {
		t.Errorf("second read: %+v, want from cache", again)
	}
	m.EXPECT().Stock(mock.Anything, []string{"S1"}, "").Return(nil, errors.New("ERP down"))
	time.Sleep(30 * time.Millisecond)
	stale, err := svc.Availability(context.Background(), p, []string{"S1"}, "")
	if err != nil || stale[0].Source != bridge.SourceStale || !stale[0].AsOf.Equal(first[0].AsOf) || stale[0].Available() != 5 {
		t.Fatalf("ERP down: %+v %v, want the stale value with its as_of", stale, err)
	}
	time.Sleep(250 * time.Millisecond)
	if _, err := svc.Availability(context.Background(), p, []string{"S1"}, ""); bridge.ErrorCode(err) != bridge.CodeERPUnavailable {
		t.Errorf("past max staleness: %v, want erp_unavailable", err)
	}
}

func TestStampedeOfColdReadsMakesOneERPCall(t *testing.T) {
	svc, m := newService(t)
	p := auth(t, svc, northKey)
	m.EXPECT().PriceData(mock.Anything, "A1", []string{"S1"}).RunAndReturn(func(context.Context, string, []string) (erp.PriceData, error) {
		time.Sleep(100 * time.Millisecond) // the ERP is slow enough for everyone to pile up
		list := decimal.MustParse("9.99")
		return erp.PriceData{Account: "A1", Currency: "EUR", Date: time.Now(),
			Items: map[string]erp.ItemPricing{"S1": {Item: erp.Item{SKU: "S1"}, Pricing: contracts.Item{ListPrice: &list}}}}, nil
	}).Once()
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr, err := svc.Prices(context.Background(), p, "A1", []bridge.PriceQuery{{SKU: "S1", Qty: 1}})
			if err != nil || pr.Lines[0].UnitPrice.String() != "9.99" {
				bad.Add(1)
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d reads failed", bad.Load())
	}
}

func TestPlaceOrderDraft(t *testing.T) {
	svc, m := newService(t)
	price := decimal.MustParse("12.50")
	req := bridge.OrderRequest{PONumber: "PO-9", Lines: []bridge.Line{{SKU: "S1", Qty: 2, UnitPrice: &price}}}
	var got erp.OrderDraft
	m.EXPECT().PlaceOrder(mock.Anything, mock.Anything).RunAndReturn(func(_ context.Context, d erp.OrderDraft) (erp.Placement, error) {
		got = d
		return erp.Placement{Order: erp.Order{ID: "7", RequestHash: d.RequestHash}}, nil
	}).Once()
	placed, err := svc.PlaceOrder(context.Background(), auth(t, svc, northKey), "A1", "key-1", req)
	if err != nil || placed.Replayed || placed.Order.ID != "7" {
		t.Fatalf("placed %+v, %v", placed, err)
	}
	if got.ExternalRef != bridge.ExternalRef("north", "A1", "key-1") || got.RequestHash != bridge.RequestHash("A1", req) ||
		got.Account != "A1" || got.PONumber != "PO-9" || got.CreditPolicy != erp.CreditReject {
		t.Errorf("draft = %+v", got)
	}
}

func TestReplayWithAnotherRequestIsRejected(t *testing.T) {
	svc, m := newService(t)
	m.EXPECT().PlaceOrder(mock.Anything, mock.Anything).Return(erp.Placement{Order: erp.Order{ID: "1", RequestHash: "other"}, Replayed: true}, nil).Once()
	_, err := svc.PlaceOrder(context.Background(), auth(t, svc, northKey), "A1", "k", cart)
	if bridge.ErrorCode(err) != bridge.CodeIdempotencyKeyReused {
		t.Errorf("err = %v, want idempotency_key_reused", err)
	}
	m.EXPECT().PlaceOrder(mock.Anything, mock.Anything).Return(erp.Placement{Order: erp.Order{ID: "1", RequestHash: bridge.RequestHash("A1", cart)}, Replayed: true}, nil).Once()
	placed, err := svc.PlaceOrder(context.Background(), auth(t, svc, northKey), "A1", "k", cart)
	if err != nil || !placed.Replayed {
		t.Errorf("same request: %+v, %v; want a replay", placed, err)
	}
}

// A client hanging up (or the server shutting down) must not cancel a commit in flight.
func TestOrderRunsOnItsOwnContext(t *testing.T) {
	svc, m := newService(t)
	m.EXPECT().PlaceOrder(mock.Anything, mock.Anything).RunAndReturn(func(ctx context.Context, d erp.OrderDraft) (erp.Placement, error) {
		if ctx.Err() != nil {
			t.Errorf("order context already done: %v", ctx.Err())
		}
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > 3*time.Second {
			t.Errorf("order context deadline %v, want within the 3s order timeout", dl)
		}
		return erp.Placement{Order: erp.Order{ID: "1", RequestHash: d.RequestHash}}, nil
	}).Once()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone
	if _, err := svc.PlaceOrder(ctx, auth(t, svc, northKey), "A1", "k", cart); err != nil {
		t.Fatal(err)
	}
}

// Truth rule 7: a key never reaches another storefront's account, and nothing is read.
func TestScopeIsCheckedBeforeAnyERPCall(t *testing.T) {
	svc, _ := newService(t) // no expectations: any ERP call fails the test
	ctx := context.Background()
	north, admin := auth(t, svc, northKey), auth(t, svc, "admin-key")
	calls := map[string]func(p *bridge.Principal) error{
		"prices": func(p *bridge.Principal) error {
			_, err := svc.Prices(ctx, p, "B1", []bridge.PriceQuery{{SKU: "S1", Qty: 1}})
			return err
		},
		"credit": func(p *bridge.Principal) error { _, err := svc.Credit(ctx, p, "B1"); return err },
		"quote":  func(p *bridge.Principal) error { _, err := svc.Quote(ctx, p, "B1", cart); return err },
		"order":  func(p *bridge.Principal) error { _, err := svc.PlaceOrder(ctx, p, "B1", "k", cart); return err },
		"get":    func(p *bridge.Principal) error { _, err := svc.Order(ctx, p, "B1", "1"); return err },
		"list":   func(p *bridge.Principal) error { _, err := svc.Orders(ctx, p, "B1", "", 10); return err },
	}
	for name, call := range calls {
		for who, p := range map[string]*bridge.Principal{"other storefront": north, "admin key": admin, "nobody": nil} {
			if err := call(p); bridge.ErrorCode(err) != bridge.CodeForbidden {
				t.Errorf("%s as %s: %v, want forbidden", name, who, err)
			}
		}
	}
	if _, err := svc.Availability(ctx, admin, []string{"S1"}, ""); bridge.ErrorCode(err) != bridge.CodeForbidden {
		t.Errorf("availability with the admin key: %v, want forbidden", err)
	}
	for _, key := range []string{"", "wrong", northKey + " "} {
		if _, err := svc.Authenticate(key); bridge.ErrorCode(err) != bridge.CodeUnauthorized {
			t.Errorf("Authenticate(%q) = %v, want unauthorized", key, err)
		}
	}
}

func TestExternalRef(t *testing.T) {
	ref := bridge.ExternalRef("north", "A1", "k")
	if len(ref) != 26 {
		t.Errorf("len = %d, want 26", len(ref))
	}
	others := []string{
		bridge.ExternalRef("south", "A1", "k"),
		bridge.ExternalRef("north", "A2", "k"),
		bridge.ExternalRef("north", "A1", "k2"),
		bridge.ExternalRef("nort", "hA1", "k"), // the same bytes, split differently
	}
	for _, o := range others {
		if o == ref {
			t.Errorf("two scopes share reference %s", ref)
		}
	}
}

func TestRequestHash(t *testing.T) {
	p1, p2, p3 := decimal.MustParse("12.5"), decimal.MustParse("12.50"), decimal.MustParse("12.51")
	base := bridge.OrderRequest{Lines: []bridge.Line{{SKU: "A", Qty: 1, UnitPrice: &p1}, {SKU: "B", Qty: 2}}}
	same := bridge.OrderRequest{Lines: []bridge.Line{{SKU: "A", Qty: 1, UnitPrice: &p2}, {SKU: "B", Qty: 2}}}
	h := bridge.RequestHash("A1", base)
	if bridge.RequestHash("A1", same) != h {
		t.Error("12.5 and 12.50 hash differently")
	}
	for name, r := range map[string]bridge.OrderRequest{
		"price":      {Lines: []bridge.Line{{SKU: "A", Qty: 1, UnitPrice: &p3}, {SKU: "B", Qty: 2}}},
		"line order": {Lines: []bridge.Line{{SKU: "B", Qty: 2}, {SKU: "A", Qty: 1, UnitPrice: &p1}}},
		"po number":  {PONumber: "X", Lines: base.Lines},
		"ship-to":    {ShipTo: "X", Lines: base.Lines},
	} {
		if bridge.RequestHash("A1", r) == h {
			t.Errorf("a different %s hashes the same", name)
		}
	}
	if bridge.RequestHash("A2", base) == h {
		t.Error("another account hashes the same")
	}
}

func TestOrdersPaging(t *testing.T) {
	svc, m := newService(t)
	p := auth(t, svc, northKey)
	created := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	orders := []erp.Order{{ID: "3", CreatedAt: created}, {ID: "2", CreatedAt: created}, {ID: "1", CreatedAt: created}}
	m.EXPECT().Orders(mock.Anything, "A1", (*erp.OrderCursor)(nil), 3).Return(orders, nil).Once()
	page, err := svc.Orders(context.Background(), p, "A1", "", 2)
	if err != nil || len(page.Orders) != 2 || page.NextCursor == "" {
		t.Fatalf("page %+v, %v", page, err)
	}
	m.EXPECT().Orders(mock.Anything, "A1", &erp.OrderCursor{CreatedAt: created, ID: "2"}, 3).Return(orders[2:], nil).Once()
	page, err = svc.Orders(context.Background(), p, "A1", page.NextCursor, 2)
	if err != nil || len(page.Orders) != 1 || page.NextCursor != "" {
		t.Fatalf("second page %+v, %v", page, err)
	}
	for _, bad := range []struct {
		cursor string
		limit  int
	}{{"%%%", 10}, {"", 0}, {"", 101}} {
		if _, err := svc.Orders(context.Background(), p, "A1", bad.cursor, bad.limit); bridge.ErrorCode(err) != bridge.CodeInvalidRequest {
			t.Errorf("cursor %q limit %d: %v, want invalid_request", bad.cursor, bad.limit, err)
		}
	}
}

// The follower applies each change once, including changes that become visible late
// inside its window, and never re-applies what was in the log before it started.
func TestFollowerAppliesEachChangeOnce(t *testing.T) {
	svc, m := newService(t)
	p := auth(t, svc, northKey)
	m.EXPECT().ChangeHead(mock.Anything).Return(10, nil).Once()
	m.EXPECT().Changes(mock.Anything, int64(0), mock.Anything).Return([]erp.Change{{Seq: 10, Entity: erp.ChangeAll}}, nil).Once()
	stock := []erp.Stock{{SKU: "S1"}}
	m.EXPECT().Stock(mock.Anything, []string{"S1"}, "").Return(stock, nil).Once() // one load: nothing re-applied
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	step := make(chan []erp.Change)
	m.EXPECT().Changes(mock.Anything, mock.Anything, mock.Anything).RunAndReturn(func(context.Context, int64, int) ([]erp.Change, error) {
		select {
		case c := <-step:
			return c, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	go svc.Follow(ctx)
	step <- []erp.Change{{Seq: 10, Entity: erp.ChangeAll}} // the window re-read: already seen
	if r, _ := svc.Availability(ctx, p, []string{"S1"}, ""); r[0].Source != bridge.SourceERP {
		t.Fatalf("first read: %+v", r)
	}
	step <- []erp.Change{{Seq: 10, Entity: erp.ChangeAll}}
	step <- nil // a full poll cycle has passed
	if r, _ := svc.Availability(ctx, p, []string{"S1"}, ""); r[0].Source != bridge.SourceCache {
		t.Errorf("after re-reading an old change: %+v, want still cached", r)
	}
	m.EXPECT().Stock(mock.Anything, []string{"S1"}, "").Return(stock, nil).Once()
	step <- []erp.Change{{Seq: 10, Entity: erp.ChangeAll}, {Seq: 12, Entity: erp.ChangeStock, Key: "S1"}}
	step <- nil
	if r, _ := svc.Availability(ctx, p, []string{"S1"}, ""); r[0].Source != bridge.SourceERP {
		t.Errorf("after a new change to S1: %+v, want reloaded", r)
	}
	step <- []erp.Change{{Seq: 11, Entity: erp.ChangeStock, Key: "S1"}, {Seq: 12, Entity: erp.ChangeStock, Key: "S1"}} // 11 committed late
	m.EXPECT().Stock(mock.Anything, []string{"S1"}, "").Return(stock, nil).Once()
	step <- nil
	if r, _ := svc.Availability(ctx, p, []string{"S1"}, ""); r[0].Source != bridge.SourceERP {
		t.Errorf("after a late-committed change: %+v, want reloaded", r)
	}
}

// Anyone may probe readiness: 200 concurrent probes while the ERP is slow to answer make
// one ping, and all of them get its answer; a second later, the next probe pings again.
func TestReadinessProbesShareOnePing(t *testing.T) {
	svc, m := newService(t)
	var pings atomic.Int32
	down := errors.New("connection refused")
	m.EXPECT().Ping(mock.Anything).RunAndReturn(func(context.Context) error {
		pings.Add(1)
		time.Sleep(50 * time.Millisecond)
		return down
	})
	var wg sync.WaitGroup
	var wrong atomic.Int32
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := svc.Ready(context.Background()); !errors.Is(err, down) {
				wrong.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := pings.Load(); n != 1 || wrong.Load() != 0 {
		t.Errorf("200 concurrent probes: %d pings, %d probes without the ERP's answer; want 1 and 0", n, wrong.Load())
	}
	time.Sleep(1100 * time.Millisecond)
	svc.Ready(context.Background())
	if n := pings.Load(); n != 2 {
		t.Errorf("a probe a second later: %d pings in all, want 2", n)
	}
}
