package embedded

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/govalues/decimal"

	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/sqlerp"
)

// SeedOptions sizes the demo data. The same options give the same data, apart from the
// API keys, which are random.
type SeedOptions struct {
	Items    int    // at least 1,000 by default
	Accounts int    // at least 50 by default
	Seed     uint64 // the generator's seed
	Today    time.Time
}

// Demo warehouses, and the ship-to regions they serve in priority order.
var (
	warehouses = []string{"WH-NORTH", "WH-CENTRAL", "WH-SOUTH"}
	regions    = map[string][]string{
		"NORTH":   {"WH-NORTH", "WH-CENTRAL"},
		"CENTRAL": {"WH-CENTRAL", "WH-NORTH", "WH-SOUTH"},
		"SOUTH":   {"WH-SOUTH", "WH-CENTRAL"},
	}
	regionNames = []string{"NORTH", "CENTRAL", "SOUTH"}
)

// The demo item classes, by position (1-based): every 10th is out of stock with a
// receipt due, every 7th otherwise scarce (a handful in WH-CENTRAL only).
func outOfStock(i int) bool { return i%10 == 0 }
func scarce(i int) bool     { return i%7 == 0 && !outOfStock(i) }

// SKU is the demo SKU of the i-th item.
func SKU(i int) string { return fmt.Sprintf("BRG-%05d", i) }

// Account is the demo id of the i-th account.
func Account(i int) string { return fmt.Sprintf("C%04d", 1000+i) }

// Seed replaces the ERP's data with demo data and returns fresh credentials. It writes
// portable SQL through the database's dialect, so every dialect gets the same data.
func Seed(ctx context.Context, db *sqlerp.DB, opts SeedOptions) (*Credentials, error) {
	if opts.Items == 0 {
		opts.Items = 1000
	}
	if opts.Accounts == 0 {
		opts.Accounts = 60
	}
	if opts.Items < 30 || opts.Accounts < 4 {
		return nil, fmt.Errorf("seed: want at least 30 items and 4 accounts")
	}
	if opts.Today.IsZero() {
		opts.Today = time.Now().UTC()
	}
	tx, err := db.Writer().BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	s := seeder{tx: tx, ctx: ctx, db: db, d: db.Dialect(), rng: mrand.New(mrand.NewPCG(opts.Seed, 0x62326272)), opts: opts,
		list: map[listKey]int64{}}
	for _, table := range []string{"change_log", "mapping_audit", "sku_mappings", "customer_mappings", "regions", "order_lines", "orders", "api_keys", "storefront_accounts", "storefronts",
		"agreement_lines", "agreements", "price_list_entries", "price_lists", "ship_tos", "accounts",
		"customer_groups", "stock", "list_prices", "items", "region_warehouses", "warehouses"} {
		s.exec("DELETE FROM " + table)
	}
	s.warehouses()
	s.items()
	s.accounts()
	creds := s.storefronts()
	s.mappings()
	// The seed's own change rows say nothing a follower needs: one marker purges all.
	s.exec(`DELETE FROM change_log`)
	s.exec(`INSERT INTO change_log (entity, key) VALUES (?, 'seed')`, erp.ChangeAll)
	if s.err != nil {
		return nil, fmt.Errorf("seed: %w", s.err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return creds, nil
}

type seeder struct {
	tx   *sql.Tx
	ctx  context.Context
	db   *sqlerp.DB
	d    sqlerp.Dialect
	rng  *mrand.Rand
	opts SeedOptions
	list map[listKey]int64 // list prices in 1/10,000, which the other prices derive from
	err  error
}

type listKey struct {
	item     int
	currency string
}

// exec runs a statement written with ? placeholders.
func (s *seeder) exec(q string, args ...any) {
	if s.err != nil {
		return
	}
	if _, err := s.tx.ExecContext(s.ctx, s.db.Rebind(q), args...); err != nil {
		s.err = fmt.Errorf("%.40s: %w", q, err)
	}
}

func (s *seeder) day(offset int) any {
	return s.d.Date(s.opts.Today.AddDate(0, 0, offset))
}

// money encodes an amount given in 1/10,000 for the dialect.
func (s *seeder) money(v int64) any {
	m, err := s.d.Money(decimal.MustNew(v, 4))
	if err != nil && s.err == nil {
		s.err = err
	}
	return m
}

// money is an amount in 1/10,000.
func money(units, cents int) int64 { return int64(units)*10_000 + int64(cents)*100 }

// percentOf is pct % of a price, cut to whole cents.
func percentOf(price, pct int64) int64 { return price * pct / 10_000 * 100 }

func (s *seeder) warehouses() {
	for _, w := range warehouses {
		s.exec(`INSERT INTO warehouses (code, name) VALUES (?, ?)`, w, "Warehouse "+w[3:])
	}
	now := s.d.Time(time.Now())
	for region, whs := range regions {
		s.exec(`INSERT INTO regions (region, updated_at) VALUES (?, ?)`, region, now)
		for p, w := range whs {
			s.exec(`INSERT INTO region_warehouses (region, warehouse, priority) VALUES (?, ?, ?)`, region, w, p+1)
		}
	}
}

func (s *seeder) items() {
	for i := 1; i <= s.opts.Items; i++ {
		unit, minQty, multiple := "EA", 1, 1
		switch {
		case i%25 == 0:
			unit, multiple = "BOX", 6
		case i%40 == 0:
			minQty = 10
		}
		s.exec(`INSERT INTO items (id, sku, name, unit, min_qty, order_multiple) VALUES (?, ?, ?, ?, ?, ?)`,
			i, SKU(i), fmt.Sprintf("Bearing %05d", i), unit, minQty, multiple)
		eur := money(1+s.rng.IntN(400), s.rng.IntN(100))
		if i%17 == 0 {
			eur = int64(1000 + s.rng.IntN(9000)) // 0.1000–0.9999: four-decimal prices
		}
		usd := eur * 108 / 100 / 100 * 100
		s.list[listKey{i, "EUR"}], s.list[listKey{i, "USD"}] = eur, usd
		s.exec(`INSERT INTO list_prices (item_id, currency, price) VALUES (?, 'EUR', ?)`, i, s.money(eur))
		s.exec(`INSERT INTO list_prices (item_id, currency, price) VALUES (?, 'USD', ?)`, i, s.money(usd))
		for w, wh := range warehouses {
			onHand := 50 + s.rng.IntN(5000)
			switch {
			case outOfStock(i):
				onHand = 0
			case scarce(i) && wh == "WH-CENTRAL":
				onHand = 1 + s.rng.IntN(5)
			case scarce(i):
				onHand = 0
			case s.rng.IntN(5) == 0:
				onHand = 0
			}
			var rDate, rQty any
			if (outOfStock(i) && w == 1) || i%13 == 0 {
				rDate, rQty = s.day(7+s.rng.IntN(30)), 100+s.rng.IntN(900)
			}
			s.exec(`INSERT INTO stock (item_id, warehouse, on_hand, reserved, next_receipt_date, next_receipt_qty)
				VALUES (?, ?, ?, 0, ?, ?)`, i, wh, onHand, rDate, rQty)
		}
	}
	for _, g := range []string{"WHOLESALE", "RETAIL"} {
		s.exec(`INSERT INTO customer_groups (code, name) VALUES (?, ?)`, g, g)
		for _, cur := range []string{"EUR", "USD"} {
			id := "PL-" + g + "-" + cur
			s.exec(`INSERT INTO price_lists (id, customer_group, currency, valid_from, valid_to) VALUES (?, ?, ?, ?, NULL)`,
				id, g, cur, s.day(-365))
			every, pct := 3, int64(90)
			if g == "RETAIL" {
				every, pct = 5, 97
			}
			for i := every; i <= s.opts.Items; i += every {
				list := s.list[listKey{i, cur}]
				s.exec(`INSERT INTO price_list_entries (price_list_id, item_id, min_qty, price) VALUES (?, ?, 1, ?)`,
					id, i, s.money(percentOf(list, pct)))
				s.exec(`INSERT INTO price_list_entries (price_list_id, item_id, min_qty, price) VALUES (?, ?, 50, ?)`,
					id, i, s.money(percentOf(list, pct-5)))
			}
		}
	}
}

func (s *seeder) accounts() {
	for a := 1; a <= s.opts.Accounts; a++ {
		id := Account(a)
		currency, group, terms := "EUR", "WHOLESALE", "NET30"
		if a%6 == 0 {
			currency = "USD"
		}
		if a%2 == 0 {
			group, terms = "RETAIL", "NET60"
		}
		limit := 20_000 + 1000*s.rng.IntN(230)
		exposure := limit * s.rng.IntN(30) / 100
		hold := 0
		if a%15 == 0 {
			hold = 1
		}
		shipTo := id + "-1"
		s.exec(`INSERT INTO accounts (id, name, currency, customer_group, credit_limit, exposure, credit_hold, terms, default_ship_to)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, "Customer "+id, currency, group, s.money(money(limit, 0)), s.money(money(exposure, 0)), hold, terms, shipTo)
		s.exec(`INSERT INTO ship_tos (id, account_id, region, name) VALUES (?, ?, ?, ?)`, shipTo, id, regionNames[a%3], "Main site")
		s.exec(`INSERT INTO ship_tos (id, account_id, region, name) VALUES (?, ?, ?, ?)`, id+"-2", id, regionNames[(a+1)%3], "Second site")
		s.agreement(id+"-CUR", id, currency, -90, 180, 15, []int{95, 90, 85})
		if a%4 == 0 {
			s.agreement(id+"-OLD", id, currency, -400, -30, 5, []int{70})
		}
		if a%5 == 0 {
			s.agreement(id+"-NEXT", id, currency, 10, 200, 5, []int{60})
		}
	}
}

// agreement writes a customer agreement over n random items, with one quantity break
// (1, 10, 100 units) per percentage of the list price.
func (s *seeder) agreement(id, account, currency string, from, to, n int, pcts []int) {
	s.exec(`INSERT INTO agreements (id, account_id, currency, valid_from, valid_to) VALUES (?, ?, ?, ?, ?)`,
		id, account, currency, s.day(from), s.day(to))
	seen := map[int]bool{}
	for len(seen) < n {
		item := 1 + s.rng.IntN(s.opts.Items)
		if seen[item] {
			continue
		}
		seen[item] = true
		for b, pct := range pcts {
			s.exec(`INSERT INTO agreement_lines (agreement_id, item_id, min_qty, price) VALUES (?, ?, ?, ?)`,
				id, item, []int{1, 10, 100}[b], s.money(percentOf(s.list[listKey{item, currency}], int64(pct))))
		}
	}
}

// storefronts writes two storefronts with disjoint accounts and random keys.
func (s *seeder) storefronts() *Credentials {
	c := &Credentials{AdminKey: NewKey("adm_")}
	now := s.d.Time(time.Now())
	s.exec(`INSERT INTO api_keys (key_hash, name, storefront, admin, created_at) VALUES (?, 'demo admin', NULL, 1, ?)`, erp.HashKey(c.AdminKey), now)
	half := s.opts.Accounts / 2
	for n, name := range []string{"north-shop", "south-shop"} {
		sf := StorefrontKeys{Name: name, Key: NewKey("sk_")}
		s.exec(`INSERT INTO storefronts (name) VALUES (?)`, name)
		s.exec(`INSERT INTO api_keys (key_hash, name, storefront, admin, created_at) VALUES (?, ?, ?, 0, ?)`, erp.HashKey(sf.Key), "demo "+name, name, now)
		for a := 1 + n*half; a <= (n+1)*half; a++ {
			sf.Accounts = append(sf.Accounts, Account(a))
			s.exec(`INSERT INTO storefront_accounts (storefront, account_id) VALUES (?, ?)`, name, Account(a))
		}
		c.Storefronts = append(c.Storefronts, sf)
	}
	// In stock, scarce, out of stock.
	c.SKUs = []string{SKU(1), SKU(2), SKU(3), SKU(7), SKU(14), SKU(10), SKU(20)}
	return c
}

// Demo mappings: box and pallet variants shared by every storefront, one storefront's
// own catalogue number, and storefront customer ids for some accounts.
var (
	demoSKUMappings = []struct {
		storefront, sku, erpSKU, unit string
		factor                        int
	}{
		{"*", "BRG-00001-BOX12", SKU(1), "BOX12", 12},
		{"*", "BRG-00001-PAL480", SKU(1), "PAL480", 480},
		{"*", "BRG-00002-BOX10", SKU(2), "BOX10", 10},
		{"*", "BRG-00003-BOX50", SKU(3), "BOX50", 50},
		{"north-shop", "NS-4711", SKU(4), "EA", 1},
	}
	demoCustomers = []struct {
		storefront, customer string
		account              int // the n-th account of the storefront
	}{
		{"north-shop", "acme-gmbh", 1},
		{"north-shop", "bolt-ag", 2},
		{"south-shop", "southern-supply", 1},
	}
)

func (s *seeder) mappings() {
	now := s.d.Time(time.Now())
	for _, m := range demoSKUMappings {
		s.exec(`INSERT INTO sku_mappings (storefront, sku, erp_sku, unit, factor, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			m.storefront, m.sku, m.erpSKU, m.unit, m.factor, now)
	}
	half := s.opts.Accounts / 2
	for _, c := range demoCustomers {
		n := c.account
		if c.storefront == "south-shop" {
			n += half
		}
		s.exec(`INSERT INTO customer_mappings (storefront, customer, account_id, updated_at) VALUES (?, ?, ?, ?)`,
			c.storefront, c.customer, Account(n), now)
	}
}

// NewKey returns a new random API key: the prefix (sk_ or adm_) and 160 random bits.
func NewKey(prefix string) string {
	b := make([]byte, 20)
	rand.Read(b)
	return prefix + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}
