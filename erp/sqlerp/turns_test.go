package sqlerp_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
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
// once it is let go, the orders, run one at a time, finish in arrival order.
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
		mu       sync.Mutex
		finished []int
		wg       sync.WaitGroup
	)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := erp.OrderDraft{Account: embedded.Account(1 + i), ExternalRef: fmt.Sprint("turn-", i), RequestHash: "h",
				CreditPolicy: erp.CreditHold, Lines: []erp.DraftLine{{SKU: embedded.SKU(1), Qty: 1}}}
			_, err := db.PlaceOrder(ctx, d) // booked or refused: either way it had its turn
			mu.Lock()
			defer mu.Unlock()
			finished = append(finished, i)
			if r := (*erp.Refusal)(nil); err != nil && !errors.As(err, &r) {
				t.Errorf("order %d: %v", i, err)
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
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(finished, want) {
		t.Errorf("orders finished in the order %v, want their arrival order %v", finished, want)
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
