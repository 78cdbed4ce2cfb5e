// Package contracts prices B2B items: customer agreements with quantity breaks and
// validity windows, customer-group price lists, and list prices, with explicit rounding.
// It is pure: the caller reads the data and the business date; nothing here does I/O.
package contracts

import (
	"errors"
	"time"

	"github.com/govalues/decimal"
)

// Source names the rule that set a price, in order of precedence.
type Source string

// The price sources, strongest first.
const (
	SourceAgreement Source = "agreement"
	SourcePriceList Source = "price_list"
	SourceList      Source = "list"
)

// ErrNoPrice means no list price and no agreement or price list applies.
var ErrNoPrice = errors.New("no applicable price")

// Tier is one quantity break of an agreement or a customer-group price list: from MinQty
// units up, Price applies between From and To (dates, both inclusive; zero means open).
type Tier struct {
	Source Source
	Ref    string // agreement or price list id
	MinQty int
	Price  decimal.Decimal
	From   time.Time
	To     time.Time
}

// Item is everything that can price one item for one account, in the account's currency:
// its list price (if it has one) and every agreement and price-list tier that may apply.
type Item struct {
	ListPrice *decimal.Decimal
	Tiers     []Tier
}

// Price is the price of one line and how it was reached.
type Price struct {
	Unit       decimal.Decimal
	List       *decimal.Decimal
	Source     Source
	Ref        string    // the agreement or price list; empty for the list price
	BreakQty   int       // the break's minimum quantity; 0 for the list price
	ValidUntil time.Time // zero when open-ended or for the list price
}

// PriceFor prices qty units on the business date day (a date: time of day is ignored).
//
// Precedence: an agreement beats a group price list, which beats the list price. Within
// one agreement or price list the highest break not above qty applies. When two
// agreements (or two price lists) both apply, the one whose window started later wins,
// being the newer deal; on the same start date the lower price wins, then the lower ref,
// so the answer never depends on row order.
func (it Item) PriceFor(qty int, day time.Time) (Price, error) {
	day = Date(day)
	var best *Tier
	for i := range it.Tiers {
		t := &it.Tiers[i]
		if !t.appliesTo(qty, day) || it.higherBreak(t, qty, day) {
			continue
		}
		if best == nil || t.beats(best) {
			best = t
		}
	}
	if best != nil {
		return Price{Unit: best.Price, List: it.ListPrice, Source: best.Source, Ref: best.Ref,
			BreakQty: best.MinQty, ValidUntil: best.To}, nil
	}
	if it.ListPrice == nil {
		return Price{}, ErrNoPrice
	}
	return Price{Unit: *it.ListPrice, List: it.ListPrice, Source: SourceList}, nil
}

func (t *Tier) appliesTo(qty int, day time.Time) bool {
	return qty >= t.MinQty && (t.From.IsZero() || !day.Before(t.From)) && (t.To.IsZero() || !day.After(t.To))
}

// higherBreak reports whether t's own deal has a higher break that qty reaches.
func (it Item) higherBreak(t *Tier, qty int, day time.Time) bool {
	for i := range it.Tiers {
		u := &it.Tiers[i]
		if u.Source == t.Source && u.Ref == t.Ref && u.MinQty > t.MinQty && u.appliesTo(qty, day) {
			return true
		}
	}
	return false
}

// beats orders the reached breaks of different deals: source, newer start, lower price,
// lower ref. It is a total order, so the answer never depends on row order.
func (t *Tier) beats(u *Tier) bool {
	if t.Source != u.Source {
		return rank(t.Source) < rank(u.Source)
	}
	if !t.From.Equal(u.From) {
		return t.From.After(u.From)
	}
	if c := t.Price.Cmp(u.Price); c != 0 {
		return c < 0
	}
	return t.Ref < u.Ref
}

func rank(s Source) int {
	switch s {
	case SourceAgreement:
		return 0
	case SourcePriceList:
		return 1
	}
	return 2
}

// Date returns the calendar date of t as midnight UTC, the form Tier windows use.
func Date(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Today is the business date now in the ERP company's time zone.
func Today(now time.Time, loc *time.Location) time.Time {
	return Date(now.In(loc))
}
