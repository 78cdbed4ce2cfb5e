package main

import (
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/storefront"
)

// orderRoute is the route template whose answers count as orders.
const orderRoute = "/v1/accounts/:account/orders"

// latencyBuckets span a cached read (sub-millisecond) to an ERP timeout (seconds).
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// metrics are the Prometheus metrics of one server: HTTP requests and orders (as a
// storefront.Observer), ERP calls and breaker changes (as a bridge.Observer), and, read
// at scrape time, the caches, breaker states and change-log lag.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	inFlight    prometheus.Gauge
	orders      *prometheus.CounterVec
	erpCalls    *prometheus.CounterVec
	erpLatency  *prometheus.HistogramVec
	groupSize   prometheus.Histogram
	groupCommit prometheus.Histogram
	transitions *prometheus.CounterVec

	mu        sync.RWMutex
	byRequest map[requestKey]requestMetrics // the children of requests and latency, looked up once
}

type requestKey struct {
	route, method string
	status        int
}

type requestMetrics struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// forRequest returns the request metrics of a route, method and status: a map look-up
// instead of hashing three label values twice per request.
func (m *metrics) forRequest(k requestKey) requestMetrics {
	m.mu.RLock()
	rm, ok := m.byRequest[k]
	m.mu.RUnlock()
	if ok {
		return rm
	}
	rm = requestMetrics{m.requests.WithLabelValues(k.route, k.method, strconv.Itoa(k.status)), m.latency.WithLabelValues(k.route, k.method)}
	m.mu.Lock()
	m.byRequest[k] = rm
	m.mu.Unlock()
	return rm
}

func newMetrics() *metrics {
	m := &metrics{
		reg:       prometheus.NewRegistry(),
		byRequest: map[requestKey]requestMetrics{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "b2bridge_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status."}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "b2bridge_http_request_duration_seconds",
			Help: "Time to answer an HTTP request, by route template and method.", Buckets: latencyBuckets}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "b2bridge_http_requests_in_flight",
			Help: "HTTP requests being answered."}),
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "b2bridge_orders_total",
			Help: "Order placements by outcome (placed, replayed, refused, outcome_unknown, failed) and problem code."}, []string{"outcome", "reason"}),
		erpCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "b2bridge_erp_calls_total",
			Help: "ERP calls by operation class and outcome."}, []string{"class", "outcome"}),
		erpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "b2bridge_erp_call_duration_seconds",
			Help: "Time of an ERP call, waiting for a slot included, by operation class.", Buckets: latencyBuckets}, []string{"class"}),
		groupSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "b2bridge_erp_order_group_size",
			Help:    "Orders carried by one group commit on SQLite (the embedded ERP): how much one fsync is shared.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128}}),
		groupCommit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "b2bridge_erp_order_group_commit_seconds",
			Help: "Time of one group commit's COMMIT on SQLite, its fsync included.", Buckets: latencyBuckets}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "b2bridge_breaker_transitions_total",
			Help: "Circuit breaker state changes by operation class."}, []string{"class", "from", "to"}),
	}
	// Series that exist before their first event, so that a dashboard shows 0, not nothing.
	for _, class := range erp.Classes {
		for _, t := range [][2]string{{"closed", "open"}, {"open", "half-open"}, {"half-open", "closed"}, {"half-open", "open"}} {
			m.transitions.WithLabelValues(string(class), t[0], t[1])
		}
		m.erpCalls.WithLabelValues(string(class), "ok")
	}
	m.orders.WithLabelValues("placed", "")
	m.orders.WithLabelValues("replayed", "")
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.orders, m.erpCalls, m.erpLatency, m.groupSize, m.groupCommit, m.transitions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Started implements storefront.Observer.
func (m *metrics) Started() { m.inFlight.Inc() }

// Answered implements storefront.Observer.
func (m *metrics) Answered(r storefront.Request) {
	m.inFlight.Dec()
	rm := m.forRequest(requestKey{r.Route, r.Method, r.Status})
	rm.count.Inc()
	rm.latency.Observe(r.Duration.Seconds())
	if r.Route != orderRoute || r.Method != fiber.MethodPost {
		return
	}
	switch {
	case r.Status == fiber.StatusCreated:
		m.orders.WithLabelValues("placed", "").Inc()
	case r.Status == fiber.StatusOK:
		m.orders.WithLabelValues("replayed", "").Inc()
	case r.Code == string(bridge.CodeOutcomeUnknown):
		m.orders.WithLabelValues("outcome_unknown", r.Code).Inc()
	case r.Status < 500:
		m.orders.WithLabelValues("refused", r.Code).Inc()
	default:
		m.orders.WithLabelValues("failed", r.Code).Inc()
	}
}

// ERPCall implements bridge.Observer.
func (m *metrics) ERPCall(class bridge.Class, outcome string, d time.Duration) {
	m.erpCalls.WithLabelValues(string(class), outcome).Inc()
	m.erpLatency.WithLabelValues(string(class)).Observe(d.Seconds())
}

// GroupCommit is told of each group commit of orders (sqlerp.Options.OnGroupCommit).
func (m *metrics) GroupCommit(orders int, commit time.Duration) {
	m.groupSize.Observe(float64(orders))
	m.groupCommit.Observe(commit.Seconds())
}

// BreakerChange implements bridge.Observer.
func (m *metrics) BreakerChange(class bridge.Class, from, to string) {
	m.transitions.WithLabelValues(string(class), from, to).Inc()
}

// watch adds what is read from the service at scrape time.
func (m *metrics) watch(svc *bridge.Service) {
	m.reg.MustRegister(serviceCollector{svc})
}

// handler serves the metrics in the Prometheus text format.
func (m *metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

var (
	cacheHits      = prometheus.NewDesc("b2bridge_cache_hits_total", "Cache look-ups answered fresh from the cache.", []string{"cache"}, nil)
	cacheMisses    = prometheus.NewDesc("b2bridge_cache_misses_total", "Cache look-ups that needed the ERP.", []string{"cache"}, nil)
	cacheStale     = prometheus.NewDesc("b2bridge_cache_stale_total", "Answers from a value past its freshness, the ERP being unreachable.", []string{"cache"}, nil)
	cacheEvictions = prometheus.NewDesc("b2bridge_cache_evictions_total", "Entries dropped to stay within the memory bound.", []string{"cache"}, nil)
	cacheRefreshes = prometheus.NewDesc("b2bridge_cache_refreshes_total", "Background refreshes queued, of values answered after their TTL.", []string{"cache"}, nil)
	cacheDropped   = prometheus.NewDesc("b2bridge_cache_refreshes_dropped_total", "Background refreshes not queued, the refresher being too far behind.", []string{"cache"}, nil)
	cacheCost      = prometheus.NewDesc("b2bridge_cache_cost_bytes", "Memory the cache's entries are counted at.", []string{"cache"}, nil)
	breakerState   = prometheus.NewDesc("b2bridge_breaker_state", "Circuit breaker state by operation class: 0 closed, 1 half-open, 2 open.", []string{"class"}, nil)
	followerLag    = prometheus.NewDesc("b2bridge_change_log_lag_seconds", "Time since the change-log follower last read the ERP's change log.", nil, nil)
)

// serviceCollector reads the caches, breakers and follower at scrape time.
type serviceCollector struct{ svc *bridge.Service }

func (serviceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{cacheHits, cacheMisses, cacheStale, cacheEvictions, cacheRefreshes, cacheDropped, cacheCost,
		breakerState, followerLag} {
		ch <- d
	}
}

func (c serviceCollector) Collect(ch chan<- prometheus.Metric) {
	for name, s := range c.svc.CacheStats() {
		ch <- prometheus.MustNewConstMetric(cacheHits, prometheus.CounterValue, float64(s.Hits), name)
		ch <- prometheus.MustNewConstMetric(cacheMisses, prometheus.CounterValue, float64(s.Misses), name)
		ch <- prometheus.MustNewConstMetric(cacheStale, prometheus.CounterValue, float64(s.StaleServed), name)
		ch <- prometheus.MustNewConstMetric(cacheEvictions, prometheus.CounterValue, float64(s.Evictions), name)
		ch <- prometheus.MustNewConstMetric(cacheRefreshes, prometheus.CounterValue, float64(s.Refreshes), name)
		ch <- prometheus.MustNewConstMetric(cacheDropped, prometheus.CounterValue, float64(s.RefreshesDropped), name)
		ch <- prometheus.MustNewConstMetric(cacheCost, prometheus.GaugeValue, float64(s.CostBytes), name)
	}
	h := c.svc.Health()
	for class, state := range h.Breakers {
		ch <- prometheus.MustNewConstMetric(breakerState, prometheus.GaugeValue, map[string]float64{"closed": 0, "half-open": 1, "open": 2}[state], string(class))
	}
	ch <- prometheus.MustNewConstMetric(followerLag, prometheus.GaugeValue, h.Follower.Lag.Seconds())
}
