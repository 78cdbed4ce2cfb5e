// Package test holds end-to-end scenarios that run the real b2bridge binary over HTTP
// against the embedded ERP: concurrency across processes, bad input, the order path.
package test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/erp/embedded"
	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
)

// buildFlags builds the server with the race detector when the tests run with it.
var buildFlags = []string{}

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "b2bridge-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "b2bridge")
	args := append([]string{"build", "-o", binary}, buildFlags...)
	cmd := exec.Command("go", append(args, "../cmd/b2bridge")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build b2bridge:", err)
		os.Exit(1)
	}
	code := m.Run()
	// The whole suite drives every documented operation to a 2xx answer, so that the
	// document cannot describe a route that no test holds it to.
	if ops := contract.unexercised(); len(ops) > 0 && code == 0 && flag.Lookup("test.run").Value.String() == "" {
		fmt.Fprintf(os.Stderr, "FAIL: OpenAPI operations no test drove to a 2xx answer: %s\n", strings.Join(ops, ", "))
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running b2bridge serve process.
type server struct {
	URL    string
	cmd    *exec.Cmd
	stderr *logBuffer
	stop   func() // SIGTERM, then wait for a clean exit; idempotent
	once   sync.Once
}

// logBuffer is a server's standard error, read by tests while the server writes it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var urlLine = regexp.MustCompile(`serving on (https?://\S+)`)

// startServer runs b2bridge serve on a free port over the data directory dir, with extra
// environment, and stops it (SIGTERM, expecting a clean exit) when the test ends.
func startServer(t *testing.T, dir string, env ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", dir)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &logBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := urlLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s.URL = <-found:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start: %s", s.stderr)
	}
	s.stop = func() { s.once.Do(func() { stopServer(t, cmd, s) }) }
	t.Cleanup(s.stop)
	return s
}

// kill ends the server with SIGKILL, as a crash would: no drain, no clean exit.
func (s *server) kill() {
	s.once.Do(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	})
}

func stopServer(t *testing.T, cmd *exec.Cmd, s *server) {
	{
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server exit: %v\n%s", err, s.stderr)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Errorf("server did not stop on SIGTERM")
		}
		if strings.Contains(s.stderr.String(), "DATA RACE") {
			t.Errorf("the server raced:\n%s", s.stderr)
		}
	}
}

// erpDir returns a seeded data directory and a connection to its database for setting
// up and checking the ERP directly.
func erpDir(t *testing.T) (string, *embedded.Credentials, *sql.DB) {
	t.Helper()
	dir := embeddedtest.Dir(t)
	creds, err := embedded.ReadCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, embedded.DatabaseFile)+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return dir, creds, db
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// reply is an HTTP answer with its JSON body decoded.
type reply struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// client is the tests' HTTP client: every answer it returns has passed the OpenAPI
// document (contract).
var client = &http.Client{Timeout: 60 * time.Second, Transport: checkedTransport{&http.Transport{MaxIdleConnsPerHost: 64}}}

func call(ctx context.Context, method, url, key string, body any, headers ...string) (reply, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return reply{}, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	out := reply{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			return out, fmt.Errorf("%s %s: %d %q: %w", method, url, resp.StatusCode, raw, err)
		}
	}
	return out, nil
}

// order is an order request body.
type order struct {
	PONumber string      `json:"po_number,omitempty"`
	ShipTo   string      `json:"ship_to,omitempty"`
	Lines    []orderLine `json:"lines"`
}

type orderLine struct {
	SKU       string `json:"sku"`
	Qty       int    `json:"qty"`
	UnitPrice string `json:"unit_price,omitempty"`
}

// storefrontOf returns the key of the storefront that serves the account.
func storefrontOf(t *testing.T, c *embedded.Credentials, account string) string {
	t.Helper()
	for _, sf := range c.Storefronts {
		for _, a := range sf.Accounts {
			if a == account {
				return sf.Key
			}
		}
	}
	t.Fatalf("no storefront serves %s", account)
	return ""
}
