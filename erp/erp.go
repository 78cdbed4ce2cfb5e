// Package erp is the port between the bridge and the ERP, the only system of record for
// stock, prices, credit and orders. Adapters live in sub-packages: sqlerp speaks the ERP
// interface schema over database/sql, embedded runs it on a local SQLite file.
package erp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/contracts"
)

// ERP is what the bridge needs from the ERP. Every method is safe for concurrent use.
// Reads and writes take a context whose deadline the caller sets.
type ERP interface {
	// Stock returns the stock of the items with these SKUs (unknown SKUs are absent),
	// in every warehouse or, if warehouse is not empty, in that one.
	Stock(ctx context.Context, skus []string, warehouse string) ([]Stock, error)
	// PriceData returns what prices these SKUs for the account (unknown SKUs are absent).
	PriceData(ctx context.Context, account string, skus []string) (PriceData, error)
	// Credit returns the account's credit position.
	Credit(ctx context.Context, account string) (Credit, error)
	// Quote simulates PlaceOrder without writing or locking anything.
	Quote(ctx context.Context, draft OrderDraft) (Quote, error)
	// PlaceOrder books the draft in one ERP transaction. A draft whose ExternalRef is
	// already booked answers that order with Replayed set. A refused order returns a
	// *Refusal and leaves nothing behind. An error wrapping ErrOutcomeUnknown means the
	// commit was sent and its result is not known.
	PlaceOrder(ctx context.Context, draft OrderDraft) (Placement, error)
	// Order returns the account's order with this id, or ErrNotFound.
	Order(ctx context.Context, account, id string) (Order, error)
	// OrderByRef returns the order with this external reference, or ErrNotFound.
	OrderByRef(ctx context.Context, ref string) (Order, error)
	// Orders lists the account's orders newest first, after the cursor (nil: from the newest).
	Orders(ctx context.Context, account string, after *OrderCursor, limit int) ([]Order, error)
	// APIKeys returns every API key that is not revoked (hashed), with the accounts it
	// may act for.
	APIKeys(ctx context.Context) ([]APIKey, error)
	// TouchKeys records when each key (by hash) was last used.
	TouchKeys(ctx context.Context, used map[string]time.Time) error
	// Changes returns up to limit change-log rows with a sequence number above after, in
	// sequence order.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)
	// ChangeHead returns the highest sequence number of the change log (0 if empty).
	ChangeHead(ctx context.Context) (int64, error)
	// Ping checks that the ERP answers.
	Ping(ctx context.Context) error

	// Mappings lists the mappings the filter selects, in (storefront, key) order.
	Mappings(ctx context.Context, f MappingFilter) ([]Mapping, error)
	// ChangeMappings applies the change in one transaction, or reports why it cannot.
	// A failed IfMatch or Create is ErrPreconditionFailed or ErrExists; a put or delete
	// of a row that is not there, ErrNotFound.
	ChangeMappings(ctx context.Context, c MappingChange) (MappingReport, error)
	// MappingAudit lists the mapping audit trail, newest first.
	MappingAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// Change is one row of the ERP's change log: something a cache may hold changed.
type Change struct {
	Seq    int64
	Entity string // one of the Change* entities
	Key    string
}

// Change-log entities and what their Key names.
const (
	ChangeStock      = "stock"       // an item's stock (SKU)
	ChangeItemPrices = "item_prices" // an item's list or group prices, for every account (SKU)
	ChangeAccount    = "account"     // an account's credit, currency, group or agreements (account id)
	ChangeAllPrices  = "all_prices"  // a price list's header (price list id)
	ChangeAll        = "all"         // everything (the data was replaced)
	ChangeKeys       = "keys"        // API keys or the accounts they serve ("*")
	ChangeMappings   = "mappings"    // a mapping kind's rows (MappingKind)
)

// Class is an operation class of the port. The bridge gives each its own breaker,
// timeout and concurrency bound; the embedded ERP injects faults per class.
type Class string

// The operation classes: Stock; PriceData and Quote; Credit, Order and Orders;
// PlaceOrder. OrderByRef, the change log, keys and Ping belong to none: they are how
// the bridge recovers and operates.
const (
	StockReads  Class = "stock_reads"
	PriceReads  Class = "price_reads"
	CreditReads Class = "credit_reads"
	OrderWrites Class = "order_writes"
)

// Classes lists the operation classes.
var Classes = []Class{StockReads, PriceReads, CreditReads, OrderWrites}

// Errors of the port.
var (
	ErrNotFound       = errors.New("not found")
	ErrOutcomeUnknown = errors.New("order outcome unknown")
)

// Stock is one item's available-to-promise (on hand less reserved) per warehouse.
type Stock struct {
	SKU         string
	Unit        string
	Warehouses  []WarehouseStock
	NextReceipt *Receipt
}

// WarehouseStock is the available quantity of an item in one warehouse.
type WarehouseStock struct {
	Warehouse string
	Available int
}

// Receipt is the next expected inbound quantity of an item.
type Receipt struct {
	Date time.Time
	Qty  int
}

// Item is a sellable item as the storefront knows it.
type Item struct {
	SKU           string
	Unit          string
	MinQty        int
	OrderMultiple int
}

// PriceData is what prices items for one account on the ERP's business date.
type PriceData struct {
	Account  string
	Currency string
	Date     time.Time // business date in the ERP company's time zone
	Items    map[string]ItemPricing
}

// ItemPricing pairs an item with its pricing rules for one account.
type ItemPricing struct {
	Item    Item
	Pricing contracts.Item
}

// Credit is an account's credit position. Exposure counts net totals of open orders.
type Credit struct {
	Account  string
	Currency string
	Limit    decimal.Decimal
	Exposure decimal.Decimal
	OnHold   bool
	Terms    string
}

// Available is the credit left before the limit, never below zero.
func (c Credit) Available() decimal.Decimal {
	a, err := c.Limit.Sub(c.Exposure)
	if err != nil || a.IsNeg() {
		return decimal.Zero.Pad(c.Limit.Scale())
	}
	return a
}

// CreditPolicy says what happens to an order that fails the credit check.
type CreditPolicy string

// The credit policies.
const (
	CreditReject CreditPolicy = "reject" // refuse the order (422)
	CreditHold   CreditPolicy = "hold"   // book it with status credit_hold, adding no exposure
)

// ParseCreditPolicy validates a configured policy.
func ParseCreditPolicy(s string) (CreditPolicy, error) {
	switch p := CreditPolicy(strings.ToLower(s)); p {
	case CreditReject, CreditHold:
		return p, nil
	}
	return "", fmt.Errorf("credit policy %q: want reject or hold", s)
}

// OrderDraft is an order as the bridge asks the ERP to book it.
type OrderDraft struct {
	Account               string
	ExternalRef           string // unique per storefront, account and Idempotency-Key
	RequestHash           string // hash of the canonical request, to tell replays from reuse
	PONumber              string
	ShipTo                string // empty: the account's default ship-to
	RequestedDeliveryDate *time.Time
	Lines                 []DraftLine
	CreditPolicy          CreditPolicy
}

// DraftLine is one requested line, in ERP units. UnitPrice, when set, is the price the
// buyer saw for one ordered unit, that is Factor ERP units.
type DraftLine struct {
	SKU       string
	Qty       int
	UnitPrice *decimal.Decimal
	Ordered
}

// Ordered is what the storefront ordered a line as: its SKU and how many ERP units one
// of its units is. The ERP keeps it with the line so that the order answers in the
// storefront's units; the zero value means the ERP's own SKU and unit.
type Ordered struct {
	OrderedSKU string
	Factor     int
}

// PerUnit returns the factor, 1 when unset.
func (o Ordered) PerUnit() int { return max(o.Factor, 1) }

// Order statuses. Clients must accept values not listed here.
const (
	StatusReceived         = "received"
	StatusOpen             = "open"
	StatusCreditHold       = "credit_hold"
	StatusPartiallyShipped = "partially_shipped"
	StatusShipped          = "shipped"
	StatusCancelled        = "cancelled"
)

// Order is a booked ERP order.
type Order struct {
	ID                    string
	Number                string // empty while the ERP has not numbered it
	Account               string
	ExternalRef           string
	RequestHash           string
	Status                string
	Currency              string
	Total                 decimal.Decimal
	PONumber              string
	ShipTo                string
	RequestedDeliveryDate *time.Time
	Lines                 []OrderLine
	CreatedAt             time.Time
}

// OrderLine is one booked line, in ERP units.
type OrderLine struct {
	SKU       string
	Qty       int
	UnitPrice decimal.Decimal
	LineTotal decimal.Decimal
	Warehouse string
	Ordered
}

// OrderCursor is the keyset position of an order in an account's history.
type OrderCursor struct {
	CreatedAt time.Time
	ID        string
}

// Placement is the answer to PlaceOrder.
type Placement struct {
	Order    Order
	Replayed bool // the external reference was already booked; Order is that booking
}

// Quote is a whole cart priced and allocated as PlaceOrder would, without booking it.
type Quote struct {
	Currency string
	Total    decimal.Decimal
	Lines    []QuoteLine
	Credit   QuoteCredit
	AsOf     time.Time
}

// QuoteLine is one simulated line; Problem says why it would be refused.
type QuoteLine struct {
	SKU       string
	Qty       int
	UnitPrice *decimal.Decimal
	LineTotal *decimal.Decimal
	Warehouse string
	Available int
	Problem   Reason
	Ordered
}

// QuoteCredit is the credit decision an order for the quote's total would get.
type QuoteCredit struct {
	Decision  string // ok, hold or reject
	Available decimal.Decimal
}

// Reason is why the ERP refuses an order or one of its lines. The values are the
// storefront API's error codes.
type Reason string

// Refusal reasons, in the precedence an order reports them.
const (
	ReasonUnknownSKU          Reason = "unknown_sku"
	ReasonInvalidQuantity     Reason = "invalid_quantity"
	ReasonUnknownShipTo       Reason = "unknown_ship_to"
	ReasonNoPrice             Reason = "price_unavailable"
	ReasonPriceChanged        Reason = "price_changed"
	ReasonInsufficientStock   Reason = "insufficient_stock"
	ReasonCreditHold          Reason = "credit_hold"
	ReasonCreditLimitExceeded Reason = "credit_limit_exceeded"
	ReasonUnknownAccount      Reason = "unknown_account"
)

var precedence = []Reason{ReasonUnknownAccount, ReasonUnknownShipTo, ReasonUnknownSKU, ReasonInvalidQuantity, ReasonNoPrice,
	ReasonPriceChanged, ReasonInsufficientStock, ReasonCreditHold, ReasonCreditLimitExceeded}

// Refusal is an order the ERP would not book, with every reason found.
type Refusal struct {
	Reason Reason // the one reported, by precedence
	Lines  []LineProblem
}

// LineProblem is why one line was refused. Line is the 1-based position in the request.
type LineProblem struct {
	Line      int
	SKU       string
	Reason    Reason
	Detail    string
	Available *int             // insufficient_stock: the most one warehouse can ship
	UnitPrice *decimal.Decimal // price_changed: the ERP's price now
}

// NewRefusal builds a refusal from its line problems and an order-level reason (may be
// empty), choosing the reported reason by precedence.
func NewRefusal(lines []LineProblem, order Reason) *Refusal {
	r := &Refusal{Lines: lines}
	found := map[Reason]bool{order: order != ""}
	for _, l := range lines {
		found[l.Reason] = true
	}
	for _, p := range precedence {
		if found[p] {
			r.Reason = p
			break
		}
	}
	return r
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("order refused: %s (%d lines)", r.Reason, len(r.Lines))
}

// APIKey is a stored API key: the SHA-256 of the key, never the key itself.
type APIKey struct {
	Hash       string // hex SHA-256
	Name       string
	Admin      bool
	Storefront string
	// Accounts is what a storefront key may act for: its storefront's accounts, narrowed
	// to OnlyAccounts and the accounts of OnlyGroups where either is set.
	Accounts     []string
	OnlyAccounts []string
	OnlyGroups   []string
	Scopes       []string // empty: every scope of its role
	CreatedAt    time.Time
	ExpiresAt    *time.Time
	RevokedAt    *time.Time
	LastUsedAt   *time.Time
}

// ID is how people and logs name a key: the start of its hash, never the key.
func (k APIKey) ID() string { return KeyID(k.Hash) }

// KeyID is the ID of the key with this hash.
func KeyID(hash string) string { return hash[:min(12, len(hash))] }

// Scopes of API keys, by role.
var (
	StorefrontScopes = []string{"availability:read", "prices:read", "credit:read", "quotes:write", "orders:write", "orders:read", "tokens:write"}
	AdminScopes      = []string{"mappings:read", "mappings:write", "ops"}
)

// HashKey is how API keys are stored and looked up: hex SHA-256. Keys are random and
// long, so a fast hash is enough and keeps the per-request key check cheap.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
