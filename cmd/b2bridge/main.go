// Command b2bridge is the real-time bridge between B2B storefronts and the ERP.
//
//	b2bridge serve [--config FILE] [--addr HOST:PORT] [--data DIR]
//	b2bridge erp migrate [--data DIR]
//	b2bridge erp seed [--data DIR] [--items N] [--accounts N] [--seed N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/storefront"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "b2bridge:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage:
  b2bridge serve [--config FILE] [--addr HOST:PORT] [--data DIR]
  b2bridge erp migrate [--data DIR]
  b2bridge erp seed [--data DIR] [--items N] [--accounts N] [--seed N]`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch cmd := strings.Join(args[:min(2, len(args))], " "); {
	case args[0] == "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case cmd == "erp migrate":
		return erpMigrate(ctx, args[2:], stdout)
	case cmd == "erp seed":
		return erpSeed(ctx, args[2:], stdout)
	}
	return fmt.Errorf("unknown command %q\n%s", strings.Join(args, " "), usage)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML configuration file")
	addr := fs.String("addr", "", "listen address (default 127.0.0.1:8080)")
	data := fs.String("data", "", "embedded ERP data directory (default ./b2bridge-data)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := DefaultConfig()
	if *configFile != "" {
		if err := cfg.LoadFile(*configFile); err != nil {
			return err
		}
	}
	if err := cfg.LoadEnv(os.Getenv); err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	if *data != "" {
		cfg.Data = *data
	}
	m := &Main{Config: cfg, Log: newLogger(stderr, cfg.LogLevel)}
	if err := m.Run(ctx); err != nil {
		return err
	}
	printFirstScreen(stdout, m)
	select {
	case <-ctx.Done():
		m.Log.Info("shutting down: draining in-flight requests")
	case err := <-m.serveErr:
		m.Log.Error("server stopped", "err", err)
	}
	return m.Close()
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated with the config
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// Main is the running program, drivable by tests without the flag parser.
type Main struct {
	Config Config
	Log    *slog.Logger

	// URL is the base URL the server listens on, set by Run.
	URL string
	// Credentials are the demo credentials of the embedded ERP, if it has them.
	Credentials *embedded.Credentials

	erp        *embedded.ERP
	svc        *bridge.Service
	app        *fiber.App
	serveErr   chan error
	stopFollow context.CancelFunc
}

// Run opens the ERP, loads the API keys and starts serving. It returns once the
// listener is bound.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Config.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	if m.Log == nil {
		m.Log = slog.Default()
	}
	loc, _ := time.LoadLocation(m.Config.Embedded.TimeZone) // validated
	var err error
	m.erp, err = embedded.Open(ctx, m.Config.Data, embedded.Options{Synchronous: m.Config.Embedded.Synchronous, TimeZone: loc})
	if err != nil {
		return fmt.Errorf("open embedded ERP in %s: %w", m.Config.Data, err)
	}
	m.Credentials = m.erp.Credentials
	for _, f := range m.Config.Embedded.Faults {
		m.erp.Faults.Set(f) // validated with the config
	}
	if m.svc, err = bridge.New(m.erp, m.Config.bridge(), m.Log); err != nil {
		m.erp.Close()
		return err
	}
	if err := m.svc.LoadKeys(ctx); err != nil {
		m.erp.Close()
		return fmt.Errorf("load API keys: %w", err)
	}
	followCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stopFollow = stop
	go m.svc.Follow(followCtx)
	m.app = storefront.New(m.svc, m.Log)
	addOps(m.app, m.svc)
	addAdmin(m.app, m.svc, m.erp.Faults)
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		m.erp.Close()
		return err
	}
	m.URL = "http://" + ln.Addr().String()
	m.serveErr = make(chan error, 1)
	go func() { m.serveErr <- m.app.Listener(ln) }()
	m.Log.Info("serving", "url", m.URL, "data", m.Config.Data, "credit_policy", m.Config.CreditPolicy)
	return nil
}

// Close stops accepting requests, drains those in flight (an order in flight commits
// and answers, or rolls back), then closes the ERP.
func (m *Main) Close() error {
	var err error
	if m.app != nil {
		err = m.app.ShutdownWithTimeout(m.Config.ShutdownTimeout)
	}
	if m.stopFollow != nil {
		m.stopFollow()
		m.svc.Close()
	}
	if m.erp != nil {
		err = errors.Join(err, m.erp.Close())
	}
	return err
}

func printFirstScreen(w io.Writer, m *Main) {
	fmt.Fprintf(w, "b2bridge is serving on %s (embedded ERP in %s)\n\n", m.URL, m.Config.Data)
	c := m.Credentials
	if c == nil {
		fmt.Fprintf(w, "No %s in the data directory: run 'b2bridge erp seed' for demo data and keys.\n", embedded.CredentialsFile)
		return
	}
	for _, sf := range c.Storefronts {
		fmt.Fprintf(w, "  storefront %-11s key %s  accounts %s…%s\n", sf.Name, sf.Key, sf.Accounts[0], sf.Accounts[len(sf.Accounts)-1])
	}
	fmt.Fprintf(w, "  admin key              %s\n", c.AdminKey)
	fmt.Fprintf(w, "  demo SKUs              %s\n", strings.Join(c.SKUs, " "))
	fmt.Fprintf(w, "  (saved in %s)\n\n", m.Config.Data+"/"+embedded.CredentialsFile)
	sf := c.Storefronts[0]
	fmt.Fprintf(w, "Try:\n  curl -H 'Authorization: Bearer %s' '%s/v1/availability?sku=%s'\n", sf.Key, m.URL, c.SKUs[0])
	fmt.Fprintf(w, "  curl -H 'Authorization: Bearer %s' '%s/v1/accounts/%s/credit'\n\n", sf.Key, m.URL, sf.Accounts[0])
}

// openERPAdmin parses an erp subcommand's flags (--data and those extra adds) and opens
// the embedded ERP's schema without seeding it.
func openERPAdmin(ctx context.Context, name string, args []string, extra func(*flag.FlagSet)) (*embedded.ERP, string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	data := fs.String("data", DefaultConfig().Data, "embedded ERP data directory")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, "", err
	}
	e, err := embedded.Open(ctx, *data, embedded.Options{SkipSeed: true})
	return e, *data, err
}

func erpMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	e, data, err := openERPAdmin(ctx, "erp migrate", args, nil)
	if err != nil {
		return err
	}
	defer e.Close()
	fmt.Fprintf(stdout, "ERP interface schema is current in %s\n", data)
	return nil
}

func erpSeed(ctx context.Context, args []string, stdout io.Writer) error {
	var opts embedded.SeedOptions
	e, data, err := openERPAdmin(ctx, "erp seed", args, func(fs *flag.FlagSet) {
		fs.IntVar(&opts.Items, "items", 1000, "number of items")
		fs.IntVar(&opts.Accounts, "accounts", 60, "number of customer accounts")
		fs.Uint64Var(&opts.Seed, "seed", 0, "generator seed (the same seed gives the same data)")
	})
	if err != nil {
		return err
	}
	defer e.Close()
	start := time.Now()
	creds, err := embedded.Seed(ctx, e.DB, opts)
	if err != nil {
		return err
	}
	if err := creds.Write(data); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d items and %d accounts in %s in %v; new keys in %s\n",
		opts.Items, opts.Accounts, data, time.Since(start).Round(time.Millisecond), embedded.CredentialsFile)
	return nil
}
