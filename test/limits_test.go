package test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/storefront"
)

// Each HTTP limit is a problem that names it, from the real server.
func TestHTTPLimitsNameThemselves(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir)
	sf := creds.Storefronts[0]
	orders := srv.URL + "/v1/accounts/" + sf.Accounts[0] + "/orders"
	for _, tc := range []struct {
		name, method, url string
		header            string // one more header, of this size
		body              int    // body bytes
		status            int
		code, detail      string
	}{
		{"long URI", "GET", srv.URL + "/v1/availability?sku=" + strings.Repeat("A", storefront.MaxURIBytes), "", 0,
			414, "uri_too_long", fmt.Sprint(storefront.MaxURIBytes)},
		{"large headers", "GET", srv.URL + "/v1/availability?sku=BRG-00001", strings.Repeat("x", storefront.MaxHeaderBytes), 0,
			431, "headers_too_large", fmt.Sprint(storefront.MaxHeaderBytes)},
		{"order body", "POST", orders, "", storefront.MaxBodyBytes + 1, 413, "request_too_large", fmt.Sprint(storefront.MaxBodyBytes)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(strings.Repeat(" ", tc.body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+sf.Key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "limits")
			if tc.header != "" {
				req.Header.Set("X-Padding", tc.header)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(raw), `"code":"`+tc.code+`"`) || !strings.Contains(string(raw), tc.detail) ||
				resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%d %s %s, want %d %s naming %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw, tc.status, tc.code, tc.detail)
			}
		})
	}
}

// A body over the server's limit is refused from its Content-Length, unread.
func TestOversizedBodyIsRefusedUnread(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir)
	sf := creds.Storefronts[0]
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/accounts/%s/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
		"Idempotency-Key: big\r\nContent-Length: %d\r\n\r\n", sf.Accounts[0], sf.Key, storefront.MaxRequestBytes+1)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(raw), `"code":"request_too_large"`) || !strings.Contains(string(raw), fmt.Sprint(storefront.MaxRequestBytes)) {
		t.Errorf("%d %s, want 413 request_too_large naming %d", resp.StatusCode, raw, storefront.MaxRequestBytes)
	}
}

// Slow and idle clients cannot starve the others: with 1,000 connections that send
// nothing and 50 that send a header a byte at a time, a normal client's reads take at
// most 100ms longer than without them, and the server closes the slow ones at its read
// timeout.
func TestSlowAndIdleClientsDoNotStarveOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 1,050 connections for several seconds")
	}
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir)
	key := creds.Storefronts[0].Key
	url := srv.URL + "/v1/availability?sku=BRG-00001&sku=BRG-00002"
	// latencies returns the median and the 95th percentile of n reads, one at a time.
	latencies := func(n int) (p50, p95 time.Duration) {
		t.Helper()
		d := make([]time.Duration, n)
		for i := range d {
			start := time.Now()
			r, err := call(context.Background(), "GET", url, key, nil)
			if err != nil || r.Status != 200 {
				t.Fatalf("read: %d %v", r.Status, err)
			}
			d[i] = time.Since(start)
		}
		slices.Sort(d)
		return d[n/2], d[n*95/100]
	}
	latencies(50) // warm the cache and the connection
	base50, base95 := latencies(200)

	addr := strings.TrimPrefix(srv.URL, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 1000 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("idle connection %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	slow := make(chan error, 50)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opened := time.Now()
	for range 50 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		go func() {
			// Never finishes its header: the server must hang up, at its read timeout.
			req := "GET /v1/availability?sku=BRG-00001 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key + "\r\nX-Slow: "
			for i := 0; ; i++ {
				if _, err := c.Write([]byte{req[min(i, len(req)-1)]}); err != nil {
					slow <- nil // the server closed it
					return
				}
				select {
				case <-ctx.Done():
					slow <- ctx.Err()
					return
				case <-time.After(100 * time.Millisecond):
				}
				c.SetReadDeadline(time.Now().Add(time.Millisecond))
				if _, err := bufio.NewReader(c).ReadByte(); err != nil && !isTimeout(err) {
					slow <- nil // answered or closed: either way it no longer holds the server
					return
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	load50, load95 := latencies(200)
	t.Logf("reads alone: p50 %v p95 %v; beside 1,000 idle and 50 slow connections: p50 %v p95 %v", base50, base95, load50, load95)
	if load95-base95 > 100*time.Millisecond {
		t.Errorf("p95 grew by %v beside idle and slow clients, budget 100ms", load95-base95)
	}
	deadline := time.After(15 * time.Second)
	for range 50 {
		select {
		case err := <-slow:
			if err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatalf("slow clients still connected %v after they opened", time.Since(opened))
		}
	}
	t.Logf("the server hung up on all 50 slow clients within %v", time.Since(opened))
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
