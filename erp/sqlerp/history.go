package sqlerp

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/b2bridge/b2bridge/contracts"
	"github.com/b2bridge/b2bridge/erp"
)

const orderColumns = `id, order_number, account_id, external_ref, request_hash, status, currency, total,
	po_number, ship_to, requested_delivery_date, created_at`

// Order implements erp.ERP. Another account's order is ErrNotFound.
func (db *DB) Order(ctx context.Context, account, id string) (erp.Order, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return erp.Order{}, erp.ErrNotFound
	}
	return db.oneOrder(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = ? AND account_id = ?`, n, account)
}

// OrderByRef implements erp.ERP.
func (db *DB) OrderByRef(ctx context.Context, ref string) (erp.Order, error) {
	return db.oneOrder(ctx, `SELECT `+orderColumns+` FROM orders WHERE external_ref = ?`, ref)
}

func (db *DB) oneOrder(ctx context.Context, query string, args ...any) (erp.Order, error) {
	orders, err := db.queryOrders(ctx, query, args...)
	if err != nil {
		return erp.Order{}, err
	}
	if len(orders) == 0 {
		return erp.Order{}, erp.ErrNotFound
	}
	return orders[0], nil
}

// Orders implements erp.ERP: keyset pagination on (created_at, id), newest first.
func (db *DB) Orders(ctx context.Context, account string, after *erp.OrderCursor, limit int) ([]erp.Order, error) {
	if after == nil {
		return db.queryOrders(ctx, `SELECT `+orderColumns+` FROM orders WHERE account_id = ?
			ORDER BY created_at DESC, id DESC`+db.dialect.Limit, account, limit)
	}
	id, err := strconv.ParseInt(after.ID, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("order cursor id %q: %w", after.ID, err)
	}
	ts := db.dialect.Time(after.CreatedAt)
	return db.queryOrders(ctx, ordersAfter+db.dialect.Limit, account, ts, ts, id, limit)
}

// ordersAfter is a page of an account's orders after a cursor (created_at, id). The
// bound on created_at alone lets the index seek to the cursor: with only the OR, SQLite
// and PostgreSQL read every newer order of the account before the page.
const ordersAfter = `SELECT ` + orderColumns + ` FROM orders WHERE account_id = ?
	AND created_at <= ? AND (created_at < ? OR id < ?)
	ORDER BY created_at DESC, id DESC`

// queryOrders reads order headers, then all their lines in one more statement.
func (db *DB) queryOrders(ctx context.Context, query string, args ...any) ([]erp.Order, error) {
	rows, err := db.reads.query(ctx, db.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	defer rows.Close()
	var orders []erp.Order
	index := map[int64]int{}
	for rows.Next() {
		var o erp.Order
		var id int64
		var rdd time.Time
		rd := &date{t: &rdd}
		if err := rows.Scan(&id, text{&o.Number}, &o.Account, &o.ExternalRef, &o.RequestHash, &o.Status, &o.Currency,
			moneyOf(&o.Total), text{&o.PONumber}, text{&o.ShipTo}, rd, &timestamp{t: &o.CreatedAt}); err != nil {
			return nil, fmt.Errorf("read orders: %w", err)
		}
		if rd.valid {
			o.RequestedDeliveryDate = &rdd
		}
		o.ID = strconv.FormatInt(id, 10)
		index[id] = len(orders)
		orders = append(orders, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	if len(orders) == 0 {
		return nil, nil
	}
	ids := make([]any, 0, len(index))
	for id := range index {
		ids = append(ids, id)
	}
	lines, err := db.reads.query(ctx, db.Rebind(`
		SELECT order_id, sku, qty, unit_price, line_total, warehouse, ordered_sku, factor FROM order_lines
		 WHERE order_id IN (`+inList(len(ids))+`) ORDER BY order_id, line_no`), appendIn(nil, ids)...)
	if err != nil {
		return nil, fmt.Errorf("read order lines: %w", err)
	}
	defer lines.Close()
	for lines.Next() {
		var id int64
		var l erp.OrderLine
		if err := lines.Scan(&id, &l.SKU, &l.Qty, moneyOf(&l.UnitPrice), moneyOf(&l.LineTotal), &l.Warehouse,
			text{&l.OrderedSKU}, &l.Factor); err != nil {
			return nil, fmt.Errorf("read order lines: %w", err)
		}
		o := &orders[index[id]]
		o.Lines = append(o.Lines, l)
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("read order lines: %w", err)
	}
	for i := range orders {
		normalise(&orders[i])
	}
	return orders, nil
}

// normalise gives the order's amounts the currency's display scale.
func normalise(o *erp.Order) {
	exp, err := contracts.Exponent(o.Currency)
	if err != nil {
		return // an order the bridge did not book: leave its amounts as stored
	}
	o.Total = contracts.Display(o.Total, exp)
	for i := range o.Lines {
		o.Lines[i].UnitPrice = contracts.Display(o.Lines[i].UnitPrice, exp)
		o.Lines[i].LineTotal = contracts.Display(o.Lines[i].LineTotal, exp)
	}
}
