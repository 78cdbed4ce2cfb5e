package storefront

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
)

type pricesResponse struct {
	Account  string        `json:"account"`
	Customer string        `json:"customer,omitempty"`
	Currency string        `json:"currency"`
	Lines    []priceLine   `json:"lines"`
	Source   bridge.Source `json:"source"`
	AsOf     string        `json:"as_of"`
}

type priceLine struct {
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

// GET /v1/accounts/:account/prices?sku=A&qty=10&sku=B&qty=1 (qty defaults to 1 when
// no qty is given at all; otherwise one per sku).
func (h handlers) prices(c *fiber.Ctx) error {
	skus, err := skuParams(c, MaxLines)
	if err != nil {
		return err
	}
	qtys := c.Context().QueryArgs().PeekMulti("qty")
	if len(qtys) != 0 && len(qtys) != len(skus) {
		return invalid("qty", "give one qty per sku, in the same order, or none")
	}
	lines := make([]bridge.PriceQuery, len(skus))
	for i, sku := range skus {
		lines[i] = bridge.PriceQuery{SKU: sku, Qty: 1}
		if len(qtys) > 0 {
			q, err := strconv.Atoi(string(qtys[i]))
			if err != nil || q < 1 || q > maxQty {
				return invalid("qty", "must be whole numbers from 1 to "+strconv.Itoa(maxQty))
			}
			lines[i].Qty = q
		}
	}
	prices, err := h.svc.Prices(c.UserContext(), Principal(c), c.Params("account"), lines)
	if err != nil {
		return err
	}
	resp := pricesResponse{Account: prices.Account, Customer: prices.Customer, Currency: prices.Currency, Source: prices.Source,
		AsOf: rfc3339(prices.AsOf), Lines: make([]priceLine, len(prices.Lines))}
	for i, l := range prices.Lines {
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
		resp.Lines[i] = out
	}
	return c.JSON(resp)
}
