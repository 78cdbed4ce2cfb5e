package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/b2bridge/b2bridge/erp"
)

// OrderRequest is a cart as the storefront sends it, for a quote or an order.
type OrderRequest struct {
	PONumber              string
	ShipTo                string
	RequestedDeliveryDate *time.Time
	Lines                 []Line
}

// Placed is a placed order; Replayed is set when the Idempotency-Key was already used
// for the same request and Order is that first booking, as the ERP has it now.
type Placed struct {
	Order    Order
	Replayed bool
}

// ExternalRef derives the ERP order's external reference from the idempotency key and its
// scope: base32(sha256(storefront ‖ account ‖ key)) cut to 26 characters. A NUL separates
// the parts so that no two scopes concatenate alike.
func ExternalRef(storefront, account, key string) string {
	sum := sha256.Sum256([]byte(storefront + "\x00" + account + "\x00" + key))
	return base32.StdEncoding.EncodeToString(sum[:])[:26]
}

// RequestHash is the hash of the canonical request: the account, ship-to, PO number,
// requested delivery date and the lines in order, decimals normalised ("12.50" = "12.5").
// The API key is not part of it, so a retry survives key rotation.
func RequestHash(account string, r OrderRequest) string {
	var b strings.Builder
	field := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	field(account)
	field(r.ShipTo)
	field(r.PONumber)
	if r.RequestedDeliveryDate != nil {
		field(r.RequestedDeliveryDate.Format(time.DateOnly))
	} else {
		field("")
	}
	for _, l := range r.Lines {
		field(l.SKU)
		field(strconv.Itoa(l.Qty))
		if l.UnitPrice != nil {
			field(l.UnitPrice.Trim(0).String())
		} else {
			field("-")
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// PlaceOrder places the order in the ERP, once per Idempotency-Key. The ERP call runs on
// a context of its own, bounded by the order timeout: neither a client hanging up nor
// the server shutting down cancels a commit in flight. Orders never use the cache, and
// with the write breaker open they fail fast.
func (s *Service) PlaceOrder(ctx context.Context, p *Principal, account, key string, r OrderRequest) (Placed, error) {
	sc, err := s.scope(p, account)
	if err != nil {
		return Placed{}, err
	}
	// The reference and hash name the ERP account: addressed by the storefront's customer
	// id or the ERP's, it is one order.
	draft := erp.OrderDraft{
		Account:               sc.Account,
		ExternalRef:           ExternalRef(p.Storefront, sc.Account, key),
		RequestHash:           RequestHash(sc.Account, r),
		PONumber:              r.PONumber,
		ShipTo:                r.ShipTo,
		RequestedDeliveryDate: r.RequestedDeliveryDate,
		Lines:                 s.draftLines(p, r.Lines),
		CreditPolicy:          s.cfg.CreditPolicy,
	}
	if err := unmapped(draft.Lines); err != nil {
		return Placed{}, erpError("place order", err)
	}
	ctx = context.WithoutCancel(ctx)
	var placed erp.Placement
	err = s.guards[OrderWrites].run(ctx, func(ctx context.Context) (err error) {
		placed, err = s.erp.PlaceOrder(ctx, draft)
		return err
	})
	if errors.Is(err, erp.ErrOutcomeUnknown) {
		placed, err = s.resolve(ctx, draft, err)
	}
	if err != nil {
		s.logOrderError(draft, err)
		return Placed{}, erpError("place order", orderedRefusal(err, draft.Lines))
	}
	if placed.Order.RequestHash != draft.RequestHash {
		return Placed{}, Errorf(CodeIdempotencyKeyReused,
			"this Idempotency-Key was used for another request (order %s); use a new key for a new order", placed.Order.ID)
	}
	if !placed.Replayed {
		s.invalidateOrder(placed.Order)
	}
	return Placed{Order: orderedOrder(placed.Order), Replayed: placed.Replayed}, nil
}

// resolve looks up an order whose commit was sent but not confirmed: found, it was
// booked (and this is its first answer); otherwise the outcome stays unknown, since a
// commit still on its way may land after the look-up.
func (s *Service) resolve(ctx context.Context, d erp.OrderDraft, cause error) (erp.Placement, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.LookupTimeout)
	defer cancel()
	o, err := s.erp.OrderByRef(ctx, d.ExternalRef)
	if err != nil {
		s.log.Warn("order outcome unknown", "external_ref", d.ExternalRef, "cause", cause, "lookup", err)
		return erp.Placement{}, cause
	}
	s.log.Info("order outcome resolved by look-up", "external_ref", d.ExternalRef, "order", o.ID, "cause", cause)
	return erp.Placement{Order: o}, nil
}

// invalidateOrder drops what a booked order changed from the caches at once; other
// replicas learn it from the change log.
func (s *Service) invalidateOrder(o Order) {
	for _, l := range o.Lines {
		s.invalidate(erp.Change{Entity: erp.ChangeStock, Key: l.SKU})
	}
	s.credit.Invalidate(o.Account)
}

func (s *Service) logOrderError(d erp.OrderDraft, err error) {
	var refusal *erp.Refusal
	if errors.As(err, &refusal) {
		return // an answer, not a failure
	}
	s.log.Error("place order", "account", d.Account, "external_ref", d.ExternalRef, "err", err)
}

// Quote simulates the order exactly as PlaceOrder would price and allocate it, reading
// from the ERP without locks; it books nothing.
func (s *Service) Quote(ctx context.Context, p *Principal, account string, r OrderRequest) (Quote, error) {
	sc, err := s.scope(p, account)
	if err != nil {
		return Quote{}, err
	}
	lines := s.draftLines(p, r.Lines)
	var q Quote
	err = s.guards[PriceReads].run(ctx, func(ctx context.Context) (err error) {
		q, err = s.erp.Quote(ctx, erp.OrderDraft{Account: sc.Account, ShipTo: r.ShipTo, PONumber: r.PONumber,
			RequestedDeliveryDate: r.RequestedDeliveryDate, Lines: lines, CreditPolicy: s.cfg.CreditPolicy})
		return err
	})
	if err != nil {
		return Quote{}, erpError("quote", orderedRefusal(err, lines))
	}
	for i, l := range q.Lines { // into what the storefront ordered
		if l.OrderedSKU != "" {
			l.SKU = l.OrderedSKU
		}
		f := l.PerUnit()
		l.Qty, l.Available = l.Qty/f, l.Available/f
		if l.UnitPrice != nil {
			u := perOrdered(*l.UnitPrice, f)
			l.UnitPrice = &u
		}
		q.Lines[i] = l
	}
	return q, nil
}

// Order returns one of the account's orders; another account's order is not found.
func (s *Service) Order(ctx context.Context, p *Principal, account, id string) (Order, error) {
	sc, err := s.scope(p, account)
	if err != nil {
		return Order{}, err
	}
	var o Order
	err = s.guards[CreditReads].run(ctx, func(ctx context.Context) (err error) {
		o, err = s.erp.Order(ctx, sc.Account, id)
		return err
	})
	if err != nil {
		return Order{}, erpError("read order "+id, err)
	}
	return orderedOrder(o), nil
}

// Order history page sizes.
const (
	DefaultOrderPage = 20
	MaxOrderPage     = 100
)

// OrderPage is one page of an account's order history, newest first.
type OrderPage struct {
	Orders     []Order
	NextCursor string // empty on the last page
}

// Orders lists the account's orders newest first, from an opaque cursor ("" = newest).
func (s *Service) Orders(ctx context.Context, p *Principal, account, cursor string, limit int) (OrderPage, error) {
	sc, err := s.scope(p, account)
	if err != nil {
		return OrderPage{}, err
	}
	if limit < 1 || limit > MaxOrderPage {
		return OrderPage{}, &Error{Code: CodeInvalidRequest, Detail: "limit must be between 1 and 100",
			Fields: []FieldError{{Field: "limit", Reason: "must be between 1 and 100"}}}
	}
	after, err := decodeCursor(cursor)
	if err != nil {
		return OrderPage{}, &Error{Code: CodeInvalidRequest, Detail: "cursor is not one this API returned",
			Fields: []FieldError{{Field: "cursor", Reason: "invalid"}}, Err: err}
	}
	var orders []Order
	err = s.guards[CreditReads].run(ctx, func(ctx context.Context) (err error) {
		orders, err = s.erp.Orders(ctx, sc.Account, after, limit+1)
		return err
	})
	if err != nil {
		return OrderPage{}, erpError("list orders", err)
	}
	page := OrderPage{Orders: orders}
	if len(orders) > limit {
		page.Orders = orders[:limit]
		last := page.Orders[limit-1]
		page.NextCursor = encodeCursor(erp.OrderCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	for i, o := range page.Orders {
		page.Orders[i] = orderedOrder(o)
	}
	return page, nil
}

func encodeCursor(c erp.OrderCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

func decodeCursor(s string) (*erp.OrderCursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" {
		return nil, errors.New("malformed cursor")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, err
	}
	return &erp.OrderCursor{CreatedAt: t, ID: id}, nil
}
