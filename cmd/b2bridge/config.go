package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
	"github.com/b2bridge/b2bridge/storefront"
)

// Config is everything b2bridge serve reads: defaults, then the YAML file (--config),
// then B2BRIDGE_* environment variables, then flags.
type Config struct {
	// Addr is the listen address.
	Addr string `yaml:"addr"`
	// Data is the embedded ERP's data directory.
	Data string `yaml:"data"`
	// CreditPolicy is reject (422) or hold (book with status credit_hold).
	CreditPolicy string `yaml:"credit_policy"`
	// ReadTimeout bounds one ERP read; OrderTimeout one order transaction; LookupTimeout
	// the look-up of an order whose commit reply was lost.
	ReadTimeout   time.Duration `yaml:"read_timeout"`
	OrderTimeout  time.Duration `yaml:"order_timeout"`
	LookupTimeout time.Duration `yaml:"lookup_timeout"`
	// ReadConcurrency and OrderConcurrency bound ERP calls in flight per operation class.
	ReadConcurrency  int `yaml:"read_concurrency"`
	OrderConcurrency int `yaml:"order_concurrency"`
	// Breaker configures each operation class's circuit breaker.
	Breaker BreakerConfig `yaml:"breaker"`
	// Cache configures the read caches.
	Cache CacheConfig `yaml:"cache"`
	// FollowInterval is how often the ERP's change log is read.
	FollowInterval time.Duration `yaml:"follow_interval"`
	// ShutdownTimeout bounds the drain of in-flight requests on SIGINT/SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ERP says which ERP to reach and how.
	ERP ERPConfig `yaml:"erp"`
	// Embedded configures the embedded ERP.
	Embedded EmbeddedConfig `yaml:"embedded"`
	// Mappings configures how storefront identifiers map onto the ERP's.
	Mappings MappingsConfig `yaml:"mappings"`
	// RateLimit bounds each storefront's requests per route class.
	RateLimit RateLimitConfig `yaml:"rate_limit"`
	// TLS, if set, serves HTTPS with this certificate, reloaded on SIGHUP.
	TLS TLSConfig `yaml:"tls"`
	// Browser configures browser storefronts: account tokens and CORS.
	Browser BrowserConfig `yaml:"browser"`
	// DemoPage serves the demo storefront at /; unset, it is served with the embedded
	// ERP. It needs the demo credentials of the data directory.
	DemoPage *bool `yaml:"demo_page"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
}

// RateLimitConfig bounds each storefront's requests per route class over a sliding
// window; 0 is unlimited. RedisURL (redis://host:6379/0) shares the counts between
// replicas; without it each replica counts alone.
type RateLimitConfig struct {
	Reads    int           `yaml:"reads"`
	Writes   int           `yaml:"writes"`
	Admin    int           `yaml:"admin"`
	Window   time.Duration `yaml:"window"`
	RedisURL string        `yaml:"redis_url"`
}

// BrowserConfig configures browser storefronts (DESIGN "Browser storefronts").
type BrowserConfig struct {
	// TokenTTL is how long a token from POST /v1/accounts/{account}/tokens lives.
	TokenTTL time.Duration `yaml:"token_ttl"`
	// TokenSecret signs tokens, at least 32 bytes; replicas behind one load balancer
	// must share it. Empty: a random secret per process (a restart ends its tokens).
	TokenSecret string `yaml:"token_secret"`
	// Origins lists, per storefront name, the browser origins CORS allows; none: off.
	Origins map[string][]string `yaml:"origins"`
}

// parseOrigins reads B2BRIDGE_BROWSER_ORIGINS: "north-shop=https://a.example,https://b.example;south-shop=...".
func parseOrigins(v string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, part := range strings.Split(v, ";") {
		sf, list, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || sf == "" || list == "" {
			return nil, fmt.Errorf("%q: want storefront=origin[,origin...]", part)
		}
		for _, o := range strings.Split(list, ",") {
			out[sf] = append(out[sf], strings.TrimSpace(o))
		}
	}
	return out, nil
}

// validOrigin is scheme://host[:port], as a browser sends it: no path, no wildcard.
var validOrigin = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)

// MappingsConfig configures the mappings.
type MappingsConfig struct {
	// Strict: only mapped SKUs exist for storefronts; otherwise a SKU without a mapping
	// is the ERP's own, in the ERP's unit.
	Strict bool `yaml:"strict"`
}

// BreakerConfig configures a circuit breaker.
type BreakerConfig struct {
	Failures uint32        `yaml:"failures"`
	OpenFor  time.Duration `yaml:"open_for"`
}

// CacheConfig configures the read caches.
type CacheConfig struct {
	StockTTL    time.Duration `yaml:"stock_ttl"`
	PriceTTL    time.Duration `yaml:"price_ttl"`
	CreditTTL   time.Duration `yaml:"credit_ttl"`
	Revalidate  time.Duration `yaml:"revalidate"`
	MaxStale    time.Duration `yaml:"max_stale"`
	NegativeTTL time.Duration `yaml:"negative_ttl"`
	MaxBytes    int64         `yaml:"max_bytes"`
}

// ERPConfig says which ERP interface schema to use.
type ERPConfig struct {
	// DSN is sqlite:PATH, postgres://... or oracle://...; empty is the embedded ERP in
	// the data directory. It may hold a password: it is never logged.
	DSN string `yaml:"dsn"`
	// WriteConns and ReadConns size a client-server ERP's pools: order transactions, and
	// everything else.
	WriteConns int `yaml:"write_conns"`
	ReadConns  int `yaml:"read_conns"`
	// TimeZone is the ERP company's IANA time zone for agreement validity dates.
	TimeZone string `yaml:"time_zone"`
	// Faults are injected from the start (the admin API changes them at run time).
	Faults []embedded.Fault `yaml:"faults"`
}

// EmbeddedConfig configures the embedded SQLite ERP.
type EmbeddedConfig struct {
	// Synchronous is FULL (default: a 201 survives a power cut) or NORMAL (faster).
	Synchronous string `yaml:"synchronous"`
}

// DefaultConfig is the configuration with nothing set.
func DefaultConfig() Config {
	b := bridge.DefaultConfig
	return Config{
		Addr:             "127.0.0.1:8080",
		Data:             "./b2bridge-data",
		CreditPolicy:     string(b.CreditPolicy),
		ReadTimeout:      b.ReadTimeout,
		OrderTimeout:     b.OrderTimeout,
		LookupTimeout:    b.LookupTimeout,
		ReadConcurrency:  b.ReadConcurrency,
		OrderConcurrency: b.OrderConcurrency,
		Breaker:          BreakerConfig(b.Breaker),
		Cache:            CacheConfig(b.Cache),
		FollowInterval:   b.FollowInterval,
		ShutdownTimeout:  15 * time.Second,
		ERP:              ERPConfig{WriteConns: sqlerp.DefaultWriteConns, ReadConns: sqlerp.DefaultReadConns, TimeZone: "UTC"},
		Embedded:         EmbeddedConfig{Synchronous: "FULL"},
		LogLevel:         "info",
		Browser:          BrowserConfig{TokenTTL: b.TokenTTL},
		RateLimit: RateLimitConfig{Reads: storefront.DefaultRateLimits.Reads, Writes: storefront.DefaultRateLimits.Writes,
			Admin: storefront.DefaultRateLimits.Admin, Window: storefront.DefaultRateLimits.Window},
	}
}

// bridge returns the core's part of the configuration.
func (c Config) bridge() bridge.Config {
	return bridge.Config{
		CreditPolicy:     erp.CreditPolicy(c.CreditPolicy),
		ReadTimeout:      c.ReadTimeout,
		OrderTimeout:     c.OrderTimeout,
		LookupTimeout:    c.LookupTimeout,
		ReadConcurrency:  c.ReadConcurrency,
		OrderConcurrency: c.OrderConcurrency,
		Breaker:          bridge.BreakerConfig(c.Breaker),
		Cache:            bridge.CacheConfig(c.Cache),
		FollowInterval:   c.FollowInterval,
		StrictMappings:   c.Mappings.Strict,
		TokenTTL:         c.Browser.TokenTTL,
		TokenSecret:      []byte(c.Browser.TokenSecret),
	}
}

// LoadFile overlays a YAML file; unknown keys are errors, so typos do not pass silently.
func (c *Config) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// LoadEnv overlays B2BRIDGE_* environment variables.
func (c *Config) LoadEnv(getenv func(string) string) error {
	str := map[string]*string{
		"B2BRIDGE_ADDR":                 &c.Addr,
		"B2BRIDGE_DATA":                 &c.Data,
		"B2BRIDGE_CREDIT_POLICY":        &c.CreditPolicy,
		"B2BRIDGE_ERP_DSN":              &c.ERP.DSN,
		"B2BRIDGE_ERP_TIME_ZONE":        &c.ERP.TimeZone,
		"B2BRIDGE_EMBEDDED_SYNCHRONOUS": &c.Embedded.Synchronous,
		"B2BRIDGE_LOG_LEVEL":            &c.LogLevel,
		"B2BRIDGE_RATE_LIMIT_REDIS_URL": &c.RateLimit.RedisURL,
		"B2BRIDGE_TLS_CERT_FILE":        &c.TLS.CertFile,
		"B2BRIDGE_TLS_KEY_FILE":         &c.TLS.KeyFile,
		"B2BRIDGE_BROWSER_TOKEN_SECRET": &c.Browser.TokenSecret,
	}
	for name, p := range str {
		if v := getenv(name); v != "" {
			*p = v
		}
	}
	for name, p := range map[string]*int{
		"B2BRIDGE_ERP_WRITE_CONNS":   &c.ERP.WriteConns,
		"B2BRIDGE_ERP_READ_CONNS":    &c.ERP.ReadConns,
		"B2BRIDGE_RATE_LIMIT_READS":  &c.RateLimit.Reads,
		"B2BRIDGE_RATE_LIMIT_WRITES": &c.RateLimit.Writes,
		"B2BRIDGE_RATE_LIMIT_ADMIN":  &c.RateLimit.Admin,
	} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			*p = n
		}
	}
	if v := getenv("B2BRIDGE_MAPPINGS_STRICT"); v != "" {
		strict, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("B2BRIDGE_MAPPINGS_STRICT: %w", err)
		}
		c.Mappings.Strict = strict
	}
	dur := map[string]*time.Duration{
		"B2BRIDGE_READ_TIMEOUT":       &c.ReadTimeout,
		"B2BRIDGE_ORDER_TIMEOUT":      &c.OrderTimeout,
		"B2BRIDGE_LOOKUP_TIMEOUT":     &c.LookupTimeout,
		"B2BRIDGE_SHUTDOWN_TIMEOUT":   &c.ShutdownTimeout,
		"B2BRIDGE_FOLLOW_INTERVAL":    &c.FollowInterval,
		"B2BRIDGE_BREAKER_OPEN_FOR":   &c.Breaker.OpenFor,
		"B2BRIDGE_CACHE_STOCK_TTL":    &c.Cache.StockTTL,
		"B2BRIDGE_CACHE_PRICE_TTL":    &c.Cache.PriceTTL,
		"B2BRIDGE_CACHE_CREDIT_TTL":   &c.Cache.CreditTTL,
		"B2BRIDGE_CACHE_REVALIDATE":   &c.Cache.Revalidate,
		"B2BRIDGE_CACHE_MAX_STALE":    &c.Cache.MaxStale,
		"B2BRIDGE_CACHE_NEGATIVE_TTL": &c.Cache.NegativeTTL,
		"B2BRIDGE_RATE_LIMIT_WINDOW":  &c.RateLimit.Window,
		"B2BRIDGE_BROWSER_TOKEN_TTL":  &c.Browser.TokenTTL,
	}
	for name, p := range dur {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			*p = d
		}
	}
	if v := getenv("B2BRIDGE_DEMO_PAGE"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("B2BRIDGE_DEMO_PAGE: %w", err)
		}
		c.DemoPage = &on
	}
	if v := getenv("B2BRIDGE_BROWSER_ORIGINS"); v != "" {
		origins, err := parseOrigins(v)
		if err != nil {
			return fmt.Errorf("B2BRIDGE_BROWSER_ORIGINS: %w", err)
		}
		c.Browser.Origins = origins
	}
	return nil
}

// Validate names the first bad setting.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr: must not be empty"))
	}
	if c.Data == "" {
		errs = append(errs, errors.New("data: must not be empty"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown_timeout: must be positive"))
	}
	if err := c.bridge().Validate(); err != nil {
		errs = append(errs, err)
	}
	for i, f := range c.ERP.Faults {
		if err := f.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("erp.faults[%d]: %w", i, err))
		}
	}
	if c.RateLimit.Reads < 0 || c.RateLimit.Writes < 0 || c.RateLimit.Admin < 0 || c.RateLimit.Window < time.Second {
		errs = append(errs, fmt.Errorf("rate_limit: reads %d, writes %d and admin %d must not be negative, window %v at least 1s",
			c.RateLimit.Reads, c.RateLimit.Writes, c.RateLimit.Admin, c.RateLimit.Window))
	}
	if err := c.TLS.validate(); err != nil {
		errs = append(errs, err)
	}
	for sf, list := range c.Browser.Origins {
		for _, o := range list {
			if !validOrigin.MatchString(o) {
				errs = append(errs, fmt.Errorf("browser.origins.%s: %q: want scheme://host[:port], as a browser sends it", sf, o))
			}
		}
	}
	if c.ERP.WriteConns < 1 || c.ERP.ReadConns < 1 || c.ERP.WriteConns > 1000 || c.ERP.ReadConns > 1000 {
		errs = append(errs, fmt.Errorf("erp.write_conns %d, erp.read_conns %d: want 1 to 1000", c.ERP.WriteConns, c.ERP.ReadConns))
	}
	if scheme, _, _ := strings.Cut(c.ERP.DSN, ":"); c.ERP.DSN != "" && !slices.Contains([]string{"sqlite", "postgres", "postgresql", "oracle"}, scheme) {
		errs = append(errs, fmt.Errorf("erp.dsn %s: want sqlite:PATH, postgres://... or oracle://...", sqlerp.Redact(c.ERP.DSN)))
	}
	if s := strings.ToUpper(c.Embedded.Synchronous); s != "FULL" && s != "NORMAL" {
		errs = append(errs, fmt.Errorf("embedded.synchronous %q: want FULL or NORMAL", c.Embedded.Synchronous))
	}
	if _, err := time.LoadLocation(c.ERP.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("erp.time_zone: %w", err))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}
