// Tests of the Oracle dialect and its schema that need no Oracle server: the DDL is
// compared with the PostgreSQL edition (the reference, proven against a real database)
// and checked for what Oracle and go-ora refuse; the dialect's encodings, error
// classification and RETURNING INTO are checked against go-ora's own types and a
// recording database/sql driver. The contract suite (sqlerp_test.go) runs everything
// else on a real Oracle when embeddedtest.OracleEnv is set.
package sqlerp_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govalues/decimal"
	goora "github.com/sijms/go-ora/v2"
	"github.com/sijms/go-ora/v2/network"

	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// ---- Schema files ----

// schemaFiles returns the DDL files of a dialect in version order (Migrate numbers the
// versions by position).
func schemaFiles(t *testing.T, dialect string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("schema", dialect, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no schema files in schema/%s", dialect)
	}
	sort.Strings(files)
	return files
}

// readSchemaFile returns a schema file's text.
func readSchemaFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stripSQLComments removes -- comments outside string literals, keeping line breaks.
func stripSQLComments(s string) string {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote:
			inQuote = c != '\''
		case c == '\'':
			inQuote = true
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			if i < len(s) {
				b.WriteByte('\n')
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// blankLiterals empties every string literal ('stock' becomes two quotes), so that checks of
// the code do not see the data.
func blankLiterals(s string) string {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' {
			inQuote = !inQuote
			b.WriteByte(c)
			continue
		}
		if !inQuote {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitSemicolons splits a script on semicolons outside string literals and $$ bodies:
// enough for the PostgreSQL and SQLite schema files, whose CREATE TABLE statements are
// all this test reads of SQLite.
func splitSemicolons(script string) []string {
	s := stripSQLComments(script)
	var out []string
	start := 0
	inQuote, inDollar := false, false
	add := func(stmt string) {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			out = append(out, stmt)
		}
	}
	for i := 0; i < len(s); i++ {
		switch {
		case inDollar:
			if strings.HasPrefix(s[i:], "$$") {
				inDollar = false
				i++
			}
		case inQuote:
			inQuote = s[i] != '\''
		case strings.HasPrefix(s[i:], "$$"):
			inDollar = true
			i++
		case s[i] == '\'':
			inQuote = true
		case s[i] == ';':
			add(s[start:i])
			start = i + 1
		}
	}
	add(s[start:])
	return out
}

// oracleStatements splits the dialect's schema files exactly as Migrate does, and
// returns each statement without its comments.
func oracleStatements(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, f := range schemaFiles(t, sqlerp.Oracle.Name) {
		for _, stmt := range sqlerp.Oracle.Statements(readSchemaFile(t, f)) {
			out = append(out, strings.TrimSpace(stripSQLComments(stmt)))
		}
	}
	return out
}

func postgresStatements(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, f := range schemaFiles(t, "postgres") {
		out = append(out, splitSemicolons(readSchemaFile(t, f))...)
	}
	return out
}

// ---- A small model of the schema, parsed from CREATE and ALTER TABLE ... ADD statements ----

// ddlColumn is what the parity test compares of a column: its name and constraints,
// not its type (which is the dialect's business).
type ddlColumn struct {
	Name       string
	NotNull    bool
	PrimaryKey bool
	Unique     bool
	Identity   bool
	Default    bool
	Check      bool
	References string // "table(column)"
}

type ddlTable struct {
	Columns    []ddlColumn
	PrimaryKey []string // a table-level primary key
	Unique     [][]string
	Checks     int      // table-level checks
	Other      []string // named or foreign-key constraints: neither edition has any
}

type ddlIndex struct {
	Table   string
	Columns []string // without ASC/DESC
	Unique  bool
}

// ddlTrigger is a change-log trigger: where it fires, and its body reduced to a
// dialect-neutral list of statements.
type ddlTrigger struct {
	Table  string
	Level  string // ROW or STATEMENT
	Events []string
	Body   []string
}

type ddlSchema struct {
	Tables   map[string]*ddlTable
	Indexes  map[string]ddlIndex
	Triggers map[string]ddlTrigger
}

var (
	createTableRe   = regexp.MustCompile(`(?is)^CREATE\s+TABLE\s+(\w+)\s*\((.*)\)$`)
	createIndexRe   = regexp.MustCompile(`(?is)^CREATE\s+(UNIQUE\s+)?INDEX\s+(\w+)\s+ON\s+(\w+)\s*\((.*)\)$`)
	pgFunctionRe    = regexp.MustCompile(`(?is)^CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(\w+)\s*\(\s*\)\s+RETURNS\s+trigger\s+LANGUAGE\s+plpgsql\s+AS\s+\$\$\s*BEGIN\s+(.*?)\s*END\s*\$\$$`)
	pgTriggerRe     = regexp.MustCompile(`(?is)^CREATE\s+TRIGGER\s+(\w+)\s+AFTER\s+(.*?)\s+ON\s+(\w+)\s+FOR\s+EACH\s+(ROW|STATEMENT)\s+EXECUTE\s+(?:FUNCTION|PROCEDURE)\s+(\w+)\s*\((.*?)\)$`)
	oraTriggerRe    = regexp.MustCompile(`(?is)^CREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER\s+(\w+)\s+AFTER\s+(.*?)\s+ON\s+(\w+)\s+(FOR\s+EACH\s+ROW\s+)?BEGIN\s+(.*?)\s*END;$`)
	alterTableRe    = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(\w+)\s+ADD\s+(?:COLUMN\s+)?(.*)$`)
	referencesRe    = regexp.MustCompile(`(?i)\bREFERENCES\s+(\w+)\s*\(\s*(\w+)\s*\)`)
	spaceRe         = regexp.MustCompile(`\s+`)
	oraRowRefRe     = regexp.MustCompile(`:(NEW|OLD)\.`)
	bareRowRefRe    = regexp.MustCompile(`(^|[^:\w])(NEW|OLD)\.`)
	uniqueRe        = regexp.MustCompile(`(?i)\bUNIQUE\b`)
	defaultRe       = regexp.MustCompile(`(?i)\bDEFAULT\b`)
	createKeywordRe = regexp.MustCompile(`(?i)\bCREATE\b`)
	identityRe      = regexp.MustCompile(`(?i)\s+GENERATED\s+(ALWAYS|BY\s+DEFAULT(\s+ON\s+NULL)?)\s+AS\s+IDENTITY`)
	anyTriggerRe    = regexp.MustCompile(`(?i)^CREATE\s+(OR\s+REPLACE\s+)?TRIGGER\b`)
	rowTriggerRe    = regexp.MustCompile(`(?i)\bFOR\s+EACH\s+ROW\b`)
	checkRe         = regexp.MustCompile(`(?i)\bCHECK\s*\(`)
	orRe            = regexp.MustCompile(`(?i)\s+OR\s+`)
	constraintRe    = regexp.MustCompile(`(?i)\b(NOT\s+NULL|NULL|CHECK|PRIMARY|UNIQUE|REFERENCES|CONSTRAINT)\b`)
)

// splitTopLevel splits s on sep outside parentheses and string literals.
func splitTopLevel(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote:
			inQuote = c != '\''
		case c == '\'':
			inQuote = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == sep && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// withoutChecks removes the parenthesised conditions of CHECK constraints, so that a
// condition's NOT NULL or UNIQUE is not read as the column's.
func withoutChecks(def string) (string, int) {
	n := 0
	for {
		loc := checkRe.FindStringIndex(def)
		if loc == nil {
			return def, n
		}
		i := loc[0]
		depth, end := 0, -1
		for j := loc[1] - 1; j < len(def) && end < 0; j++ {
			switch def[j] {
			case '(':
				depth++
			case ')':
				if depth--; depth == 0 {
					end = j
				}
			}
		}
		if end < 0 {
			return def, n
		}
		def = def[:i] + def[end+1:]
		n++
	}
}

// columnList parses "a, b DESC" into [a b].
func columnList(s string) []string {
	var out []string
	for _, c := range splitTopLevel(s, ',') {
		out = append(out, strings.ToLower(strings.Fields(c)[0]))
	}
	return out
}

func parseTable(body string) *ddlTable {
	t := &ddlTable{}
	for _, item := range splitTopLevel(body, ',') {
		first := strings.ToUpper(strings.Fields(item)[0])
		rest, checks := withoutChecks(item)
		upper := strings.ToUpper(spaceRe.ReplaceAllString(rest, " "))
		switch first {
		case "PRIMARY":
			t.PrimaryKey = columnList(rest[strings.IndexByte(rest, '(')+1 : strings.LastIndexByte(rest, ')')])
			continue
		case "UNIQUE":
			t.Unique = append(t.Unique, columnList(rest[strings.IndexByte(rest, '(')+1:strings.LastIndexByte(rest, ')')]))
			continue
		case "CHECK":
			t.Checks += checks
			continue
		case "CONSTRAINT", "FOREIGN":
			t.Other = append(t.Other, upper)
			continue
		}
		// GENERATED BY DEFAULT AS IDENTITY is an identity, not a DEFAULT.
		plain := identityRe.ReplaceAllString(upper, " AS IDENTITY")
		c := ddlColumn{
			Name:       strings.ToLower(strings.Fields(item)[0]),
			NotNull:    strings.Contains(upper, " NOT NULL"),
			PrimaryKey: strings.Contains(upper, " PRIMARY KEY"),
			Unique:     uniqueRe.MatchString(upper),
			Identity:   strings.Contains(upper, " AS IDENTITY"),
			Default:    defaultRe.MatchString(plain),
			Check:      checks > 0,
		}
		if m := referencesRe.FindStringSubmatch(rest); m != nil {
			c.References = strings.ToLower(m[1] + "(" + m[2] + ")")
		}
		t.Columns = append(t.Columns, c)
	}
	return t
}

// triggerEvents normalises "INSERT OR UPDATE OF a, b" into a sorted list of events.
func triggerEvents(s string) []string {
	var out []string
	for _, e := range orRe.Split(strings.TrimSpace(s), -1) {
		e = strings.ToUpper(spaceRe.ReplaceAllString(e, " "))
		out = append(out, strings.ReplaceAll(e, ", ", ","))
	}
	sort.Strings(out)
	return out
}

// triggerBody reduces a trigger body to its statements, one line each, with
// PostgreSQL's TG_OP tests and Oracle's :NEW/:OLD written alike.
func triggerBody(body string, replace *strings.Replacer) []string {
	var out []string
	for _, stmt := range strings.Split(body, ";") {
		stmt = strings.TrimSpace(spaceRe.ReplaceAllString(stmt, " "))
		stmt = oraRowRefRe.ReplaceAllString(replace.Replace(stmt), "$1.")
		if stmt != "" && !strings.EqualFold(stmt, "RETURN NULL") {
			out = append(out, stmt)
		}
	}
	return out
}

// parseSchema builds the model from CREATE statements (comments already removed).
func parseSchema(t *testing.T, stmts []string) ddlSchema {
	t.Helper()
	s := ddlSchema{Tables: map[string]*ddlTable{}, Indexes: map[string]ddlIndex{}, Triggers: map[string]ddlTrigger{}}
	functions := map[string]string{}
	for _, stmt := range stmts {
		if m := pgFunctionRe.FindStringSubmatch(stmt); m != nil {
			functions[strings.ToLower(m[1])] = m[2]
		}
	}
	pgOps := func(arg string) *strings.Replacer {
		return strings.NewReplacer("TG_OP <> 'INSERT'", "NOT INSERTING", "TG_OP <> 'DELETE'", "NOT DELETING",
			"TG_OP = 'INSERT'", "INSERTING", "TG_ARGV[0]", arg)
	}
	for _, stmt := range stmts {
		if m := createTableRe.FindStringSubmatch(stmt); m != nil {
			name := strings.ToLower(m[1])
			if _, dup := s.Tables[name]; dup {
				t.Errorf("table %s created twice", name)
			}
			s.Tables[name] = parseTable(m[2])
		}
		if m := createIndexRe.FindStringSubmatch(stmt); m != nil {
			s.Indexes[strings.ToLower(m[2])] = ddlIndex{Table: strings.ToLower(m[3]), Columns: columnList(m[4]), Unique: m[1] != ""}
		}
		if m := alterTableRe.FindStringSubmatch(stmt); m != nil {
			// ADD COLUMN c ... (PostgreSQL, SQLite) or ADD (c ..., d ...) (Oracle): the
			// columns join the table's, in order.
			name, cols := strings.ToLower(m[1]), strings.TrimSpace(m[2])
			if strings.HasPrefix(cols, "(") && strings.HasSuffix(cols, ")") {
				cols = cols[1 : len(cols)-1]
			}
			if tbl, ok := s.Tables[name]; ok {
				tbl.Columns = append(tbl.Columns, parseTable(cols).Columns...)
			} else {
				t.Errorf("ALTER TABLE %s before its CREATE TABLE", name)
			}
		}
		if m := pgTriggerRe.FindStringSubmatch(stmt); m != nil {
			body, ok := functions[strings.ToLower(m[5])]
			if !ok {
				t.Errorf("trigger %s calls %s, which the schema does not define", m[1], m[5])
			}
			s.Triggers[strings.ToLower(m[1])] = ddlTrigger{Table: strings.ToLower(m[3]), Level: strings.ToUpper(m[4]),
				Events: triggerEvents(m[2]), Body: triggerBody(body, pgOps(strings.TrimSpace(m[6])))}
		}
		if m := oraTriggerRe.FindStringSubmatch(stmt); m != nil {
			level := "STATEMENT"
			if m[4] != "" {
				level = "ROW"
			}
			s.Triggers[strings.ToLower(m[1])] = ddlTrigger{Table: strings.ToLower(m[3]), Level: level, Events: triggerEvents(m[2]),
				Body: triggerBody(m[5], strings.NewReplacer())}
		}
		if anyTriggerRe.MatchString(stmt) &&
			pgTriggerRe.FindStringSubmatch(stmt) == nil && oraTriggerRe.FindStringSubmatch(stmt) == nil {
			t.Errorf("cannot read trigger:\n%s", stmt)
		}
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func columnNames(t *ddlTable) []string {
	var out []string
	for _, c := range t.Columns {
		out = append(out, c.Name)
	}
	return out
}

// ---- Schema parity ----

// TestSchemaVersionsAlignAcrossDialects: Migrate numbers schema versions by the position
// of a file in its dialect's directory, so every dialect must have the same files, or
// version 2 would mean different things on different databases.
func TestSchemaVersionsAlignAcrossDialects(t *testing.T) {
	base := func(dialect string) []string {
		var out []string
		for _, f := range schemaFiles(t, dialect) {
			out = append(out, filepath.Base(f))
		}
		return out
	}
	want := base("postgres")
	for _, d := range []string{sqlerp.Oracle.Name, sqlerp.SQLite.Name} {
		if got := base(d); !reflect.DeepEqual(got, want) {
			t.Errorf("schema/%s has %v, schema/postgres has %v", d, got, want)
		}
	}
}

// TestSchemaParityOracleWithPostgres: the Oracle DDL has the tables, columns (by name
// and order), keys, unique constraints, checks, foreign keys, defaults and indexes of
// the PostgreSQL reference.
func TestSchemaParityOracleWithPostgres(t *testing.T) {
	pg := parseSchema(t, postgresStatements(t))
	ora := parseSchema(t, oracleStatements(t))
	if len(pg.Tables) < 10 {
		t.Fatalf("parsed only %d PostgreSQL tables: the parser is broken", len(pg.Tables))
	}
	if got, want := sortedKeys(ora.Tables), sortedKeys(pg.Tables); !reflect.DeepEqual(got, want) {
		t.Errorf("tables:\noracle   %v\npostgres %v", got, want)
	}
	for _, name := range sortedKeys(pg.Tables) {
		want, got := pg.Tables[name], ora.Tables[name]
		if got == nil {
			continue
		}
		if g, w := columnNames(got), columnNames(want); !reflect.DeepEqual(g, w) {
			t.Errorf("%s columns:\noracle   %v\npostgres %v", name, g, w)
			continue
		}
		for i := range want.Columns {
			if got.Columns[i] != want.Columns[i] {
				t.Errorf("%s.%s:\noracle   %+v\npostgres %+v", name, want.Columns[i].Name, got.Columns[i], want.Columns[i])
			}
		}
		if !reflect.DeepEqual(got.PrimaryKey, want.PrimaryKey) || !reflect.DeepEqual(got.Unique, want.Unique) || got.Checks != want.Checks {
			t.Errorf("%s table constraints: oracle pk %v unique %v checks %d, postgres pk %v unique %v checks %d",
				name, got.PrimaryKey, got.Unique, got.Checks, want.PrimaryKey, want.Unique, want.Checks)
		}
	}
	if !reflect.DeepEqual(ora.Indexes, pg.Indexes) {
		t.Errorf("indexes:\noracle   %+v\npostgres %+v", ora.Indexes, pg.Indexes)
	}
}

// TestSchemaColumnsMatchSQLite: the embedded ERP's tables have the same columns in the
// same order too (statements read whole rows by position in every dialect).
func TestSchemaColumnsMatchSQLite(t *testing.T) {
	pg := parseSchema(t, postgresStatements(t))
	var stmts []string
	for _, f := range schemaFiles(t, sqlerp.SQLite.Name) {
		for _, stmt := range splitSemicolons(readSchemaFile(t, f)) {
			if createTableRe.MatchString(stmt) || alterTableRe.MatchString(stmt) {
				stmts = append(stmts, stmt)
			}
		}
	}
	lite := parseSchema(t, stmts)
	if got, want := sortedKeys(lite.Tables), sortedKeys(pg.Tables); !reflect.DeepEqual(got, want) {
		t.Fatalf("tables:\nsqlite   %v\npostgres %v", got, want)
	}
	for _, name := range sortedKeys(pg.Tables) {
		if g, w := columnNames(lite.Tables[name]), columnNames(pg.Tables[name]); !reflect.DeepEqual(g, w) {
			t.Errorf("%s columns:\nsqlite   %v\npostgres %v", name, g, w)
		}
	}
}

// TestSchemaChangeLogTriggersOracleMatchPostgres: the same tables carry change-log
// triggers, on the same events, and each inserts the same rows under the same
// conditions (PostgreSQL's TG_OP tests read as Oracle's INSERTING/DELETING, its trigger
// argument substituted, Oracle's :NEW/:OLD read as NEW/OLD).
func TestSchemaChangeLogTriggersOracleMatchPostgres(t *testing.T) {
	pg := parseSchema(t, postgresStatements(t))
	ora := parseSchema(t, oracleStatements(t))
	tables := func(s ddlSchema) []string {
		set := map[string]bool{}
		for _, tr := range s.Triggers {
			set[tr.Table] = true
		}
		return sortedKeys(set)
	}
	if len(pg.Triggers) == 0 {
		t.Fatal("parsed no PostgreSQL triggers: the parser is broken")
	}
	if got, want := tables(ora), tables(pg); !reflect.DeepEqual(got, want) {
		t.Errorf("tables with change-log triggers:\noracle   %v\npostgres %v", got, want)
	}
	if got, want := sortedKeys(ora.Triggers), sortedKeys(pg.Triggers); !reflect.DeepEqual(got, want) {
		t.Errorf("triggers:\noracle   %v\npostgres %v", got, want)
	}
	for _, name := range sortedKeys(pg.Triggers) {
		want, got := pg.Triggers[name], ora.Triggers[name]
		if got.Table != want.Table || got.Level != want.Level || !reflect.DeepEqual(got.Events, want.Events) {
			t.Errorf("trigger %s: oracle fires per %s on %v of %s, postgres per %s on %v of %s", name,
				got.Level, got.Events, got.Table, want.Level, want.Events, want.Table)
		}
		if !reflect.DeepEqual(got.Body, want.Body) {
			t.Errorf("trigger %s body:\noracle\n\t%s\npostgres\n\t%s", name, strings.Join(got.Body, "\n\t"), strings.Join(want.Body, "\n\t"))
		}
		for _, stmt := range want.Body {
			if strings.Contains(stmt, "TG_") {
				t.Errorf("trigger %s: PostgreSQL body has an unmapped %q", name, stmt)
			}
		}
	}
}

// ---- Oracle DDL well-formedness ----

// oracleForbidden are tokens of other dialects, or of Oracle releases after 19c, that
// must not appear in the Oracle DDL's code (string literals aside).
var oracleForbidden = []struct {
	re  *regexp.Regexp
	why string
}{
	{regexp.MustCompile(`(?i)\bTEXT\b`), "TEXT is not an Oracle type (VARCHAR2(n))"},
	{regexp.MustCompile(`(?i)\bBOOLEAN\b`), "no BOOLEAN columns before 23ai; flags are NUMBER(1) 0/1"},
	{regexp.MustCompile(`(?i)\b(BIG)?SERIAL\b`), "SERIAL is PostgreSQL (GENERATED ... AS IDENTITY)"},
	{regexp.MustCompile(`(?i)\bAUTOINCREMENT\b`), "AUTOINCREMENT is SQLite"},
	{regexp.MustCompile(`\$\d`), "$n placeholders are PostgreSQL"},
	{regexp.MustCompile(`\$\$`), "dollar quoting is PostgreSQL"},
	{regexp.MustCompile(`::`), ":: casts are PostgreSQL"},
	{regexp.MustCompile(`(?i)\bLIMIT\b`), "LIMIT is not Oracle (FETCH FIRST n ROWS ONLY)"},
	{regexp.MustCompile(`(?i)plpgsql`), "PL/pgSQL"},
	{regexp.MustCompile(`(?i)RETURNS\s+TRIGGER`), "trigger functions are PostgreSQL"},
	{regexp.MustCompile(`(?i)EXECUTE\s+(FUNCTION|PROCEDURE)`), "trigger functions are PostgreSQL"},
	{regexp.MustCompile(`\bTG_(OP|ARGV)\b`), "TG_ variables are PostgreSQL (INSERTING, DELETING)"},
	{regexp.MustCompile(`(?i)\bNUMERIC\b`), "money is NUMBER(19, 4)"},
	{regexp.MustCompile(`(?i)\b(BIGINT|SMALLINT|INTEGER|INT)\b`), "integers are NUMBER(p)"},
	{regexp.MustCompile(`(?i)\bTIMESTAMPTZ\b`), "TIMESTAMPTZ is PostgreSQL (TIMESTAMP WITH TIME ZONE)"},
	{regexp.MustCompile(`(?i)\bnow\s*\(`), "now() is PostgreSQL (SYSTIMESTAMP)"},
	{regexp.MustCompile(`(?i)\bstrftime\b`), "strftime is SQLite"},
	{regexp.MustCompile(`(?i)\bVARCHAR\b`), "VARCHAR2, not VARCHAR"},
	{regexp.MustCompile(`(?i)\bVARCHAR2\b\s*[^\s(]`), "VARCHAR2 needs a length"},
	{regexp.MustCompile(`(?i)\bNUMBER\b\s*[^\s(]`), "NUMBER needs a precision"},
	{regexp.MustCompile(`(?i)\bIF\s+(NOT\s+)?EXISTS\b`), "IF [NOT] EXISTS needs 23ai"},
	{regexp.MustCompile(`(?i)NOT\s+NULL\s+DEFAULT`), "Oracle wants DEFAULT before NOT NULL"},
	{regexp.MustCompile(`"`), "quoted identifiers are case-sensitive in Oracle"},
}

// TestOracleDDLWellFormed splits the Oracle schema as Migrate does and checks each
// statement for what Oracle or go-ora would refuse. go-ora sends the text as it is (no
// client-side splitting), and the server answers a plain SQL statement that ends in ';'
// with ORA-00933 or ORA-00911, while a PL/SQL body (a trigger) must end with "END;".
func TestOracleDDLWellFormed(t *testing.T) {
	for _, file := range schemaFiles(t, sqlerp.Oracle.Name) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			script := readSchemaFile(t, file)
			stmts := sqlerp.Oracle.Statements(script)
			if len(stmts) == 0 {
				t.Fatal("no statements")
			}
			slashes := 0
			for _, line := range strings.Split(script, "\n") {
				if strings.TrimSpace(line) == "/" {
					slashes++
				}
			}
			if slashes != len(stmts) {
				t.Errorf("%d statements but %d slash lines: each statement ends with a line that holds only /", len(stmts), slashes)
			}
			for i, stmt := range stmts {
				code := strings.TrimSpace(stripSQLComments(stmt))
				name := fmt.Sprintf("statement %d (%.50s)", i+1, strings.ReplaceAll(code, "\n", " "))
				if code == "" {
					t.Errorf("%s is empty", name)
					continue
				}
				// DDL, and in a migration the ALTERs and data moves that go with it.
				upper := strings.ToUpper(code)
				wantCreates := 1
				switch {
				case strings.HasPrefix(upper, "CREATE "):
				case strings.HasPrefix(upper, "ALTER TABLE "), strings.HasPrefix(upper, "INSERT INTO "):
					wantCreates = 0
				default:
					t.Errorf("%s does not start with CREATE, ALTER TABLE or INSERT INTO", name)
				}
				if n := len(createKeywordRe.FindAllString(blankLiterals(code), -1)); n != wantCreates {
					t.Errorf("%s holds %d CREATEs, want %d: a slash line is missing", name, n, wantCreates)
				}
				if err := balanced(code); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				bare := blankLiterals(code)
				for _, f := range oracleForbidden {
					if m := f.re.FindString(bare); m != "" {
						t.Errorf("%s has %q: %s", name, m, f.why)
					}
				}
				checkDefaultsFirst(t, name, code)
				if anyTriggerRe.MatchString(code) {
					if !strings.HasSuffix(code, "END;") {
						t.Errorf("%s: a trigger body must end with END; (go-ora sends it as it is)", name)
					}
					if !rowTriggerRe.MatchString(code) && oraRowRefRe.MatchString(code) {
						t.Errorf("%s: a statement trigger has no :NEW or :OLD row", name)
					}
					if strings.Count(bare, ";") < 2 {
						t.Errorf("%s: the body lost its inner semicolons", name)
					}
					if m := bareRowRefRe.FindString(bare); m != "" {
						t.Errorf("%s: %q: a trigger body names the row as :NEW or :OLD", name, strings.TrimSpace(m))
					}
					continue
				}
				if strings.Contains(bare, ";") {
					t.Errorf("%s has a semicolon: Oracle refuses it in plain SQL (ORA-00933/ORA-00911)", name)
				}
			}
		})
	}
}

// balanced reports unbalanced parentheses or string quotes.
func balanced(code string) error {
	depth := 0
	inQuote := false
	for i, c := range code {
		switch {
		case c == '\'':
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')':
			if depth--; depth < 0 {
				return fmt.Errorf("unbalanced ) at byte %d", i)
			}
		}
	}
	if inQuote {
		return errors.New("unterminated string literal")
	}
	if depth != 0 {
		return fmt.Errorf("%d unclosed (", depth)
	}
	return nil
}

// checkDefaultsFirst reports a column whose DEFAULT follows a constraint: Oracle's column
// definition is name, type, DEFAULT, then constraints.
func checkDefaultsFirst(t *testing.T, name, code string) {
	t.Helper()
	m := createTableRe.FindStringSubmatch(code)
	if m == nil {
		return
	}
	for _, col := range splitTopLevel(m[2], ',') {
		loc := defaultRe.FindStringIndex(col)
		if loc == nil {
			continue
		}
		if c := constraintRe.FindString(col[:loc[0]]); c != "" {
			t.Errorf("%s: %q has %s before DEFAULT", name, col, c)
		}
	}
}

// TestOracleStatementsSplitSQLPlusStyle: slashSeparated splits on lines that hold only a
// slash, keeps PL/SQL semicolons, and drops chunks that hold only comments.
func TestOracleStatementsSplitSQLPlusStyle(t *testing.T) {
	for _, c := range []struct {
		name, script string
		want         []string
	}{
		{"empty", "", nil},
		{"comments only", "-- nothing here\n/\n-- nor here\n", nil},
		{"no final slash", "CREATE TABLE a (x NUMBER(1))", []string{"CREATE TABLE a (x NUMBER(1))"}},
		{"slash lines with blanks", "CREATE TABLE a (x NUMBER(1))\n  /  \n\n/\nCREATE INDEX a_x ON a (x)\n/\n",
			[]string{"CREATE TABLE a (x NUMBER(1))", "CREATE INDEX a_x ON a (x)"}},
		{"a slash inside a line divides", "CREATE VIEW v AS SELECT x / 2 AS h FROM a\n/\n",
			[]string{"CREATE VIEW v AS SELECT x / 2 AS h FROM a"}},
		{"trigger keeps its semicolons",
			"-- a comment\nCREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW\nBEGIN\n    INSERT INTO b VALUES (1);\n    INSERT INTO b VALUES (:NEW.x);\nEND;\n/\nCREATE INDEX a_x ON a (x)\n/\n",
			[]string{"-- a comment\nCREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW\nBEGIN\n    INSERT INTO b VALUES (1);\n    INSERT INTO b VALUES (:NEW.x);\nEND;",
				"CREATE INDEX a_x ON a (x)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := sqlerp.Oracle.Statements(c.script); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %q\nwant %q", got, c.want)
			}
		})
	}
}

// ---- The dialect ----

// TestOracleRebindAndLimit: ? becomes :1, :2, ... in order, the row limit is the last
// bind parameter, and rows are locked with FOR UPDATE.
func TestOracleRebindAndLimit(t *testing.T) {
	db := sqlerp.New(nil, nil, sqlerp.Oracle, sqlerp.Options{})
	for _, c := range []struct{ name, q, want string }{
		{"no parameters", "SELECT seq FROM change_log", "SELECT seq FROM change_log"},
		{"with limit", "SELECT seq, entity, key FROM change_log WHERE seq > ? ORDER BY seq" + sqlerp.Oracle.Limit,
			"SELECT seq, entity, key FROM change_log WHERE seq > :1 ORDER BY seq FETCH FIRST :2 ROWS ONLY"},
		{"ten and more", "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "VALUES (:1, :2, :3, :4, :5, :6, :7, :8, :9, :10, :11)"},
		{"literal kept", "INSERT INTO orders (currency, status) VALUES ('XXX', ?)", "INSERT INTO orders (currency, status) VALUES ('XXX', :1)"},
		{"text beyond ASCII", "SELECT 'Zürich – €' FROM dual WHERE a = ? AND b = ?", "SELECT 'Zürich – €' FROM dual WHERE a = :1 AND b = :2"},
		{"placeholder last", "WHERE a = ?", "WHERE a = :1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := db.Rebind(c.q); got != c.want {
				t.Errorf("Rebind(%q)\n = %q\nwant %q", c.q, got, c.want)
			}
		})
	}
	if got := sqlerp.Oracle.Placeholder(3); got != ":3" {
		t.Errorf("Placeholder(3) = %q", got)
	}
	if sqlerp.Oracle.Limit != " FETCH FIRST ? ROWS ONLY" {
		t.Errorf("Limit = %q", sqlerp.Oracle.Limit)
	}
	if sqlerp.Oracle.ForUpdate != " FOR UPDATE" {
		t.Errorf("ForUpdate = %q", sqlerp.Oracle.ForUpdate)
	}
	if sqlerp.Oracle.Name != "oracle" {
		t.Errorf("Name = %q: it names the schema directory", sqlerp.Oracle.Name)
	}
	// go-ora v2.8.24 answers BeginTx with ReadOnly "readonly transaction is not supported".
	if sqlerp.Oracle.ReadOnlyTx != nil {
		t.Errorf("ReadOnlyTx = %+v: go-ora refuses read-only transactions, so every quote would fail", sqlerp.Oracle.ReadOnlyTx)
	}
}

// TestOracleMoneyIsAnExactNumber: amounts are bound as go-ora Numbers built from the
// decimal text, exact, and read back (go-ora returns NUMBER columns as decimal text)
// unchanged; more than 4 decimals are refused, not rounded.
func TestOracleMoneyIsAnExactNumber(t *testing.T) {
	for _, s := range []string{"275.04", "0", "100.00", "0.0001", "-12.5", "1.2345", "123456789012345.6789", "1000000"} {
		t.Run(s, func(t *testing.T) {
			d := decimal.MustParse(s)
			v, err := sqlerp.Oracle.Money(d)
			if err != nil {
				t.Fatal(err)
			}
			n, ok := v.(*goora.Number)
			if !ok {
				t.Fatalf("Money(%s) is a %T, want *go_ora.Number", s, v)
			}
			text, err := n.String()
			if err != nil {
				t.Fatal(err)
			}
			back, err := decimal.Parse(text)
			if err != nil {
				t.Fatalf("go-ora renders %s as %q: %v", s, text, err)
			}
			if back.Cmp(d) != 0 {
				t.Errorf("go-ora renders %s as %q", s, text)
			}
			var scanned decimal.Decimal
			if err := sqlerp.MoneyScanner(&scanned).Scan(text); err != nil || scanned.Cmp(d) != 0 {
				t.Errorf("MoneyScanner(%q) = %s, %v; want %s", text, scanned, err, d)
			}
		})
	}
	v, err := sqlerp.Oracle.Money(decimal.MustParse("275.04"))
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := v.(*goora.Number).String(); text != "275.04" {
		t.Errorf("275.04 bound as %q", text)
	}
	for _, s := range []string{"1.23456", "0.00001", "275.04001"} {
		if v, err := sqlerp.Oracle.Money(decimal.MustParse(s)); err == nil {
			t.Errorf("Money(%s) = %v, want an error (NUMBER(19,4) would round it)", s, v)
		}
	}
}

// TestOracleDateAndTimeEncodings: a date is the calendar date of the value in its own
// zone, at midnight UTC (a DATE has no zone); a timestamp is the same instant in UTC.
func TestOracleDateAndTimeEncodings(t *testing.T) {
	for _, c := range []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"UTC", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"late evening west of UTC keeps its day", time.Date(2024, 3, 1, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)),
			time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"early morning east of UTC keeps its day", time.Date(2024, 3, 1, 0, 30, 0, 0, time.FixedZone("JST", 9*3600)),
			time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"leap day", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run("date/"+c.name, func(t *testing.T) {
			got, ok := sqlerp.Oracle.Date(c.in).(time.Time)
			if !ok {
				t.Fatalf("Date is a %T, want time.Time", sqlerp.Oracle.Date(c.in))
			}
			if !got.Equal(c.want) || got.Location() != time.UTC {
				t.Errorf("Date(%s) = %s, want %s", c.in, got, c.want)
			}
		})
	}
	in := time.Date(2024, 3, 1, 1, 2, 3, 456789000, time.FixedZone("CET", 3600))
	got, ok := sqlerp.Oracle.Time(in).(time.Time)
	if !ok {
		t.Fatalf("Time is a %T, want time.Time", sqlerp.Oracle.Time(in))
	}
	if !got.Equal(in) || got.Location() != time.UTC {
		t.Errorf("Time(%s) = %s, want the same instant in UTC", in, got)
	}
}

// TestOracleErrorClassification: ORA-00001 is a unique violation; ORA-00060 (deadlock)
// and ORA-08177 (cannot serialize) are retryable; errors are read by type through any
// wrapping, never by their text.
func TestOracleErrorClassification(t *testing.T) {
	ora := func(code int) error { return &network.OracleError{ErrCode: code} }
	for _, c := range []struct {
		name              string
		err               error
		unique, retryable bool
	}{
		{"nil", nil, false, false},
		{"ORA-00001", ora(1), true, false},
		{"ORA-00001 wrapped", fmt.Errorf("insert order header: %w", ora(1)), true, false},
		{"ORA-00001 wrapped twice", fmt.Errorf("place: %w", fmt.Errorf("insert: %w", ora(1))), true, false},
		{"ORA-00001 as text only", errors.New("ORA-00001: unique constraint (B2B.SYS_C0012) violated"), false, false},
		{"ORA-02291 foreign key", ora(2291), false, false},
		{"ORA-01400 null", ora(1400), false, false},
		{"ORA-00060", ora(60), false, true},
		{"ORA-00060 wrapped", fmt.Errorf("reserve credit: %w", ora(60)), false, true},
		{"ORA-08177", ora(8177), false, true},
		{"ORA-08177 wrapped", fmt.Errorf("reserve: %w", ora(8177)), false, true},
		{"ORA-00054 busy nowait", ora(54), false, false},
		{"other error", context.DeadlineExceeded, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := sqlerp.Oracle.IsUniqueViolation(c.err); got != c.unique {
				t.Errorf("IsUniqueViolation = %v, want %v", got, c.unique)
			}
			if got := sqlerp.Oracle.IsRetryable(c.err); got != c.retryable {
				t.Errorf("IsRetryable = %v, want %v", got, c.retryable)
			}
		})
	}
}

// ---- InsertID through a recording driver ----

// recordedExec is one statement a recordingConn ran.
type recordedExec struct {
	query string
	args  []driver.NamedValue
}

// recordingDriver is a database/sql driver that records what it is asked to run and
// sets every sql.Out destination to id. Like go-ora, its connection implements
// driver.NamedValueChecker and accepts every argument: without that, database/sql's
// default converter refuses a sql.Out before the driver sees it.
type recordingDriver struct {
	id    int64
	mu    sync.Mutex
	execs []recordedExec
}

func (d *recordingDriver) Connect(context.Context) (driver.Conn, error) {
	return &recordingConn{d}, nil
}
func (d *recordingDriver) Driver() driver.Driver            { return d }
func (d *recordingDriver) Open(string) (driver.Conn, error) { return &recordingConn{d}, nil }

func (d *recordingDriver) recorded() []recordedExec {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]recordedExec(nil), d.execs...)
}

type recordingConn struct{ d *recordingDriver }

func (c *recordingConn) Prepare(q string) (driver.Stmt, error) {
	return nil, fmt.Errorf("unexpected Prepare(%q): statements run through ExecContext", q)
}
func (c *recordingConn) Close() error              { return nil }
func (c *recordingConn) Begin() (driver.Tx, error) { return recordingTx{}, nil }
func (c *recordingConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	return recordingTx{}, nil
}
func (c *recordingConn) CheckNamedValue(*driver.NamedValue) error { return nil }

func (c *recordingConn) ExecContext(_ context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.d.mu.Lock()
	c.d.execs = append(c.d.execs, recordedExec{query: q, args: append([]driver.NamedValue(nil), args...)})
	c.d.mu.Unlock()
	for _, a := range args {
		out, ok := a.Value.(sql.Out)
		if !ok {
			continue
		}
		dest, ok := out.Dest.(*int64)
		if !ok {
			return nil, fmt.Errorf("out parameter %d: destination %T, want *int64", a.Ordinal, out.Dest)
		}
		*dest = c.d.id
	}
	return driver.RowsAffected(1), nil
}

type recordingTx struct{}

func (recordingTx) Commit() error   { return nil }
func (recordingTx) Rollback() error { return nil }

// TestOracleInsertIDReturningInto: InsertID appends RETURNING id INTO :N, N being the
// bind position after the statement's own parameters, binds a sql.Out there, passes the
// other arguments through in order, and returns what the database put in the out
// parameter.
func TestOracleInsertIDReturningInto(t *testing.T) {
	db := sqlerp.New(nil, nil, sqlerp.Oracle, sqlerp.Options{})
	header := db.Rebind(`INSERT INTO orders (account_id, external_ref, request_hash, status, currency, po_number, requested_delivery_date, created_at)
		VALUES (?, ?, ?, ?, 'XXX', ?, ?, ?)`)
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name   string
		insert string
		args   []any
	}{
		{"one parameter", "INSERT INTO storefronts (name) VALUES (:1)", []any{"web"}},
		{"order header", header, []any{"C1001", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123abcd", "received", nil, nil, now}},
		{"no parameters", "INSERT INTO orders (account_id) VALUES ('C1001')", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &recordingDriver{id: 42}
			pool := sql.OpenDB(rec)
			t.Cleanup(func() { pool.Close() })
			ctx := context.Background()
			var id int64
			if err := sqlerp.Oracle.OrderTx(ctx, pool, func(tx sqlerp.Runner) (err error) {
				id, err = sqlerp.InsertID(ctx, tx, sqlerp.Oracle, c.insert, c.args...)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if id != 42 {
				t.Errorf("InsertID = %d, want the out parameter's 42", id)
			}
			execs := rec.recorded()
			if len(execs) != 1 {
				t.Fatalf("ran %d statements, want 1: %+v", len(execs), execs)
			}
			n := len(c.args) + 1
			if want := c.insert + " RETURNING id INTO :" + strconv.Itoa(n); execs[0].query != want {
				t.Errorf("ran\n%q\nwant\n%q", execs[0].query, want)
			}
			args := execs[0].args
			if len(args) != n {
				t.Fatalf("bound %d arguments, want %d", len(args), n)
			}
			for i, a := range c.args {
				if args[i].Ordinal != i+1 || !reflect.DeepEqual(args[i].Value, a) {
					t.Errorf("argument %d = %+v, want %#v", i+1, args[i], a)
				}
			}
			out, ok := args[n-1].Value.(sql.Out)
			if !ok {
				t.Fatalf("argument %d is a %T, want sql.Out", n, args[n-1].Value)
			}
			if out.In || args[n-1].Ordinal != n || args[n-1].Name != "" {
				t.Errorf("out argument %+v: want a positional, output-only parameter at %d", args[n-1], n)
			}
			if _, ok := out.Dest.(*int64); !ok {
				t.Errorf("out destination is a %T, want *int64", out.Dest)
			}
		})
	}
}
