package sqlerp_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// On a database with a pool of write connections, orders that wait for one are served in
// the order they came (database/sql alone hands a freed connection to a random waiter).
// One write connection is held while ten orders arrive, each once the one before it waits;
// once it is let go, the orders run one at a time in arrival order: their headers' ids,
// taken inside each one's turn, rise with it. (When each call returned says less: a
// goroutine may be descheduled after its turn while the next order runs.)
func TestOrdersTakeWriteConnectionsInArrivalOrder(t *testing.T) {
	dsn, _ := embeddedtest.PostgresDSN(t)
	ctx := context.Background()
	db, err := sqlerp.Open(ctx, dsn, sqlerp.Options{WriteConns: 1, ReadConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	held, err := db.Writer().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var (
		ids [10]int // each order's header id, in arrival order
		wg  sync.WaitGroup
	)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := erp.OrderDraft{Account: embedded.Account(1 + i), ExternalRef: fmt.Sprint("turn-", i), RequestHash: "h",
				CreditPolicy: erp.CreditHold, Lines: []erp.DraftLine{{SKU: embedded.SKU(1), Qty: 1}}}
			p, err := db.PlaceOrder(ctx, d) // booked, on credit hold if need be
			if err != nil {
				t.Errorf("order %d: %v", i, err)
				return
			}
			if ids[i], err = strconv.Atoi(p.Order.ID); err != nil {
				t.Errorf("order %d: id %q: %v", i, p.Order.ID, err)
			}
		}()
		for deadline := time.Now().Add(10 * time.Second); waiting(t, "sqlerp.(*DB).placeOnce") < i+1; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("order %d never waited for a write connection", i)
			}
		}
	}
	held.Close()
	wg.Wait()
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Errorf("orders in arrival order got the header ids %v: they ran out of that order", ids)
			break
		}
	}
}

// waiting counts the goroutines blocked in a select with fn on their stack.
func waiting(t *testing.T, fn string) int {
	t.Helper()
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, " [select") && strings.Contains(g, fn) {
			n++
		}
	}
	return n
}
