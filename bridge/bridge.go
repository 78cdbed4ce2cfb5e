// Package bridge is the core of b2bridge: the order path and the read paths between the
// storefront API and the ERP port. It scopes every call to the caller's accounts,
// answers reads from caches that follow the ERP's change log, runs each ERP operation
// class behind its own breaker, timeout and concurrency bound, derives idempotency
// references, resolves unknown order outcomes and invalidates what an order changed. It
// keeps no order state: the ERP is the system of record.
package bridge

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/b2bridge/b2bridge/cache"
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

// Config tunes the service. Zero fields take DefaultConfig's values.
type Config struct {
	// CreditPolicy says what happens to an order over the credit limit or on hold.
	CreditPolicy erp.CreditPolicy
	// ReadTimeout bounds an ERP read (stock, prices, credit, quotes, order history).
	ReadTimeout time.Duration
	// OrderTimeout bounds the ERP's order transaction. It runs on a context of its own:
	// a client hanging up does not cancel a commit.
	OrderTimeout time.Duration
	// LookupTimeout bounds the look-up of an order whose outcome is unknown.
	LookupTimeout time.Duration
	// ReadConcurrency and OrderConcurrency bound the ERP calls in flight per class.
	ReadConcurrency  int
	OrderConcurrency int
	// Breaker configures every class's circuit breaker.
	Breaker BreakerConfig
	// Cache configures the read caches.
	Cache CacheConfig
	// FollowInterval is how often the change log is read.
	FollowInterval time.Duration
	// StrictMappings: only mapped SKUs exist for storefronts; otherwise an unmapped SKU
	// is the ERP's own.
	StrictMappings bool
	// TokenTTL is how long a browser token lives; TokenSecret signs them (replicas that
	// share a load balancer must share it; empty: a random secret of this process).
	TokenTTL    time.Duration
	TokenSecret []byte
	// Observer, if set, is told of every ERP call and breaker change, for metrics.
	Observer Observer
}

// Observer is told what the service's ERP guards do. Calls come from request goroutines
// and must not block.
type Observer interface {
	// ERPCall is one call of a class: outcome is ok, refused (the ERP answered no),
	// not_found, error, timeout, busy (no slot within the timeout) or breaker_open.
	ERPCall(class Class, outcome string, d time.Duration)
	// BreakerChange is a class's breaker going from one state to another.
	BreakerChange(class Class, from, to string)
}

// BreakerConfig configures a circuit breaker.
type BreakerConfig struct {
	Failures uint32        // consecutive failures that open it
	OpenFor  time.Duration // how long it stays open before letting one call try
}

// CacheConfig configures the read caches (stock, prices, credit).
type CacheConfig struct {
	StockTTL, PriceTTL, CreditTTL time.Duration
	// Revalidate: after its TTL a value is answered once more while it is refreshed.
	Revalidate time.Duration
	// MaxStale: how old past its TTL a value may be to answer, flagged stale, while the
	// ERP cannot be reached.
	MaxStale time.Duration
	// NegativeTTL: how long an unknown SKU is remembered.
	NegativeTTL time.Duration
	// MaxBytes bounds the three caches together.
	MaxBytes int64
}

// DefaultConfig is the configuration when nothing is set.
var DefaultConfig = Config{
	CreditPolicy:     erp.CreditReject,
	ReadTimeout:      2 * time.Second,
	OrderTimeout:     10 * time.Second,
	LookupTimeout:    2 * time.Second,
	ReadConcurrency:  64,
	OrderConcurrency: 32,
	Breaker:          BreakerConfig{Failures: 5, OpenFor: 5 * time.Second},
	Cache: CacheConfig{StockTTL: 2 * time.Second, PriceTTL: 60 * time.Second, CreditTTL: 5 * time.Second,
		Revalidate: 5 * time.Second, MaxStale: 10 * time.Minute, NegativeTTL: 10 * time.Second, MaxBytes: 128 << 20},
	FollowInterval: 250 * time.Millisecond,
	TokenTTL:       10 * time.Minute,
}

// Validate names the first bad setting.
func (c Config) Validate() error {
	if _, err := erp.ParseCreditPolicy(string(c.CreditPolicy)); err != nil {
		return err
	}
	if c.ReadTimeout <= 0 || c.OrderTimeout <= 0 || c.LookupTimeout <= 0 || c.FollowInterval <= 0 {
		return errors.New("timeouts and the follow interval must be positive")
	}
	if c.ReadConcurrency < 1 || c.OrderConcurrency < 1 || c.Breaker.Failures < 1 || c.Breaker.OpenFor <= 0 {
		return errors.New("concurrency bounds, breaker failures and breaker open time must be positive")
	}
	cc := c.Cache
	if cc.StockTTL <= 0 || cc.PriceTTL <= 0 || cc.CreditTTL <= 0 || cc.NegativeTTL <= 0 || cc.MaxBytes < 1<<20 ||
		cc.Revalidate < 0 || cc.MaxStale < 0 {
		return errors.New("cache TTLs must be positive and cache max bytes at least 1 MiB")
	}
	if c.TokenTTL < time.Second || c.TokenTTL > 24*time.Hour {
		return fmt.Errorf("token TTL %v: want 1s to 24h (browser tokens are short-lived)", c.TokenTTL)
	}
	if len(c.TokenSecret) > 0 && len(c.TokenSecret) < 32 {
		return errors.New("token secret: want at least 32 bytes")
	}
	return nil
}

// Service is the bridge core. It is safe for concurrent use.
type Service struct {
	erp  erp.ERP
	cfg  Config
	keys atomic.Pointer[keyring]
	// tokenSecret signs browser tokens: the configured secret, or a random one.
	tokenSecret []byte
	mappings    atomic.Pointer[mappingSet]
	log         *slog.Logger
	guards      map[Class]*guard

	stock  *cache.Cache[erp.Stock]
	prices *cache.Cache[pricing]
	credit *cache.Cache[erp.Credit]

	follower follower
	ready    readiness
}

// readiness is the last ERP ping of Ready, shared by the probes of the next second.
type readiness struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// readyFor is how long a ping answers readiness probes.
const readyFor = time.Second

// New returns the service over an ERP. Call LoadKeys before serving and Follow to keep
// the caches in step with the ERP.
func New(e erp.ERP, cfg Config, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Service{erp: e, cfg: cfg, log: log, guards: map[Class]*guard{}, tokenSecret: cfg.TokenSecret}
	if len(s.tokenSecret) == 0 {
		s.tokenSecret = make([]byte, 32)
		rand.Read(s.tokenSecret) // never fails (crypto/rand)
	}
	for _, c := range erp.Classes {
		timeout, n := cfg.ReadTimeout, cfg.ReadConcurrency
		if c == OrderWrites {
			timeout, n = cfg.OrderTimeout, cfg.OrderConcurrency
		}
		s.guards[c] = newGuard(c, timeout, n, cfg.Breaker, cfg.Observer)
	}
	if err := s.newCaches(); err != nil {
		return nil, fmt.Errorf("caches: %w", err)
	}
	return s, nil
}

// Close writes the keys' last use to the ERP and stops the caches' background work.
func (s *Service) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.flushKeyUse(ctx); err != nil {
		s.log.Warn("record API key use", "err", err)
	}
	s.stock.Close()
	s.prices.Close()
	s.credit.Close()
}

// Ready reports whether the ERP answers. Anyone may probe /readyz, so probes share one
// ping a second (those arriving during a ping wait for it): probes cannot load the ERP.
func (s *Service) Ready(ctx context.Context) error {
	r := &s.ready
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() && time.Since(r.at) < readyFor {
		return r.err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ReadTimeout)
	defer cancel()
	r.err, r.at = s.erp.Ping(ctx), time.Now()
	return r.err
}
