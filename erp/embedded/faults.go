package embedded

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/b2bridge/b2bridge/erp"
)

// Fault is what the embedded ERP does wrong for one operation class, for tests and for
// SREs rehearsing failures.
type Fault struct {
	Class           erp.Class `json:"class" yaml:"class"`
	LatencyMS       int       `json:"latency_ms" yaml:"latency_ms"`               // added to every call
	JitterMS        int       `json:"jitter_ms" yaml:"jitter_ms"`                 // plus up to this, at random
	ErrorRate       float64   `json:"error_rate" yaml:"error_rate"`               // share of calls failing before they start
	Hang            bool      `json:"hang" yaml:"hang"`                           // calls never answer (until their deadline)
	FailAfterCommit bool      `json:"fail_after_commit" yaml:"fail_after_commit"` // orders commit, then the reply is lost
}

// Validate names the first bad field.
func (f Fault) Validate() error {
	switch {
	case !slices.Contains(erp.Classes, f.Class):
		return fmt.Errorf("class %q: want one of %v", f.Class, erp.Classes)
	case f.LatencyMS < 0 || f.JitterMS < 0 || f.LatencyMS > 600_000 || f.JitterMS > 600_000:
		return errors.New("latency_ms and jitter_ms: want 0 to 600000")
	case f.ErrorRate < 0 || f.ErrorRate > 1:
		return errors.New("error_rate: want 0 to 1")
	case f.FailAfterCommit && f.Class != erp.OrderWrites:
		return errors.New("fail_after_commit: only for order_writes")
	}
	return nil
}

// ErrInjected is the error an injected failure returns.
var ErrInjected = errors.New("injected ERP fault")

// Faults holds the faults in force. It is safe for concurrent use.
type Faults struct {
	mu      sync.RWMutex
	byClass map[erp.Class]Fault
}

// Set puts a fault in force for its class, replacing the class's previous one.
func (f *Faults) Set(fault Fault) error {
	if err := fault.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byClass == nil {
		f.byClass = map[erp.Class]Fault{}
	}
	f.byClass[fault.Class] = fault
	return nil
}

// List returns the faults in force, by class.
func (f *Faults) List() []Fault {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := []Fault{}
	for _, c := range erp.Classes {
		if fault, ok := f.byClass[c]; ok {
			out = append(out, fault)
		}
	}
	return out
}

// Clear removes every fault.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.byClass = nil
	f.mu.Unlock()
}

func (f *Faults) get(c erp.Class) (Fault, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fault, ok := f.byClass[c]
	return fault, ok
}

// before delays, hangs or fails a call of class c as its fault says.
func (f *Faults) before(ctx context.Context, c erp.Class) (Fault, error) {
	fault, ok := f.get(c)
	if !ok {
		return fault, nil
	}
	delay := time.Duration(fault.LatencyMS) * time.Millisecond
	if fault.JitterMS > 0 {
		delay += time.Duration(rand.IntN(fault.JitterMS+1)) * time.Millisecond
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return fault, ctx.Err()
		}
	}
	if fault.Hang {
		<-ctx.Done()
		return fault, fmt.Errorf("%s hung: %w", c, ctx.Err())
	}
	if fault.ErrorRate > 0 && rand.Float64() < fault.ErrorRate {
		return fault, fmt.Errorf("%s: %w", c, ErrInjected)
	}
	return fault, nil
}

// faulty is the ERP with faults injected per operation class.
type faulty struct {
	erp.ERP
	faults *Faults
}

func (e faulty) Stock(ctx context.Context, skus []string, warehouse string) ([]erp.Stock, error) {
	if _, err := e.faults.before(ctx, erp.StockReads); err != nil {
		return nil, err
	}
	return e.ERP.Stock(ctx, skus, warehouse)
}

func (e faulty) PriceData(ctx context.Context, account string, skus []string) (erp.PriceData, error) {
	if _, err := e.faults.before(ctx, erp.PriceReads); err != nil {
		return erp.PriceData{}, err
	}
	return e.ERP.PriceData(ctx, account, skus)
}

func (e faulty) Quote(ctx context.Context, d erp.OrderDraft) (erp.Quote, error) {
	if _, err := e.faults.before(ctx, erp.PriceReads); err != nil {
		return erp.Quote{}, err
	}
	return e.ERP.Quote(ctx, d)
}

func (e faulty) Credit(ctx context.Context, account string) (erp.Credit, error) {
	if _, err := e.faults.before(ctx, erp.CreditReads); err != nil {
		return erp.Credit{}, err
	}
	return e.ERP.Credit(ctx, account)
}

func (e faulty) Order(ctx context.Context, account, id string) (erp.Order, error) {
	if _, err := e.faults.before(ctx, erp.CreditReads); err != nil {
		return erp.Order{}, err
	}
	return e.ERP.Order(ctx, account, id)
}

func (e faulty) Orders(ctx context.Context, account string, after *erp.OrderCursor, limit int) ([]erp.Order, error) {
	if _, err := e.faults.before(ctx, erp.CreditReads); err != nil {
		return nil, err
	}
	return e.ERP.Orders(ctx, account, after, limit)
}

func (e faulty) PlaceOrder(ctx context.Context, d erp.OrderDraft) (erp.Placement, error) {
	fault, err := e.faults.before(ctx, erp.OrderWrites)
	if err != nil {
		return erp.Placement{}, err
	}
	p, err := e.ERP.PlaceOrder(ctx, d)
	if err == nil && !p.Replayed && fault.FailAfterCommit { // a replay commits nothing
		return erp.Placement{}, fmt.Errorf("order %s committed, reply lost: %w: %w", d.ExternalRef, erp.ErrOutcomeUnknown, ErrInjected)
	}
	return p, err
}
