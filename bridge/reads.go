package bridge

import (
	"context"
	"time"

	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/cache"
	"github.com/b2bridge/b2bridge/contracts"
	"github.com/b2bridge/b2bridge/erp"
)

// Source says where a read came from (truth rule 6).
type Source string

// Read sources.
const (
	SourceERP   Source = "erp"
	SourceCache Source = "cache"
	SourceStale Source = "stale"
)

// Freshness is where a read came from and when the ERP said it.
type Freshness struct {
	Source Source
	AsOf   time.Time
}

// freshness turns what the cache says into what the wire says.
func freshness(src cache.Source, asOf time.Time) Freshness {
	f := Freshness{Source: SourceERP, AsOf: asOf.UTC()}
	switch src {
	case cache.Cached:
		f.Source = SourceCache
	case cache.Stale:
		f.Source = SourceStale
	}
	return f
}

// older returns the less fresh of two answers: stale over cache over erp, older as_of.
func older(a, b Freshness) Freshness {
	if rank(b.Source) > rank(a.Source) || (b.Source == a.Source && b.AsOf.Before(a.AsOf)) {
		return b
	}
	return a
}

func rank(s Source) int {
	switch s {
	case SourceStale:
		return 2
	case SourceCache:
		return 1
	}
	return 0
}

// StockItem is one requested SKU's availability in the storefront's unit; Stock is nil
// for an unknown SKU.
type StockItem struct {
	SKU   string
	Stock *erp.Stock
	Freshness
}

// Available is the item's total available-to-promise over its listed warehouses.
func (i StockItem) Available() int {
	n := 0
	for _, w := range i.Stock.Warehouses {
		n += w.Available
	}
	return n
}

// Availability returns the stock of each SKU, in request order, unknown ones flagged,
// in every warehouse or only in warehouse.
func (s *Service) Availability(ctx context.Context, p *Principal, skus []string, warehouse string) ([]StockItem, error) {
	if err := storefront(p, ""); err != nil {
		return nil, err
	}
	refs := s.refs(p, len(skus), func(i int) string { return skus[i] })
	keys := skus
	if refs != nil {
		keys = make([]string, 0, len(skus))
		for _, r := range refs {
			if r.ERPSKU != "" {
				keys = append(keys, r.ERPSKU)
			}
		}
	}
	results, err := s.stock.GetMany(ctx, keys)
	if err != nil {
		return nil, erpError("read stock", err)
	}
	out := make([]StockItem, len(skus))
	for i, sku := range skus {
		ref := refAt(refs, i, sku)
		if ref.ERPSKU == "" {
			out[i] = StockItem{SKU: sku, Freshness: s.unmapped()}
			continue
		}
		r := &results[0]
		results = results[1:]
		out[i] = StockItem{SKU: sku, Freshness: freshness(r.Source, r.AsOf)}
		if !r.Found {
			continue
		}
		// The item points into results, this call's own slice: no allocation per item.
		r.Value = ref.stock(r.Value)
		if warehouse != "" {
			all := r.Value.Warehouses
			r.Value.Warehouses = nil
			for _, w := range all {
				if w.Warehouse == warehouse {
					r.Value.Warehouses = append(r.Value.Warehouses, w)
				}
			}
		}
		out[i].Stock = &r.Value
	}
	return out, nil
}

// refs translates n storefront SKUs; nil when each is the ERP's own in the ERP's unit,
// the common case, which then allocates nothing.
func (s *Service) refs(p *Principal, n int, sku func(int) string) []skuRef {
	var refs []skuRef
	for i := 0; i < n; i++ {
		r := s.sku(p, sku(i))
		if refs == nil {
			if r.ERPSKU == r.SKU && !r.mapped() {
				continue
			}
			refs = make([]skuRef, n)
			for j := 0; j < i; j++ {
				refs[j] = s.sku(p, sku(j))
			}
		}
		refs[i] = r
	}
	return refs
}

// refAt is the i-th SKU as refs translated it.
func refAt(refs []skuRef, i int, sku string) skuRef {
	if refs == nil {
		return skuRef{SKU: sku, ERPSKU: sku, Factor: 1}
	}
	return refs[i]
}

// unmapped is the freshness of an answer the mappings gave alone: a SKU the storefront
// may not use, as of the mappings' load.
func (s *Service) unmapped() Freshness {
	f := Freshness{Source: SourceCache}
	if set := s.mappings.Load(); set != nil {
		f.AsOf = set.loadedAt
	}
	return f
}

// stock converts the ERP's stock of an item into the storefront's unit: whole units
// only, rounded down.
func (r skuRef) stock(st erp.Stock) erp.Stock {
	if !r.mapped() {
		return st
	}
	out := erp.Stock{SKU: r.SKU, Unit: r.Unit, Warehouses: make([]erp.WarehouseStock, len(st.Warehouses))}
	for i, w := range st.Warehouses {
		out.Warehouses[i] = erp.WarehouseStock{Warehouse: w.Warehouse, Available: w.Available / r.Factor}
	}
	if st.NextReceipt != nil {
		nr := *st.NextReceipt
		nr.Qty /= r.Factor
		out.NextReceipt = &nr
	}
	return out
}

// PriceQuery is one line of a price read.
type PriceQuery struct {
	SKU string
	Qty int
}

// PriceLine is the account's price for one line; Problem is set instead when there is none.
type PriceLine struct {
	SKU        string
	Qty        int
	UnitPrice  decimal.Decimal
	ListPrice  *decimal.Decimal
	Agreement  string
	PriceList  string
	BreakQty   int
	ValidUntil *time.Time
	Problem    Code
}

// Prices is the account's contract prices for a set of lines.
type Prices struct {
	Scope
	Currency string
	Lines    []PriceLine
	Freshness
}

// Prices prices each line for the account as an order placed now would, from cached
// pricing rules (an order re-reads them inside its transaction).
func (s *Service) Prices(ctx context.Context, p *Principal, account string, lines []PriceQuery) (Prices, error) {
	sc, err := s.scope(p, account)
	if err != nil {
		return Prices{}, err
	}
	refs := s.refs(p, len(lines), func(i int) string { return lines[i].SKU })
	keys := make([]string, 0, len(lines))
	for i, l := range lines {
		if r := refAt(refs, i, l.SKU); r.ERPSKU != "" {
			keys = append(keys, priceKey(sc.Account, r.ERPSKU))
		}
	}
	results, err := s.prices.GetMany(ctx, keys)
	if err != nil {
		return Prices{}, erpError("read prices", err)
	}
	out := Prices{Scope: sc}
	for i, l := range lines {
		ref := refAt(refs, i, l.SKU)
		var f Freshness
		pl := PriceLine{SKU: ref.SKU, Qty: l.Qty, Problem: CodeUnknownSKU}
		if ref.ERPSKU == "" {
			f = s.unmapped()
		} else {
			r := results[0]
			results = results[1:]
			f = freshness(r.Source, r.AsOf)
			if r.Found {
				out.Currency = r.Value.Currency
				pl = ref.priceLine(r.Value, l.Qty)
			}
		}
		if i == 0 {
			out.Freshness = f
		}
		out.Freshness = older(out.Freshness, f)
		out.Lines = append(out.Lines, pl)
	}
	if out.Currency == "" { // no known SKU: the account still has a currency
		c, err := s.Credit(ctx, p, account)
		if err != nil {
			return Prices{}, err
		}
		out.Currency = c.Currency
	}
	return out, nil
}

// priceLine prices qty storefront units: the ERP's price for qty × factor ERP units,
// times the factor, at the ERP's scale; a break is the storefront quantity that reaches it.
func (r skuRef) priceLine(p pricing, qty int) PriceLine {
	pl := PriceLine{SKU: r.SKU, Qty: qty}
	price, err := p.Item.Pricing.PriceFor(qty*r.Factor, p.Date)
	if err != nil {
		pl.Problem = CodePriceUnavailable
		return pl
	}
	pl.UnitPrice, pl.ListPrice = perOrdered(price.Unit, r.Factor), price.List
	if price.List != nil && r.Factor > 1 {
		list := perOrdered(*price.List, r.Factor)
		pl.ListPrice = &list
	}
	switch price.Source {
	case contracts.SourceAgreement:
		pl.Agreement = price.Ref
	case contracts.SourcePriceList:
		pl.PriceList = price.Ref
	}
	if price.Source != contracts.SourceList {
		pl.BreakQty = (price.BreakQty + r.Factor - 1) / r.Factor
	}
	if !price.ValidUntil.IsZero() {
		v := price.ValidUntil
		pl.ValidUntil = &v
	}
	return pl
}

// Credit is an account's credit position.
type Credit struct {
	erp.Credit
	Customer string // the storefront's id for the account, if it has one
	Freshness
}

// Credit returns the account's credit position.
func (s *Service) Credit(ctx context.Context, p *Principal, account string) (Credit, error) {
	sc, err := s.scope(p, account)
	if err != nil {
		return Credit{}, err
	}
	r, err := s.credit.Get(ctx, sc.Account)
	if err != nil {
		return Credit{}, erpError("read credit", err)
	}
	return Credit{Credit: r.Value, Customer: sc.Customer, Freshness: freshness(r.Source, r.AsOf)}, nil
}
