package storefront

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
)

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
	buf := bodyPool.Get().(*[]byte)
	*buf = appendPrices((*buf)[:0], prices)
	return sendJSON(c, buf)
}

// appendPrices appends the answer's JSON, its fields in the order of the OpenAPI
// document, empty ones left out.
func appendPrices(b []byte, p bridge.Prices) []byte {
	b = append(b, `{"account":`...)
	b = appendJSONString(b, p.Account)
	if p.Customer != "" {
		b = append(b, `,"customer":`...)
		b = appendJSONString(b, p.Customer)
	}
	b = append(b, `,"currency":`...)
	b = appendJSONString(b, p.Currency)
	b = append(b, `,"lines":[`...)
	for i, l := range p.Lines {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"sku":`...)
		b = appendJSONString(b, l.SKU)
		b = append(b, `,"qty":`...)
		b = strconv.AppendInt(b, int64(l.Qty), 10)
		if l.Problem != "" {
			b = append(b, `,"error":`...)
			b = appendJSONString(b, string(l.Problem))
			b = append(b, '}')
			continue
		}
		b = append(b, `,"unit_price":"`...)
		b, _ = l.UnitPrice.AppendText(b) // a decimal's text never fails
		b = append(b, '"')
		if l.ListPrice != nil {
			b = append(b, `,"list_price":"`...)
			b, _ = l.ListPrice.AppendText(b)
			b = append(b, '"')
		}
		for _, f := range [...]struct{ k, v string }{{`,"agreement":`, l.Agreement}, {`,"price_list":`, l.PriceList}} {
			if f.v != "" {
				b = append(b, f.k...)
				b = appendJSONString(b, f.v)
			}
		}
		if l.BreakQty != 0 {
			b = append(b, `,"break_qty":`...)
			b = strconv.AppendInt(b, int64(l.BreakQty), 10)
		}
		if l.ValidUntil != nil {
			b = append(b, `,"valid_until":"`...)
			b = l.ValidUntil.AppendFormat(b, time.DateOnly)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	b = appendFreshness(b, p.Freshness)
	return append(b, '}')
}
