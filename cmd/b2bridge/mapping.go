package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/b2bridge/b2bridge/admin"
	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// mappingCommand parses b2bridge mapping export|import's flags and opens the ERP; the
// file is its one argument, "-" for standard input or output.
func mappingCommand(ctx context.Context, name string, args []string, dryRun *bool) (*sqlerp.DB, erp.MappingKind, string, error) {
	var a erpAdmin
	var kind string
	if err := a.parse(name, args, func(fs *flag.FlagSet) {
		fs.StringVar(&kind, "kind", "", "mapping kind: skus, customers or regions")
		if dryRun != nil {
			fs.BoolVar(dryRun, "dry-run", false, "report what the import would do, and change nothing")
		}
	}); err != nil {
		return nil, "", "", err
	}
	k, err := erp.ParseMappingKind(kind)
	if err != nil {
		return nil, "", "", fmt.Errorf("--kind: %w", err)
	}
	if len(a.args) != 1 {
		return nil, "", "", fmt.Errorf("%s: give one FILE (- for standard %s)", name, map[bool]string{true: "input", false: "output"}[dryRun != nil])
	}
	db, err := a.open(ctx)
	if err != nil {
		return nil, "", "", err
	}
	return db, k, a.args[0], nil
}

// mappingExport writes one kind's mappings as CSV.
func mappingExport(ctx context.Context, args []string, stdout io.Writer) error {
	db, kind, file, err := mappingCommand(ctx, "mapping export", args, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	ms, err := db.Mappings(ctx, erp.MappingFilter{Kind: kind})
	if err != nil {
		return err
	}
	w := stdout
	if file != "-" {
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := admin.WriteCSV(w, kind, ms); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && file != "-" {
		return f.Close()
	}
	return nil
}

// mappingImport replaces one kind's mappings with a CSV file's, all or nothing, and
// prints the report as JSON.
func mappingImport(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	var dryRun bool
	db, kind, file, err := mappingCommand(ctx, "mapping import", args, &dryRun)
	if err != nil {
		return err
	}
	defer db.Close()
	in := stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	rep, err := admin.Import(ctx, func(ctx context.Context, c bridge.MappingChange) (bridge.MappingReport, error) {
		c.Actor = actor
		return db.ChangeMappings(ctx, c)
	}, kind, "cli", in, dryRun)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if len(rep.Refused) > 0 {
		return fmt.Errorf("%d rows refused; nothing was changed", len(rep.Refused))
	}
	return nil
}
