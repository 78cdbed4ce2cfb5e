package bridge

import (
	"context"
	"strings"
	"time"

	"github.com/b2bridge/b2bridge/cache"
	"github.com/b2bridge/b2bridge/erp"
)

// pricing is one account's pricing rules for one item, as cached.
type pricing struct {
	Currency string
	Date     time.Time // the ERP's business date when read
	Item     erp.ItemPricing
}

// Invalidation tags besides each cache key itself.
const (
	tagAll     = "*"
	tagAccount = "account:"
	tagSKU     = "sku:"
)

// stockMissLoads is how many loads of stock misses run at once; the misses that arrive
// meanwhile are loaded together, one ERP read for up to 64 SKUs. Availability reads
// spread over 100,000 items took 29-32 us of CPU each with 1 to 8 loads at once, 42-44
// without batching (one core, wrk, 64 connections); more than one keeps a network ERP's
// round trips overlapping.
const stockMissLoads = 4

// onlyTagAll is the tag list of stock and credit keys, shared: Tags runs on every read.
var onlyTagAll = []string{tagAll}

// priceKey is the price cache key of an account's item.
func priceKey(account, sku string) string { return account + "\x00" + sku }

func (s *Service) newCaches() error {
	c := s.cfg.Cache
	opts := func(ttl time.Duration, share int64) cache.Options {
		return cache.Options{MaxBytes: c.MaxBytes * share / 10, TTL: ttl, Revalidate: c.Revalidate, MaxStale: c.MaxStale,
			NegativeTTL: c.NegativeTTL, Tags: func(string) []string { return onlyTagAll }}
	}
	// Each cost is the heap a value refers to outside itself (cache.New), set so that
	// TestCachesChargeTheHeapTheyHold finds the charge within a few percent.
	var err error
	so := opts(c.StockTTL, 4)
	so.MissLoads = stockMissLoads
	if s.stock, err = cache.New(so, s.loadStock, func(st erp.Stock) int64 {
		return int64(64 + len(st.SKU) + len(st.Unit) + 72*len(st.Warehouses))
	}); err != nil {
		return err
	}
	po := opts(c.PriceTTL, 4)
	po.Tags = func(key string) []string {
		account, sku, _ := strings.Cut(key, "\x00")
		return []string{tagAll, tagAccount + account, tagSKU + sku}
	}
	if s.prices, err = cache.New(po, s.loadPrices, func(p pricing) int64 {
		return int64(72 + 128*len(p.Item.Pricing.Tiers))
	}); err != nil {
		return err
	}
	s.credit, err = cache.New(opts(c.CreditTTL, 2), s.loadCredit, func(erp.Credit) int64 { return 72 })
	return err
}

// loadStock is the stock cache's loader: one guarded ERP read for all missing SKUs.
func (s *Service) loadStock(ctx context.Context, skus []string) (map[string]erp.Stock, error) {
	var stock []erp.Stock
	err := s.guards[StockReads].run(ctx, func(ctx context.Context) (err error) {
		stock, err = s.erp.Stock(ctx, skus, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]erp.Stock, len(stock))
	for _, st := range stock {
		out[st.SKU] = st
	}
	return out, nil
}

// loadPrices is the price cache's loader: one guarded ERP read per account. A read's
// keys share one account; a batch of background refreshes may span several.
func (s *Service) loadPrices(ctx context.Context, keys []string) (map[string]pricing, error) {
	var accounts []string
	skus := map[string][]string{}
	for _, k := range keys {
		account, sku, _ := strings.Cut(k, "\x00")
		if _, ok := skus[account]; !ok {
			accounts = append(accounts, account)
		}
		skus[account] = append(skus[account], sku)
	}
	out := make(map[string]pricing, len(keys))
	for _, account := range accounts {
		var data erp.PriceData
		err := s.guards[PriceReads].run(ctx, func(ctx context.Context) (err error) {
			data, err = s.erp.PriceData(ctx, account, skus[account])
			return err
		})
		if err != nil {
			return nil, err
		}
		for sku, item := range data.Items {
			out[priceKey(account, sku)] = pricing{Currency: data.Currency, Date: data.Date, Item: item}
		}
	}
	return out, nil
}

func (s *Service) loadCredit(ctx context.Context, accounts []string) (map[string]erp.Credit, error) {
	out := make(map[string]erp.Credit, len(accounts))
	for _, a := range accounts {
		var c erp.Credit
		err := s.guards[CreditReads].run(ctx, func(ctx context.Context) (err error) {
			c, err = s.erp.Credit(ctx, a)
			return err
		})
		if err != nil {
			return nil, err
		}
		out[a] = c
	}
	return out, nil
}

// invalidate applies one change-log entry (or an order's own changes) to the caches.
func (s *Service) invalidate(c erp.Change) {
	switch c.Entity {
	case erp.ChangeStock:
		s.stock.Invalidate(c.Key)
	case erp.ChangeItemPrices:
		s.prices.Invalidate(tagSKU + c.Key)
	case erp.ChangeAccount:
		s.credit.Invalidate(c.Key)
		s.prices.Invalidate(tagAccount + c.Key)
	case erp.ChangeAllPrices:
		s.prices.Invalidate(tagAll)
	case erp.ChangeMappings, erp.ChangeKeys:
		// Nothing cached: mappings apply on the way out, keys are reloaded whole.
	default: // erp.ChangeAll, and entities this version does not know: be safe
		s.stock.Invalidate(tagAll)
		s.prices.Invalidate(tagAll)
		s.credit.Invalidate(tagAll)
	}
}

// CacheStats returns each cache's counters.
func (s *Service) CacheStats() map[string]cache.Stats {
	return map[string]cache.Stats{"stock": s.stock.Stats(), "prices": s.prices.Stats(), "credit": s.credit.Stats()}
}

// PurgeCaches drops every cached value.
func (s *Service) PurgeCaches() {
	s.stock.Purge()
	s.prices.Purge()
	s.credit.Purge()
}
