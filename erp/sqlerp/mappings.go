package sqlerp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/b2bridge/b2bridge/erp"
)

// sharedStorefront is how the schema stores "every storefront": Oracle reads ” as NULL.
const sharedStorefront = "*"

// mappingChunk bounds the rows of one multi-row statement (bind parameters stay far
// below every database's limit).
const mappingChunk = 200

// mappingTable is where a kind's rows live.
type mappingTable struct {
	table   string // its rows; the table a change locks
	key     string // the key column
	target  string // the ERP SKU or account column ("" for regions)
	columns string // the columns after storefront and key, as read and written
}

var mappingTables = map[erp.MappingKind]mappingTable{
	erp.MappingSKUs:      {table: "sku_mappings", key: "sku", target: "erp_sku", columns: "erp_sku, unit, factor, updated_at"},
	erp.MappingCustomers: {table: "customer_mappings", key: "customer", target: "account_id", columns: "account_id, updated_at"},
	erp.MappingRegions:   {table: "regions", key: "region", columns: "updated_at"},
}

func dbStorefront(s string) string {
	if s == "" {
		return sharedStorefront
	}
	return s
}

// Mappings implements erp.ERP.
func (db *DB) Mappings(ctx context.Context, f erp.MappingFilter) ([]erp.Mapping, error) {
	return db.mappings(ctx, sqlRunner{db.read}, f)
}

// mappingsQuery is the statement of a page of mappings, ordered by storefront and key.
func (db *DB) mappingsQuery(f erp.MappingFilter) (string, []any, error) {
	t, ok := mappingTables[f.Kind]
	if !ok {
		return "", nil, fmt.Errorf("unknown mapping kind %q", f.Kind)
	}
	storefront, order := "storefront", ` ORDER BY storefront, `+t.key
	if f.Kind == erp.MappingRegions {
		storefront, order = "'"+sharedStorefront+"'", ` ORDER BY `+t.key // regions belong to no storefront
	}
	var where []string
	var args []any
	if f.Storefront != nil {
		where, args = append(where, storefront+" = ?"), append(args, dbStorefront(*f.Storefront))
	}
	if f.Key != "" {
		where, args = append(where, t.key+" = ?"), append(args, f.Key)
	}
	if f.Prefix != "" {
		where, args = append(where, "SUBSTR("+t.key+", 1, ?) = ?"), append(args, len(f.Prefix), f.Prefix)
	}
	if f.Target != "" && t.target != "" {
		where, args = append(where, t.target+" = ?"), append(args, f.Target)
	}
	limit, limitArgs := "", []any(nil)
	if f.Limit > 0 {
		limit, limitArgs = db.dialect.Limit, []any{f.Limit}
	}
	// page is the statement with one more condition, if any.
	page := func(cond string, condArgs ...any) (string, []any) {
		w := where
		if cond != "" {
			w = append(slices.Clip(where), cond)
		}
		q := `SELECT ` + storefront + `, ` + t.key + `, ` + t.columns + ` FROM ` + t.table
		if len(w) > 0 {
			q += ` WHERE ` + strings.Join(w, " AND ")
		}
		return q + order + limit, slices.Concat(args, condArgs, limitArgs)
	}
	// The page after a cursor is written as ranges the index can seek to: one condition
	// on storefront and key would need an OR, which SQLite reads as a scan from the first
	// mapping.
	var query string
	switch a := f.After; {
	case a == nil:
		query, args = page("")
	case f.Storefront != nil && dbStorefront(*f.Storefront) == dbStorefront(a.Storefront):
		query, args = page(t.key+" > ?", a.Key)
	case f.Storefront != nil: // another storefront than the cursor's: all of it or none
		query, args = page(storefront+" > ?", dbStorefront(a.Storefront))
	default: // the rest of the cursor's storefront, then the storefronts after it
		rest, restArgs := page(storefront+" = ? AND "+t.key+" > ?", dbStorefront(a.Storefront), a.Key)
		later, laterArgs := page(storefront+" > ?", dbStorefront(a.Storefront))
		query = `SELECT * FROM (` + rest + `) r UNION ALL SELECT * FROM (` + later + `) l ORDER BY 1, 2` + limit
		args = slices.Concat(restArgs, laterArgs, limitArgs)
	}
	return db.Rebind(query), args, nil
}

func (db *DB) mappings(ctx context.Context, q Runner, f erp.MappingFilter) ([]erp.Mapping, error) {
	query, args, err := db.mappingsQuery(f)
	if err != nil {
		return nil, err
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s mappings: %w", f.Kind, err)
	}
	defer rows.Close()
	var out []erp.Mapping
	for rows.Next() {
		m := erp.Mapping{Kind: f.Kind}
		dest := []any{&m.Storefront, &m.Key}
		switch f.Kind {
		case erp.MappingSKUs:
			dest = append(dest, &m.ERPSKU, &m.Unit, &m.Factor)
		case erp.MappingCustomers:
			dest = append(dest, &m.Account)
		}
		if err := rows.Scan(append(dest, &timestamp{t: &m.UpdatedAt})...); err != nil {
			return nil, fmt.Errorf("read %s mappings: %w", f.Kind, err)
		}
		if m.Storefront == sharedStorefront {
			m.Storefront = ""
		}
		m.UpdatedAt = m.UpdatedAt.UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s mappings: %w", f.Kind, err)
	}
	if f.Kind == erp.MappingRegions && len(out) > 0 {
		if err := db.readRegionWarehouses(ctx, q, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readRegionWarehouses fills in each region's warehouses, in priority order.
func (db *DB) readRegionWarehouses(ctx context.Context, q Runner, regions []erp.Mapping) error {
	index := map[string]int{}
	for i, r := range regions {
		index[r.Key] = i
	}
	for start := 0; start < len(regions); start += mappingChunk {
		chunk := regions[start:min(start+mappingChunk, len(regions))]
		args := make([]any, len(chunk))
		for i, r := range chunk {
			args[i] = r.Key
		}
		rows, err := q.query(ctx, db.Rebind(`SELECT region, warehouse FROM region_warehouses
			WHERE region IN (`+placeholders(len(args))+`) ORDER BY region, priority`), args...)
		if err != nil {
			return fmt.Errorf("read region warehouses: %w", err)
		}
		for rows.Next() {
			var region, wh string
			if err := rows.Scan(&region, &wh); err != nil {
				rows.Close()
				return fmt.Errorf("read region warehouses: %w", err)
			}
			r := &regions[index[region]]
			r.Warehouses = append(r.Warehouses, wh)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("read region warehouses: %w", err)
		}
	}
	return nil
}

// mappingID is a row's identity within its kind.
type mappingID struct{ storefront, key string }

func idOf(m erp.Mapping) mappingID { return mappingID{m.Storefront, m.Key} }

// ChangeMappings implements erp.ERP: one transaction on the write pool, which locks the
// kind's table (where the database locks tables; SQLite has one writer) so that changes
// of one kind apply one after another, each against the rows the one before left.
func (db *DB) ChangeMappings(ctx context.Context, c erp.MappingChange) (erp.MappingReport, error) {
	t, ok := mappingTables[c.Kind]
	if !ok {
		return erp.MappingReport{}, fmt.Errorf("unknown mapping kind %q", c.Kind)
	}
	var report erp.MappingReport
	errDryRun := errors.New("dry run")
	err := sqlTx(ctx, db.write, func(tx Runner) error {
		if db.dialect.LockTable != "" {
			if _, err := tx.exec(ctx, fmt.Sprintf(db.dialect.LockTable, t.table)); err != nil {
				return fmt.Errorf("lock %s: %w", t.table, err)
			}
		}
		var current map[mappingID]erp.Mapping
		var err error
		if report, current, err = db.planMappings(ctx, tx, c); err != nil {
			return err
		}
		if len(report.Refused) > 0 || c.DryRun {
			return errDryRun
		}
		return db.writeMappings(ctx, tx, c, current, &report)
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	var ce *commitError
	if errors.As(err, &ce) {
		return report, fmt.Errorf("commit %s mappings: %w", c.Kind, err)
	}
	return report, err
}

// planMappings validates the change against the database and counts what it would do,
// returning the rows it touches as they are now.
func (db *DB) planMappings(ctx context.Context, tx Runner, c erp.MappingChange) (erp.MappingReport, map[mappingID]erp.Mapping, error) {
	var r erp.MappingReport
	refuse := func(i int, format string, args ...any) {
		r.Refused = append(r.Refused, erp.MappingRefusal{Index: i, Reason: fmt.Sprintf(format, args...)})
	}
	seen := map[mappingID]int{}
	for i, m := range c.Puts {
		if m.Kind != c.Kind {
			refuse(i, "a %s mapping where %s were expected", m.Kind, c.Kind)
			continue
		}
		if err := m.Validate(); err != nil {
			refuse(i, "%v", err)
			continue
		}
		if j, dup := seen[idOf(m)]; dup {
			refuse(i, "duplicate: %s is mapped again (first at row %d)", describe(m), j+1)
			continue
		}
		seen[idOf(m)] = i
	}
	if err := db.checkReferences(ctx, tx, c, refuse); err != nil {
		return r, nil, err
	}
	sort.Slice(r.Refused, func(i, j int) bool { return r.Refused[i].Index < r.Refused[j].Index })
	if len(r.Refused) > 0 {
		return r, nil, nil
	}

	current, err := db.currentMappings(ctx, tx, c)
	if err != nil {
		return r, nil, err
	}
	check := func(m erp.Mapping) error {
		old, exists := current[idOf(m)]
		switch {
		case c.Create && exists:
			return fmt.Errorf("%s: %w", describe(m), erp.ErrExists)
		case c.IfMatch != "" && !exists:
			return fmt.Errorf("%s: %w", describe(m), erp.ErrNotFound)
		case c.IfMatch != "" && old.ETag() != c.IfMatch:
			return fmt.Errorf("%s: %w", describe(m), erp.ErrPreconditionFailed)
		}
		return nil
	}
	r.Actions = make([]string, len(c.Puts))
	for i, m := range c.Puts {
		if err := check(m); err != nil {
			return r, nil, err
		}
		old, exists := current[idOf(m)]
		switch {
		case !exists:
			r.Created++
			r.Actions[i] = "create"
		case old.SameAs(withTime(m, old.UpdatedAt)):
			r.Unchanged++
			r.Actions[i] = "unchanged"
		default:
			r.Changed++
			r.Actions[i] = "change"
		}
	}
	for _, m := range c.Deletes {
		m.Kind = c.Kind
		if err := check(m); err != nil {
			return r, nil, err
		}
		old, exists := current[idOf(m)]
		if !exists {
			return r, nil, fmt.Errorf("%s: %w", describe(m), erp.ErrNotFound)
		}
		r.Deletions = append(r.Deletions, old)
	}
	if c.Replace {
		for _, old := range current {
			if _, kept := seen[idOf(old)]; !kept {
				r.Deletions = append(r.Deletions, old)
			}
		}
		sort.Slice(r.Deletions, func(i, j int) bool { return less(r.Deletions[i], r.Deletions[j]) })
	}
	r.Deleted = len(r.Deletions)
	return r, current, nil
}

func withTime(m erp.Mapping, t time.Time) erp.Mapping {
	m.UpdatedAt = t
	return m
}

func less(a, b erp.Mapping) bool {
	if a.Storefront != b.Storefront {
		return a.Storefront < b.Storefront
	}
	return a.Key < b.Key
}

// describe names a mapping row in a message.
func describe(m erp.Mapping) string {
	if m.Storefront == "" {
		return fmt.Sprintf("%s %q", strings.TrimSuffix(string(m.Kind), "s"), m.Key)
	}
	return fmt.Sprintf("%s %q of storefront %s", strings.TrimSuffix(string(m.Kind), "s"), m.Key, m.Storefront)
}

// currentMappings reads the rows the change touches: the whole kind for a replace or a
// large change, else row by row.
func (db *DB) currentMappings(ctx context.Context, tx Runner, c erp.MappingChange) (map[mappingID]erp.Mapping, error) {
	out := map[mappingID]erp.Mapping{}
	add := func(ms []erp.Mapping) {
		for _, m := range ms {
			out[idOf(m)] = m
		}
	}
	if c.Replace || len(c.Puts)+len(c.Deletes) > mappingChunk {
		all, err := db.mappings(ctx, tx, erp.MappingFilter{Kind: c.Kind})
		add(all)
		return out, err
	}
	for _, m := range append(append([]erp.Mapping(nil), c.Puts...), c.Deletes...) {
		sf := m.Storefront
		one, err := db.mappings(ctx, tx, erp.MappingFilter{Kind: c.Kind, Storefront: &sf, Key: m.Key})
		if err != nil {
			return nil, err
		}
		add(one)
	}
	return out, nil
}

// checkReferences refuses puts that name an ERP item, account, storefront or warehouse
// the database does not have.
func (db *DB) checkReferences(ctx context.Context, tx Runner, c erp.MappingChange, refuse func(int, string, ...any)) error {
	var table, column, what string
	target := func(m erp.Mapping) []string { return nil }
	switch c.Kind {
	case erp.MappingSKUs:
		table, column, what = "items", "sku", "ERP item"
		target = func(m erp.Mapping) []string { return []string{m.ERPSKU} }
	case erp.MappingCustomers:
		table, column, what = "accounts", "id", "ERP account"
		target = func(m erp.Mapping) []string { return []string{m.Account} }
	case erp.MappingRegions:
		table, column, what = "warehouses", "code", "warehouse"
		target = func(m erp.Mapping) []string { return m.Warehouses }
	}
	var names []string
	for _, m := range c.Puts {
		names = append(names, target(m)...)
	}
	known, err := db.existing(ctx, tx, table, column, names)
	if err != nil {
		return err
	}
	var storefronts map[string]bool
	if c.Kind == erp.MappingCustomers {
		var names []string
		for _, m := range c.Puts {
			names = append(names, m.Storefront)
		}
		if storefronts, err = db.existing(ctx, tx, "storefronts", "name", names); err != nil {
			return err
		}
	}
	for i, m := range c.Puts {
		if m.Kind != c.Kind || m.Validate() != nil {
			continue // refused already
		}
		for _, n := range target(m) {
			if !known[n] {
				refuse(i, "unknown %s %q", what, n)
				break
			}
		}
		if storefronts != nil && !storefronts[m.Storefront] {
			refuse(i, "unknown storefront %q", m.Storefront)
		}
	}
	return nil
}

// existing returns which of the values the column of the table holds.
func (db *DB) existing(ctx context.Context, tx Runner, table, column string, values []string) (map[string]bool, error) {
	distinct := map[string]bool{}
	var args []any
	for _, v := range values {
		if !distinct[v] {
			distinct[v] = true
			args = append(args, v)
		}
	}
	found := map[string]bool{}
	for start := 0; start < len(args); start += mappingChunk {
		chunk := args[start:min(start+mappingChunk, len(args))]
		rows, err := tx.query(ctx, db.Rebind(`SELECT `+column+` FROM `+table+` WHERE `+column+` IN (`+placeholders(len(chunk))+`)`), chunk...)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", table, err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("check %s: %w", table, err)
			}
			found[v] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", table, err)
		}
	}
	return found, nil
}

// writeMappings applies a planned change: changed and deleted rows go, new and changed
// rows come, in multi-row statements, each with its audit entry.
func (db *DB) writeMappings(ctx context.Context, tx Runner, c erp.MappingChange, current map[mappingID]erp.Mapping, r *erp.MappingReport) error {
	t := mappingTables[c.Kind]
	now := db.now().UTC().Truncate(time.Microsecond)
	type audit struct{ before, after *erp.Mapping }
	var audits []audit
	var gone, come []erp.Mapping
	for _, m := range c.Puts {
		m.UpdatedAt = now
		old, exists := current[idOf(m)]
		if exists && old.SameAs(withTime(m, old.UpdatedAt)) {
			r.Saved = append(r.Saved, old)
			continue
		}
		if exists {
			gone = append(gone, old)
			audits = append(audits, audit{&old, &m})
		} else {
			audits = append(audits, audit{nil, &m})
		}
		come = append(come, m)
		r.Saved = append(r.Saved, m)
	}
	for _, old := range r.Deletions {
		gone = append(gone, old)
		audits = append(audits, audit{before: &old})
	}

	var stmts []statement
	for start := 0; start < len(gone); start += mappingChunk {
		chunk := gone[start:min(start+mappingChunk, len(gone))]
		var conds []string
		var args []any
		for _, m := range chunk {
			if c.Kind == erp.MappingRegions {
				conds, args = append(conds, "region = ?"), append(args, m.Key)
				continue
			}
			conds, args = append(conds, "(storefront = ? AND "+t.key+" = ?)"), append(args, dbStorefront(m.Storefront), m.Key)
		}
		where := strings.Join(conds, " OR ")
		if c.Kind == erp.MappingRegions {
			stmts = append(stmts, statement{db.Rebind(`DELETE FROM region_warehouses WHERE ` + where), args})
		}
		stmts = append(stmts, statement{db.Rebind(`DELETE FROM ` + t.table + ` WHERE ` + where), args})
	}
	for start := 0; start < len(come); start += mappingChunk {
		chunk := come[start:min(start+mappingChunk, len(come))]
		stmts = append(stmts, db.insertMappings(c.Kind, chunk)...)
	}
	for start := 0; start < len(audits); start += mappingChunk {
		chunk := audits[start:min(start+mappingChunk, len(audits))]
		var values []string
		var args []any
		for _, a := range chunk {
			m := a.after
			if m == nil {
				m = a.before
			}
			before, err := auditValue(a.before)
			if err != nil {
				return err
			}
			after, err := auditValue(a.after)
			if err != nil {
				return err
			}
			values = append(values, "(?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, db.dialect.Time(now), c.Actor, c.Source, string(c.Kind), dbStorefront(m.Storefront), m.Key, before, after)
		}
		stmts = append(stmts, statement{db.Rebind(`INSERT INTO mapping_audit
			(changed_at, actor, source, kind, storefront, mapping_key, before_value, after_value) VALUES ` + strings.Join(values, ", ")), args})
	}
	if _, err := execAll(ctx, tx, stmts...); err != nil {
		return fmt.Errorf("write %s mappings: %w", c.Kind, err)
	}
	return nil
}

// insertMappings are the inserts of new rows of a kind.
func (db *DB) insertMappings(kind erp.MappingKind, ms []erp.Mapping) []statement {
	t := mappingTables[kind]
	var values []string
	var args []any
	var whValues []string
	var whArgs []any
	for _, m := range ms {
		ts := db.dialect.Time(m.UpdatedAt)
		switch kind {
		case erp.MappingSKUs:
			values = append(values, "(?, ?, ?, ?, ?, ?)")
			args = append(args, dbStorefront(m.Storefront), m.Key, m.ERPSKU, m.Unit, m.Factor, ts)
		case erp.MappingCustomers:
			values = append(values, "(?, ?, ?, ?)")
			args = append(args, m.Storefront, m.Key, m.Account, ts)
		case erp.MappingRegions:
			values = append(values, "(?, ?)")
			args = append(args, m.Key, ts)
			for p, w := range m.Warehouses {
				whValues = append(whValues, "(?, ?, ?)")
				whArgs = append(whArgs, m.Key, w, p+1)
			}
		}
	}
	cols := "storefront, " + t.key + ", " + t.columns
	if kind == erp.MappingRegions {
		cols = "region, updated_at"
	}
	stmts := []statement{{db.Rebind(`INSERT INTO ` + t.table + ` (` + cols + `) VALUES ` + strings.Join(values, ", ")), args}}
	if len(whValues) > 0 {
		stmts = append(stmts, statement{db.Rebind(`INSERT INTO region_warehouses (region, warehouse, priority) VALUES ` +
			strings.Join(whValues, ", ")), whArgs})
	}
	return stmts
}

// auditValue is a row as the audit trail keeps it: JSON in the admin API's names.
func auditValue(m *erp.Mapping) (any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(*m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// MappingAudit implements erp.ERP.
func (db *DB) MappingAudit(ctx context.Context, f erp.AuditFilter) ([]erp.AuditEntry, error) {
	var where []string
	var args []any
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, string(f.Kind))
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	query := `SELECT id, changed_at, actor, source, kind, before_value, after_value FROM mapping_audit`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC` + db.dialect.Limit
	rows, err := db.read.QueryContext(ctx, db.Rebind(query), append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("read mapping audit: %w", err)
	}
	defer rows.Close()
	var out []erp.AuditEntry
	for rows.Next() {
		var e erp.AuditEntry
		var kind, before, after string
		if err := rows.Scan(&e.ID, &timestamp{t: &e.At}, &e.Actor, &e.Source, &kind, text{&before}, text{&after}); err != nil {
			return nil, fmt.Errorf("read mapping audit: %w", err)
		}
		e.Kind, e.At = erp.MappingKind(kind), e.At.UTC()
		for _, v := range []struct {
			s   string
			dst **erp.Mapping
		}{{before, &e.Before}, {after, &e.After}} {
			if v.s == "" {
				continue
			}
			m := new(erp.Mapping)
			if err := json.Unmarshal([]byte(v.s), m); err != nil {
				return nil, fmt.Errorf("read mapping audit %d: %w", e.ID, err)
			}
			*v.dst = m
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
