package storefront

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/bridge"
)

// maxQty bounds one line's quantity.
const maxQty = 1_000_000

// orderRequest is the body of a quote or an order.
type orderRequest struct {
	PONumber              string             `json:"po_number" validate:"max=64"`
	ShipTo                string             `json:"ship_to" validate:"max=64"`
	RequestedDeliveryDate string             `json:"requested_delivery_date" validate:"omitempty,datetime=2006-01-02"`
	Lines                 []orderLineRequest `json:"lines" validate:"required,min=1,max=200,dive"`
}

type orderLineRequest struct {
	SKU       string           `json:"sku" validate:"required,max=64,printascii"`
	Qty       int              `json:"qty" validate:"required,min=1,max=1000000"`
	UnitPrice *decimal.Decimal `json:"unit_price"`
}

// cart decodes and validates a quote or order body.
func cart(c *fiber.Ctx) (bridge.OrderRequest, error) {
	var req orderRequest
	if err := decodeJSON(c, &req); err != nil {
		return bridge.OrderRequest{}, err
	}
	return req.toBridge()
}

func (r orderRequest) toBridge() (bridge.OrderRequest, error) {
	out := bridge.OrderRequest{PONumber: r.PONumber, ShipTo: r.ShipTo, Lines: make([]bridge.Line, len(r.Lines))}
	if r.RequestedDeliveryDate != "" {
		d, _ := time.Parse(time.DateOnly, r.RequestedDeliveryDate) // validated above
		out.RequestedDeliveryDate = &d
	}
	for i, l := range r.Lines {
		if l.UnitPrice != nil && (l.UnitPrice.IsNeg() || l.UnitPrice.Scale() > 4) {
			return out, invalid("lines["+strconv.Itoa(i)+"].unit_price", "must be a non-negative decimal with at most 4 decimals")
		}
		out.Lines[i] = bridge.Line{SKU: l.SKU, Qty: l.Qty, UnitPrice: l.UnitPrice}
	}
	return out, nil
}

type orderResponse struct {
	OrderID               string              `json:"order_id"`
	ERPOrderNumber        *string             `json:"erp_order_number"`
	Status                string              `json:"status"`
	Currency              string              `json:"currency"`
	Total                 string              `json:"total"`
	PONumber              *string             `json:"po_number"`
	ShipTo                string              `json:"ship_to,omitempty"`
	RequestedDeliveryDate string              `json:"requested_delivery_date,omitempty"`
	Lines                 []orderLineResponse `json:"lines"`
	CreatedAt             string              `json:"created_at"`
}

type orderLineResponse struct {
	SKU       string `json:"sku"`
	Qty       int    `json:"qty"`
	UnitPrice string `json:"unit_price"`
	LineTotal string `json:"line_total"`
	Warehouse string `json:"warehouse"`
}

func toOrderResponse(o bridge.Order) orderResponse {
	out := orderResponse{OrderID: o.ID, Status: o.Status, Currency: o.Currency, Total: o.Total.String(),
		ShipTo: o.ShipTo, CreatedAt: rfc3339(o.CreatedAt), Lines: make([]orderLineResponse, len(o.Lines))}
	if o.Number != "" {
		out.ERPOrderNumber = &o.Number
	}
	if o.PONumber != "" {
		out.PONumber = &o.PONumber
	}
	if o.RequestedDeliveryDate != nil {
		out.RequestedDeliveryDate = o.RequestedDeliveryDate.Format(time.DateOnly)
	}
	for i, l := range o.Lines {
		out.Lines[i] = orderLineResponse{SKU: l.SKU, Qty: l.Qty, UnitPrice: l.UnitPrice.String(),
			LineTotal: l.LineTotal.String(), Warehouse: l.Warehouse}
	}
	return out
}

// Idempotency-Key limits (IETF httpapi draft; Stripe allows 255).
const maxIdempotencyKey = 255

// idempotencyKey reads the required Idempotency-Key: 1–255 printable ASCII characters.
func idempotencyKey(c *fiber.Ctx) (string, error) {
	key := c.Get("Idempotency-Key")
	if key == "" {
		return "", &bridge.Error{Code: bridge.CodeIdempotencyKeyMissing,
			Detail: "placing an order requires an Idempotency-Key header; reuse it to retry safely",
			Fields: []bridge.FieldError{{Field: "Idempotency-Key", Reason: "is required"}}}
	}
	if len(key) > maxIdempotencyKey || strings.IndexFunc(key, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		return "", invalid("Idempotency-Key", "must be 1 to 255 printable ASCII characters")
	}
	return strings.Clone(key), nil
}

// POST /v1/accounts/:account/orders
func (h handlers) placeOrder(c *fiber.Ctx) error {
	// Authenticate → validate syntax → (the ERP) look the reference up → business checks.
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	r, err := cart(c)
	if err != nil {
		return err
	}
	account := strings.Clone(c.Params("account"))
	var erpTime atomic.Int64
	placed, err := h.svc.PlaceOrder(bridge.WithERPTime(c.UserContext(), &erpTime), Principal(c), account, key, r)
	c.Locals(erpTimeKey, time.Duration(erpTime.Load()))
	if err != nil {
		return err
	}
	c.Locals(orderIDKey, placed.Order.ID)
	c.Locals(orderNumberKey, placed.Order.Number)
	c.Location("/v1/accounts/" + account + "/orders/" + placed.Order.ID)
	status := http.StatusCreated
	if placed.Replayed {
		status = http.StatusOK
		c.Set("Idempotent-Replayed", "true")
	}
	return c.Status(status).JSON(toOrderResponse(placed.Order))
}

// GET /v1/accounts/:account/orders/:id
func (h handlers) getOrder(c *fiber.Ctx) error {
	o, err := h.svc.Order(c.UserContext(), Principal(c), c.Params("account"), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(toOrderResponse(o))
}

type orderListResponse struct {
	Orders     []orderResponse `json:"orders"`
	NextCursor *string         `json:"next_cursor"`
}

// GET /v1/accounts/:account/orders?limit=&cursor=
func (h handlers) listOrders(c *fiber.Ctx) error {
	limit := bridge.DefaultOrderPage
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return invalid("limit", "must be a whole number from 1 to 100")
		}
		limit = n
	}
	page, err := h.svc.Orders(c.UserContext(), Principal(c), c.Params("account"), c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	resp := orderListResponse{Orders: make([]orderResponse, len(page.Orders))}
	for i, o := range page.Orders {
		resp.Orders[i] = toOrderResponse(o)
	}
	if page.NextCursor != "" {
		resp.NextCursor = &page.NextCursor
	}
	return c.JSON(resp)
}
