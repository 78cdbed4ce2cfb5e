package bridge

import (
	"context"
	"time"

	"github.com/govalues/decimal"

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

// Availability returns the stock of each SKU, in request order, unknown ones flagged.
func (s *Service) Availability(ctx context.Context, p *Principal, skus []string, warehouse string) ([]StockItem, error) {
	if err := storefront(p, ""); err != nil {
		return nil, err
	}
	ctx, cancel := s.readContext(ctx)
	defer cancel()
	stock, err := s.erp.Stock(ctx, skus, warehouse)
	if err != nil {
		return nil, erpError("read stock", err)
	}
	fresh := Freshness{Source: SourceERP, AsOf: s.now().UTC()}
	bySKU := make(map[string]*erp.Stock, len(stock))
	for i := range stock {
		bySKU[stock[i].SKU] = &stock[i]
	}
	out := make([]StockItem, len(skus))
	for i, sku := range skus {
		out[i] = StockItem{SKU: sku, Stock: bySKU[sku], Freshness: fresh}
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

// Prices prices each line for the account as an order placed now would.
func (s *Service) Prices(ctx context.Context, p *Principal, account string, lines []PriceQuery) (Prices, error) {
	if err := storefront(p, account); err != nil {
		return Prices{}, err
	}
	skus := make([]string, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
	}
	ctx, cancel := s.readContext(ctx)
	defer cancel()
	data, err := s.erp.PriceData(ctx, account, skus)
	if err != nil {
		return Prices{}, erpError("read prices", err)
	}
	out := Prices{Account: account, Currency: data.Currency, Freshness: Freshness{Source: SourceERP, AsOf: s.now().UTC()}}
	for _, l := range lines {
		out.Lines = append(out.Lines, priceLine(data, l))
	}
	return out, nil
}

func priceLine(data erp.PriceData, q PriceQuery) PriceLine {
	pl := PriceLine{SKU: q.SKU, Qty: q.Qty}
	item, ok := data.Items[q.SKU]
	if !ok {
		pl.Problem = CodeUnknownSKU
		return pl
	}
	price, err := item.Pricing.PriceFor(q.Qty, data.Date)
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
	ctx, cancel := s.readContext(ctx)
	defer cancel()
	c, err := s.erp.Credit(ctx, account)
	if err != nil {
		return Credit{}, erpError("read credit", err)
	}
	return Credit{Credit: c, Freshness: Freshness{Source: SourceERP, AsOf: s.now().UTC()}}, nil
}
