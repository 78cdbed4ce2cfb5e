// Package bridge is the core of b2bridge: the order path and the read paths between the
// storefront API and the ERP port. It validates what only the core can, scopes every
// call to the caller's accounts, derives idempotency references, runs each ERP call on a
// context of its own with its operation's timeout, and turns ERP outcomes into the
// bridge's errors. It keeps no order state: the ERP is the system of record.
package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/b2bridge/b2bridge/erp"
)

// Types the storefront API speaks in, defined by the ERP port.
type (
	Order       = erp.Order
	OrderLine   = erp.OrderLine
	Quote       = erp.Quote
	LineProblem = erp.LineProblem
	Line        = erp.DraftLine
)

// Config tunes the service.
type Config struct {
	// CreditPolicy says what happens to an order over the credit limit.
	CreditPolicy erp.CreditPolicy
	// ReadTimeout bounds an ERP read (stock, prices, credit, quotes, order history).
	ReadTimeout time.Duration
	// OrderTimeout bounds the ERP's order transaction. It runs on a context of its own:
	// a client hanging up does not cancel a commit.
	OrderTimeout time.Duration
}

// DefaultConfig is the configuration when nothing is set.
var DefaultConfig = Config{CreditPolicy: erp.CreditReject, ReadTimeout: 2 * time.Second, OrderTimeout: 10 * time.Second}

// Validate names the first bad setting.
func (c Config) Validate() error {
	if _, err := erp.ParseCreditPolicy(string(c.CreditPolicy)); err != nil {
		return err
	}
	if c.ReadTimeout <= 0 || c.OrderTimeout <= 0 {
		return fmt.Errorf("timeouts must be positive (read %v, order %v)", c.ReadTimeout, c.OrderTimeout)
	}
	return nil
}

// Service is the bridge core. It is safe for concurrent use.
type Service struct {
	erp  erp.ERP
	cfg  Config
	keys atomic.Pointer[keyring]
	log  *slog.Logger
	now  func() time.Time
}

// New returns the service over an ERP. Call LoadKeys before serving.
func New(e erp.ERP, cfg Config, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{erp: e, cfg: cfg, log: log, now: time.Now}, nil
}

// Ready reports whether the ERP answers.
func (s *Service) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadTimeout)
	defer cancel()
	return s.erp.Ping(ctx)
}

// readContext bounds an ERP read by the read timeout.
func (s *Service) readContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.ReadTimeout)
}
