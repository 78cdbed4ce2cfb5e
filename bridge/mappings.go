package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/erp"
)

// Types of the admin mapping API, defined by the ERP port.
type (
	Mapping        = erp.Mapping
	MappingKind    = erp.MappingKind
	MappingFilter  = erp.MappingFilter
	MappingChange  = erp.MappingChange
	MappingReport  = erp.MappingReport
	MappingRefusal = erp.MappingRefusal
	AuditEntry     = erp.AuditEntry
	AuditFilter    = erp.AuditFilter
)

// The mapping kinds.
const (
	MappingSKUs      = erp.MappingSKUs
	MappingCustomers = erp.MappingCustomers
	MappingRegions   = erp.MappingRegions
)

// ParseMappingKind validates a kind's name.
func ParseMappingKind(s string) (MappingKind, error) { return erp.ParseMappingKind(s) }

// mappingSet is every SKU and customer mapping, read whole from the ERP and replaced
// whole when the change log says one changed. Every read, quote and order translates
// through the same set, so no path can answer in boxes while another books pieces.
type mappingSet struct {
	shared      map[string]erp.Mapping // SKU mappings of every storefront, by SKU
	storefronts map[string]*storefrontMappings
	loadedAt    time.Time
}

// storefrontMappings are one storefront's own mappings.
type storefrontMappings struct {
	skus       map[string]erp.Mapping // by storefront SKU
	accounts   map[string]string      // customer id → ERP account
	customerOf map[string]string      // ERP account → customer id
}

// of returns the storefront's own mappings, created empty.
func (set *mappingSet) of(storefront string) *storefrontMappings {
	sm := set.storefronts[storefront]
	if sm == nil {
		sm = &storefrontMappings{skus: map[string]erp.Mapping{}, accounts: map[string]string{}, customerOf: map[string]string{}}
		set.storefronts[storefront] = sm
	}
	return sm
}

// LoadMappings reads the SKU and customer mappings from the ERP; requests see the new
// set at once.
func (s *Service) LoadMappings(ctx context.Context) error {
	skus, err := s.erp.Mappings(ctx, erp.MappingFilter{Kind: erp.MappingSKUs})
	if err != nil {
		return fmt.Errorf("load SKU mappings: %w", err)
	}
	customers, err := s.erp.Mappings(ctx, erp.MappingFilter{Kind: erp.MappingCustomers})
	if err != nil {
		return fmt.Errorf("load customer mappings: %w", err)
	}
	set := &mappingSet{shared: map[string]erp.Mapping{}, storefronts: map[string]*storefrontMappings{}, loadedAt: time.Now().UTC()}
	for _, m := range skus {
		if m.Storefront == "" {
			set.shared[m.Key] = m
			continue
		}
		set.of(m.Storefront).skus[m.Key] = m
	}
	for _, m := range customers {
		sm := set.of(m.Storefront)
		sm.accounts[m.Key] = m.Account
		sm.customerOf[m.Account] = m.Key
	}
	s.mappings.Store(set)
	return nil
}

// skuRef is what a storefront's SKU is in the ERP. ERPSKU is empty for a SKU the
// storefront may not use (unmapped, in strict mode).
type skuRef struct {
	SKU    string // as the storefront says it
	ERPSKU string
	Unit   string // the storefront's unit; empty: the ERP's
	Factor int    // ERP units per storefront unit
}

// mapped reports whether the storefront's unit differs from the ERP's.
func (r skuRef) mapped() bool { return r.Factor != 1 || r.Unit != "" }

// sku translates a storefront's SKU: its own mapping, else one shared by every
// storefront, else (unless mappings are strict) the ERP's SKU itself.
func (s *Service) sku(p *Principal, sku string) skuRef {
	if set := s.mappings.Load(); set != nil {
		var m erp.Mapping
		ok := false
		if sm := set.storefronts[p.Storefront]; sm != nil {
			m, ok = sm.skus[sku]
		}
		if !ok {
			m, ok = set.shared[sku]
		}
		if ok {
			return skuRef{SKU: sku, ERPSKU: m.ERPSKU, Unit: m.Unit, Factor: m.Factor}
		}
	}
	if s.cfg.StrictMappings {
		return skuRef{SKU: sku, Factor: 1}
	}
	return skuRef{SKU: sku, ERPSKU: sku, Factor: 1}
}

// Scope is the account a storefront addressed: the ERP's account, and the storefront's
// customer id for it where it has one.
type Scope struct {
	Account  string
	Customer string
}

// scope resolves the account a storefront addresses by its own customer id or by the
// ERP's account id, and checks that the key serves that account before anything is read
// (truth rule 7).
func (s *Service) scope(p *Principal, id string) (Scope, error) {
	if err := storefront(p, ""); err != nil {
		return Scope{}, err
	}
	sc := Scope{Account: id}
	if set := s.mappings.Load(); set != nil {
		if sm := set.storefronts[p.Storefront]; sm != nil {
			if a, ok := sm.accounts[id]; ok {
				sc.Account = a
			}
			sc.Customer = sm.customerOf[sc.Account]
		}
	}
	if !p.Serves(sc.Account) {
		return Scope{}, Errorf(CodeForbidden, "this key does not serve account %q", id)
	}
	return sc, nil
}

// Authorize checks, before a request is read further, that p is a storefront key with
// the scope the route needs and, if account (an ERP account or the storefront's customer
// id) is not empty, that the key serves it. Every service method checks the key again.
func (s *Service) Authorize(p *Principal, scope, account string) error {
	if err := storefront(p, ""); err != nil {
		return err
	}
	if err := scoped(p, scope); err != nil {
		return err
	}
	if account == "" {
		return nil
	}
	_, err := s.scope(p, account)
	return err
}

// AuthorizeAdmin checks that p is an admin key with the scope the route needs.
func (s *Service) AuthorizeAdmin(p *Principal, scope string) error {
	if err := admin(p); err != nil {
		return err
	}
	return scoped(p, scope)
}

// draftLines translates a cart's lines into ERP units.
func (s *Service) draftLines(p *Principal, lines []Line) []erp.DraftLine {
	out := make([]erp.DraftLine, len(lines))
	for i, l := range lines {
		ref := s.sku(p, l.SKU)
		out[i] = erp.DraftLine{SKU: ref.ERPSKU, Qty: l.Qty * ref.Factor, UnitPrice: l.UnitPrice,
			Ordered: erp.Ordered{OrderedSKU: l.SKU, Factor: ref.Factor}}
	}
	return out
}

// unmapped refuses, before the ERP is asked, an order with a SKU that strict mappings
// do not know (draftLines leaves its ERP SKU empty).
func unmapped(lines []erp.DraftLine) error {
	var r *erp.Refusal
	for i, l := range lines {
		if l.SKU != "" {
			continue
		}
		if r == nil {
			r = &erp.Refusal{Reason: erp.ReasonUnknownSKU}
		}
		r.Lines = append(r.Lines, erp.LineProblem{Line: i + 1, SKU: l.OrderedSKU, Reason: erp.ReasonUnknownSKU, Detail: "no such SKU"})
	}
	if r == nil {
		return nil
	}
	return r
}

// perOrdered converts an ERP unit price to the price of one ordered unit.
func perOrdered(price decimal.Decimal, factor int) decimal.Decimal {
	if factor <= 1 {
		return price
	}
	p, err := price.MulExact(decimal.MustNew(int64(factor), 0), price.Scale())
	if err != nil { // beyond 19 digits: no ERP price times MaxFactor gets here
		return price
	}
	return p
}

// orderedLine converts a booked line back to what the storefront ordered.
func orderedLine(l OrderLine) OrderLine {
	if l.OrderedSKU != "" {
		l.SKU = l.OrderedSKU
	}
	f := l.PerUnit()
	l.Qty /= f
	l.UnitPrice = perOrdered(l.UnitPrice, f)
	return l
}

// orderedOrder converts a booked order's lines to what the storefront ordered.
func orderedOrder(o Order) Order {
	lines := make([]OrderLine, len(o.Lines))
	for i, l := range o.Lines {
		lines[i] = orderedLine(l)
	}
	o.Lines = lines
	return o
}

// orderedRefusal converts a refusal's lines to what the storefront sent: its SKU, its
// unit's price, what is available in its units.
func orderedRefusal(err error, draft []erp.DraftLine) error {
	var r *erp.Refusal
	if !errors.As(err, &r) {
		return err
	}
	out := &erp.Refusal{Reason: r.Reason, Lines: make([]LineProblem, len(r.Lines))}
	for i, lp := range r.Lines {
		if lp.Line >= 1 && lp.Line <= len(draft) {
			d := draft[lp.Line-1]
			f := d.PerUnit()
			lp.SKU = d.OrderedSKU
			if lp.Available != nil {
				n := *lp.Available / f
				lp.Available = &n
			}
			if lp.UnitPrice != nil {
				u := perOrdered(*lp.UnitPrice, f)
				lp.UnitPrice = &u
			}
		}
		out.Lines[i] = lp
	}
	return out
}

// mappingTimeout bounds a mapping change: an import of 100,000 rows takes seconds.
const mappingTimeout = 2 * time.Minute

// admin checks that p is an admin key.
func admin(p *Principal) error {
	if p == nil || !p.Admin {
		return Errorf(CodeForbidden, "an admin key is required")
	}
	return nil
}

// Mappings lists the mappings the filter selects, for an admin.
func (s *Service) Mappings(ctx context.Context, p *Principal, f MappingFilter) ([]Mapping, error) {
	if err := admin(p); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, mappingTimeout)
	defer cancel()
	ms, err := s.erp.Mappings(ctx, f)
	if err != nil {
		return nil, mappingError(err)
	}
	return ms, nil
}

// ChangeMappings applies an admin's change to the mappings, in the ERP, with its audit
// trail, and loads the new mappings at once (other replicas follow the change log).
func (s *Service) ChangeMappings(ctx context.Context, p *Principal, c MappingChange) (MappingReport, error) {
	if err := admin(p); err != nil {
		return MappingReport{}, err
	}
	c.Actor = p.KeyID
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mappingTimeout)
	defer cancel()
	r, err := s.erp.ChangeMappings(ctx, c)
	if err != nil {
		return r, mappingError(err)
	}
	if !c.DryRun && len(r.Refused) == 0 {
		if err := s.LoadMappings(ctx); err != nil {
			s.log.Warn("reload mappings after a change", "err", err) // the follower retries
		}
	}
	return r, nil
}

// MappingAudit lists the mapping audit trail, newest first, for an admin.
func (s *Service) MappingAudit(ctx context.Context, p *Principal, f AuditFilter) ([]AuditEntry, error) {
	if err := admin(p); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadTimeout)
	defer cancel()
	es, err := s.erp.MappingAudit(ctx, f)
	if err != nil {
		return nil, mappingError(err)
	}
	return es, nil
}

// mappingError turns a failed mapping call into the bridge's error.
func mappingError(err error) error {
	switch {
	case errors.Is(err, erp.ErrPreconditionFailed):
		return &Error{Code: CodePreconditionFailed, Detail: "the mapping changed since this ETag was read: read it again", Err: err}
	case errors.Is(err, erp.ErrExists):
		return &Error{Code: CodeConflict, Detail: "the mapping exists already: update it with its ETag in If-Match", Err: err}
	}
	return erpError("mappings", err)
}
