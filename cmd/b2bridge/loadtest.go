package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/loadtest"
	"github.com/b2bridge/b2bridge/storefront"
)

// loadtestCommand runs b2bridge loadtest: it drives a bridge, prints the summary and the
// audit, and fails when the audit finds any divergence.
func loadtestCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "http://127.0.0.1:8080", "the bridge's base URL")
	credentials := fs.String("credentials", filepath.Join(DefaultConfig().Data, embedded.CredentialsFile), "keys, accounts and SKUs, as in demo-credentials.json")
	skus := fs.String("skus", "", "a file of SKUs, one per line, to draw carts from instead of the credentials' SKUs")
	duration := fs.Duration("duration", 30*time.Second, "how long to start requests")
	rate := fs.Int("rate", 500, "requests started per second, however long answers take")
	mix := fs.String("mix", "reads=80,quotes=10,orders=10", "shares of reads, quotes and orders")
	accounts := fs.Int("accounts", 0, "accounts to spread the load over (0: every account in the credentials)")
	lines := fs.Int("lines", 3, "the most lines of a quote's or an order's cart (1 to 200); each cart has 1 to this many")
	seed := fs.Uint64("seed", 1, "seed of the request sequence")
	report := fs.String("report", "", "also write a self-contained HTML report to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lines < 1 || *lines > storefront.MaxLines {
		return fmt.Errorf("--lines %d: want 1 to %d", *lines, storefront.MaxLines)
	}
	creds, err := loadtest.ReadCredentials(*credentials)
	if err != nil {
		return err
	}
	if *skus != "" {
		if creds.SKUs, err = loadtest.ReadSKUs(*skus); err != nil {
			return err
		}
	}
	m, err := loadtest.ParseMix(*mix)
	if err != nil {
		return err
	}
	res, err := loadtest.Run(ctx, loadtest.Config{Target: *target, Creds: creds, Duration: *duration, Rate: *rate, Mix: m,
		Accounts: *accounts, Lines: *lines, Progress: stderr, Seed: *seed})
	if res != nil {
		res.WriteSummary(stdout)
	}
	if err != nil {
		return err
	}
	if *report != "" {
		f, err := os.Create(*report)
		if err != nil {
			return err
		}
		if err := errors.Join(res.WriteReport(f), f.Close()); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		fmt.Fprintf(stdout, "report: %s\n", *report)
	}
	if n := len(res.Audit.Divergences); n > 0 {
		return fmt.Errorf("loadtest: %d divergences between what the run was told and the ERP", n)
	}
	if res.Audit.Confirmed == 0 && m[loadtest.Order] > 0 {
		return errors.New("loadtest: no order was confirmed: nothing was audited")
	}
	return nil
}
