package storefront

import (
	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
)

type creditResponse struct {
	Account   string        `json:"account"`
	Customer  string        `json:"customer,omitempty"`
	Currency  string        `json:"currency"`
	Limit     string        `json:"limit"`
	Exposure  string        `json:"exposure"`
	Available string        `json:"available"`
	OnHold    bool          `json:"on_hold"`
	Terms     string        `json:"terms"`
	Source    bridge.Source `json:"source"`
	AsOf      string        `json:"as_of"`
}

// GET /v1/accounts/:account/credit
func (h handlers) credit(c *fiber.Ctx) error {
	cr, err := h.svc.Credit(c.UserContext(), Principal(c), c.Params("account"))
	if err != nil {
		return err
	}
	return c.JSON(creditResponse{Account: cr.Account, Customer: cr.Customer, Currency: cr.Currency, Limit: cr.Limit.String(),
		Exposure: cr.Exposure.String(), Available: cr.Available().String(), OnHold: cr.OnHold, Terms: cr.Terms,
		Source: cr.Source, AsOf: rfc3339(cr.AsOf)})
}
