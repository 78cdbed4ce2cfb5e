package sqlerp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/contracts"
	"github.com/b2bridge/b2bridge/erp"
)

// Stock implements erp.ERP.
func (db *DB) Stock(ctx context.Context, skus []string, warehouse string) ([]erp.Stock, error) {
	if len(skus) == 0 {
		return nil, nil
	}
	args := make([]any, 0, inShape(len(skus))+1)
	where := ""
	if warehouse != "" { // its placeholder comes before the SKUs'
		where = " AND s.warehouse = ?"
		args = append(args, warehouse)
	}
	args = appendIn(args, skus)
	rows, err := db.reads.query(ctx, db.Rebind(`
		SELECT i.sku, i.unit, s.warehouse, s.on_hand - s.reserved, s.next_receipt_date, s.next_receipt_qty
		  FROM items i LEFT JOIN stock s ON s.item_id = i.id`+where+`
		 WHERE i.sku IN (`+inList(len(skus))+`)
		 ORDER BY i.sku, s.warehouse`), args...)
	if err != nil {
		return nil, fmt.Errorf("read stock: %w", err)
	}
	defer rows.Close()
	var out []erp.Stock
	for rows.Next() {
		var (
			sku, unit   string
			wh          sql.NullString
			avail, rqty sql.NullInt64
			rdate       time.Time
		)
		rd := &date{t: &rdate}
		if err := rows.Scan(&sku, &unit, &wh, &avail, rd, &rqty); err != nil {
			return nil, fmt.Errorf("read stock: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].SKU != sku {
			out = append(out, erp.Stock{SKU: sku, Unit: unit})
		}
		st := &out[len(out)-1]
		if !wh.Valid {
			continue
		}
		st.Warehouses = append(st.Warehouses, erp.WarehouseStock{Warehouse: wh.String, Available: max(0, int(avail.Int64))})
		if rd.valid && rqty.Valid && (st.NextReceipt == nil || rdate.Before(st.NextReceipt.Date)) {
			st.NextReceipt = &erp.Receipt{Date: rdate, Qty: int(rqty.Int64)}
		}
	}
	return out, rows.Err()
}

// account is the accounts row an order or a price read needs.
type account struct {
	id, currency, group, defaultShipTo string
	limit, exposure                    decimal.Decimal
	hold                               bool
	terms                              string
}

// accountColumns are the columns of accounts (as a) that accountRow scans, in its order.
const accountColumns = `a.currency, a.customer_group, a.credit_limit, a.exposure, a.credit_hold, a.terms, a.default_ship_to`

// accountRow scans accountColumns into an account.
type accountRow struct {
	a             *account
	group, shipTo sql.NullString
}

// dest returns the scan destinations of accountColumns.
func (r *accountRow) dest() []any {
	a := r.a
	return []any{&a.currency, &r.group, moneyOf(&a.limit), moneyOf(&a.exposure), flag{&a.hold}, &a.terms, &r.shipTo}
}

// finish completes the account from the scanned row.
func (r *accountRow) finish() error {
	a := r.a
	a.group, a.defaultShipTo = r.group.String, r.shipTo.String
	exp, err := contracts.Exponent(a.currency)
	if err != nil {
		return fmt.Errorf("account %s: %w", a.id, err)
	}
	a.limit, a.exposure = contracts.Display(a.limit, exp), contracts.Display(a.exposure, exp)
	return nil
}

func (db *DB) readAccount(ctx context.Context, q Runner, id string) (account, error) {
	a := account{id: id}
	r := accountRow{a: &a}
	err := scanRow(ctx, q, db.Rebind(`SELECT `+accountColumns+` FROM accounts a WHERE a.id = ?`), []any{id}, r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return a, erp.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("read account %s: %w", id, err)
	}
	return a, r.finish()
}

// orderAccountQuery reads the account and, in the same statement, the warehouses of its
// ship-to's region in priority order: of shipTo, or of the account's default ship-to
// when shipTo is empty; none when the account has no such ship-to (scanOrderAccount).
func (db *DB) orderAccountQuery(id, shipTo string) statement {
	return statement{db.Rebind(`
		SELECT ` + accountColumns + `, rw.warehouse
		  FROM accounts a
		  LEFT JOIN ship_tos s ON s.account_id = a.id AND s.id = COALESCE(?, a.default_ship_to)
		  LEFT JOIN region_warehouses rw ON rw.region = s.region
		 WHERE a.id = ? ORDER BY rw.priority`), []any{nullString(shipTo), id}}
}

// scanOrderAccount reads account id and its warehouses from rs, orderAccountQuery's
// rows, or returns err, the error of running it.
func scanOrderAccount(id string, rs rows, err error) (account, []string, error) {
	a := account{id: id}
	if err != nil {
		return a, nil, fmt.Errorf("read account %s: %w", id, err)
	}
	defer rs.Close()
	r := accountRow{a: &a}
	var wh sql.NullString
	dest := append(r.dest(), &wh)
	found := false
	var warehouses []string
	for rs.Next() { // every row repeats the account, with one warehouse or none
		if err := rs.Scan(dest...); err != nil {
			return a, nil, fmt.Errorf("read account %s: %w", id, err)
		}
		found = true
		if wh.Valid {
			warehouses = append(warehouses, wh.String)
		}
	}
	if err := rs.Err(); err != nil {
		return a, nil, fmt.Errorf("read account %s: %w", id, err)
	}
	if !found {
		return a, nil, erp.ErrNotFound
	}
	if err := r.finish(); err != nil {
		return a, nil, err
	}
	return a, warehouses, rs.Close()
}

// Credit implements erp.ERP.
func (db *DB) Credit(ctx context.Context, id string) (erp.Credit, error) {
	a, err := db.readAccount(ctx, db.reads, id)
	if err != nil {
		return erp.Credit{}, err
	}
	return erp.Credit{Account: id, Currency: a.currency, Limit: a.limit, Exposure: a.exposure, OnHold: a.hold, Terms: a.terms}, nil
}

// PriceData implements erp.ERP. The account is read in the same statement as its
// prices: a statement of its own is a read transaction of its own, and took a quarter
// of a price read's CPU (BenchmarkERPReads); in the statement each branch looks the
// account up again, which costs less.
func (db *DB) PriceData(ctx context.Context, id string, skus []string) (erp.PriceData, error) {
	if len(skus) == 0 { // nothing to price: the account's currency alone
		a, err := db.readAccount(ctx, db.reads, id)
		if err != nil {
			return erp.PriceData{}, err
		}
		return erp.PriceData{Account: id, Currency: a.currency, Date: contracts.Today(db.now(), db.loc), Items: map[string]erp.ItemPricing{}}, nil
	}
	p := db.accountPricingQuery(id, skus)
	rs, err := db.reads.query(ctx, p.query, p.args...)
	priced, currency, err := scanPricing("", len(skus), rs, err)
	if err != nil {
		return erp.PriceData{}, err
	}
	if currency == "" { // no account row
		return erp.PriceData{}, erp.ErrNotFound
	}
	items := make(map[string]erp.ItemPricing, len(priced))
	for sku, p := range priced {
		items[sku] = p.ItemPricing
	}
	return erp.PriceData{Account: id, Currency: currency, Date: contracts.Today(db.now(), db.loc), Items: items}, nil
}

// pricedItem is an item's pricing with its ERP key.
type pricedItem struct {
	id int64
	erp.ItemPricing
}

// pricingQuery reads, in one statement, the items with these SKUs (at least one) and
// every list price, group price-list tier and agreement tier in the account's currency
// that may price them (scanPricing). Validity windows are left to contracts, which owns
// those rules. The SKUs are bound once, in a CTE that the three branches read
// (PostgreSQL materializes it; SQLite 3.54 flattens it into each branch, as the IN lists
// were): binding each SKU in every branch made prices of one SKU 5 % slower, of ten 9 %
// (BenchmarkERPReads).
// Each tier is read from the group's price list or the account's agreement, then the
// items, then the entry of that list and item. CROSS JOIN fixes that order in SQLite,
// whose planner has no statistics: left free, it started from the items and visited every
// price list and agreement naming them, and from four SKUs on it read every entry of the
// price list.
func (db *DB) pricingQuery(a account, skus []string) statement {
	args := appendIn(nil, skus)
	args = append(args, a.currency, a.group, a.currency, a.id, a.currency)
	return statement{db.Rebind(pricingSQL(len(skus), false)), args}
}

// accountPricingQuery is pricingQuery for the account with this id, which it reads
// itself. Its last row is the account's: source 'account', its id as SKU (Oracle would
// read an empty string as NULL) and its currency as unit; last, because PostgreSQL types
// a UNION's NULLs by the branches before them. No rows: no such account.
func (db *DB) accountPricingQuery(id string, skus []string) statement {
	return statement{db.Rebind(pricingSQL(len(skus), true)), appendIn([]any{id}, skus)}
}

// pricingSQL is the text of a pricing read of n SKUs. The branches name the account's
// currency, customer group and id as bound values after the SKUs, or, withAccount, as
// the columns of a CTE that reads the account by the id bound first.
func pricingSQL(n int, withAccount bool) string {
	with, account, a := "", "", ""
	currency, group, id := "?", "?", "?"
	if withAccount {
		with = `a AS (SELECT id, currency, customer_group FROM accounts WHERE id = ?), `
		account = `
		UNION ALL
		SELECT 0, a.id, a.currency, 0, 0, 'account', '', 0, NULL, NULL, NULL FROM a`
		a, currency, group, id = "a CROSS JOIN ", "a.currency", "a.customer_group", "a.id"
	}
	return `
		WITH ` + with + `i AS (SELECT id, sku, unit, min_qty, order_multiple FROM items WHERE sku IN (` + inList(n) + `))
		SELECT i.id, i.sku, i.unit, i.min_qty, i.order_multiple, '', '', 0, lp.price, NULL, NULL
		  FROM ` + a + `i LEFT JOIN list_prices lp ON lp.item_id = i.id AND lp.currency = ` + currency + `
		UNION ALL
		SELECT i.id, i.sku, '', 0, 0, 'price_list', pl.id, e.min_qty, e.price, pl.valid_from, pl.valid_to
		  FROM ` + a + `price_lists pl CROSS JOIN i CROSS JOIN price_list_entries e
		 WHERE e.price_list_id = pl.id AND e.item_id = i.id AND pl.customer_group = ` + group + ` AND pl.currency = ` + currency + `
		UNION ALL
		SELECT i.id, i.sku, '', 0, 0, 'agreement', ag.id, l.min_qty, l.price, ag.valid_from, ag.valid_to
		  FROM ` + a + `agreements ag CROSS JOIN i CROSS JOIN agreement_lines l
		 WHERE l.agreement_id = ag.id AND l.item_id = i.id AND ag.account_id = ` + id + ` AND ag.currency = ` + currency + account
}

// scanPricing reads the pricing of at most n items from rows, pricingQuery's for an
// account of this currency or accountPricingQuery's (currency ""), or returns err, the
// error of running it. It returns the account's currency: "" when accountPricingQuery
// found no account.
func scanPricing(currency string, n int, rows rows, err error) (map[string]*pricedItem, string, error) {
	if err != nil {
		return nil, "", fmt.Errorf("read prices: %w", err)
	}
	defer rows.Close()
	out := make(map[string]*pricedItem, n)
	for rows.Next() {
		var (
			id                  int64
			sku, unit, src, ref string
			minQty, multiple    int
			tierMin             int
			price               decimal.Decimal
			from, to            time.Time
		)
		pm, fd, td := moneyOf(&price), &date{t: &from}, &date{t: &to}
		if err := rows.Scan(&id, &sku, text{&unit}, &minQty, &multiple, text{&src}, text{&ref}, &tierMin, pm, fd, td); err != nil {
			return nil, "", fmt.Errorf("read prices: %w", err)
		}
		if src == "account" {
			currency = unit
			continue
		}
		ip := out[sku]
		if ip == nil {
			ip = &pricedItem{}
			out[sku] = ip
		}
		if src == "" {
			ip.id = id
			ip.Item = erp.Item{SKU: sku, Unit: unit, MinQty: minQty, OrderMultiple: multiple}
			if pm.valid {
				ip.Pricing.ListPrice = &price
			}
		} else {
			ip.Pricing.Tiers = append(ip.Pricing.Tiers, contracts.Tier{Source: contracts.Source(src), Ref: ref,
				MinQty: tierMin, Price: price, From: from, To: to})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("read prices: %w", err)
	}
	if currency == "" { // no account, so no items either
		return out, "", nil
	}
	exp, err := contracts.Exponent(currency)
	if err != nil {
		return nil, "", err
	}
	for sku, ip := range out {
		if ip.id == 0 { // tiers whose item row was not read: not an item
			delete(out, sku)
			continue
		}
		if ip.Pricing.ListPrice != nil {
			lp := contracts.Display(*ip.Pricing.ListPrice, exp)
			ip.Pricing.ListPrice = &lp
		}
		for i := range ip.Pricing.Tiers {
			ip.Pricing.Tiers[i].Price = contracts.Display(ip.Pricing.Tiers[i].Price, exp)
		}
	}
	return out, currency, nil
}
