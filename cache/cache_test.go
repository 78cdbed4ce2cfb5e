package cache

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// owner is a fake source of truth that counts its loads.
type owner struct {
	mu      sync.Mutex
	values  map[string]int
	fail    error
	failKey string // a load asking for it fails
	loads   atomic.Int32
	gate    chan struct{} // when set, loads wait for it
	opened  sync.Once
}

// open lets every load waiting on the gate through, once.
func (o *owner) open() { o.opened.Do(func() { close(o.gate) }) }

// gated sets the owner's gate and opens it when the test ends, before the cache is
// closed (cleanups run last first): a failing test must not leave the refresher waiting.
func (o *owner) gated(t *testing.T) {
	o.gate = make(chan struct{})
	t.Cleanup(o.open)
}

func (o *owner) load(ctx context.Context, keys []string) (map[string]int, error) {
	o.loads.Add(1)
	if o.gate != nil {
		<-o.gate
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return nil, o.fail
	}
	for _, k := range keys {
		if k == o.failKey && o.failKey != "" {
			return nil, errors.New("cannot load " + k)
		}
	}
	out := map[string]int{}
	for _, k := range keys {
		if v, ok := o.values[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

func (o *owner) set(k string, v int) {
	o.mu.Lock()
	o.values[k] = v
	o.mu.Unlock()
}

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }

// missLoads is the Options.MissLoads of newCache's caches: TestWithBatchedMisses runs
// the tests again with misses batched.
var missLoads = 0

func newCache(t *testing.T, o *owner) (*Cache[int], *clock) {
	t.Helper()
	c, err := New[int](Options{MaxBytes: 1 << 20, TTL: time.Second, Revalidate: time.Second, MaxStale: 10 * time.Second,
		NegativeTTL: 500 * time.Millisecond, Tags: func(k string) []string { return []string{"group:" + k[:1]} },
		MissLoads: missLoads},
		o.load, func(int) int64 { return 8 })
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	clk.t.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	c.now = clk.now
	t.Cleanup(c.Close)
	return c, clk
}

func get(t *testing.T, c *Cache[int], key string) Result[int] {
	t.Helper()
	r, err := c.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return r
}

func TestFreshHitThenReloadAfterRevalidateWindow(t *testing.T) {
	o := &owner{values: map[string]int{"a1": 1}}
	c, clk := newCache(t, o)
	if r := get(t, c, "a1"); r.Source != Loaded || r.Value != 1 || !r.Found {
		t.Fatalf("first read: %+v", r)
	}
	o.set("a1", 2)
	if r := get(t, c, "a1"); r.Source != Cached || r.Value != 1 || o.loads.Load() != 1 {
		t.Fatalf("fresh read: %+v after %d loads", r, o.loads.Load())
	}
	clk.advance(2500 * time.Millisecond) // past TTL and revalidate: a synchronous load
	if r := get(t, c, "a1"); r.Source != Loaded || r.Value != 2 {
		t.Fatalf("expired read: %+v", r)
	}
}

func TestStaleWhileRevalidate(t *testing.T) {
	o := &owner{values: map[string]int{"a1": 1}}
	c, clk := newCache(t, o)
	get(t, c, "a1")
	o.set("a1", 2)
	clk.advance(1500 * time.Millisecond)
	if r := get(t, c, "a1"); r.Source != Cached || r.Value != 1 {
		t.Fatalf("within revalidate: %+v, want the old value at once", r)
	}
	eventually(t, "background refresh never landed", func() bool { return get(t, c, "a1").Value == 2 })
	if n := o.loads.Load(); n != 2 {
		t.Errorf("%d loads, want 2 (one refresh)", n)
	}
}

// eventually fails the test unless cond holds within 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRefreshesQueuedDuringALoadLoadTogether(t *testing.T) {
	keys := []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"}
	o := &owner{values: map[string]int{}}
	for _, k := range keys {
		o.values[k] = 1
	}
	c, clk := newCache(t, o)
	if _, err := c.GetMany(context.Background(), keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		o.set(k, 2)
	}
	o.gated(t) // the refresher reads the gate only after the next refresh is queued
	clk.advance(1500 * time.Millisecond)
	get(t, c, "a1")
	eventually(t, "the first refresh never started", func() bool { return o.loads.Load() == 2 })
	for _, k := range keys[1:] { // queued while the refresher waits on the owner
		if r := get(t, c, k); r.Source != Cached || r.Value != 1 {
			t.Fatalf("%s within revalidate: %+v, want the old value at once", k, r)
		}
	}
	o.open()
	for _, k := range keys {
		eventually(t, k+"'s refresh never landed", func() bool { return get(t, c, k).Value == 2 })
	}
	if n := o.loads.Load(); n != 3 {
		t.Errorf("%d loads, want 3: the first, a1's refresh, and one for the eight queued behind it", n)
	}
	if n := c.Stats().Refreshes; n != 9 {
		t.Errorf("%d refreshes counted, want 9", n)
	}
}

func TestARefreshThatFindsTheQueueFullIsDropped(t *testing.T) {
	o := &owner{values: map[string]int{}}
	keys := make([]string, refreshQueue+2)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%05d", i)
		o.values[keys[i]] = 1
	}
	c, clk := newCache(t, o)
	if _, err := c.GetMany(context.Background(), keys); err != nil {
		t.Fatal(err)
	}
	loaded := o.loads.Load() // one load, or one a batch of keys with batched misses
	o.gated(t)               // the refresher reads the gate only after the next refresh is queued
	clk.advance(1500 * time.Millisecond)
	get(t, c, keys[0])
	eventually(t, "the first refresh never started", func() bool { return o.loads.Load() == loaded+1 })
	for _, k := range keys[1:] { // the queue holds refreshQueue; the last finds it full
		get(t, c, k)
	}
	last := keys[len(keys)-1]
	if _, marked := c.refreshing.Load(last); marked {
		t.Error("a dropped refresh left its key marked: it would never be refreshed again")
	}
	if s := c.Stats(); s.Refreshes != refreshQueue+1 || s.RefreshesDropped != 1 {
		t.Errorf("%d refreshes counted and %d dropped, want %d and 1", s.Refreshes, s.RefreshesDropped, refreshQueue+1)
	}
	o.open()
	eventually(t, "the queued refreshes never landed", func() bool {
		_, busy := c.refreshing.Load(keys[1])
		return !busy
	})
	get(t, c, last) // still within revalidate: queued now
	eventually(t, "the dropped key was never refreshed later", func() bool { return c.Stats().Refreshes > refreshQueue+1 })
}

func TestAFailedRefreshBatchIsLoadedAgainReadByRead(t *testing.T) {
	o := &owner{values: map[string]int{"a1": 1, "a2": 1, "b1": 1}}
	c, clk := newCache(t, o)
	if _, err := c.GetMany(context.Background(), []string{"a1", "a2", "b1"}); err != nil {
		t.Fatal(err)
	}
	o.set("a1", 2)
	o.set("a2", 2)
	o.gated(t)
	clk.advance(1500 * time.Millisecond)
	get(t, c, "a1")
	eventually(t, "the first refresh never started", func() bool { return o.loads.Load() == 2 })
	get(t, c, "a2") // two reads' refreshes, queued behind a1's: one batch
	get(t, c, "b1")
	o.mu.Lock()
	o.failKey = "b1" // a load that asks for b1 fails, as one account's read can
	o.mu.Unlock()
	o.open()
	eventually(t, "a2's refresh was lost with b1's", func() bool { return get(t, c, "a2").Value == 2 })
	if n := o.loads.Load(); n != 5 {
		t.Errorf("%d loads, want 5: the first, a1's refresh, the failed batch, then a2 and b1 alone", n)
	}
}

func TestKeysThatJoinTheSameDoNotShareAFlight(t *testing.T) {
	o := &owner{values: map[string]int{"a\x00b": 1, "a": 2, "b": 3}}
	o.gated(t)
	c, _ := newCache(t, o)
	joined := make(chan Result[int])
	go func() { r, _ := c.Get(context.Background(), "a\x00b"); joined <- r }()
	eventually(t, "the first load never started", func() bool { return o.loads.Load() == 1 })
	apart := make(chan []Result[int])
	go func() { rs, _ := c.GetMany(context.Background(), []string{"a", "b"}); apart <- rs }()
	eventually(t, "{a, b} joined the flight of \"a\\x00b\"", func() bool { return o.loads.Load() == 2 })
	o.open()
	if r := <-joined; r.Value != 1 || !r.Found {
		t.Errorf("a\\x00b: %+v", r)
	}
	if rs := <-apart; rs[0].Value != 2 || rs[1].Value != 3 {
		t.Errorf("a, b: %+v", rs)
	}
}

func TestARefreshOfAKeyInAReusedBufferFreesTheKey(t *testing.T) {
	o := &owner{values: map[string]int{"A1": 1}}
	c, clk := newCache(t, o)
	get(t, c, "A1")
	clk.advance(1500 * time.Millisecond)
	buf := []byte("A1")
	if _, err := c.Get(context.Background(), unsafe.String(&buf[0], len(buf))); err != nil {
		t.Fatal(err)
	}
	copy(buf, "Z9") // the caller reuses its buffer while the refresh is queued or running
	eventually(t, "the refresh never ended", func() bool {
		n := 0
		c.refreshing.Range(func(any, any) bool { n++; return true })
		return n == 0
	})
}

func TestCloseWhileReadersLoad(t *testing.T) {
	o := &owner{values: map[string]int{}}
	c, _ := newCache(t, o)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				c.Get(context.Background(), fmt.Sprintf("k%d-%d", g, i))
			}
		}()
	}
	time.Sleep(10 * time.Millisecond)
	c.Close()
	stop.Store(true)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("readers that loaded across Close never returned")
	}
}

func TestStaleFallbackIsBoundedByMaxStale(t *testing.T) {
	o := &owner{values: map[string]int{"a1": 1}}
	c, clk := newCache(t, o)
	first := get(t, c, "a1")
	o.fail = errors.New("owner down")
	clk.advance(5 * time.Second)
	r, err := c.Get(context.Background(), "a1")
	if err != nil || r.Source != Stale || r.Value != 1 || !r.AsOf.Equal(first.AsOf) {
		t.Fatalf("owner down within MaxStale: %+v %v, want the stale value with its as_of", r, err)
	}
	clk.advance(7 * time.Second) // 12s old: past TTL+MaxStale
	if _, err := c.Get(context.Background(), "a1"); !errors.Is(err, o.fail) {
		t.Fatalf("owner down past MaxStale: %v, want the load's error", err)
	}
	if _, err := c.Get(context.Background(), "b1"); !errors.Is(err, o.fail) {
		t.Fatalf("never cached: %v, want the load's error", err)
	}
}

func TestNegativeEntries(t *testing.T) {
	o := &owner{values: map[string]int{}}
	c, clk := newCache(t, o)
	if r := get(t, c, "zz"); r.Found {
		t.Fatalf("unknown key found: %+v", r)
	}
	get(t, c, "zz")
	if o.loads.Load() != 1 {
		t.Fatalf("%d loads, want the absence cached", o.loads.Load())
	}
	o.set("zz", 9)
	clk.advance(600 * time.Millisecond) // past NegativeTTL, well within TTL
	if r := get(t, c, "zz"); !r.Found || r.Value != 9 {
		t.Fatalf("after NegativeTTL: %+v", r)
	}
}

func TestStampedeMakesOneLoad(t *testing.T) {
	o := &owner{values: map[string]int{"a1": 1}, gate: make(chan struct{})}
	c, _ := newCache(t, o)
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := c.Get(context.Background(), "a1"); err != nil || r.Value != 1 {
				bad.Add(1)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the readers pile up on the cold key
	close(o.gate)
	wg.Wait()
	if n := o.loads.Load(); n != 1 || bad.Load() != 0 {
		t.Errorf("%d loads, %d bad answers; want 1 and 0", n, bad.Load())
	}
}

func TestInvalidationDuringALoadWins(t *testing.T) {
	o := &owner{values: map[string]int{"a1": 1}, gate: make(chan struct{})}
	c, _ := newCache(t, o)
	done := make(chan Result[int])
	go func() {
		r, _ := c.Get(context.Background(), "a1")
		done <- r
	}()
	for o.loads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	c.Invalidate("a1") // the owner changed while the old value was on its way
	o.gate <- struct{}{}
	<-done
	o.set("a1", 2)
	o.gate = nil
	if r := get(t, c, "a1"); r.Value != 2 {
		t.Errorf("read after the invalidation: %+v, want the new value", r)
	}
}

func TestInvalidateByTag(t *testing.T) {
	o := &owner{values: map[string]int{"a1": 1, "a2": 1, "b1": 1}}
	c, _ := newCache(t, o)
	c.GetMany(context.Background(), []string{"a1", "a2", "b1"})
	o.set("a1", 2)
	o.set("a2", 2)
	o.set("b1", 2)
	c.Invalidate("group:a")
	rs, err := c.GetMany(context.Background(), []string{"a1", "a2", "b1"})
	if err != nil || rs[0].Value != 2 || rs[1].Value != 2 || rs[2].Value != 1 || rs[2].Source != Cached {
		t.Errorf("after invalidating group:a: %+v %v", rs, err)
	}
}

// A reader that missed before a flight stored the key, but asks after it finished,
// must not start a second load.
func TestLateMissAfterAFlightDoesNotReload(t *testing.T) {
	o := &owner{values: map[string]int{"a1": 1}}
	c, _ := newCache(t, o)
	get(t, c, "a1")
	r, err := c.loadShared(context.Background(), []string{"a1"}) // as a late joiner does
	if err != nil || r["a1"].Value != 1 || o.loads.Load() != 1 {
		t.Errorf("late joiner: %+v %v after %d loads, want the stored value and no second load", r, err, o.loads.Load())
	}
}

// Fiber hands out request values in buffers it reuses: a key whose bytes change after
// Get must neither change what the cache holds nor escape invalidation.
func TestKeysInReusedBuffersStayInvalidatable(t *testing.T) {
	o := &owner{values: map[string]int{"A1": 1}}
	c, _ := newCache(t, o)
	buf := []byte("A1")
	if _, err := c.Get(context.Background(), unsafe.String(&buf[0], len(buf))); err != nil {
		t.Fatal(err)
	}
	copy(buf, "ZZ") // the next request reuses the buffer
	c.Invalidate("A1")
	r, err := c.Get(context.Background(), "A1")
	if err != nil || r.Source != Loaded || o.loads.Load() != 2 {
		t.Errorf("after Invalidate: %+v %v, %d loads; want a reload", r, err, o.loads.Load())
	}
}

// What the cache keeps to invalidate is bounded by the invalidations of one horizon
// (TTL+Revalidate), not by the keys ever read: reading adds nothing, and an invalidation
// is forgotten once no entry loaded before it could be answered as fresh.
func TestInvalidationBookkeepingIsBounded(t *testing.T) {
	o := &owner{values: map[string]int{}}
	c, clk := newCache(t, o)
	for i := range 10_000 {
		k := "a" + strconv.Itoa(i)
		o.set(k, i)
		get(t, c, k)
	}
	if n := c.remembered(); n != 0 {
		t.Fatalf("10,000 reads left %d invalidations remembered, want 0", n)
	}
	for i := range 10_000 {
		c.Invalidate("a" + strconv.Itoa(i))
	}
	if n := c.remembered(); n != 10_000 {
		t.Fatalf("%d invalidations remembered, want 10,000 within the horizon", n)
	}
	clk.advance(c.horizon)
	c.Invalidate("b1")
	if n := c.remembered(); n != 1 {
		t.Errorf("%d invalidations remembered a horizon later, want only the newest", n)
	}
}

// Forgetting an invalidation never makes an entry loaded before it current again while
// that entry could still be answered as fresh.
func TestForgottenInvalidationsWereOutlived(t *testing.T) {
	o := &owner{values: map[string]int{"a1": 1}}
	c, clk := newCache(t, o)
	c.Invalidate("z1") // the next prune is due a horizon from now, while a1 is young
	clk.advance(100 * time.Millisecond)
	get(t, c, "a1")
	e, _ := c.store.Get("a1")
	clk.advance(100 * time.Millisecond)
	c.Invalidate("a1")
	for i := 0; clk.now().Sub(e.asOf) < c.horizon+time.Second; i++ {
		c.Invalidate("b" + strconv.Itoa(i)) // prunes whenever one is due
		if c.current(e) && clk.now().Sub(e.asOf) < c.horizon {
			t.Fatalf("%v after its load, with the invalidation forgotten, the entry counts as current", clk.now().Sub(e.asOf))
		}
		clk.advance(50 * time.Millisecond)
	}
}

// Under concurrency, a read that starts after Invalidate returns never answers from the
// cache what the owner held before the change that was invalidated. (It may join a load
// that began before the change: that answer is Loaded, as of the load's start, which is
// true of it.)
func TestConcurrentInvalidationsAreNeverLost(t *testing.T) {
	o := &owner{values: map[string]int{}}
	c, _ := newCache(t, o)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := "a" + strconv.Itoa(w%4) // two writers per key: a key's value only grows
			for i := range 300 {
				o.mu.Lock()
				v := o.values[k] + 1
				o.values[k] = v
				o.mu.Unlock()
				c.Invalidate(k)
				r, err := c.Get(context.Background(), k)
				if err != nil || r.Value < v && r.Source != Loaded {
					t.Errorf("%s after invalidating value %d: %+v %v", k, v, r, err)
					return
				}
				if i%50 == 0 {
					c.Invalidate("group:a") // and the tag they share
				}
			}
		}()
	}
	wg.Wait()
}

// Entries go into the store without a TTL: the cache ages them itself (the tests above,
// on a fake clock), and ristretto keeps every key given a TTL in a bucket of its expiry
// until that expiry, evicted or not. With TTL+MaxStale (10 minutes by default) that held
// every key loaded in the last 10 minutes, outside MaxBytes: memory.sh's resident memory
// grew for the whole 10-minute run.
func TestEntriesCarryNoStoreTTL(t *testing.T) {
	o := &owner{values: map[string]int{"a1": 1}}
	c, _ := newCache(t, o)
	get(t, c, "a1")
	get(t, c, "a2") // absent: a negative entry
	for _, k := range []string{"a1", "a2"} {
		if ttl, ok := c.store.GetTTL(k); !ok || ttl != 0 {
			t.Errorf("%s: in store %v with TTL %v, want stored without one", k, ok, ttl)
		}
	}
}

// A full cache's memory stays bounded however many keys pass through it: after 100 times
// as many new keys as it holds (its admission policy stores a quarter to all of them, each
// evicting another), the live heap has grown by less than the cache's own size. Go's map
// tables grow under a churn of deletes (to about 1.6 times after hundreds of turnovers,
// golang/go#70886), so the bound is no tighter. Anything kept per key loaded grows with
// the keys and fails it.
func TestMemoryStaysBoundedUnderChurn(t *testing.T) {
	const maxBytes, cost = 256 << 10, 200
	empty := liveHeap()
	load := func(_ context.Context, keys []string) (map[string]int, error) {
		out := make(map[string]int, len(keys))
		for i, k := range keys {
			out[k] = i
		}
		return out, nil
	}
	c, err := New[int](Options{MaxBytes: maxBytes, TTL: time.Minute, NegativeTTL: time.Minute}, load, func(int) int64 { return cost })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	held := maxBytes / (int(entryCost[int]([]string{"k0000000"})) + cost)
	next := 0
	churn := func(turnovers int) {
		keys := make([]string, 16)
		for range turnovers * held / len(keys) {
			for i := range keys {
				keys[i] = fmt.Sprintf("k%07d", next)
				next++
			}
			if _, err := c.GetMany(context.Background(), keys); err != nil {
				t.Fatal(err)
			}
		}
	}
	churn(5)
	full := liveHeap()
	churn(100)
	if grown, own := liveHeap()-full, full-empty; grown > own {
		t.Errorf("100 times %d new keys grew the heap by %d bytes, more than the cache's own %d", held, grown, own)
	}
	if s := c.Stats(); s.Evictions < uint64(10*held) || s.CostBytes > maxBytes {
		t.Errorf("%d evictions, %d bytes held: the cache did not turn over at its bound", s.Evictions, s.CostBytes)
	}
}

// The cost a cache charges an entry is the heap the entry holds, within a quarter: the
// value's own (its cost function's part), its key and tags, the entry and ristretto's
// bookkeeping (the cache's part). MaxBytes then bounds memory, not an estimate of it.
func TestChargedCostIsTheHeapEntriesHold(t *testing.T) {
	load := func(_ context.Context, keys []string) (map[string][]byte, error) {
		out := make(map[string][]byte, len(keys))
		for _, k := range keys {
			out[k] = make([]byte, 64)
		}
		return out, nil
	}
	c, err := New[[]byte](Options{MaxBytes: 1 << 30, TTL: time.Minute,
		Tags: func(k string) []string { return []string{"group:" + k[:2]} }}, load, func(v []byte) int64 { return int64(cap(v)) })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 50_000
	keys := make([]string, 100)
	before := liveHeap()
	for i := 0; i < n; i += len(keys) {
		for j := range keys {
			keys[j] = fmt.Sprintf("k%07d", i+j)
		}
		if _, err := c.GetMany(context.Background(), keys); err != nil {
			t.Fatal(err)
		}
	}
	held, charged := float64(liveHeap()-before)/n, float64(c.Stats().CostBytes)/n
	t.Logf("an entry holds %.0f bytes of heap and is charged %.0f", held, charged)
	if r := held / charged; r < 0.8 || r > 1.25 {
		t.Errorf("an entry holds %.2f times the cost it is charged", r)
	}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestWithBatchedMisses runs the tests of one read's behaviour again with the misses of
// concurrent reads loaded together: batching changes how many loads there are, not
// what a read is answered.
func TestWithBatchedMisses(t *testing.T) {
	missLoads = 4
	t.Cleanup(func() { missLoads = 0 })
	for name, test := range map[string]func(*testing.T){
		"FreshHitThenReloadAfterRevalidateWindow":    TestFreshHitThenReloadAfterRevalidateWindow,
		"StaleWhileRevalidate":                       TestStaleWhileRevalidate,
		"RefreshesQueuedDuringALoadLoadTogether":     TestRefreshesQueuedDuringALoadLoadTogether,
		"ARefreshThatFindsTheQueueFullIsDropped":     TestARefreshThatFindsTheQueueFullIsDropped,
		"AFailedRefreshBatchIsLoadedAgainReadByRead": TestAFailedRefreshBatchIsLoadedAgainReadByRead,
		"ARefreshOfAKeyInAReusedBufferFreesTheKey":   TestARefreshOfAKeyInAReusedBufferFreesTheKey,
		"CloseWhileReadersLoad":                      TestCloseWhileReadersLoad,
		"StaleFallbackIsBoundedByMaxStale":           TestStaleFallbackIsBoundedByMaxStale,
		"NegativeEntries":                            TestNegativeEntries,
		"StampedeMakesOneLoad":                       TestStampedeMakesOneLoad,
		"InvalidationDuringALoadWins":                TestInvalidationDuringALoadWins,
		"InvalidateByTag":                            TestInvalidateByTag,
		"LateMissAfterAFlightDoesNotReload":          TestLateMissAfterAFlightDoesNotReload,
		"KeysInReusedBuffersStayInvalidatable":       TestKeysInReusedBuffersStayInvalidatable,
		"InvalidationBookkeepingIsBounded":           TestInvalidationBookkeepingIsBounded,
		"ForgottenInvalidationsWereOutlived":         TestForgottenInvalidationsWereOutlived,
		"ConcurrentInvalidationsAreNeverLost":        TestConcurrentInvalidationsAreNeverLost,
		"EntriesCarryNoStoreTTL":                     TestEntriesCarryNoStoreTTL,
	} {
		t.Run(name, test)
	}
}

func TestMissesArrivingDuringALoadLoadTogether(t *testing.T) {
	missLoads = 1
	t.Cleanup(func() { missLoads = 0 })
	keys := []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"}
	o := &owner{values: map[string]int{}}
	for i, k := range keys {
		o.values[k] = i
	}
	o.gated(t)
	c, _ := newCache(t, o)
	answers := make(chan error, len(keys))
	read := func(i int) {
		r, err := c.Get(context.Background(), keys[i])
		if err == nil && (r.Value != i || r.Source != Loaded) {
			err = fmt.Errorf("%s: %+v, want %d loaded", keys[i], r, i)
		}
		answers <- err
	}
	go read(0)
	eventually(t, "the first load never started", func() bool { return o.loads.Load() == 1 })
	for i := 1; i < len(keys); i++ { // the one load slot is taken: these wait together
		go read(i)
	}
	eventually(t, "the misses never joined one batch", func() bool { return c.joined() == len(keys)-1 })
	o.open()
	for range keys {
		if err := <-answers; err != nil {
			t.Error(err)
		}
	}
	if n := o.loads.Load(); n != 2 {
		t.Errorf("%d loads, want 2: the first, and one for the eight misses behind it", n)
	}
}

// A batch's keys may come from reads with and without a stale value to fall back on:
// when its load fails, each read falls back to its own.
func TestABatchedReadFallsBackToItsOwnStaleValue(t *testing.T) {
	missLoads = 1
	t.Cleanup(func() { missLoads = 0 })
	o := &owner{values: map[string]int{"a1": 1, "a2": 2}}
	c, clk := newCache(t, o)
	get(t, c, "a1")
	clk.advance(3 * time.Second) // past TTL and revalidate, within MaxStale
	o.gated(t)
	o.fail = errors.New("owner down")
	busy := make(chan struct{})
	go func() { c.Get(context.Background(), "b1"); close(busy) }() // takes the load slot
	eventually(t, "the first load never started", func() bool { return o.loads.Load() == 2 })
	stale, absent := make(chan Result[int]), make(chan error)
	go func() { r, _ := c.Get(context.Background(), "a1"); stale <- r }()
	go func() { _, err := c.Get(context.Background(), "a2"); absent <- err }()
	eventually(t, "a1 and a2 never joined one batch", func() bool { return c.joined() == 2 })
	o.open()
	<-busy
	if r := <-stale; r.Source != Stale || r.Value != 1 {
		t.Errorf("a1: %+v, want its stale value", r)
	}
	if err := <-absent; err == nil {
		t.Error("a2, never loaded: no error, want the failed load's")
	}
	if n := o.loads.Load(); n != 3 {
		t.Errorf("%d loads, want 3: a1's first, b1's, and one for a1 and a2", n)
	}
}

// A read that begins after an invalidation must not be answered by a load of its key
// that began before it, as it would be by joining that load's batch.
func TestAReadAfterAnInvalidationDoesNotJoinAnOlderLoad(t *testing.T) {
	for _, loads := range []int{0, 4} { // the read's own flight, or batched misses
		t.Run(fmt.Sprint("MissLoads=", loads), func(t *testing.T) { testAReadAfterAnInvalidation(t, loads) })
	}
}

func testAReadAfterAnInvalidation(t *testing.T, missLoads int) {
	var calls atomic.Int32
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	load := func(_ context.Context, keys []string) (map[string]int, error) {
		if calls.Add(1) == 1 {
			<-gate
			return map[string]int{"a1": 1}, nil // the value before the change
		}
		return map[string]int{"a1": 2}, nil
	}
	c, err := New[int](Options{MaxBytes: 1 << 20, TTL: time.Second, MissLoads: missLoads}, load, func(int) int64 { return 8 })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	go c.Get(context.Background(), "a1")
	eventually(t, "the first load never started", func() bool { return calls.Load() == 1 })
	c.Invalidate("a1") // the owner changed a1 while the old value was on its way
	later := make(chan Result[int])
	go func() { r, _ := c.Get(context.Background(), "a1"); later <- r }()
	select {
	case r := <-later:
		if r.Value != 2 {
			t.Errorf("read after the invalidation: %+v, want the new value", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the read after the invalidation waited for the load that began before it")
	}
}

// A read's own misses are one load however many they are: split into batches, the
// later ones would wait for the earlier ones.
func TestAReadOfManyMissesIsOneLoad(t *testing.T) {
	missLoads = 1
	t.Cleanup(func() { missLoads = 0 })
	o := &owner{values: map[string]int{}}
	keys := make([]string, 3*maxBatch)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
		o.values[keys[i]] = i
	}
	c, _ := newCache(t, o)
	rs, err := c.GetMany(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Value != i || !r.Found {
			t.Fatalf("%s: %+v", keys[i], r)
		}
	}
	if n := o.loads.Load(); n != 1 {
		t.Errorf("%d loads of one read's %d misses, want 1", n, len(keys))
	}
}

// A load that panics fails the reads that shared it and leaves the cache working.
func TestABatchWhoseLoadPanicsReleasesItsKeys(t *testing.T) {
	load := func(_ context.Context, keys []string) (map[string]int, error) {
		if slices.Contains(keys, "boom") {
			panic("loader bug")
		}
		return map[string]int{keys[0]: 1}, nil
	}
	c, err := New[int](Options{MaxBytes: 1 << 20, TTL: time.Second, MissLoads: 1}, load, func(int) int64 { return 8 })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	func() {
		defer func() { recover() }()
		c.Get(context.Background(), "boom")
	}()
	done := make(chan error)
	go func() { _, err := c.Get(context.Background(), "a1"); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("a read after the panic: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read after the panic never returned: the panicked batch kept its slot or keys")
	}
}
