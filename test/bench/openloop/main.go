// Command openloop measures latency at a fixed request rate, open loop: requests are due
// on a fixed schedule whatever the answers take, and each latency is measured from when
// its request was due, so a stalled server shows in the tail instead of slowing the
// load (wrk's paced connections fall into step and measure their own bursts). It is the
// read budget's p99 harness: test/bench/reads.sh runs it at half the bare rate.
//
//	openloop -url http://127.0.0.1:18182/v1/availability?sku=BRG-00001 -header "Authorization: Bearer KEY" -rate 20000 -duration 5s
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	neturl "net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

func main() {
	url := flag.String("url", "", "the URL to GET")
	header := flag.String("header", "", `one request header, "Name: value"`)
	rate := flag.Int("rate", 1000, "requests due per second")
	duration := flag.Duration("duration", 5*time.Second, "how long requests fall due")
	conns := flag.Int("conns", 256, "connections, and requests in flight at most")
	items := flag.Int("items", 0, `spread requests over a catalog: {n} in the URL becomes a random 1..items, at least five digits`)
	accounts := flag.String("accounts", "", `comma-separated accounts, one at random for each {account} in the URL`)
	flag.Parse()
	if *url == "" || *rate <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	u, err := neturl.Parse(*url)
	if err != nil || u.Scheme != "http" {
		fmt.Fprintln(os.Stderr, "openloop: -url must be an http:// URL")
		os.Exit(2)
	}
	target := strings.NewReplacer("%7B", "{", "%7D", "}").Replace(u.RequestURI())
	head := "HTTP/1.1\r\nHost: " + u.Host + "\r\n"
	if *header != "" {
		head += *header + "\r\n"
	}
	head += "\r\n"
	var acctList []string
	if *accounts != "" {
		acctList = strings.Split(*accounts, ",")
	}

	due := make(chan time.Time, *conns)
	hists := make([]*hdrhistogram.Histogram, *conns)
	errs := make([]int, *conns)
	var wg sync.WaitGroup
	for w := range *conns {
		hists[w] = hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			fmt.Fprintln(os.Stderr, "openloop:", err)
			os.Exit(1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			// A raw keep-alive connection: one written request, one read answer. An HTTP
			// client library costs more per request than the server under test.
			r := bufio.NewReaderSize(conn, 16<<10)
			req := []byte("GET " + target + " " + head)
			for at := range due {
				if strings.Contains(target, "{") {
					req = append(append(append(req[:0], "GET "...), expand(target, *items, acctList)...), " "+head...)
				}
				ok, err := roundTrip(conn, r, req)
				if err != nil {
					fmt.Fprintln(os.Stderr, "openloop:", err)
					os.Exit(1)
				}
				if !ok {
					errs[w]++
				}
				hists[w].RecordValue(time.Since(at).Microseconds())
			}
		}()
	}

	// The schedule: every request has its due time; the loop hands out those that have
	// fallen due, then sleeps. Go's sleeps are 1 ms at the least when the process is
	// otherwise idle (its poller waits in whole milliseconds), so a request may be handed
	// out up to ~1 ms after it was due: the harness's own floor, which bare Fiber measured
	// the same way shows. Spinning instead starves the poller that delivers the answers.
	interval := time.Second / time.Duration(*rate)
	total := int(*duration / interval)
	start := time.Now()
	late := 0
	for i := 0; i < total; {
		now := time.Now()
		for ; i < total && start.Add(time.Duration(i)*interval).Before(now); i++ {
			at := start.Add(time.Duration(i) * interval)
			select {
			case due <- at:
			default: // every connection busy: it waits, and its wait counts in its latency
				late++
				due <- at
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	close(due)
	wg.Wait()
	elapsed := time.Since(start)

	all := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	failed := 0
	for w, h := range hists {
		all.Merge(h)
		failed += errs[w]
	}
	q := func(p float64) string { return fmt.Sprintf("%.3fms", float64(all.ValueAtQuantile(p))/1000) }
	fmt.Printf("p50 %s p90 %s p99 %s p99.9 %s max %s at %.0f req/s: %d requests, %d not 200, %d waited for a connection\n",
		q(50), q(90), q(99), q(99.9), q(100), float64(all.TotalCount())/elapsed.Seconds(), all.TotalCount(), failed, late)
	if failed > 0 {
		os.Exit(1)
	}
}

// expand fills a URL template's {n} and {account} at random.
func expand(url string, items int, accounts []string) string {
	if items > 0 {
		url = strings.ReplaceAll(url, "{n}", fmt.Sprintf("%05d", 1+rand.IntN(items)))
	}
	if len(accounts) > 0 {
		url = strings.ReplaceAll(url, "{account}", accounts[rand.IntN(len(accounts))])
	}
	return url
}

// roundTrip writes one request and reads its answer, reporting whether it was a 200.
func roundTrip(conn net.Conn, r *bufio.Reader, req []byte) (bool, error) {
	if _, err := conn.Write(req); err != nil {
		return false, err
	}
	status, err := r.ReadSlice('\n')
	if err != nil {
		return false, err
	}
	ok := bytes.HasPrefix(status, []byte("HTTP/1.1 200 "))
	length := 0
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return false, err
		}
		if len(line) <= 2 { // the blank line before the body
			break
		}
		if k, v, found := bytes.Cut(line, []byte(":")); found && bytes.EqualFold(k, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return false, fmt.Errorf("content-length %q", v)
			}
		}
	}
	_, err = r.Discard(length)
	return ok, err
}
