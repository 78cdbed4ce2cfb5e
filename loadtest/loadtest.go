// Package loadtest drives a running bridge over its HTTP API at a constant arrival rate
// with a mix of reads, quotes and orders, as storefronts would, then audits the order
// path: every order the run was told about, and every order the ERP holds for the run,
// read back through the API. It is a client of the API only: it declares the wire types
// it needs and imports nothing of the bridge.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Credentials are a deployment's keys, in the format of demo-credentials.json.
type Credentials struct {
	Storefronts []Storefront `json:"storefronts"`
	SKUs        []string     `json:"skus"`
}

// Storefront is one storefront's key and the accounts it serves.
type Storefront struct {
	Name     string   `json:"name"`
	Key      string   `json:"key"`
	Accounts []string `json:"accounts"`
}

// ReadCredentials reads a credentials file.
func ReadCredentials(path string) (Credentials, error) {
	var c Credentials
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	if len(c.Storefronts) == 0 || len(c.SKUs) == 0 {
		return c, fmt.Errorf("%s: no storefronts or no SKUs", path)
	}
	return c, nil
}

// ReadSKUs reads a file of SKUs, one per line (blank lines and lines starting with #
// skipped): a catalog for carts wider than the credentials' few SKUs.
func ReadSKUs(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var skus []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			skus = append(skus, l)
		}
	}
	if len(skus) == 0 {
		return nil, fmt.Errorf("%s: no SKUs", path)
	}
	return skus, nil
}

// Kind is a kind of request.
type Kind string

// The kinds of request, in the order reports list them.
const (
	Read  Kind = "read"
	Quote Kind = "quote"
	Order Kind = "order"
)

// Kinds lists the kinds of request.
var Kinds = []Kind{Read, Quote, Order}

// Mix is the share of each kind, in parts.
type Mix map[Kind]int

// ParseMix reads "reads=80,quotes=10,orders=10".
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for _, part := range strings.Split(s, ",") {
		name, n, ok := strings.Cut(strings.TrimSpace(part), "=")
		v, err := strconv.Atoi(n)
		kind := Kind(strings.TrimSuffix(name, "s"))
		if !ok || err != nil || v < 0 || !slices.Contains(Kinds, kind) {
			return nil, fmt.Errorf("--mix %q: want reads=N,quotes=N,orders=N", s)
		}
		m[kind] = v
	}
	if m[Read]+m[Quote]+m[Order] == 0 {
		return nil, fmt.Errorf("--mix %q: nothing to send", s)
	}
	return m, nil
}

// Config is one run.
type Config struct {
	Target   string        // the bridge's base URL
	Creds    Credentials   // keys, accounts and SKUs to use
	Duration time.Duration // how long requests are started
	Rate     int           // requests started per second, whatever the answers take
	Mix      Mix
	Accounts int       // accounts to spread the load over; 0: all
	Lines    int       // the most lines of a cart (quotes and orders); 0: 3
	Progress io.Writer // a line a second while running; nil: none
	RunID    string    // names the run's orders (their PO number and Idempotency-Key); empty: from the clock
	Seed     uint64
}

// account is one account and the key that serves it.
type account struct{ id, key string }

// Result is what a run measured and found.
type Result struct {
	RunID     string
	Started   time.Time
	Elapsed   time.Duration
	Scheduled int                              // requests due within the duration
	Late      int                              // due but not sent: the tool had too many in flight
	Latency   map[Kind]*hdrhistogram.Histogram // µs, from when each was due: waiting to be sent counts
	Answers   map[Kind]map[string]int          // by status and code ("409 insufficient_stock", "error")
	Seconds   []Second                         // per second of the run
	Orders    OrderCounts
	Audit     Audit

	run *run
}

// AuditAgain audits the run's orders again, as they are in the ERP now.
func (res *Result) AuditAgain(ctx context.Context) (Audit, error) { return res.run.audit(ctx) }

// Second is one second of the run.
type Second struct {
	Done, Errors int
	P50, P99     time.Duration
}

// OrderCounts are the orders by how the run ended them.
type OrderCounts struct{ Confirmed, Refused, Unknown, Retries int }

// placed is what the bridge confirmed of one order.
type placed struct {
	account string
	order   orderWire
}

type orderWire struct {
	OrderID string  `json:"order_id"`
	PO      *string `json:"po_number"`
	Total   string  `json:"total"`
	Lines   []struct {
		SKU       string `json:"sku"`
		Qty       int    `json:"qty"`
		UnitPrice string `json:"unit_price"`
		LineTotal string `json:"line_total"`
	} `json:"lines"`
}

// run is a run in progress.
type run struct {
	cfg      Config
	client   *http.Client
	accounts []account
	start    time.Time

	mu        sync.Mutex
	latency   map[Kind]*hdrhistogram.Histogram
	answers   map[Kind]map[string]int
	seconds   []*hdrhistogram.Histogram
	errs      []int
	confirmed map[string]placed // by Idempotency-Key
	unknown   map[string]string // key → account: no answer after every retry
	orders    OrderCounts
}

// Run drives the target for cfg.Duration, waits for the requests in flight, and audits
// the orders.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 {
		return nil, errors.New("loadtest: rate and duration must be positive")
	}
	if cfg.RunID == "" {
		cfg.RunID = "LT" + strconv.FormatInt(time.Now().UnixMilli(), 36)
	}
	r := &run{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1024}},
		latency: map[Kind]*hdrhistogram.Histogram{}, answers: map[Kind]map[string]int{},
		confirmed: map[string]placed{}, unknown: map[string]string{}}
	for _, k := range Kinds {
		r.latency[k] = hdrhistogram.New(1, 60_000_000, 3)
		r.answers[k] = map[string]int{}
	}
	for _, sf := range cfg.Creds.Storefronts {
		for _, a := range sf.Accounts {
			r.accounts = append(r.accounts, account{a, sf.Key})
		}
	}
	if cfg.Accounts > 0 && cfg.Accounts < len(r.accounts) {
		r.accounts = r.accounts[:cfg.Accounts]
	}
	res := &Result{RunID: cfg.RunID, run: r}
	r.start = time.Now()
	res.Started = r.start
	r.drive(ctx, res)
	res.Elapsed = time.Since(r.start)
	res.Latency, res.Answers, res.Orders = r.latency, r.answers, r.orders
	for i, h := range r.seconds {
		res.Seconds = append(res.Seconds, Second{Done: int(h.TotalCount()), Errors: r.errs[i],
			P50: time.Duration(h.ValueAtQuantile(50)) * time.Microsecond, P99: time.Duration(h.ValueAtQuantile(99)) * time.Microsecond})
	}
	audit, err := r.audit(ctx)
	res.Audit = audit
	return res, err
}

// drive starts a request at each tick of the rate, each on its own goroutine: a slow
// answer never delays the next request (an open model). Requests that cannot start
// because too many are in flight are counted as late, not queued.
func (r *run) drive(ctx context.Context, res *Result) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 1))
	interval := time.Second / time.Duration(r.cfg.Rate)
	total := r.cfg.Mix[Read] + r.cfg.Mix[Quote] + r.cfg.Mix[Order]
	slots := make(chan struct{}, max(1000, 10*r.cfg.Rate))
	var wg sync.WaitGroup
	stopProgress := r.progress()
	defer stopProgress()
	for i := 0; ; i++ {
		due := r.start.Add(time.Duration(i) * interval)
		if due.Sub(r.start) >= r.cfg.Duration || ctx.Err() != nil {
			break
		}
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		res.Scheduled++
		kind, n := Order, rng.IntN(total)
		switch {
		case n < r.cfg.Mix[Read]:
			kind = Read
		case n < r.cfg.Mix[Read]+r.cfg.Mix[Quote]:
			kind = Quote
		}
		acct := r.accounts[rng.IntN(len(r.accounts))]
		lines := r.cart(rng)
		select {
		case slots <- struct{}{}:
		default:
			res.Late++
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			r.send(ctx, kind, i, due, acct, lines)
		}()
	}
	wg.Wait()
}

type line struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// cart is 1 to Config.Lines lines of distinct SKUs (no more lines than there are SKUs).
func (r *run) cart(rng *rand.Rand) []line {
	skus := r.cfg.Creds.SKUs
	most := r.cfg.Lines
	if most <= 0 {
		most = 3
	}
	n := 1 + rng.IntN(min(most, len(skus)))
	var out []line
	for len(out) < n {
		sku := skus[rng.IntN(len(skus))]
		if !slices.ContainsFunc(out, func(l line) bool { return l.SKU == sku }) {
			out = append(out, line{sku, 1 + rng.IntN(3)})
		}
	}
	return out
}

// send makes one request of the kind; an order is retried with the same Idempotency-Key
// on a 5xx and on no answer, as a careful storefront would.
func (r *run) send(ctx context.Context, kind Kind, i int, due time.Time, acct account, lines []line) {
	base := r.cfg.Target + "/v1/accounts/" + acct.id
	switch kind {
	case Read: // in turn: the cart's stock, its prices, the account's credit
		switch i % 3 {
		case 0:
			q := "sku=" + strings.Join(skusOf(lines), "&sku=")
			r.record(kind, due, r.do(ctx, "GET", r.cfg.Target+"/v1/availability?"+q, acct.key, nil, ""))
		case 1:
			q := ""
			for _, l := range lines {
				q += "&sku=" + l.SKU + "&qty=" + strconv.Itoa(l.Qty)
			}
			r.record(kind, due, r.do(ctx, "GET", base+"/prices?"+q[1:], acct.key, nil, ""))
		default:
			r.record(kind, due, r.do(ctx, "GET", base+"/credit", acct.key, nil, ""))
		}
	case Quote:
		r.record(kind, due, r.do(ctx, "POST", base+"/quotes", acct.key, map[string]any{"lines": lines}, ""))
	case Order:
		key := r.cfg.RunID + "-" + strconv.Itoa(i)
		body := map[string]any{"po_number": key, "lines": lines}
		var a answer
		for attempt := 0; ; attempt++ {
			a = r.do(ctx, "POST", base+"/orders", acct.key, body, key)
			r.record(kind, due, a)
			// Any 5xx or no answer: a proxy's 502 or 504 may hide a commit, as may a 503.
			if (a.err == nil && a.status < 500) || attempt == 5 || ctx.Err() != nil {
				break
			}
			r.mu.Lock()
			r.orders.Retries++
			r.mu.Unlock()
			time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		switch {
		case a.err == nil && (a.status == http.StatusCreated || a.status == http.StatusOK):
			var o orderWire
			if json.Unmarshal(a.body, &o) == nil {
				r.confirmed[key] = placed{acct.id, o}
				r.orders.Confirmed++
				return
			}
			r.unknown[key] = acct.id
			r.orders.Unknown++
		case a.err == nil && a.status < 500:
			r.orders.Refused++
		default:
			r.unknown[key] = acct.id
			r.orders.Unknown++
		}
	}
}

func skusOf(lines []line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.SKU)
	}
	return out
}

// answer is one HTTP answer, or the error that stood in for it.
type answer struct {
	status int
	code   string
	body   []byte
	err    error
}

func (r *run) do(ctx context.Context, method, url, key string, body any, idempotencyKey string) answer {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, body: b, err: err}
	if resp.StatusCode >= 400 {
		var p struct{ Code string }
		json.Unmarshal(b, &p)
		a.code = p.Code
	}
	return a
}

// record counts an answer and its latency from when its request was due.
func (r *run) record(kind Kind, due time.Time, a answer) {
	now := time.Now()
	us := max(1, now.Sub(due).Microseconds())
	label := strconv.Itoa(a.status)
	if a.err != nil {
		label = "error"
	} else if a.code != "" {
		label += " " + a.code
	}
	sec := int(now.Sub(r.start) / time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latency[kind].RecordValue(us)
	r.answers[kind][label]++
	for len(r.seconds) <= sec {
		r.seconds = append(r.seconds, hdrhistogram.New(1, 60_000_000, 2))
		r.errs = append(r.errs, 0)
	}
	r.seconds[sec].RecordValue(us)
	if a.err != nil || a.status >= 500 {
		r.errs[sec]++
	}
}

// progress prints a line a second: the rate achieved, errors, and p99 so far.
func (r *run) progress() (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			r.mu.Lock()
			var n, errs int64
			all := hdrhistogram.New(1, 60_000_000, 2)
			for _, h := range r.latency {
				n += h.TotalCount()
				all.Merge(h)
			}
			for _, e := range r.errs {
				errs += int64(e)
			}
			r.mu.Unlock()
			el := time.Since(r.start)
			fmt.Fprintf(r.cfg.Progress, "%5.0fs  %6.0f answers/s  %d errors  p99 %v\n", el.Seconds(), float64(n)/el.Seconds(), errs,
				time.Duration(all.ValueAtQuantile(99))*time.Microsecond)
		}
	}()
	return func() { close(done); wg.Wait() }
}
