package sqlerp_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
)

// benchInFlight is the orders in flight on PostgreSQL: 32, as the ceiling's 32 clients.
var benchInFlight = 32

// benchSync is FULL, as the ceiling's FULL run; NORMAL isolates the CPU cost from fsync.
var benchSync = "FULL"

// BenchmarkPlaceOrder books 3-line orders through the real order transaction (header,
// pricing read, locked allocation, three conditional reserves, credit, lines, commit) on
// the embedded ERP with synchronous=FULL, to set against ../shared/ceiling/run.sh: 64 in
// flight, as the budget's 64 clients.
func BenchmarkPlaceOrder(b *testing.B) {
	e, err := embedded.Open(context.Background(), embeddedtest.Dir(b), embedded.Options{Synchronous: benchSync})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	benchmarkOrders(b, e, 64)
}

// BenchmarkPlaceOrderPostgres is the same on PostgreSQL (B2BRIDGE_TEST_POSTGRES_DSN), with
// 32 orders in flight as the ceiling's pgbench run with 32 clients.
func BenchmarkPlaceOrderPostgres(b *testing.B) {
	benchmarkOrders(b, embeddedtest.Postgres(b), benchInFlight)
}

func benchmarkOrders(b *testing.B, e *embedded.ERP, inFlight int) {
	db := e.Writer()
	for _, q := range []string{
		`UPDATE stock SET on_hand = 1000000000, reserved = 0`,
		`UPDATE accounts SET credit_hold = 0, credit_limit = 10000000000000, exposure = 0`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(max(1, inFlight/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			d := erp.OrderDraft{Account: embedded.Account(1 + i%50), ExternalRef: fmt.Sprint("bench-", i), RequestHash: "h",
				CreditPolicy: erp.CreditReject, Lines: []erp.DraftLine{
					{SKU: embedded.SKU(1 + i%300), Qty: 2}, {SKU: embedded.SKU(301 + i%300), Qty: 3}, {SKU: embedded.SKU(601 + i%300), Qty: 5}}}
			if _, err := e.PlaceOrder(ctx, d); err != nil {
				var r *erp.Refusal
				if !errors.As(err, &r) || r.Reason != erp.ReasonInvalidQuantity {
					b.Fatal(err)
				}
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	// Where fsync bounds the rate, the CPU an order costs tells code changes apart.
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/order")
}

// processCPU is the user and system time this process has used.
func processCPU(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// BenchmarkERPReads is what a cache miss asks of the embedded ERP: one SKU's stock, or
// one account's prices of one SKU, on the read pool, a different SKU each time; an order
// read back by its reference, as a replay or an outcome look-up does; a 3-line quote; and
// prices and a quote of ten SKUs.
func BenchmarkERPReads(b *testing.B) {
	e, err := embedded.Open(context.Background(), embeddedtest.Dir(b), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	b.Run("stock", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if st, err := e.Stock(ctx, []string{embedded.SKU(1 + i%900)}, ""); err != nil || len(st) != 1 {
				b.Fatalf("%v %v", st, err)
			}
		}
	})
	placed, err := e.PlaceOrder(ctx, erp.OrderDraft{Account: embedded.Account(1), ExternalRef: "bench-read", RequestHash: "h",
		CreditPolicy: erp.CreditHold, Lines: []erp.DraftLine{{SKU: embedded.SKU(1), Qty: 2}, {SKU: embedded.SKU(2), Qty: 3}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("order", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if o, err := e.OrderByRef(ctx, "bench-read"); err != nil || o.ID != placed.Order.ID || len(o.Lines) != 2 {
				b.Fatalf("%+v %v", o, err)
			}
		}
	})
	b.Run("quote", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d := erp.OrderDraft{Account: embedded.Account(1 + i%50), CreditPolicy: erp.CreditHold, Lines: []erp.DraftLine{
				{SKU: embedded.SKU(1 + i%300), Qty: 2}, {SKU: embedded.SKU(301 + i%300), Qty: 3}, {SKU: embedded.SKU(601 + i%300), Qty: 5}}}
			if q, err := e.Quote(ctx, d); err != nil || len(q.Lines) != 3 {
				b.Fatalf("%+v %v", q, err)
			}
		}
	})
	b.Run("prices", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if p, err := e.PriceData(ctx, embedded.Account(1+i%50), []string{embedded.SKU(1 + i%900)}); err != nil || len(p.Items) != 1 {
				b.Fatalf("%v %v", p, err)
			}
		}
	})
	// Ten SKUs, as a B2B cart or a product list page asks: past the first few, SQLite's
	// planner once read every entry of the price list instead.
	ten := func(i int) []string {
		skus := make([]string, 10)
		for k := range skus {
			skus[k] = embedded.SKU(1 + (i+k*97)%900)
		}
		return skus
	}
	// Ten SKUs in one read, as the stock cache's batched refreshes and misses ask.
	b.Run("stock10", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if st, err := e.Stock(ctx, ten(i), ""); err != nil || len(st) != 10 {
				b.Fatalf("%v %v", st, err)
			}
		}
	})
	b.Run("prices10", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if p, err := e.PriceData(ctx, embedded.Account(1+i%50), ten(i)); err != nil || len(p.Items) != 10 {
				b.Fatalf("%v %v", p, err)
			}
		}
	})
	b.Run("quote10", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d := erp.OrderDraft{Account: embedded.Account(1 + i%50), CreditPolicy: erp.CreditHold}
			for _, sku := range ten(i) {
				d.Lines = append(d.Lines, erp.DraftLine{SKU: sku, Qty: 120}) // boxes of 6 with a minimum of 10 fit every SKU
			}
			if q, err := e.Quote(ctx, d); err != nil || len(q.Lines) != 10 {
				b.Fatalf("%+v %v", q, err)
			}
		}
	})
}
