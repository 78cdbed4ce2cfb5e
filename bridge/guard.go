package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/b2bridge/b2bridge/erp"
)

// Class is an ERP operation class. Each has its own breaker, timeout and concurrency
// bound, so that a slow order path cannot black out browsing, nor the reverse.
type Class = erp.Class

// The operation classes.
const (
	StockReads  = erp.StockReads
	PriceReads  = erp.PriceReads
	CreditReads = erp.CreditReads
	OrderWrites = erp.OrderWrites
)

// errBreakerOpen is returned without calling the ERP while a class's breaker is open.
var errBreakerOpen = errors.New("circuit breaker open")

// guard runs one class's ERP calls.
type guard struct {
	class   Class
	breaker *gobreaker.CircuitBreaker[struct{}]
	timeout time.Duration
	slots   chan struct{}
	obs     Observer // nil: none
}

func newGuard(class Class, timeout time.Duration, concurrency int, b BreakerConfig, obs Observer) *guard {
	var onChange func(string, gobreaker.State, gobreaker.State)
	if obs != nil {
		onChange = func(_ string, from, to gobreaker.State) { obs.BreakerChange(class, from.String(), to.String()) }
	}
	return &guard{
		class:   class,
		timeout: timeout,
		slots:   make(chan struct{}, concurrency),
		obs:     obs,
		breaker: gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
			Name:        string(class),
			MaxRequests: 1,
			Timeout:     b.OpenFor,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= b.Failures },
			// The ERP answering no is the ERP working.
			IsSuccessful: func(err error) bool {
				var r *erp.Refusal
				return err == nil || errors.As(err, &r) || errors.Is(err, erp.ErrNotFound)
			},
			// A client that hung up says nothing about the ERP.
			IsExcluded:    func(err error) bool { return errors.Is(err, context.Canceled) },
			OnStateChange: onChange,
		}),
	}
}

// run calls f with a context bounded by the class's timeout, once the breaker allows
// it and a slot is free (waiting for a slot counts against the timeout).
func (g *guard) run(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	ctx, span := tracer.Start(ctx, "erp "+string(g.class), trace.WithSpanKind(trace.SpanKindClient))
	defer span.End()
	start, outcome := time.Now(), ""
	_, err := g.breaker.Execute(func() (struct{}, error) {
		select {
		case g.slots <- struct{}{}:
			defer func() { <-g.slots }()
		case <-ctx.Done():
			outcome = "busy"
			return struct{}{}, fmt.Errorf("%s: all %d slots busy: %w", g.class, cap(g.slots), ctx.Err())
		}
		return struct{}{}, f(ctx)
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		outcome, err = "breaker_open", fmt.Errorf("%s: %w", g.class, errBreakerOpen)
	}
	if outcome == "" && (g.obs != nil || span.IsRecording()) {
		outcome = callOutcome(err)
	}
	elapsed := time.Since(start)
	if g.obs != nil {
		g.obs.ERPCall(g.class, outcome, elapsed)
	}
	if total, ok := ctx.Value(erpTimeKey{}).(*atomic.Int64); ok {
		total.Add(int64(elapsed))
	}
	if span.IsRecording() {
		span.SetAttributes(attribute.String("b2bridge.erp.class", string(g.class)), attribute.String("b2bridge.erp.outcome", outcome))
		if outcome != "ok" && outcome != "refused" && outcome != "not_found" {
			span.SetStatus(codes.Error, outcome)
		}
	}
	return err
}

var tracer = otel.Tracer("github.com/b2bridge/b2bridge/bridge")

type erpTimeKey struct{}

// WithERPTime returns a context under which the time of every ERP call, from asking its
// guard (a wait for a slot included) to its answer, is added to *total: a request's own
// overhead is its latency less that.
func WithERPTime(ctx context.Context, total *atomic.Int64) context.Context {
	return context.WithValue(ctx, erpTimeKey{}, total)
}

// callOutcome names how an ERP call that ran ended.
func callOutcome(err error) string {
	var r *erp.Refusal
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &r):
		return "refused"
	case errors.Is(err, erp.ErrNotFound):
		return "not_found"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}

// state is the breaker's state: closed, half-open or open.
func (g *guard) state() string { return g.breaker.State().String() }
