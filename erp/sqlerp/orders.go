package sqlerp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/b2bridge/b2bridge/erp"
)

// maxAttempts bounds the runs of one order transaction when the database reports a
// serialization failure, deadlock or busy lock (one run and up to three retries).
const maxAttempts = 4

// errAlreadyPlaced is the header insert's unique violation on external_ref.
var errAlreadyPlaced = errors.New("external reference already booked")

// PlaceOrder implements erp.ERP: one READ COMMITTED transaction that inserts the header
// (its unique external reference is the idempotency check), prices and allocates from
// rows it reads and locks itself, reserves stock and credit with conditional updates, and
// commits. A refusal rolls everything back. On SQLite the transaction is a savepoint of
// a group commit (groupCommit).
func (db *DB) PlaceOrder(ctx context.Context, draft erp.OrderDraft) (erp.Placement, error) {
	place := db.placeOnce
	if db.group != nil {
		place = db.group.place
	}
	for attempt := 1; ; attempt++ {
		o, err := place(ctx, draft)
		switch {
		case errors.Is(err, errAlreadyPlaced):
			// After the rollback: PostgreSQL has aborted the transaction.
			prior, err := db.OrderByRef(ctx, draft.ExternalRef)
			if err != nil {
				return erp.Placement{}, fmt.Errorf("read order %s after duplicate: %w", draft.ExternalRef, err)
			}
			return erp.Placement{Order: prior, Replayed: true}, nil
		case err != nil && attempt < maxAttempts && db.dialect.IsRetryable(err) && !errors.Is(err, erp.ErrOutcomeUnknown):
			continue
		case err != nil:
			return erp.Placement{}, err
		}
		return erp.Placement{Order: o}, nil
	}
}

func (db *DB) placeOnce(ctx context.Context, draft erp.OrderDraft) (erp.Order, error) {
	var o erp.Order
	if db.writeTurns != nil { // blocked senders on a channel are woken in the order they came
		select {
		case db.writeTurns <- struct{}{}:
			defer func() { <-db.writeTurns }()
		case <-ctx.Done():
			return o, fmt.Errorf("order %s not booked, waited for a write connection: %w", draft.ExternalRef, ctx.Err())
		}
	}
	err := db.dialect.OrderTx(ctx, db.write, func(tx Runner) (err error) {
		o, err = db.book(ctx, tx, draft)
		return err
	})
	var ce *commitError
	if errors.As(err, &ce) {
		return o, fmt.Errorf("commit order %s: %w: %w", draft.ExternalRef, erp.ErrOutcomeUnknown, ce.err)
	}
	return o, err
}

// book runs the order transaction's statements in tx; committing is the caller's.
func (db *DB) book(ctx context.Context, tx Runner, draft erp.OrderDraft) (erp.Order, error) {
	// 1. The header first: its unique external reference tells a replay at once. Its
	// currency is ISO 4217's "no currency" until the account is read (Oracle has no '').
	now := db.now().UTC().Truncate(time.Microsecond) // the stored precision: replays answer the same
	o := erp.Order{Account: draft.Account, ExternalRef: draft.ExternalRef, RequestHash: draft.RequestHash,
		PONumber: draft.PONumber, RequestedDeliveryDate: draft.RequestedDeliveryDate, CreatedAt: now}
	var rdd any
	if draft.RequestedDeliveryDate != nil {
		rdd = db.dialect.Date(*draft.RequestedDeliveryDate)
	}
	// The account read goes with it, in one round trip where the database pipelines.
	header, readID := db.dialect.InsertID(db.Rebind(`
		INSERT INTO orders (account_id, external_ref, request_hash, status, currency, po_number, requested_delivery_date, created_at)
		VALUES (?, ?, ?, ?, 'XXX', ?, ?, ?)`),
		[]any{draft.Account, draft.ExternalRef, draft.RequestHash, erp.StatusReceived, nullString(draft.PONumber), rdd,
			db.dialect.Time(now)})
	first := send(ctx, tx, header, db.orderAccountQuery(draft.Account, draft.ShipTo))
	defer first.close()
	id, err := readID(first)
	if db.dialect.IsUniqueViolation(err) {
		return o, errAlreadyPlaced
	}
	if err != nil {
		return o, fmt.Errorf("insert order header: %w", err)
	}
	o.ID = fmt.Sprint(id)

	// 2–3. Price from the rows of this transaction; lock and allocate stock.
	p, err := db.planOrder(ctx, tx, first, draft, true)
	if err != nil {
		return o, err
	}
	if r := p.refusal(); r != nil {
		return o, r
	}
	// 4–5. The writes, in one batch (one round trip where the database pipelines):
	// reserve every line, credit last with a conditional update (never a read-then-
	// write), then the lines and the header. A short reserve or credit rolls it all back.
	amount, err := db.dialect.Money(p.total)
	if err != nil {
		return o, err
	}
	lines, err := db.insertLines(id, p)
	if err != nil {
		return o, err
	}
	o.Status, o.Number = erp.StatusOpen, fmt.Sprintf("SO-%08d", id)
	o.Currency, o.Total, o.ShipTo = p.account.currency, p.total, p.shipTo
	reserve, reserveRows := db.reserve(p)
	n, err := execAll(ctx, tx,
		reserve,
		statement{db.Rebind(`UPDATE accounts SET exposure = exposure + ?
			WHERE id = ? AND credit_hold = 0 AND exposure + ? <= credit_limit`), []any{amount, draft.Account, amount}},
		lines,
		statement{db.Rebind(`UPDATE orders SET status = ?, currency = ?, total = ?, order_number = ?, ship_to = ? WHERE id = ?`),
			[]any{o.Status, o.Currency, amount, o.Number, o.ShipTo, id}},
	)
	if err != nil {
		return o, fmt.Errorf("book order: %w", err)
	}
	if n[0] != int64(reserveRows) {
		// The locked read said every line fits: only a database without row locks gets here.
		var problems []erp.LineProblem
		for _, l := range p.lines {
			problems = append(problems, erp.LineProblem{Line: l.line, SKU: l.sku, Reason: erp.ReasonInsufficientStock,
				Detail: "stock changed during the order", Available: new(int)})
		}
		return o, erp.NewRefusal(problems, "")
	}
	if n[1] != 1 {
		var hold bool
		if err := scanRow(ctx, tx, db.Rebind(`SELECT credit_hold FROM accounts WHERE id = ?`), []any{draft.Account}, flag{&hold}); err != nil {
			return o, fmt.Errorf("read credit hold: %w", err)
		}
		if draft.CreditPolicy != erp.CreditHold {
			reason := erp.ReasonCreditLimitExceeded
			if hold {
				reason = erp.ReasonCreditHold
			}
			return o, erp.NewRefusal(nil, reason)
		}
		o.Status = erp.StatusCreditHold // booked, visibly, with no exposure until released
		if _, err := tx.exec(ctx, db.Rebind(`UPDATE orders SET status = ? WHERE id = ?`), o.Status, id); err != nil {
			return o, fmt.Errorf("hold order: %w", err)
		}
	}
	for _, l := range p.lines {
		o.Lines = append(o.Lines, erp.OrderLine{SKU: l.sku, Qty: l.qty, UnitPrice: l.unit, LineTotal: l.total, Warehouse: l.warehouse,
			Ordered: erp.Ordered{OrderedSKU: l.OrderedSKU, Factor: l.PerUnit()}})
	}
	return o, nil
}

// reserve is the update that books every line's quantity on its warehouse: one
// statement, conditional per stock row, on rows the order already holds locked. Lines
// of one item from one warehouse (two storefront SKUs of it) reserve their sum. It
// returns the statement and the number of rows it must change.
func (db *DB) reserve(p *plan) (statement, int) {
	type row struct {
		item int64
		wh   string
	}
	qty := map[row]int{}
	var rows []row
	for _, l := range p.lines {
		r := row{l.itemID, l.warehouse}
		if _, ok := qty[r]; !ok {
			rows = append(rows, r)
		}
		qty[r] += l.qty
	}
	var when, where []string
	var whenArgs, whereArgs []any
	for _, r := range rows {
		when = append(when, "WHEN item_id = ? AND warehouse = ? THEN CAST(? AS INTEGER)") // typed: PostgreSQL reads a bare ? in a CASE as text
		whenArgs = append(whenArgs, r.item, r.wh, qty[r])
		where = append(where, "(item_id = ? AND warehouse = ? AND on_hand - reserved >= ?)")
		whereArgs = append(whereArgs, r.item, r.wh, qty[r])
	}
	return statement{db.Rebind(`UPDATE stock SET reserved = reserved + CASE ` + strings.Join(when, " ") + ` END
		 WHERE ` + strings.Join(where, " OR ")), append(whenArgs, whereArgs...)}, len(rows)
}

// insertLines is the insert of the order's lines.
func (db *DB) insertLines(id int64, p *plan) (statement, error) {
	args := make([]any, 0, 10*len(p.lines))
	values := make([]string, 0, len(p.lines))
	for i, l := range p.lines {
		unit, err := db.dialect.Money(l.unit)
		if err != nil {
			return statement{}, err
		}
		total, err := db.dialect.Money(l.total)
		if err != nil {
			return statement{}, err
		}
		values = append(values, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, id, i+1, l.itemID, l.sku, l.qty, unit, total, l.warehouse, nullString(l.OrderedSKU), l.PerUnit())
	}
	return statement{db.Rebind(`INSERT INTO order_lines (order_id, line_no, item_id, sku, qty, unit_price, line_total, warehouse, ordered_sku, factor)
		VALUES ` + strings.Join(values, ", ")), args}, nil
}

// Quote implements erp.ERP: the order's own planning, in a read transaction, no locks.
func (db *DB) Quote(ctx context.Context, draft erp.OrderDraft) (erp.Quote, error) {
	tx, err := db.read.BeginTx(ctx, db.dialect.ReadOnlyTx)
	if err != nil {
		return erp.Quote{}, fmt.Errorf("begin quote: %w", err)
	}
	defer tx.Rollback()
	r := db.readTx(tx)
	p, err := db.planOrder(ctx, r, send(ctx, r, db.orderAccountQuery(draft.Account, draft.ShipTo)), draft, false)
	if err != nil {
		return erp.Quote{}, err
	}
	if p.refused != "" {
		return erp.Quote{}, erp.NewRefusal(nil, p.refused)
	}
	q := erp.Quote{Currency: p.account.currency, Total: p.total, AsOf: db.now().UTC()}
	for _, l := range p.lines {
		ql := erp.QuoteLine{SKU: l.sku, Qty: l.qty, Warehouse: l.warehouse, Available: l.available, Problem: l.problem,
			Ordered: erp.Ordered{OrderedSKU: l.OrderedSKU, Factor: l.PerUnit()}}
		if l.priced {
			unit, total := l.unit, l.total
			ql.UnitPrice, ql.LineTotal = &unit, &total
		}
		q.Lines = append(q.Lines, ql)
	}
	avail := erp.Credit{Limit: p.account.limit, Exposure: p.account.exposure}.Available()
	q.Credit = erp.QuoteCredit{Decision: "ok", Available: avail}
	if p.account.hold || avail.Cmp(p.total) < 0 {
		q.Credit.Decision = "reject"
		if draft.CreditPolicy == erp.CreditHold {
			q.Credit.Decision = "hold"
		}
	}
	return q, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
