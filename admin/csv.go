package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/b2bridge/b2bridge/bridge"
)

// columns are the CSV header of each kind: the JSON field names. updated_at is written
// on export and ignored on import (the import sets it on the rows it changes).
var columns = map[bridge.MappingKind][]string{
	bridge.MappingSKUs:      {"storefront", "sku", "erp_sku", "unit", "factor", "updated_at"},
	bridge.MappingCustomers: {"storefront", "customer", "account", "updated_at"},
	bridge.MappingRegions:   {"region", "warehouses", "updated_at"},
}

// optionalColumns may be left out of an imported file.
var optionalColumns = map[string]bool{"updated_at": true}

// WriteCSV writes mappings of one kind as CSV with a header row: the same rows in the
// same order give the same bytes. A region's warehouses are one field, space-separated,
// in priority order.
func WriteCSV(w io.Writer, kind bridge.MappingKind, ms []bridge.Mapping) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columns[kind]); err != nil {
		return err
	}
	for _, m := range ms {
		updated := m.UpdatedAt.UTC().Format(time.RFC3339Nano)
		var rec []string
		switch kind {
		case bridge.MappingSKUs:
			rec = []string{m.Storefront, m.Key, m.ERPSKU, m.Unit, strconv.Itoa(m.Factor), updated}
		case bridge.MappingCustomers:
			rec = []string{m.Storefront, m.Key, m.Account, updated}
		case bridge.MappingRegions:
			rec = []string{m.Key, strings.Join(m.Warehouses, " "), updated}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ImportReport is what an import did or, on a dry run or with refused rows, would do.
type ImportReport struct {
	DryRun    bool             `json:"dry_run"`
	Created   int              `json:"created"`
	Changed   int              `json:"changed"`
	Deleted   int              `json:"deleted"`
	Unchanged int              `json:"unchanged"`
	Refused   []RowRefusal     `json:"refused"`
	Rows      []RowAction      `json:"rows"`      // the lines that create or change a mapping
	Deletions []bridge.Mapping `json:"deletions"` // the rows the import deletes: those not in the file
	ElapsedMS int64            `json:"elapsed_ms"`
}

// RowAction is what one line of the file does: "create" or "change".
type RowAction struct {
	Line   int    `json:"line"`
	Action string `json:"action"`
}

// RowRefusal is why one line of the file was refused; line 1 is the header.
type RowRefusal struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ChangeFunc applies a mapping change: the bridge's for an admin key, the ERP's own for
// the command line.
type ChangeFunc func(context.Context, bridge.MappingChange) (bridge.MappingReport, error)

// Import replaces the whole set of one kind with the rows of a CSV file, all or nothing:
// any refused row (and a dry run) leaves the ERP as it was, and the report names every
// refused row with its line.
func Import(ctx context.Context, change ChangeFunc, kind bridge.MappingKind, source string, r io.Reader, dryRun bool) (ImportReport, error) {
	start := time.Now()
	puts, lines, refused, err := ReadCSV(kind, r)
	if err != nil {
		return ImportReport{}, err
	}
	rep := ImportReport{DryRun: dryRun, Refused: refused, Rows: []RowAction{}, Deletions: []bridge.Mapping{}}
	res, err := change(ctx, bridge.MappingChange{Kind: kind, Source: source, Puts: puts, Replace: true,
		DryRun: dryRun || len(refused) > 0})
	if err != nil {
		return ImportReport{}, err
	}
	for _, rf := range res.Refused {
		rep.Refused = append(rep.Refused, RowRefusal{Line: lines[rf.Index], Reason: rf.Reason})
	}
	slices.SortStableFunc(rep.Refused, func(a, b RowRefusal) int { return a.Line - b.Line })
	rep.Created, rep.Changed, rep.Deleted, rep.Unchanged = res.Created, res.Changed, res.Deleted, res.Unchanged
	if len(rep.Refused) > 0 {
		rep.Created, rep.Changed, rep.Deleted, rep.Unchanged = 0, 0, 0, 0 // nothing is counted where nothing applies
	} else {
		for i, a := range res.Actions {
			if a != "unchanged" {
				rep.Rows = append(rep.Rows, RowAction{Line: lines[i], Action: a})
			}
		}
		if res.Deletions != nil {
			rep.Deletions = res.Deletions
		}
	}
	if rep.Refused == nil {
		rep.Refused = []RowRefusal{}
	}
	rep.ElapsedMS = time.Since(start).Milliseconds()
	return rep, nil
}

// utf8BOM is what spreadsheets put before a CSV file's first byte.
var utf8BOM = []byte("\ufeff")

// ReadCSV parses a CSV file of one kind. It returns the rows it could read with the line
// each came from, and a refusal for every line it could not; an error only when the
// file cannot be read at all.
func ReadCSV(kind bridge.MappingKind, r io.Reader) ([]bridge.Mapping, []int, []RowRefusal, error) {
	want, ok := columns[kind]
	if !ok {
		return nil, nil, nil, fmt.Errorf("unknown mapping kind %q", kind)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, nil, err
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, []RowRefusal{{1, "wrong header: the file is empty; want " + strings.Join(want, ",")}}, nil
	}
	if err != nil {
		return nil, nil, []RowRefusal{{1, "wrong header: " + err.Error()}}, nil
	}
	index, problem := headerIndex(header, want)
	if problem != "" {
		return nil, nil, []RowRefusal{{1, "wrong header: " + problem}}, nil
	}
	var puts []bridge.Mapping
	var lines []int
	var refused []RowRefusal
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			refused = append(refused, RowRefusal{pe.StartLine, "bad CSV: " + pe.Err.Error() + "; the rest of the file was not read"})
			break
		}
		if err != nil {
			return nil, nil, nil, err
		}
		line, _ := cr.FieldPos(0) // only after a record was read: FieldPos panics otherwise
		m, reason := row(kind, rec, index, len(header))
		if reason != "" {
			refused = append(refused, RowRefusal{line, reason})
			continue
		}
		puts, lines = append(puts, m), append(lines, line)
	}
	return puts, lines, refused, nil
}

// headerIndex maps each column name to its position, or says what is wrong.
func headerIndex(header, want []string) (map[string]int, string) {
	index := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if !slices.Contains(want, h) {
			return nil, fmt.Sprintf("unknown column %q; want %s", h, strings.Join(want, ","))
		}
		if _, dup := index[h]; dup {
			return nil, fmt.Sprintf("column %q twice", h)
		}
		index[h] = i
	}
	for _, w := range want {
		if _, ok := index[w]; !ok && !optionalColumns[w] {
			return nil, fmt.Sprintf("column %q is missing; want %s", w, strings.Join(want, ","))
		}
	}
	return index, ""
}

// row reads one record, or says why it cannot.
func row(kind bridge.MappingKind, rec []string, index map[string]int, width int) (bridge.Mapping, string) {
	if len(rec) != width {
		return bridge.Mapping{}, fmt.Sprintf("%d fields where the header has %d", len(rec), width)
	}
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return bridge.Mapping{}, "bad encoding: not UTF-8 (save the file as CSV UTF-8)"
		}
	}
	field := func(name string) string {
		if i, ok := index[name]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	m := bridge.Mapping{Kind: kind, Storefront: field("storefront")}
	switch kind {
	case bridge.MappingSKUs:
		m.Key, m.ERPSKU, m.Unit = field("sku"), field("erp_sku"), field("unit")
		f, err := strconv.Atoi(field("factor"))
		if err != nil || f < 1 {
			return m, fmt.Sprintf("factor %q is not a positive whole number", field("factor"))
		}
		m.Factor = f
	case bridge.MappingCustomers:
		m.Key, m.Account = field("customer"), field("account")
	case bridge.MappingRegions:
		m.Key, m.Warehouses = field("region"), strings.Fields(field("warehouses"))
	}
	return m, ""
}
