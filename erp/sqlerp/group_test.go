package sqlerp_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// The embedded ERP's group commit (SQLite only): orders that wait for the writer are
// booked together, each under its own savepoint, and answered after the shared COMMIT.

// held makes the next group commits wait at their COMMIT until release is closed, and
// reports each group's size on sizes.
func held(e *embedded.ERP) (sizes chan int, release chan struct{}) {
	sizes, release = make(chan int, 1000), make(chan struct{})
	sqlerp.SetBeforeCommit(e.DB, func(_, booked int) error {
		sizes <- booked
		<-release
		return nil
	})
	return sizes, release
}

// batched makes SQLite's group commits hold their COMMIT for 5 ms, so that orders queue
// behind each group and the next carries many: the contract suite's concurrency tests
// call it to run their truth rules through batches, and it fails the test if no group
// carried more than one order. Other dialects have no group commit.
func batched(t *testing.T, e *embedded.ERP) {
	t.Helper()
	if e.DB.Dialect().Name != "sqlite" {
		return
	}
	var most atomic.Int32
	sqlerp.SetBeforeCommit(e.DB, func(orders, _ int) error {
		time.Sleep(5 * time.Millisecond)
		for m := most.Load(); int32(orders) > m && !most.CompareAndSwap(m, int32(orders)); m = most.Load() {
		}
		return nil
	})
	t.Cleanup(func() {
		if most.Load() < 2 {
			t.Errorf("no group commit carried more than one order (at most %d)", most.Load())
		}
	})
}

func TestGroupCommitAnswersOnlyAfterTheSharedCommit(t *testing.T) {
	e := embeddedtest.Open(t)
	plentyOfCredit(t, e)
	setStock(t, e, "BRG-00005", 10)
	sizes, release := held(e)

	// The first order holds the writer at its COMMIT; 30 more queue behind it: 10 fit the
	// stock, 20 are refused, one repeats a key of the group and one names no such SKU.
	var answered atomic.Int32
	var wg sync.WaitGroup
	errs := make([]error, 33)
	placements := make([]erp.Placement, 33)
	place := func(i int, d erp.OrderDraft) {
		defer wg.Done()
		placements[i], errs[i] = e.PlaceOrder(context.Background(), d)
		answered.Add(1)
	}
	wg.Add(1)
	go place(0, draft("C1001", "first", line("BRG-00001", 1)))
	if n := <-sizes; n != 1 {
		t.Fatalf("first group booked %d orders, want 1", n)
	}
	for i := 1; i <= 30; i++ {
		wg.Add(1)
		go place(i, draft(embedded.Account(1+i%60), fmt.Sprint("g", i), line("BRG-00005", 1)))
	}
	wg.Add(2)
	go place(31, draft("C1001", "g1", line("BRG-00005", 1))) // the key of order 1
	go place(32, draft("C1001", "g-unknown", line("NO-SUCH-SKU", 1)))
	time.Sleep(300 * time.Millisecond) // all 32 queued behind the held commit
	if n := answered.Load(); n != 0 {
		t.Fatalf("%d orders answered before their commit", n)
	}
	close(release)
	second := <-sizes
	wg.Wait()
	if second != 10 {
		t.Errorf("the second group booked %d orders, want the 10 that fit", second)
	}

	booked, short := 0, 0
	for i, err := range errs {
		var r *erp.Refusal
		switch {
		case err == nil && !placements[i].Replayed:
			booked++
		case err == nil: // the repeated key: a replay of order 1's booking or of nothing
			if placements[i].Order.ID != placements[1].Order.ID || errs[1] != nil {
				t.Errorf("replay of g1 answered order %q; g1 is %q (%v)", placements[i].Order.ID, placements[1].Order.ID, errs[1])
			}
		case errors.As(err, &r) && r.Reason == erp.ReasonInsufficientStock:
			short++
		case errors.As(err, &r) && i == 32 && r.Lines[0].Reason == erp.ReasonUnknownSKU:
		default:
			t.Errorf("order %d: %v", i, err)
		}
	}
	var orders int
	queryRow(t, e, `SELECT COUNT(*) FROM orders`, nil, &orders)
	if booked != 11 || short != 20 || available(t, e, "BRG-00005") != 0 || orders != 11 {
		t.Errorf("%d booked, %d short, %d left, %d ERP orders; want 11, 20, 0, 11", booked, short, available(t, e, "BRG-00005"), orders)
	}
	if errs[31] != nil && errs[1] == nil {
		t.Errorf("the repeated key was not answered as a replay: %v", errs[31])
	}
}

func TestGroupCommitThatFailsLeavesItsOutcomeToTheLookup(t *testing.T) {
	e := embeddedtest.Open(t)
	plentyOfCredit(t, e)
	before := state(t, e)
	failed := make(chan int, 10)
	sqlerp.SetBeforeCommit(e.DB, func(_, booked int) error {
		failed <- booked
		return errors.New("disk I/O error (injected)")
	})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sku := "BRG-00001"
			if i == 7 {
				sku = "NO-SUCH-SKU"
			}
			_, errs[i] = e.PlaceOrder(context.Background(), draft("C1001", fmt.Sprint("f", i), line(sku, 1)))
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		unknown := errors.Is(err, erp.ErrOutcomeUnknown)
		if i < 7 && !unknown {
			t.Errorf("booked order %d in a failed commit: %v, want outcome unknown", i, err)
		}
		if i == 7 && (err == nil || unknown) {
			t.Errorf("refused order in a failed commit: %v, want an error to retry, not outcome unknown", err)
		}
	}
	if got := state(t, e); got != before {
		t.Errorf("a failed group commit left %+v, was %+v", got, before)
	}
	// The retry with the same key books it once.
	sqlerp.SetBeforeCommit(e.DB, nil)
	if _, err := e.PlaceOrder(context.Background(), draft("C1001", "f0", line("BRG-00001", 1))); err != nil {
		t.Fatal(err)
	}
	if got := state(t, e); got.orders != before.orders+1 {
		t.Errorf("%d orders after the retry, want %d", got.orders, before.orders+1)
	}
}

func TestOrderGivenUpBeforeItsGroupIsNotBooked(t *testing.T) {
	e := embeddedtest.Open(t)
	plentyOfCredit(t, e)
	sizes, release := held(e)
	go e.PlaceOrder(context.Background(), draft("C1001", "holder", line("BRG-00001", 1)))
	<-sizes
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := e.PlaceOrder(ctx, draft("C1001", "impatient", line("BRG-00001", 1)))
	close(release)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, erp.ErrOutcomeUnknown) {
		t.Errorf("an order dropped from the queue answered %v, want its deadline and a known outcome", err)
	}
	// The holder's commit done, the next order proves the queue moved on without it.
	if _, err := e.PlaceOrder(context.Background(), draft("C1001", "after", line("BRG-00001", 1))); err != nil {
		t.Fatal(err)
	}
	var n int
	queryRow(t, e, `SELECT COUNT(*) FROM orders WHERE external_ref = 'impatient'`, nil, &n)
	if n != 0 {
		t.Errorf("the order given up in the queue was booked")
	}
}

// Orders racing the ERP's close are answered, never a panic: place must not signal a
// writer that close has already stopped.
func TestOrdersRacingCloseAreAnswered(t *testing.T) {
	e := embeddedtest.Open(t)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			e.PlaceOrder(context.Background(), draft("C1001", fmt.Sprint("close-", i), line("BRG-00001", 1)))
		}(i)
	}
	e.Close()
	wg.Wait()
}
