package sqlerp_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// TestPostgresOrderTakesFourRoundTrips: on PostgreSQL an order is four round trips —
// BEGIN, the header insert and the account read; the pricing and the locking stock read;
// the writes; COMMIT. A proxy between the ERP adapter and PostgreSQL counts the times the
// client speaks again after the server has answered.
func TestPostgresOrderTakesFourRoundTrips(t *testing.T) {
	dsn, _ := embeddedtest.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTurnCounter(t, u.Host)
	u.Host = proxy.addr
	ctx := context.Background()
	db, err := sqlerp.Open(ctx, u.String(), sqlerp.Options{WriteConns: 1, ReadConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	order := func(ref string) erp.Placement {
		t.Helper()
		p, err := db.PlaceOrder(ctx, erp.OrderDraft{Account: embedded.Account(1), ExternalRef: ref, RequestHash: "h",
			CreditPolicy: erp.CreditHold, Lines: []erp.DraftLine{
				{SKU: embedded.SKU(1), Qty: 2}, {SKU: embedded.SKU(2), Qty: 3}, {SKU: embedded.SKU(3), Qty: 5}}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Warm up as a running bridge is: pgx prepares each statement on its first run, and
	// database/sql pings a connection at its first reuse (and after a second idle).
	// A failed statement (a replay's header insert) makes pgx prepare again.
	for _, ref := range []string{"warm-up 1", "warm-up 2", "warm-up 3"} {
		order(ref)
	}
	proxy.reset()
	if p := order("measured"); p.Replayed {
		t.Fatal("a new reference was answered as a replay")
	}
	if got := proxy.turns(); got != 4 {
		t.Errorf("the order took %d round trips, want 4", got)
	}
}

// turnCounter is a TCP proxy that counts round trips: each time a client sends after
// its server has sent (or sends first).
type turnCounter struct {
	addr string
	mu   sync.Mutex
	n    int
}

func newTurnCounter(t *testing.T, server string) *turnCounter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc := &turnCounter{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			srv, err := net.Dial("tcp", server)
			if err != nil {
				t.Error(err)
				client.Close()
				return
			}
			clientSpoke := false // the last bytes on this connection were the client's
			pipe := func(dst, src net.Conn, fromClient bool) {
				defer wg.Done()
				defer dst.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := src.Read(buf)
					if n > 0 {
						tc.mu.Lock()
						if fromClient && !clientSpoke {
							tc.n++
						}
						clientSpoke = fromClient
						tc.mu.Unlock()
						if _, werr := dst.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
							src.Close()
						}
						return
					}
				}
			}
			wg.Add(2)
			go pipe(srv, client, true)
			go pipe(client, srv, false)
		}
	}()
	return tc
}

func (tc *turnCounter) reset() {
	tc.mu.Lock()
	tc.n = 0
	tc.mu.Unlock()
}

func (tc *turnCounter) turns() int {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.n
}
