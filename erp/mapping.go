package erp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MappingKind names one set of mappings between storefront and ERP identifiers.
type MappingKind string

// The mapping kinds.
const (
	// MappingSKUs maps a storefront SKU to an ERP item, a sales unit and a factor.
	MappingSKUs MappingKind = "skus"
	// MappingCustomers maps a storefront's customer id to an ERP account.
	MappingCustomers MappingKind = "customers"
	// MappingRegions lists the warehouses that fulfil a ship-to region, in priority order.
	MappingRegions MappingKind = "regions"
)

// MappingKinds lists the mapping kinds.
var MappingKinds = []MappingKind{MappingSKUs, MappingCustomers, MappingRegions}

// MaxFactor bounds a SKU mapping's factor: a pallet of a million pieces is the most we
// expect, and it keeps qty × factor far from overflowing.
const MaxFactor = 1_000_000

// Mapping is one mapping row. Which fields count depends on Kind; the others are zero.
type Mapping struct {
	Kind MappingKind
	// Storefront scopes the mapping. SKUs: "" means every storefront; customers: required;
	// regions: always "".
	Storefront string
	// Key is what the storefront says: its SKU, its customer id, or the region.
	Key string
	// ERPSKU, Unit and Factor (SKUs): the ERP item, the storefront's sales unit, and how
	// many ERP units one storefront unit is.
	ERPSKU string
	Unit   string
	Factor int
	// Account (customers): the ERP account.
	Account string
	// Warehouses (regions): in priority order.
	Warehouses []string
	// UpdatedAt is when the row last changed (UTC, microseconds).
	UpdatedAt time.Time
}

// ETag is the mapping's entity tag: it changes whenever any field does.
func (m Mapping) ETag() string {
	h := sha256.New()
	for _, s := range []string{string(m.Kind), m.Storefront, m.Key, m.ERPSKU, m.Unit, strconv.Itoa(m.Factor), m.Account,
		strings.Join(m.Warehouses, " "), m.UpdatedAt.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(strconv.Itoa(len(s)) + ":" + s))
	}
	return `"` + hex.EncodeToString(h.Sum(nil))[:20] + `"`
}

// SameAs reports whether two mappings say the same, whenever they were written.
func (m Mapping) SameAs(o Mapping) bool {
	m.UpdatedAt, o.UpdatedAt = time.Time{}, time.Time{}
	return m.ETag() == o.ETag()
}

// MappingFilter selects mappings of one kind, in (storefront, key) order.
type MappingFilter struct {
	Kind MappingKind
	// Storefront, if not nil, keeps the mappings of that storefront only ("" = shared).
	Storefront *string
	Key        string // exact key
	Prefix     string // key prefix
	Target     string // the ERP SKU (SKUs) or account (customers) mapped to
	// After is the position to continue from: the (storefront, key) of the last row seen.
	After *Mapping
	Limit int // 0: no limit
}

// MappingChange is a set of writes to one kind, applied in one transaction with an audit
// entry per row changed, or not at all.
type MappingChange struct {
	Kind   MappingKind
	Actor  string // who: an admin key's id, or the command line's user
	Source string // how: "api", "csv" or "cli"
	Puts   []Mapping
	// Deletes name rows by Storefront and Key.
	Deletes []Mapping
	// Replace makes Puts the whole kind: every row not among them is deleted.
	Replace bool
	// IfMatch, with one put or delete, is the ETag the row must have now.
	IfMatch string
	// Create, with one put, requires that the row does not exist yet.
	Create bool
	// DryRun validates and reports, and changes nothing.
	DryRun bool
}

// MappingReport says what a change did, or would do; with refusals it did nothing.
type MappingReport struct {
	Created, Changed, Deleted, Unchanged int
	Refused                              []MappingRefusal
	Actions                              []string  // per put: "create", "change" or "unchanged"
	Deletions                            []Mapping // what was (or would be) deleted
	Saved                                []Mapping // the puts as stored
}

// MappingRefusal is why one put was refused; Index is its position in Puts.
type MappingRefusal struct {
	Index  int
	Reason string
}

// Mapping change errors.
var (
	ErrPreconditionFailed = errors.New("the mapping changed since it was read")
	ErrExists             = errors.New("the mapping exists already")
)

// AuditEntry is one change of one mapping row.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string
	Source string
	Kind   MappingKind
	// Before and After are the row before and after the change; nil where it did not
	// exist.
	Before, After *Mapping
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Kind   MappingKind // "" = every kind
	Before int64       // entries with a smaller id (0: from the newest)
	Limit  int
}

// mappingJSON is a mapping in the admin API's field names (DESIGN "Admin mappings");
// the audit trail keeps rows in the same form.
type mappingJSON struct {
	Storefront string    `json:"storefront,omitempty"`
	SKU        string    `json:"sku,omitempty"`
	ERPSKU     string    `json:"erp_sku,omitempty"`
	Unit       string    `json:"unit,omitempty"`
	Factor     int       `json:"factor,omitempty"`
	Customer   string    `json:"customer,omitempty"`
	Account    string    `json:"account,omitempty"`
	Region     string    `json:"region,omitempty"`
	Warehouses []string  `json:"warehouses,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// MarshalJSON renders the mapping in the admin API's field names for its kind.
func (m Mapping) MarshalJSON() ([]byte, error) {
	j := mappingJSON{Storefront: m.Storefront, UpdatedAt: m.UpdatedAt.UTC()}
	switch m.Kind {
	case MappingSKUs:
		j.SKU, j.ERPSKU, j.Unit, j.Factor = m.Key, m.ERPSKU, m.Unit, m.Factor
	case MappingCustomers:
		j.Customer, j.Account = m.Key, m.Account
	case MappingRegions:
		j.Region, j.Warehouses = m.Key, m.Warehouses
		if j.Warehouses == nil {
			j.Warehouses = []string{}
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a mapping in the admin API's field names, telling its kind by its
// key field; unknown fields are an error.
func (m *Mapping) UnmarshalJSON(b []byte) error {
	var j mappingJSON
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&j); err != nil {
		return err
	}
	*m = Mapping{Storefront: j.Storefront, ERPSKU: j.ERPSKU, Unit: j.Unit, Factor: j.Factor, Account: j.Account,
		Warehouses: j.Warehouses, UpdatedAt: j.UpdatedAt}
	switch {
	case j.SKU != "":
		m.Kind, m.Key = MappingSKUs, j.SKU
	case j.Customer != "":
		m.Kind, m.Key = MappingCustomers, j.Customer
	case j.Region != "":
		m.Kind, m.Key = MappingRegions, j.Region
	}
	return nil
}

// maxIdentifier bounds every identifier of a mapping (the schema's VARCHAR2(64)).
const maxIdentifier = 64

// Validate names the first thing wrong with the mapping's own fields; whether the ERP
// item, account or warehouses exist is the ERP's to check.
func (m Mapping) Validate() error {
	ident := func(name, v string, required bool) error {
		switch {
		case v == "" && required:
			return fmt.Errorf("%s is required", name)
		case len(v) > maxIdentifier:
			return fmt.Errorf("%s is longer than %d bytes", name, maxIdentifier)
		case !utf8.ValidString(v):
			return fmt.Errorf("%s is not UTF-8", name)
		case strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
			return fmt.Errorf("%s %q contains spaces or control characters", name, v)
		case v == "*":
			return fmt.Errorf("%s may not be %q", name, v)
		}
		return nil
	}
	var errs []error
	switch m.Kind {
	case MappingSKUs:
		errs = append(errs, ident("storefront", m.Storefront, false), ident("sku", m.Key, true),
			ident("erp_sku", m.ERPSKU, true), ident("unit", m.Unit, true))
		if m.Factor < 1 || m.Factor > MaxFactor {
			errs = append(errs, fmt.Errorf("factor must be a whole number from 1 to %d", MaxFactor))
		}
	case MappingCustomers:
		errs = append(errs, ident("storefront", m.Storefront, true), ident("customer", m.Key, true),
			ident("account", m.Account, true))
	case MappingRegions:
		errs = append(errs, ident("region", m.Key, true))
		if m.Storefront != "" {
			errs = append(errs, errors.New("a region belongs to no storefront"))
		}
		if len(m.Warehouses) == 0 {
			errs = append(errs, errors.New("warehouses: at least one is required"))
		}
		seen := map[string]bool{}
		for _, w := range m.Warehouses {
			errs = append(errs, ident("warehouse", w, true))
			if seen[w] {
				errs = append(errs, fmt.Errorf("warehouse %s is listed twice", w))
			}
			seen[w] = true
		}
	default:
		return fmt.Errorf("unknown mapping kind %q", m.Kind)
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ParseMappingKind validates a kind's name.
func ParseMappingKind(s string) (MappingKind, error) {
	for _, k := range MappingKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("mapping kind %q: want skus, customers or regions", s)
}
