package storefront

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
)

type availabilityResponse struct {
	Items []availabilityItem `json:"items"`
}

type availabilityItem struct {
	SKU         string           `json:"sku"`
	Error       bridge.Code      `json:"error,omitempty"`
	Unit        string           `json:"unit,omitempty"`
	Available   *int             `json:"available,omitempty"`
	Warehouses  []warehouseStock `json:"warehouses,omitempty"`
	NextReceipt *receipt         `json:"next_receipt,omitempty"`
	Source      bridge.Source    `json:"source"`
	AsOf        string           `json:"as_of"`
}

type warehouseStock struct {
	Warehouse string `json:"warehouse"`
	Available int    `json:"available"`
}

type receipt struct {
	Date string `json:"date"`
	Qty  int    `json:"qty"`
}

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
	resp := availabilityResponse{Items: make([]availabilityItem, len(items))}
	for i, it := range items {
		out := availabilityItem{SKU: it.SKU, Source: it.Source, AsOf: rfc3339(it.AsOf)}
		if it.Stock == nil {
			out.Error = bridge.CodeUnknownSKU
			resp.Items[i] = out
			continue
		}
		n := it.Available()
		out.Unit, out.Available = it.Stock.Unit, &n
		out.Warehouses = make([]warehouseStock, 0, len(it.Stock.Warehouses))
		for _, w := range it.Stock.Warehouses {
			out.Warehouses = append(out.Warehouses, warehouseStock(w))
		}
		if r := it.Stock.NextReceipt; r != nil {
			out.NextReceipt = &receipt{Date: r.Date.Format(time.DateOnly), Qty: r.Qty}
		}
		resp.Items[i] = out
	}
	return c.JSON(resp)
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
