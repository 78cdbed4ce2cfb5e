// Command b2bridge is the real-time bridge between B2B storefronts and the ERP.
//
//	b2bridge serve [--config FILE] [--addr HOST:PORT] [--data DIR] [--erp-dsn DSN]
//	b2bridge erp migrate [--data DIR] [--dsn DSN]
//	b2bridge erp seed [--data DIR] [--dsn DSN] [--items N] [--accounts N] [--seed N] [--if-empty]
//	b2bridge healthcheck [--url URL]
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	redisstorage "github.com/gofiber/storage/redis/v3"
	"github.com/redis/go-redis/v9"

	"github.com/b2bridge/b2bridge/admin"
	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
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
  b2bridge serve [--config FILE] [--addr HOST:PORT] [--data DIR] [--erp-dsn DSN]
  b2bridge erp migrate [--data DIR] [--dsn DSN]
  b2bridge erp seed [--data DIR] [--dsn DSN] [--items N] [--accounts N] [--seed N] [--if-empty]
  b2bridge mapping export --kind skus|customers|regions [--data DIR] [--dsn DSN] FILE|-
  b2bridge mapping import --kind skus|customers|regions [--dry-run] [--data DIR] [--dsn DSN] FILE|-
  b2bridge keys create --name NAME (--storefront NAME | --admin) [--scopes S,...] [--accounts A,...] [--groups G,...] [--expires DATE]
  b2bridge keys list | revoke ID | rotate ID   [--data DIR] [--dsn DSN]
  b2bridge loadtest [--target URL] [--credentials FILE] [--duration 30s] [--rate 500] [--mix reads=80,quotes=10,orders=10] [--accounts N] [--report FILE]
  b2bridge healthcheck [--url URL]`

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
	case cmd == "mapping export":
		return mappingExport(ctx, args[2:], stdout)
	case cmd == "mapping import":
		return mappingImport(ctx, args[2:], os.Stdin, stdout)
	case cmd == "keys create":
		return keysCreate(ctx, args[2:], stdout)
	case cmd == "keys list":
		return keysList(ctx, args[2:], stdout)
	case cmd == "keys revoke":
		return keysRevoke(ctx, args[2:], stdout)
	case cmd == "keys rotate":
		return keysRotate(ctx, args[2:], stdout)
	case args[0] == "healthcheck":
		return healthcheck(ctx, args[1:], stderr)
	case args[0] == "loadtest":
		return loadtestCommand(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown command %q\n%s", strings.Join(args, " "), usage)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML configuration file")
	addr := fs.String("addr", "", "listen address (default 127.0.0.1:8080)")
	data := fs.String("data", "", "embedded ERP data directory, and where demo credentials are read (default ./b2bridge-data)")
	dsn := fs.String("erp-dsn", "", "ERP interface schema to use: sqlite:PATH, postgres://... or oracle://... (default: the embedded ERP in --data)")
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
	if *dsn != "" {
		cfg.ERP.DSN = *dsn
	}
	logs := newLogWriter(stderr)
	defer logs.Close()
	m := &Main{Config: cfg, Log: newLogger(logs, cfg.LogLevel)}
	if m.Log.Enabled(ctx, slog.LevelInfo) {
		m.AccessLog = logs
	}
	if err := m.Run(ctx); err != nil {
		return err
	}
	printFirstScreen(stdout, m)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			m.reloadTLS()
		case <-ctx.Done():
			m.Log.Info("shutting down: draining in-flight requests")
			return m.Close()
		case err := <-m.serveErr:
			m.Log.Error("server stopped", "err", err)
			return m.Close()
		}
	}
}

// reloadTLS reads the certificate and key again, on SIGHUP: a renewed certificate is
// served to new connections without a restart. A pair that does not load is logged and
// the one being served stays.
func (m *Main) reloadTLS() {
	if m.cert == nil {
		m.Log.Info("SIGHUP: no TLS certificate configured, nothing to reload")
		return
	}
	if err := m.cert.reload(); err != nil {
		m.Log.Error("SIGHUP: TLS certificate not reloaded; still serving the previous one", "err", err)
		return
	}
	leaf := m.cert.current.Load().Leaf
	m.Log.Info("SIGHUP: TLS certificate reloaded", "subject", leaf.Subject.String(), "not_after", leaf.NotAfter.Format(time.RFC3339))
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated with the config
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// Main is the running program, drivable by tests without the flag parser.
type Main struct {
	Config Config
	Log    *slog.Logger
	// AccessLog receives a JSON line per request; nil: none (log_level warn or error).
	AccessLog io.Writer

	// URL is the base URL the server listens on, set by Run.
	URL string
	// Credentials are the demo credentials of the embedded ERP, if it has them.
	Credentials *embedded.Credentials

	erp         *embedded.ERP
	svc         *bridge.Service
	app         *fiber.App
	serveErr    chan error
	stopFollow  context.CancelFunc
	redis       *redis.Client // the rate limits' shared counts, if configured
	cert        *certificate  // the TLS certificate served, if configured
	metrics     *metrics
	stopTracing func(context.Context) error // nil: tracing is off
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
	var err error
	if m.stopTracing, err = startTracing(ctx); err != nil {
		return err
	}
	m.metrics = newMetrics()
	if m.erp, err = m.openERP(ctx); err != nil {
		return err
	}
	m.Credentials = m.erp.Credentials
	for _, f := range m.Config.ERP.Faults {
		m.erp.Faults.Set(f) // validated with the config
	}
	cfg := m.Config.bridge()
	cfg.Observer = m.metrics
	if m.svc, err = bridge.New(m.erp, cfg, m.Log); err != nil {
		m.erp.Close()
		return err
	}
	if err := m.svc.LoadKeys(ctx); err != nil {
		m.erp.Close()
		return fmt.Errorf("load API keys: %w", err)
	}
	if err := m.svc.LoadMappings(ctx); err != nil {
		m.erp.Close()
		return err
	}
	followCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stopFollow = stop
	go m.svc.Follow(followCtx)
	limits, err := m.rateLimits(ctx)
	if err != nil {
		m.erp.Close()
		return err
	}
	m.metrics.watch(m.svc)
	m.app = storefront.New(m.svc, storefront.Options{Log: m.Log, AccessLog: m.AccessLog, Limits: limits, Observer: m.metrics, Tracing: m.stopTracing != nil,
		CORSOrigins: m.Config.Browser.Origins})
	addOps(m.app, m.svc, m.metrics)
	storefront.MountDocs(m.app)
	admin.MountConsole(m.app)
	if m.demoPage() {
		storefront.MountDemo(m.app, demoBuyers(m.Credentials), func(ctx context.Context, q string, limit int) ([]storefront.DemoItem, error) {
			items, err := m.erp.SearchCatalog(ctx, q, limit)
			out := make([]storefront.DemoItem, len(items))
			for i, it := range items {
				out[i] = storefront.DemoItem(it)
			}
			return out, err
		})
	}
	addFaults(admin.Mount(m.app, m.svc, storefront.RateLimit("admin", limits.Admin, limits)), admin.Scope(m.svc, "ops"), m.erp.Faults)
	ln, err := m.listen()
	if err != nil {
		m.erp.Close()
		return err
	}
	m.serveErr = make(chan error, 1)
	go func() { m.serveErr <- m.app.Listener(ln) }()
	m.Log.Info("serving", "url", m.URL, "erp", m.erpName(), "credit_policy", m.Config.CreditPolicy)
	return nil
}

// listen binds the listen address, with TLS if a certificate is configured, and sets URL.
func (m *Main) listen() (net.Listener, error) {
	if m.Config.TLS.CertFile != "" {
		cert, err := loadCertificate(m.Config.TLS)
		if err != nil {
			return nil, err
		}
		m.cert = cert
	}
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return nil, err
	}
	m.URL = "http://" + local(ln.Addr().String())
	if m.cert != nil {
		ln = tls.NewListener(ln, m.cert.config())
		m.URL = "https://" + local(ln.Addr().String())
	}
	return ln, nil
}

// demoPage tells whether to serve the demo storefront: with the embedded ERP unless
// configured otherwise, and only where there are demo credentials.
func (m *Main) demoPage() bool {
	on := m.Config.ERP.DSN == ""
	if m.Config.DemoPage != nil {
		on = *m.Config.DemoPage
	}
	return on && m.Credentials != nil
}

func demoBuyers(c *embedded.Credentials) storefront.DemoBuyers {
	b := storefront.DemoBuyers{SKUs: c.SKUs}
	for _, sf := range c.Storefronts {
		b.Storefronts = append(b.Storefronts, storefront.DemoStorefront{Name: sf.Name, Key: sf.Key, Accounts: sf.Accounts})
	}
	return b
}

// openERP opens the embedded ERP in the data directory, creating and seeding it on first
// start, or the ERP the DSN names, which must have the current schema already.
func (m *Main) openERP(ctx context.Context) (*embedded.ERP, error) {
	loc, _ := time.LoadLocation(m.Config.ERP.TimeZone) // validated
	if m.Config.ERP.DSN == "" {
		e, err := embedded.Open(ctx, m.Config.Data, embedded.Options{Synchronous: m.Config.Embedded.Synchronous, TimeZone: loc,
			OnGroupCommit: m.metrics.GroupCommit})
		if err != nil {
			return nil, fmt.Errorf("open embedded ERP in %s: %w", m.Config.Data, err)
		}
		return e, nil
	}
	db, err := sqlerp.Open(ctx, m.Config.ERP.DSN, sqlerp.Options{TimeZone: loc, Synchronous: m.Config.Embedded.Synchronous,
		WriteConns: m.Config.ERP.WriteConns, ReadConns: m.Config.ERP.ReadConns, OnGroupCommit: m.metrics.GroupCommit})
	if err != nil {
		return nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("ERP %s: %w\n  to create or update it: b2bridge erp migrate --dsn '%s'\n  and for demo data:       b2bridge erp seed --dsn '%s' --data %s",
			m.erpName(), err, m.erpName(), m.erpName(), m.Config.Data)
	}
	e := embedded.Wrap(db)
	if e.Credentials, err = embedded.ReadCredentials(m.Config.Data); err != nil && !errors.Is(err, os.ErrNotExist) {
		db.Close()
		return nil, err
	}
	return e, nil
}

// rateLimits returns the configured limits, counted in Redis when it is configured.
func (m *Main) rateLimits(ctx context.Context) (storefront.RateLimits, error) {
	c := m.Config.RateLimit
	limits := storefront.RateLimits{Reads: c.Reads, Writes: c.Writes, Admin: c.Admin, Window: c.Window}
	if c.RedisURL == "" {
		return limits, nil
	}
	opts, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		return limits, fmt.Errorf("rate_limit.redis_url: %w", err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return limits, fmt.Errorf("rate_limit.redis_url %s: %w", opts.Addr, err)
	}
	m.redis = client
	limits.Storage = redisstorage.NewFromConnection(client)
	return limits, nil
}

// erpName names the ERP for people: its DSN without the password.
func (m *Main) erpName() string {
	if m.Config.ERP.DSN == "" {
		return "embedded ERP in " + m.Config.Data
	}
	return sqlerp.Redact(m.Config.ERP.DSN)
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
	if m.redis != nil {
		err = errors.Join(err, m.redis.Close())
	}
	if m.stopTracing != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(err, m.stopTracing(ctx)) // sends the spans still batched
	}
	return err
}

func printFirstScreen(w io.Writer, m *Main) {
	fmt.Fprintf(w, "b2bridge is serving on %s (%s)\n\n", m.URL, m.erpName())
	c := m.Credentials
	if c == nil {
		fmt.Fprintf(w, "No %s in the data directory: run 'b2bridge erp seed' for demo data and keys.\n", embedded.CredentialsFile)
		return
	}
	printCredentials(w, c, m.Config.Data)
	sf := c.Storefronts[0]
	fmt.Fprintf(w, "Try:\n  curl -H 'Authorization: Bearer %s' '%s/v1/availability?sku=%s'\n", sf.Key, m.URL, c.SKUs[0])
	fmt.Fprintf(w, "  curl -H 'Authorization: Bearer %s' '%s/v1/accounts/%s/credit'\n", sf.Key, m.URL, sf.Accounts[0])
	if m.demoPage() {
		fmt.Fprintf(w, "  the demo storefront: %s/\n", m.URL)
	}
	fmt.Fprintf(w, "  the API, documented:  %s/docs\n\n", m.URL)
}

func printCredentials(w io.Writer, c *embedded.Credentials, dir string) {
	for _, sf := range c.Storefronts {
		fmt.Fprintf(w, "  storefront %-11s key %s  accounts %s…%s\n", sf.Name, sf.Key, sf.Accounts[0], sf.Accounts[len(sf.Accounts)-1])
	}
	fmt.Fprintf(w, "  admin key              %s\n", c.AdminKey)
	fmt.Fprintf(w, "  demo SKUs              %s\n", strings.Join(c.SKUs, " "))
	fmt.Fprintf(w, "  (saved in %s)\n\n", filepath.Join(dir, embedded.CredentialsFile))
}

// erpAdmin is what the erp subcommands share: the data directory and the ERP's DSN.
type erpAdmin struct {
	data, dsn string
	args      []string // the arguments that are not flags
}

// parse parses an erp subcommand's flags (--data, --dsn and those extra adds), before
// or after its other arguments; the DSN defaults to B2BRIDGE_ERP_DSN, then to the
// embedded ERP in --data.
func (a *erpAdmin) parse(name string, args []string, extra func(*flag.FlagSet)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&a.data, "data", cmp.Or(os.Getenv("B2BRIDGE_DATA"), DefaultConfig().Data), "data directory: the embedded ERP, and where demo credentials are written")
	fs.StringVar(&a.dsn, "dsn", os.Getenv("B2BRIDGE_ERP_DSN"), "ERP interface schema: sqlite:PATH, postgres://... or oracle://... (default: the embedded ERP in --data)")
	if extra != nil {
		extra(fs)
	}
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return nil
		}
		a.args = append(a.args, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// open opens the ERP, which must have the current schema (the tools that edit it do
// not migrate it behind an operator's back).
func (a *erpAdmin) open(ctx context.Context) (*sqlerp.DB, error) {
	if a.dsn == "" {
		a.dsn = "sqlite:" + filepath.Join(a.data, embedded.DatabaseFile)
	}
	db, err := sqlerp.Open(ctx, a.dsn, sqlerp.Options{WriteConns: 1, ReadConns: 1})
	if err != nil {
		return nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w: run b2bridge erp migrate", sqlerp.Redact(a.dsn), err)
	}
	return db, nil
}

// migrate opens the ERP and brings its schema up to date.
func (a *erpAdmin) migrate(ctx context.Context) (*sqlerp.DB, error) {
	if a.dsn == "" {
		if err := os.MkdirAll(a.data, 0o755); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		a.dsn = "sqlite:" + filepath.Join(a.data, embedded.DatabaseFile)
	}
	db, err := sqlerp.Open(ctx, a.dsn, sqlerp.Options{WriteConns: 1, ReadConns: 1})
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", sqlerp.Redact(a.dsn), err)
	}
	return db, nil
}

func erpMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	var a erpAdmin
	if err := a.parse("erp migrate", args, nil); err != nil {
		return err
	}
	db, err := a.migrate(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "ERP interface schema is current in %s\n", sqlerp.Redact(a.dsn))
	return nil
}

func erpSeed(ctx context.Context, args []string, stdout io.Writer) error {
	var a erpAdmin
	var opts embedded.SeedOptions
	var ifEmpty bool
	if err := a.parse("erp seed", args, func(fs *flag.FlagSet) {
		fs.IntVar(&opts.Items, "items", 1000, "number of items")
		fs.IntVar(&opts.Accounts, "accounts", 60, "number of customer accounts")
		fs.Uint64Var(&opts.Seed, "seed", 0, "generator seed (the same seed gives the same data)")
		fs.BoolVar(&ifEmpty, "if-empty", false, "seed only if the ERP has no items (for container start-up)")
	}); err != nil {
		return err
	}
	db, err := a.migrate(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if ifEmpty {
		var items int
		if err := db.Writer().QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&items); err != nil {
			return fmt.Errorf("count items: %w", err)
		}
		if items > 0 {
			fmt.Fprintf(stdout, "%s has %d items already: not seeding\n", sqlerp.Redact(a.dsn), items)
			return nil
		}
	}
	start := time.Now()
	creds, err := embedded.Seed(ctx, db, opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(a.data, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := creds.Write(a.data); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d items and %d accounts in %s in %v; the new keys replace all others:\n\n",
		opts.Items, opts.Accounts, sqlerp.Redact(a.dsn), time.Since(start).Round(time.Millisecond))
	printCredentials(stdout, creds, a.data)
	return nil
}

// healthcheck asks a running b2bridge whether it is ready, for container health checks
// in images without curl.
func healthcheck(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := DefaultConfig().Addr
	if v := os.Getenv("B2BRIDGE_ADDR"); v != "" {
		addr = v
	}
	scheme, client := "http", http.DefaultClient
	if certFile := os.Getenv("B2BRIDGE_TLS_CERT_FILE"); certFile != "" {
		var err error
		if client, err = pinnedClient(certFile); err != nil {
			return fmt.Errorf("healthcheck: %w", err)
		}
		scheme = "https"
	}
	url := fs.String("url", scheme+"://"+local(addr)+"/readyz", "readiness URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", *url, resp.Status)
	}
	return nil
}

// pinnedClient trusts exactly the certificate in certFile, the one the bridge serves:
// a health check reaches the bridge by a loopback address, which the certificate of a
// public name does not cover.
func pinnedClient(certFile string) (*http.Client, error) {
	pemData, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate", certFile)
	}
	want := block.Bytes
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // replaced by the pin below: the name is a loopback address
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], want) {
				return errors.New("the bridge serves another certificate than " + certFile + " (renewed without SIGHUP?)")
			}
			return nil
		},
	}}}, nil
}

// local is a listen address as this host reaches it: loopback where it is bound to every
// interface.
func local(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}
