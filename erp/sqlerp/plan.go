package sqlerp

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/contracts"
	"github.com/b2bridge/b2bridge/erp"
)

// plan is a draft priced and allocated against the ERP as it is now: what an order would
// book, and every reason it would be refused. Quotes and orders share it.
type plan struct {
	account    account
	shipTo     string
	exponent   int
	warehouses []string // the ship-to region's, in priority order
	lines      []planLine
	total      decimal.Decimal
	problems   []erp.LineProblem
	refused    erp.Reason // an order-level reason (unknown account or ship-to)
}

// planLine is one merged line: every request line with the same SKU, ordered as the
// same storefront SKU, becomes one. Two storefront SKUs of one item stay two lines.
type planLine struct {
	line int // 1-based position of the SKU's first request line
	sku  string
	erp.Ordered
	itemID    int64
	qty       int
	priced    bool // unit and total are set
	unit      decimal.Decimal
	total     decimal.Decimal
	warehouse string // empty when no warehouse of the region can fill it
	available int    // the most one warehouse of the region can ship
	problem   erp.Reason
}

// planOrder prices and allocates draft reading through q. Its first result is read from
// account, orderAccountQuery's for draft sent on q (an order sends it with its header),
// which it closes; the pricing and the stock then go in one round trip where q
// pipelines. With lock, the candidate stock rows are locked (where the dialect locks
// rows) in one global order: (item, warehouse).
func (db *DB) planOrder(ctx context.Context, q Runner, account results, draft erp.OrderDraft, lock bool) (*plan, error) {
	p := &plan{}
	rs, err := account.query()
	a, warehouses, err := scanOrderAccount(draft.Account, rs, err)
	if err == nil {
		if err = account.close(); err != nil {
			err = fmt.Errorf("read account %s: %w", draft.Account, err)
		}
	}
	if errors.Is(err, erp.ErrNotFound) {
		p.refused = erp.ReasonUnknownAccount
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	p.account = a
	if p.exponent, err = contracts.Exponent(a.currency); err != nil {
		return nil, err
	}
	p.shipTo = draft.ShipTo
	if p.shipTo == "" {
		p.shipTo = a.defaultShipTo
	}
	if p.warehouses = warehouses; len(p.warehouses) == 0 {
		p.refused = erp.ReasonUnknownShipTo
		return p, nil
	}

	var skus []string
	seen := map[string]int{}
	for i, l := range draft.Lines {
		key := l.SKU + "\x00" + l.OrderedSKU
		if j, ok := seen[key]; ok {
			p.lines[j].qty += l.Qty
			continue
		}
		seen[key] = len(p.lines)
		p.lines = append(p.lines, planLine{line: i + 1, sku: l.SKU, Ordered: l.Ordered, qty: l.Qty})
		skus = append(skus, l.SKU)
	}
	p.total = decimal.Zero.Pad(p.exponent)
	if len(skus) == 0 {
		return p, nil
	}
	reads := send(ctx, q, db.pricingQuery(a, skus), db.stockQuery(skus, p.warehouses, lock))
	defer reads.close()
	rs, err = reads.query()
	priced, _, err := scanPricing(a.currency, len(skus), rs, err)
	if err != nil {
		return nil, err
	}
	today := contracts.Today(db.now(), db.loc)
	for i := range p.lines {
		l := &p.lines[i]
		item, ok := priced[l.sku]
		if !ok {
			p.refuse(l, erp.ReasonUnknownSKU, "no such SKU", nil)
			continue
		}
		l.itemID = item.id
		if l.qty < item.Item.MinQty || l.qty%item.Item.OrderMultiple != 0 {
			p.refuse(l, erp.ReasonInvalidQuantity, fmt.Sprintf("quantity %d: minimum %d, in multiples of %d",
				l.qty, item.Item.MinQty, item.Item.OrderMultiple), nil)
			continue
		}
		price, err := item.Pricing.PriceFor(l.qty, today)
		if errors.Is(err, contracts.ErrNoPrice) {
			p.refuse(l, erp.ReasonNoPrice, "no price in "+a.currency, nil)
			continue
		}
		l.unit = price.Unit
		if l.total, err = contracts.LineTotal(l.unit, l.qty, p.exponent); err != nil {
			return nil, err
		}
		l.priced = true
		// The buyer saw the price of one ordered unit: Factor ERP units.
		seen, err := l.unit.MulExact(decimal.MustNew(int64(l.PerUnit()), 0), l.unit.Scale())
		if err != nil {
			return nil, fmt.Errorf("price of %s: %w", l.sku, err)
		}
		for _, dl := range draft.Lines {
			if dl.SKU == l.sku && dl.OrderedSKU == l.OrderedSKU && dl.UnitPrice != nil && dl.UnitPrice.Cmp(seen) != 0 {
				unit := l.unit
				p.refuse(l, erp.ReasonPriceChanged, fmt.Sprintf("unit price is %s, not %s", seen, dl.UnitPrice), &unit)
				break
			}
		}
	}
	rs, err = reads.query()
	if err := p.allocate(rs, err); err != nil {
		return nil, err
	}
	for _, l := range p.lines {
		if l.problem == "" {
			if p.total, err = p.total.AddExact(l.total, p.exponent); err != nil { // Add would round past 19 digits
				return nil, fmt.Errorf("order total: %w", err)
			}
		}
	}
	return p, nil
}

// refuse records a line's first problem (later checks see it and skip the line).
func (p *plan) refuse(l *planLine, r erp.Reason, detail string, price *decimal.Decimal) {
	if l.problem != "" {
		return
	}
	l.problem = r
	lp := erp.LineProblem{Line: l.line, SKU: l.sku, Reason: r, Detail: detail, UnitPrice: price}
	if r == erp.ReasonInsufficientStock {
		avail := l.available
		lp.Available = &avail
	}
	p.problems = append(p.problems, lp)
}

// stockQuery reads the stock of these SKUs' items (at least one) in these warehouses,
// sorted by (item, warehouse), with lock locking each row (where the dialect does). The
// items are read by SKU, in a subquery whose rows are not locked, so that the read goes
// with the pricing in one round trip.
func (db *DB) stockQuery(skus, warehouses []string, lock bool) statement {
	suffix := ""
	if lock {
		suffix = db.dialect.ForUpdate
	}
	return statement{db.Rebind(`
		SELECT item_id, warehouse, on_hand - reserved FROM stock
		 WHERE item_id IN (SELECT id FROM items WHERE sku IN (` + inList(len(skus)) + `))
		   AND warehouse IN (` + inList(len(warehouses)) + `)
		 ORDER BY item_id, warehouse` + suffix), appendIn(appendIn(nil, skus), warehouses)}
}

// allocate picks, per priced line, the first warehouse of the region that can fill the
// whole line (no splitting), from rows, stockQuery's, or returns err, the error of
// running it.
func (p *plan) allocate(rows rows, err error) error {
	if err != nil {
		return fmt.Errorf("read stock for order: %w", err)
	}
	defer rows.Close()
	type key struct {
		item int64
		wh   string
	}
	avail := map[key]int{}
	for rows.Next() {
		var k key
		var n int
		if err := rows.Scan(&k.item, &k.wh, &n); err != nil {
			return err
		}
		avail[k] = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range p.lines {
		l := &p.lines[i]
		if l.itemID == 0 || l.problem != "" {
			continue
		}
		for _, wh := range p.warehouses {
			n := avail[key{l.itemID, wh}]
			l.available = max(l.available, n)
			if l.warehouse == "" && n >= l.qty {
				l.warehouse = wh
			}
		}
		if l.warehouse != "" { // a later line of the same item sees what is left
			avail[key{l.itemID, l.warehouse}] -= l.qty
		}
		if l.warehouse == "" {
			p.refuse(l, erp.ReasonInsufficientStock, fmt.Sprintf("%d available in one warehouse, %d requested", l.available, l.qty), nil)
		}
	}
	return nil
}

// refusal returns the plan's refusal, or nil if it can be booked.
func (p *plan) refusal() *erp.Refusal {
	if p.refused == "" && len(p.problems) == 0 {
		return nil
	}
	sort.Slice(p.problems, func(i, j int) bool { return p.problems[i].Line < p.problems[j].Line })
	return erp.NewRefusal(p.problems, p.refused)
}
