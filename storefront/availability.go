package storefront

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
)

// GET /v1/availability?sku=A&sku=B[&warehouse=W]
func (h handlers) availability(c *fiber.Ctx) error {
	skus, err := skuParams(c, MaxSKUs)
	if err != nil {
		return err
	}
	items, err := h.svc.Availability(c.UserContext(), Principal(c), skus, c.Query("warehouse"))
	if err != nil {
		return err
	}
	buf := bodyPool.Get().(*[]byte)
	*buf = appendAvailability((*buf)[:0], items)
	return sendJSON(c, buf)
}

// appendAvailability appends the answer's JSON: {"items":[...]}, each item's fields in
// the order of the OpenAPI document, empty ones left out.
func appendAvailability(b []byte, items []bridge.StockItem) []byte {
	b = append(b, `{"items":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"sku":`...)
		b = appendJSONString(b, it.SKU)
		if st := it.Stock; st == nil {
			b = append(b, `,"error":`...)
			b = appendJSONString(b, string(bridge.CodeUnknownSKU))
		} else {
			if st.Unit != "" {
				b = append(b, `,"unit":`...)
				b = appendJSONString(b, st.Unit)
			}
			b = append(b, `,"available":`...)
			b = strconv.AppendInt(b, int64(it.Available()), 10)
			for j, w := range st.Warehouses {
				if j == 0 {
					b = append(b, `,"warehouses":[`...)
				} else {
					b = append(b, ',')
				}
				b = append(b, `{"warehouse":`...)
				b = appendJSONString(b, w.Warehouse)
				b = append(b, `,"available":`...)
				b = strconv.AppendInt(b, int64(w.Available), 10)
				b = append(b, '}')
			}
			if len(st.Warehouses) > 0 {
				b = append(b, ']')
			}
			if r := st.NextReceipt; r != nil {
				b = append(b, `,"next_receipt":{"date":"`...)
				b = r.Date.AppendFormat(b, time.DateOnly)
				b = append(b, `","qty":`...)
				b = strconv.AppendInt(b, int64(r.Qty), 10)
				b = append(b, '}')
			}
		}
		b = appendFreshness(b, it.Freshness)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// skuParams reads the repeated sku query parameter: 1 to max values, none empty.
func skuParams(c *fiber.Ctx, max int) ([]string, error) {
	raw := c.Context().QueryArgs().PeekMulti("sku")
	if len(raw) == 0 {
		return nil, invalid("sku", "is required (repeat it for several SKUs)")
	}
	if len(raw) > max {
		return nil, invalid("sku", "at most "+strconv.Itoa(max)+" SKUs per request")
	}
	skus := make([]string, len(raw))
	for i, b := range raw {
		if len(b) == 0 || len(b) > 64 {
			return nil, invalid("sku", "must be 1 to 64 characters")
		}
		skus[i] = string(b) // copies: fasthttp reuses its buffers
	}
	return skus, nil
}
