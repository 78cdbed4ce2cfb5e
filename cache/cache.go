// Package cache keeps read-through caches of values that another system owns: a fresh
// period, stale-while-revalidate, a bounded stale fallback for when the owner cannot be
// reached, negative entries for keys the owner does not have, single-flight loading and
// targeted invalidation. Storage is ristretto, bounded by a cost in bytes.
package cache

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/dgraph-io/ristretto/v2"
	"golang.org/x/sync/singleflight"
)

// Source says how a value was answered.
type Source uint8

// Sources of a Result.
const (
	Loaded Source = iota // loaded from the owner just now
	Cached               // fresh from the cache, or within stale-while-revalidate
	Stale                // the owner failed; the newest cached value, past its freshness
)

// Options configures a Cache.
type Options struct {
	// MaxBytes bounds the estimated size of all entries.
	MaxBytes int64
	// TTL is how long a value is fresh.
	TTL time.Duration
	// Revalidate is how long after TTL a value is still answered as cached while one
	// background load refreshes it.
	Revalidate time.Duration
	// MaxStale is how long after TTL a value is kept to answer, flagged Stale, when
	// loading fails. Past it, a failed load is an error.
	MaxStale time.Duration
	// NegativeTTL is how long a key the owner does not have is remembered as absent.
	NegativeTTL time.Duration
	// Tags returns the invalidation tags of a key besides the key itself.
	Tags func(key string) []string
	// MissLoads, when positive, loads the misses of concurrent reads together: at most
	// MissLoads loads run at once, and the misses that arrive meanwhile wait to be loaded
	// together, up to maxBatch keys a load. It is for a loader that reads any set of keys
	// in one call and fails only as a whole (the owner unreachable), never for one key:
	// a failed load fails every read that shared it. Zero: each read loads its own
	// misses, shared only with reads missing the very same keys.
	MissLoads int
}

// LoadFunc loads the values of keys from the owner. Keys it leaves out of the map are
// absent there.
type LoadFunc[V any] func(ctx context.Context, keys []string) (map[string]V, error)

// Background refreshes are queued for one refresher goroutine per cache, which loads
// what is queued together: it stops taking queued refreshes (each a read's keys) once a
// batch has maxBatch keys; batched misses (Options.MissLoads) stop taking reads' keys
// there too. A goroutine per refresh grew a fresh stack through the ERP driver's calls
// every time: 7% of the bridge's CPU with reads spread over a large catalog, where a
// third of the reads revalidate.
const (
	refreshQueue = 1024
	maxBatch     = 64
)

// Result is one key's answer.
type Result[V any] struct {
	Value  V
	Found  bool // false: the owner does not have the key
	Source Source
	AsOf   time.Time // when the owner said it
}

// Stats counts what the cache did, in the admin API's field names.
type Stats struct {
	Hits        uint64 `json:"hits"`         // answered from the cache (fresh, or revalidating)
	Misses      uint64 `json:"misses"`       // asked of the owner
	StaleServed uint64 `json:"stale_served"` // answered past the TTL because the owner failed
	Loads       uint64 `json:"loads"`
	LoadErrors  uint64 `json:"load_errors"`
	Refreshes   uint64 `json:"refreshes"` // background refreshes queued
	// RefreshesDropped counts refreshes the queue was too full to take: the refresher is
	// behind, and those values age out to ordinary misses.
	RefreshesDropped uint64 `json:"refreshes_dropped"`
	Evictions        uint64 `json:"evictions"` // entries dropped to stay within MaxBytes
	CostBytes        uint64 `json:"cost_bytes"`
}

type entry[V any] struct {
	value V
	found bool
	asOf  time.Time
	tags  []string // the key itself, then Tags(key): computed once, at store
	seq   uint64   // invalidations counted when its load began
}

// invalidation is the last invalidation of a tag: its number and when it happened.
type invalidation struct {
	seq uint64
	at  time.Time
}

// Cache is a read-through cache of V by string key. It is safe for concurrent use.
type Cache[V any] struct {
	opts   Options
	load   LoadFunc[V]
	cost   func(V) int64
	store  *ristretto.Cache[string, *entry[V]]
	flight singleflight.Group
	// With MissLoads: the batch taking misses (nil if none), the batch each key being
	// loaded is in, and a slot per load running.
	batchMu    sync.Mutex
	open       *batch[V]
	inflight   map[string]*batch[V]
	missSlots  chan struct{}
	refreshing sync.Map      // key → struct{}: queued or being refreshed
	refreshQ   chan []string // keys to refresh, for refresher
	stop       context.CancelFunc
	stopped    chan struct{} // refresher has returned
	closeOnce  sync.Once
	// ristretto must not be closed while it stores: loads store under storing's read
	// lock, and Close takes it to mark the cache closed.
	storing sync.RWMutex
	closed  bool
	now     func() time.Time

	// An entry is current unless one of its tags was invalidated after its load began.
	// seq counts invalidations; invalidated keeps each tag's last one for as long as an
	// entry loaded before it could still be answered as fresh (horizon), so that the
	// bookkeeping is bounded by the invalidations of a horizon, not by every key ever read.
	seq         atomic.Uint64
	mu          sync.RWMutex // guards invalidated and pruned
	invalidated map[string]invalidation
	pruned      time.Time
	horizon     time.Duration

	hits, misses, stale, loads, loadErrors, refreshes, dropped, evictions atomic.Uint64
}

// New returns a cache of the values that load loads. cost(v) is the heap v refers to
// outside itself (its strings' bytes, slices' arrays, pointees); the entry holding v
// and the cache's own bookkeeping are charged by the cache.
func New[V any](opts Options, load LoadFunc[V], cost func(V) int64) (*Cache[V], error) {
	if opts.MaxBytes <= 0 || opts.TTL <= 0 {
		return nil, errors.New("cache: MaxBytes and TTL must be positive")
	}
	c := &Cache[V]{opts: opts, load: load, cost: cost, now: time.Now, invalidated: map[string]invalidation{},
		horizon:  max(opts.TTL+opts.Revalidate, opts.NegativeTTL),
		refreshQ: make(chan []string, refreshQueue), stopped: make(chan struct{})}
	if opts.MissLoads > 0 {
		c.inflight, c.missSlots = map[string]*batch[V]{}, make(chan struct{}, opts.MissLoads)
	}
	store, err := ristretto.NewCache(&ristretto.Config[string, *entry[V]]{
		NumCounters:        max(10_000, opts.MaxBytes/50), // ~10 per entry of ~500 bytes
		MaxCost:            opts.MaxBytes,
		BufferItems:        1024, // fewer hand-offs of access batches to the policy goroutine
		IgnoreInternalCost: true, // no metrics: they cost every Get, and Stats needs none
		OnEvict:            func(*ristretto.Item[*entry[V]]) { c.evictions.Add(1) },
	})
	if err != nil {
		return nil, err
	}
	c.store = store
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go c.refresher(ctx)
	return c, nil
}

// Close releases the cache's goroutines: it stops the refresher and waits for a refresh
// under way to end. A load that ends after Close stores nothing.
func (c *Cache[V]) Close() {
	c.closeOnce.Do(func() {
		c.stop()
		<-c.stopped
		c.storing.Lock()
		c.closed = true
		c.storing.Unlock()
		c.store.Close()
	})
}

// Get is GetMany for one key.
func (c *Cache[V]) Get(ctx context.Context, key string) (Result[V], error) {
	r, err := c.GetMany(ctx, []string{key})
	if err != nil {
		return Result[V]{}, err
	}
	return r[0], nil
}

// GetMany answers keys in order: fresh ones from the cache, the rest with one load
// shared by every concurrent caller missing the same keys. Values past their TTL but
// within Revalidate are answered and refreshed in the background. If the load fails,
// keys with a value younger than TTL+MaxStale are answered Stale; otherwise the load's
// error is returned.
func (c *Cache[V]) GetMany(ctx context.Context, keys []string) ([]Result[V], error) {
	out := make([]Result[V], len(keys))
	now := c.now()
	var missing, refresh []string
	var stale map[string]*entry[V]
	for i, k := range keys {
		e, ok := c.store.Get(k)
		if !ok {
			missing = append(missing, k)
			continue
		}
		age, ttl := now.Sub(e.asOf), c.opts.TTL
		if !e.found {
			ttl = c.opts.NegativeTTL
		}
		current := c.current(e)
		switch {
		case current && age < ttl:
			out[i] = Result[V]{Value: e.value, Found: e.found, Source: Cached, AsOf: e.asOf}
			c.hits.Add(1)
		case current && age < ttl+c.opts.Revalidate && e.found:
			out[i] = Result[V]{Value: e.value, Found: e.found, Source: Cached, AsOf: e.asOf}
			c.hits.Add(1)
			refresh = append(refresh, k)
		default:
			missing = append(missing, k)
			if e.found && age < c.opts.TTL+c.opts.MaxStale {
				if stale == nil {
					stale = map[string]*entry[V]{}
				}
				stale[k] = e
			}
		}
	}
	if len(refresh) > 0 {
		c.refresh(refresh)
	}
	if len(missing) == 0 {
		return out, nil
	}
	c.misses.Add(uint64(len(missing)))
	loaded, err := c.loadShared(ctx, missing)
	for i, k := range keys {
		if out[i].Source == Cached {
			continue
		}
		if err == nil {
			out[i] = loaded[k]
			continue
		}
		e, ok := stale[k]
		if !ok {
			return nil, err
		}
		out[i] = Result[V]{Value: e.value, Found: true, Source: Stale, AsOf: e.asOf}
		c.stale.Add(1)
	}
	return out, nil
}

// loadShared runs one load per distinct set of keys at a time, or with MissLoads one
// per batch, and stores what it gets.
func (c *Cache[V]) loadShared(ctx context.Context, keys []string) (map[string]Result[V], error) {
	if c.missSlots != nil {
		return c.loadBatched(ctx, keys)
	}
	// The keys are kept (entries, tags, the loader's values), and a caller's string may
	// live in a buffer it reuses (Fiber's request values do): own copies.
	sorted := make([]string, len(keys))
	for i, k := range keys {
		sorted[i] = strings.Clone(k)
	}
	sort.Strings(sorted)
	// The invalidations counted so far, then each key with its length. A read joins only
	// a flight that began since the last invalidation: one that began before it may
	// answer a value from before the change the read came after. And a key may hold any
	// byte: joined with a separator, {"a\x00b"} and {"a", "b"} would share a flight.
	var fk strings.Builder
	fk.WriteString(strconv.FormatUint(c.seq.Load(), 10))
	fk.WriteByte('#')
	for _, k := range sorted {
		fk.WriteString(strconv.Itoa(len(k)))
		fk.WriteByte(':')
		fk.WriteString(k)
	}
	v, err, _ := c.flight.Do(fk.String(), func() (any, error) {
		// Not the first caller's context: one caller hanging up must not fail the rest.
		return c.loadAndStore(context.WithoutCancel(ctx), sorted)
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]Result[V]), nil
}

// batch is one load of the misses of concurrent reads.
type batch[V any] struct {
	keys    []string
	sealed  bool          // closed to joiners, loading
	seq     uint64        // with sealed: invalidations counted when it was sealed
	done    chan struct{} // closed when results and err are set
	results map[string]Result[V]
	err     error
}

// loadBatched answers keys from the batches loading them: a key being loaded since
// before the last invalidation waits for that load, the others join the batch taking
// misses, and a read that opens a batch runs it once a load slot is free, with every
// key that joined it by then.
func (c *Cache[V]) loadBatched(ctx context.Context, keys []string) (map[string]Result[V], error) {
	batches, mine := c.join(keys)
	if mine != nil {
		c.runBatch(ctx, mine)
	}
	if len(batches) == 1 {
		<-batches[0].done
		return batches[0].results, batches[0].err
	}
	out := make(map[string]Result[V], len(keys))
	for _, b := range batches {
		<-b.done
		if b.err != nil {
			return nil, b.err
		}
		for _, k := range keys {
			if r, ok := b.results[k]; ok {
				out[k] = r
			}
		}
	}
	return out, nil
}

// join finds or makes the batch of each key. It returns every batch the keys are in,
// and the batch the caller opened, if any, which it must run. Keys join the open batch
// until it has maxBatch; the caller's own batch takes the rest of its keys, however
// many, so that no read waits for two loads of its own one after the other.
func (c *Cache[V]) join(keys []string) (batches []*batch[V], mine *batch[V]) {
	c.batchMu.Lock()
	defer c.batchMu.Unlock()
	for _, k := range keys {
		b, ok := c.inflight[k]
		// A load sealed before an invalidation may answer a value older than this read.
		if !ok || b.sealed && b.seq != c.seq.Load() {
			if c.open == nil || len(c.open.keys) >= maxBatch && c.open != mine {
				c.open = &batch[V]{done: make(chan struct{})}
				mine = c.open
			}
			b = c.open
			k = strings.Clone(k) // kept by the batch, and a caller's buffer may be reused
			b.keys = append(b.keys, k)
			c.inflight[k] = b
		}
		if !slices.Contains(batches, b) {
			batches = append(batches, b)
		}
	}
	return batches, mine
}

// runBatch loads batch b when a load slot is free. Before it waits it lets the
// goroutines that are ready run first, so that the reads of the same network poll join.
func (c *Cache[V]) runBatch(ctx context.Context, b *batch[V]) {
	runtime.Gosched()
	c.missSlots <- struct{}{}
	c.batchMu.Lock()
	if c.open == b {
		c.open = nil // later misses make the next batch
	}
	b.sealed, b.seq = true, c.seq.Load()
	c.batchMu.Unlock()
	defer func() {
		<-c.missSlots
		c.batchMu.Lock()
		for _, k := range b.keys {
			if c.inflight[k] == b { // stored: the next miss finds it in the cache
				delete(c.inflight, k)
			}
		}
		c.batchMu.Unlock()
		close(b.done)
	}()
	b.err = errLoadPanicked // what the joiners get if the load never returns
	// Not the opener's context: one caller hanging up must not fail the rest.
	b.results, b.err = c.loadAndStore(context.WithoutCancel(ctx), b.keys)
}

var errLoadPanicked = errors.New("cache: the load panicked")

// loadAndStore loads keys and stores what it gets, unless the cache has them all fresh:
// a caller that missed just before another load stored these keys gets them now, not a
// second load. Its callers began since the last invalidation before it (loadShared,
// join), so what the cache holds fresh is as new as what each of them asked for.
func (c *Cache[V]) loadAndStore(ctx context.Context, keys []string) (map[string]Result[V], error) {
	if out, ok := c.fresh(keys); ok {
		return out, nil
	}
	tags := make([][]string, len(keys))
	for i, k := range keys {
		tags[i] = append([]string{k}, c.tags(k)...)
	}
	// asOf before seq: an entry is then never younger than an invalidation it missed,
	// which is what lets Invalidate forget that invalidation after the horizon.
	asOf := c.now()
	seq := c.seq.Load() // before the load: an invalidation during it wins
	c.loads.Add(1)
	values, err := c.load(ctx, keys)
	if err != nil {
		c.loadErrors.Add(1)
		return nil, err
	}
	out := make(map[string]Result[V], len(keys))
	c.storing.RLock()
	defer c.storing.RUnlock()
	for i, k := range keys {
		v, found := values[k]
		out[k] = Result[V]{Value: v, Found: found, Source: Loaded, AsOf: asOf}
		if c.closed {
			continue
		}
		e := &entry[V]{value: v, found: found, asOf: asOf, tags: tags[i], seq: seq}
		// No TTL in the store: GetMany judges an entry's age itself, and ristretto keeps
		// every key given a TTL in a bucket of its expiry until that expiry, evicted or
		// not, so memory grew with the keys loaded over TTL+MaxStale, past MaxBytes. An
		// entry too old to answer stays until it is evicted, within MaxBytes.
		if cost := entryCost[V](e.tags); found {
			c.store.Set(k, e, cost+c.cost(v))
		} else if c.opts.NegativeTTL > 0 {
			c.store.Set(k, e, cost)
		}
	}
	if !c.closed {
		c.store.Wait() // the next reader sees these entries, not another miss
	}
	return out, nil
}

// ristrettoItem is the heap ristretto holds for an entry besides the entry itself: its
// store's item and map slot, and its policy's key cost and counters (measured by
// TestChargedCostIsTheHeapEntriesHold).
const ristrettoItem = 112

// entryCost is the heap an entry holds besides its value: the entry, its tags (the
// first is its key) and ristretto's bookkeeping. The value's part is the caller's cost.
func entryCost[V any](tags []string) int64 {
	n := int64(unsafe.Sizeof(entry[V]{})) + ristrettoItem + int64(len(tags))*int64(unsafe.Sizeof(""))
	for _, t := range tags {
		n += int64(len(t))
	}
	return n
}

// fresh returns the keys' entries if every one is in the cache, current and fresh.
func (c *Cache[V]) fresh(keys []string) (map[string]Result[V], bool) {
	now := c.now()
	out := make(map[string]Result[V], len(keys))
	for _, k := range keys {
		e, ok := c.store.Get(k)
		if !ok || !c.current(e) {
			return nil, false
		}
		ttl := c.opts.TTL
		if !e.found {
			ttl = c.opts.NegativeTTL
		}
		if now.Sub(e.asOf) >= ttl {
			return nil, false
		}
		out[k] = Result[V]{Value: e.value, Found: e.found, Source: Cached, AsOf: e.asOf}
	}
	return out, true
}

// refresh queues keys for a background reload, once per key at a time. When the queue
// is full the keys are left to age out: a later read loads them itself.
func (c *Cache[V]) refresh(keys []string) {
	var mine []string
	for _, k := range keys {
		if _, busy := c.refreshing.Load(k); busy {
			continue
		}
		k = strings.Clone(k) // kept past the request, and a caller's buffer may be reused
		if _, busy := c.refreshing.LoadOrStore(k, struct{}{}); !busy {
			mine = append(mine, k)
		}
	}
	if len(mine) == 0 {
		return
	}
	select {
	case c.refreshQ <- mine:
		c.refreshes.Add(1)
	default:
		c.dropped.Add(1)
		c.refreshed(mine)
	}
}

// refresher loads the queued refreshes until the cache is closed. Before it takes a
// batch it lets the goroutines that are ready run first, so that the requests read in
// the same network poll queue theirs and one load carries them all.
func (c *Cache[V]) refresher(ctx context.Context) {
	defer close(c.stopped)
	for {
		var keys []string
		select {
		case keys = <-c.refreshQ:
		case <-ctx.Done():
			return
		}
		if ctx.Err() != nil { // closed while a refresh was queued: the select chose at random
			return
		}
		runtime.Gosched()
		jobs, n := [][]string{keys}, len(keys)
	batch:
		for n < maxBatch {
			select {
			case more := <-c.refreshQ:
				jobs, n = append(jobs, more), n+len(more)
			default:
				break batch
			}
		}
		keys = slices.Concat(jobs...)
		// A load runs on a context without the caller's cancellation or deadline (it may
		// be shared with readers): the loader bounds its own calls, as bridge's guards do.
		// A failed batch is loaded again read by read, so that one read's failure (one
		// account's, say) leaves the others' refreshes as they were before batching; a
		// failure leaves the old values to age out.
		if _, err := c.loadShared(ctx, keys); err != nil && len(jobs) > 1 {
			for _, job := range jobs {
				c.loadShared(ctx, job)
			}
		}
		c.refreshed(keys)
	}
}

// refreshed lets keys be refreshed again.
func (c *Cache[V]) refreshed(keys []string) {
	for _, k := range keys {
		c.refreshing.Delete(k)
	}
}

func (c *Cache[V]) tags(key string) []string {
	if c.opts.Tags == nil {
		return nil
	}
	return c.opts.Tags(key)
}

// current reports whether none of the entry's tags was invalidated since its load began.
func (c *Cache[V]) current(e *entry[V]) bool {
	if c.seq.Load() == e.seq {
		return true // nothing invalidated since: the read path's common case, lock-free
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, t := range e.tags {
		if inv, ok := c.invalidated[t]; ok && inv.seq > e.seq {
			return false
		}
	}
	return true
}

// Invalidate marks every entry carrying one of the tags (a key is a tag of itself) as
// no longer fresh, including entries being loaded right now. Invalidated values remain
// available as a stale fallback.
func (c *Cache[V]) Invalidate(tags ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seq := c.seq.Add(1)
	now := c.now() // after seq: every entry that misses this invalidation is older
	for _, t := range tags {
		c.invalidated[strings.Clone(t)] = invalidation{seq: seq, at: now} // a kept key: own copy
	}
	// Past the horizon, an entry loaded before an invalidation is too old to answer as
	// fresh whatever it says: forget those invalidations, once per horizon.
	if now.Sub(c.pruned) < c.horizon {
		return
	}
	for t, inv := range c.invalidated {
		if now.Sub(inv.at) >= c.horizon {
			delete(c.invalidated, t)
		}
	}
	c.pruned = now
}

// Purge drops every entry.
func (c *Cache[V]) Purge() {
	c.store.Clear()
}

// Stats returns the cache's counters.
func (c *Cache[V]) Stats() Stats {
	s := Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), StaleServed: c.stale.Load(), Loads: c.loads.Load(),
		LoadErrors: c.loadErrors.Load(), Refreshes: c.refreshes.Load(), RefreshesDropped: c.dropped.Load(),
		Evictions: c.evictions.Load()}
	s.CostBytes = uint64(c.store.MaxCost() - c.store.RemainingCost())
	return s
}
