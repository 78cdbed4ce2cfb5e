package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp"
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
	// ReadTimeout bounds one ERP read; OrderTimeout one order transaction.
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	OrderTimeout time.Duration `yaml:"order_timeout"`
	// ShutdownTimeout bounds the drain of in-flight requests on SIGINT/SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Embedded configures the embedded ERP.
	Embedded EmbeddedConfig `yaml:"embedded"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
}

// EmbeddedConfig configures the embedded SQLite ERP.
type EmbeddedConfig struct {
	// Synchronous is FULL (default: a 201 survives a power cut) or NORMAL (faster).
	Synchronous string `yaml:"synchronous"`
	// TimeZone is the ERP company's IANA time zone for agreement validity dates.
	TimeZone string `yaml:"time_zone"`
}

// DefaultConfig is the configuration with nothing set.
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		Data:            "./b2bridge-data",
		CreditPolicy:    string(bridge.DefaultConfig.CreditPolicy),
		ReadTimeout:     bridge.DefaultConfig.ReadTimeout,
		OrderTimeout:    bridge.DefaultConfig.OrderTimeout,
		ShutdownTimeout: 15 * time.Second,
		Embedded:        EmbeddedConfig{Synchronous: "FULL", TimeZone: "UTC"},
		LogLevel:        "info",
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
		"B2BRIDGE_EMBEDDED_SYNCHRONOUS": &c.Embedded.Synchronous,
		"B2BRIDGE_EMBEDDED_TIME_ZONE":   &c.Embedded.TimeZone,
		"B2BRIDGE_LOG_LEVEL":            &c.LogLevel,
	}
	for name, p := range str {
		if v := getenv(name); v != "" {
			*p = v
		}
	}
	dur := map[string]*time.Duration{
		"B2BRIDGE_READ_TIMEOUT":     &c.ReadTimeout,
		"B2BRIDGE_ORDER_TIMEOUT":    &c.OrderTimeout,
		"B2BRIDGE_SHUTDOWN_TIMEOUT": &c.ShutdownTimeout,
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
	if _, err := erp.ParseCreditPolicy(c.CreditPolicy); err != nil {
		errs = append(errs, fmt.Errorf("credit_policy: %w", err))
	}
	if c.ReadTimeout <= 0 || c.OrderTimeout <= 0 || c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("read_timeout, order_timeout, shutdown_timeout: must be positive"))
	}
	if s := strings.ToUpper(c.Embedded.Synchronous); s != "FULL" && s != "NORMAL" {
		errs = append(errs, fmt.Errorf("embedded.synchronous %q: want FULL or NORMAL", c.Embedded.Synchronous))
	}
	if _, err := time.LoadLocation(c.Embedded.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("embedded.time_zone: %w", err))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}
