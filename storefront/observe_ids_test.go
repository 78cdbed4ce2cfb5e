package storefront_test

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
	"github.com/b2bridge/b2bridge/storefront"
)

// lockedBuffer is an access log the test reads while the app writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lastLine is the last access log line, decoded.
func (l *lockedBuffer) lastLine(t *testing.T) map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := bytes.Split(bytes.TrimSpace(l.b.Bytes()), []byte("\n"))
	var line map[string]any
	if err := json.Unmarshal(lines[len(lines)-1], &line); err != nil {
		t.Fatalf("access log %q: %v", l.b.Bytes(), err)
	}
	return line
}

// Every answer, an error's too, carries the request id that its access log line records
// (in X-Request-Id and, for a problem, in its body): the caller's if it sent a sane one,
// else one of the bridge's own, unique.
func TestAnswersCarryTheAccessLogsRequestID(t *testing.T) {
	e := embeddedtest.Open(t)
	var log lockedBuffer
	app := newAppWith(t, e, storefront.Options{AccessLog: &log})
	key := e.Credentials.Storefronts[0].Key
	seen := map[string]bool{}
	for _, c := range []struct {
		path, key, sent string
		status          int
	}{
		{"/v1/availability?sku=BRG-00001", key, "", 200},
		{"/v1/availability?sku=BRG-00001", key, "caller-1", 200},
		{"/v1/availability", key, "", 400},
		{"/v1/availability", key, "caller-2", 400},
		{"/v1/availability?sku=BRG-00001", "", "", 401},
		{"/v1/availability?sku=BRG-00001", key, "not sane!", 200},
		{"/nowhere", key, "", 404},
	} {
		var headers []string
		if c.sent != "" {
			headers = []string{"X-Request-ID", c.sent}
		}
		r := do(t, app, "GET", c.path, c.key, "", headers...)
		logged, _ := log.lastLine(t)["request_id"].(string)
		got := r.header.Get("X-Request-Id")
		if r.status != c.status || got == "" || got != logged {
			t.Errorf("GET %s (sent %q): %d with X-Request-Id %q, access log %q", c.path, c.sent, r.status, got, logged)
		}
		if body, ok := r.body["request_id"]; r.status >= 400 && (!ok || body != got) {
			t.Errorf("GET %s (sent %q): problem's request_id %v, header %q", c.path, c.sent, body, got)
		}
		if c.sent == "caller-1" || c.sent == "caller-2" {
			if got != c.sent {
				t.Errorf("GET %s: sent request id %q, answered %q", c.path, c.sent, got)
			}
			continue
		}
		if seen[got] {
			t.Errorf("request id %q given twice", got)
		}
		seen[got] = true
	}
}
