package storefront

import (
	"github.com/gofiber/fiber/v2"
)

type quoteResponse struct {
	Currency string      `json:"currency"`
	Total    string      `json:"total"`
	Lines    []quoteLine `json:"lines"`
	Credit   quoteCredit `json:"credit"`
	Source   string      `json:"source"`
	AsOf     string      `json:"as_of"`
}

type quoteLine struct {
	SKU       string  `json:"sku"`
	Qty       int     `json:"qty"`
	UnitPrice *string `json:"unit_price"`
	LineTotal *string `json:"line_total"`
	Warehouse *string `json:"warehouse"`
	Available int     `json:"available"`
	Problem   string  `json:"problem,omitempty"`
}

type quoteCredit struct {
	Decision  string `json:"decision"`
	Available string `json:"available"`
}

// POST /v1/accounts/:account/quotes: the cart priced and allocated as an order would be.
// A valid cart is always 200; each line that would fail says why in problem.
func (h handlers) quote(c *fiber.Ctx) error {
	r, err := cart(c)
	if err != nil {
		return err
	}
	q, err := h.svc.Quote(c.UserContext(), Principal(c), c.Params("account"), r)
	if err != nil {
		return err
	}
	resp := quoteResponse{Currency: q.Currency, Total: q.Total.String(), Source: "erp", AsOf: rfc3339(q.AsOf),
		Credit: quoteCredit{Decision: q.Credit.Decision, Available: q.Credit.Available.String()}}
	for _, l := range q.Lines {
		out := quoteLine{SKU: l.SKU, Qty: l.Qty, Available: l.Available, Problem: string(l.Problem)}
		if l.UnitPrice != nil {
			u, t := l.UnitPrice.String(), l.LineTotal.String()
			out.UnitPrice, out.LineTotal = &u, &t
		}
		if l.Warehouse != "" {
			out.Warehouse = &l.Warehouse
		}
		resp.Lines = append(resp.Lines, out)
	}
	return c.JSON(resp)
}
