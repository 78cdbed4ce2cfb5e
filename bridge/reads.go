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

// StockItem is one requested SKU's availability; Stock is nil for an unknown SKU.
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
	results, err := s.stock.GetMany(ctx, skus, s.loadStock)
	if err != nil {
		return nil, erpError("read stock", err)
	}
	out := make([]StockItem, len(skus))
	for i, r := range results {
		out[i] = StockItem{SKU: skus[i], Freshness: freshness(r.Source, r.AsOf)}
		if !r.Found {
			continue
		}
		st := r.Value
		if warehouse != "" {
			st.Warehouses = nil
			for _, w := range r.Value.Warehouses {
				if w.Warehouse == warehouse {
					st.Warehouses = append(st.Warehouses, w)
				}
			}
		}
		out[i].Stock = &st
	}
	return out, nil
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
	Account  string
	Currency string
	Lines    []PriceLine
	Freshness
}

// Prices prices each line for the account as an order placed now would, from cached
// pricing rules (an order re-reads them inside its transaction).
func (s *Service) Prices(ctx context.Context, p *Principal, account string, lines []PriceQuery) (Prices, error) {
	if err := storefront(p, account); err != nil {
		return Prices{}, err
	}
	keys := make([]string, len(lines))
	for i, l := range lines {
		keys[i] = priceKey(account, l.SKU)
	}
	results, err := s.prices.GetMany(ctx, keys, s.loadPrices(account))
	if err != nil {
		return Prices{}, erpError("read prices", err)
	}
	out := Prices{Account: account}
	for i, r := range results {
		f := freshness(r.Source, r.AsOf)
		if i == 0 {
			out.Freshness = f
		}
		out.Freshness = older(out.Freshness, f)
		pl := PriceLine{SKU: lines[i].SKU, Qty: lines[i].Qty, Problem: CodeUnknownSKU}
		if r.Found {
			out.Currency = r.Value.Currency
			pl = priceLine(r.Value, lines[i])
		}
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

func priceLine(p pricing, q PriceQuery) PriceLine {
	pl := PriceLine{SKU: q.SKU, Qty: q.Qty}
	price, err := p.Item.Pricing.PriceFor(q.Qty, p.Date)
	if err != nil {
		pl.Problem = CodePriceUnavailable
		return pl
	}
	pl.UnitPrice, pl.ListPrice = price.Unit, price.List
	switch price.Source {
	case contracts.SourceAgreement:
		pl.Agreement = price.Ref
	case contracts.SourcePriceList:
		pl.PriceList = price.Ref
	}
	if price.Source != contracts.SourceList {
		pl.BreakQty = price.BreakQty
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
	Freshness
}

// Credit returns the account's credit position.
func (s *Service) Credit(ctx context.Context, p *Principal, account string) (Credit, error) {
	if err := storefront(p, account); err != nil {
		return Credit{}, err
	}
	r, err := s.credit.Get(ctx, account, s.loadCredit)
	if err != nil {
		return Credit{}, erpError("read credit", err)
	}
	return Credit{Credit: r.Value, Freshness: freshness(r.Source, r.AsOf)}, nil
}
