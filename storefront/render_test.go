package storefront

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp"
)

// The hand-written answers of the cached reads are, byte for byte, what encoding/json
// writes of the structs the OpenAPI document describes, for plain values and for ones
// that need escaping.
func TestCachedReadAnswersAreWhatEncodingJSONWrites(t *testing.T) {
	type (
		warehouseStock struct {
			Warehouse string `json:"warehouse"`
			Available int    `json:"available"`
		}
		receipt struct {
			Date string `json:"date"`
			Qty  int    `json:"qty"`
		}
		availabilityItem struct {
			SKU         string           `json:"sku"`
			Error       bridge.Code      `json:"error,omitempty"`
			Unit        string           `json:"unit,omitempty"`
			Available   *int             `json:"available,omitempty"`
			Warehouses  []warehouseStock `json:"warehouses,omitempty"`
			NextReceipt *receipt         `json:"next_receipt,omitempty"`
			Source      bridge.Source    `json:"source"`
			AsOf        string           `json:"as_of"`
		}
		priceLine struct {
			SKU        string      `json:"sku"`
			Qty        int         `json:"qty"`
			Error      bridge.Code `json:"error,omitempty"`
			UnitPrice  string      `json:"unit_price,omitempty"`
			ListPrice  *string     `json:"list_price,omitempty"`
			Agreement  string      `json:"agreement,omitempty"`
			PriceList  string      `json:"price_list,omitempty"`
			BreakQty   int         `json:"break_qty,omitempty"`
			ValidUntil string      `json:"valid_until,omitempty"`
		}
		pricesAnswer struct {
			Account  string        `json:"account"`
			Customer string        `json:"customer,omitempty"`
			Currency string        `json:"currency"`
			Lines    []priceLine   `json:"lines"`
			Source   bridge.Source `json:"source"`
			AsOf     string        `json:"as_of"`
		}
	)
	same := func(what string, got []byte, v any) {
		t.Helper()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", what, got, want)
		}
	}
	odd := "a\"b\\c\x01d<é>\xff&\u2028" // quotes, controls, HTML, non-ASCII, invalid UTF-8
	asOf := time.Date(2026, 12, 5, 21, 30, 1, 123456789, time.FixedZone("CET", 3600))
	when := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)

	stock := []bridge.StockItem{
		{SKU: "GONE", Freshness: bridge.Freshness{Source: bridge.SourceCache, AsOf: asOf}},
		{SKU: "A-1", Stock: &erp.Stock{Unit: "EA", Warehouses: []erp.WarehouseStock{{Warehouse: "WH-1", Available: 3}, {Warehouse: "WH-2", Available: -2}}},
			Freshness: bridge.Freshness{Source: bridge.SourceERP, AsOf: asOf.UTC()}},
		{SKU: odd, Stock: &erp.Stock{Unit: odd, Warehouses: []erp.WarehouseStock{{Warehouse: odd, Available: 1 << 40}}, NextReceipt: &erp.Receipt{Date: when, Qty: 12}},
			Freshness: bridge.Freshness{Source: bridge.SourceStale, AsOf: asOf}},
		{SKU: "B", Stock: &erp.Stock{}, Freshness: bridge.Freshness{Source: bridge.SourceCache}},
	}
	for n := range len(stock) + 1 {
		items := make([]availabilityItem, n)
		for i, it := range stock[:n] {
			items[i] = availabilityItem{SKU: it.SKU, Source: it.Source, AsOf: it.AsOf.UTC().Format(time.RFC3339Nano)}
			if it.Stock == nil {
				items[i].Error = bridge.CodeUnknownSKU
				continue
			}
			avail := it.Available()
			items[i].Unit, items[i].Available = it.Stock.Unit, &avail
			for _, w := range it.Stock.Warehouses {
				items[i].Warehouses = append(items[i].Warehouses, warehouseStock(w))
			}
			if r := it.Stock.NextReceipt; r != nil {
				items[i].NextReceipt = &receipt{Date: r.Date.Format(time.DateOnly), Qty: r.Qty}
			}
		}
		same("availability of "+strconv.Itoa(n), appendAvailability(nil, stock[:n]), struct {
			Items []availabilityItem `json:"items"`
		}{items})
	}

	list, unit := decimal.MustParse("19.90"), decimal.MustParse("1234567.0500")
	prices := []bridge.Prices{
		{Scope: bridge.Scope{Account: "C1001"}, Currency: "EUR", Lines: []bridge.PriceLine{}, Freshness: bridge.Freshness{Source: bridge.SourceCache, AsOf: asOf}},
		{Scope: bridge.Scope{Account: odd, Customer: odd}, Currency: odd, Freshness: bridge.Freshness{Source: bridge.SourceStale, AsOf: asOf},
			Lines: []bridge.PriceLine{
				{SKU: "A-1", Qty: 10, UnitPrice: unit, ListPrice: &list, Agreement: "AG-7", BreakQty: 10, ValidUntil: &when},
				{SKU: odd, Qty: 1, Problem: bridge.CodeUnknownSKU},
				{SKU: "B", Qty: 2, UnitPrice: list, PriceList: odd, BreakQty: 1},
				{SKU: "C", Qty: 3, UnitPrice: decimal.Zero, Problem: bridge.CodePriceUnavailable},
				{SKU: "D", Qty: 1, UnitPrice: decimal.MustParse("-0.5")},
			}},
	}
	for _, p := range prices {
		want := pricesAnswer{Account: p.Account, Customer: p.Customer, Currency: p.Currency, Source: p.Source,
			AsOf: p.AsOf.UTC().Format(time.RFC3339Nano), Lines: []priceLine{}}
		for _, l := range p.Lines {
			out := priceLine{SKU: l.SKU, Qty: l.Qty, Error: l.Problem}
			if l.Problem == "" {
				out.UnitPrice, out.Agreement, out.PriceList, out.BreakQty = l.UnitPrice.String(), l.Agreement, l.PriceList, l.BreakQty
				if l.ListPrice != nil {
					s := l.ListPrice.String()
					out.ListPrice = &s
				}
				if l.ValidUntil != nil {
					out.ValidUntil = l.ValidUntil.Format(time.DateOnly)
				}
			}
			want.Lines = append(want.Lines, out)
		}
		same("prices of "+strconv.Itoa(len(p.Lines))+" lines", appendPrices(nil, p), want)
	}
}
