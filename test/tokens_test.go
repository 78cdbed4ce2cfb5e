package test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A storefront's server mints a browser token with its key; the token works on /v1 for
// that one account and nothing else, expires, and dies with its key across the change
// log. Through the real binary over HTTP.
func TestBrowserTokens(t *testing.T) {
	dir, creds, _ := erpDir(t)
	const interval = 200 * time.Millisecond
	srv := startServer(t, dir, "B2BRIDGE_BROWSER_TOKEN_TTL=3s", "B2BRIDGE_FOLLOW_INTERVAL="+interval.String())
	sf, other := creds.Storefronts[0], creds.Storefronts[1]
	mine, neighbour := sf.Accounts[0], sf.Accounts[1]
	do := func(method, path, key string, body any, headers ...string) reply {
		t.Helper()
		r, err := call(context.Background(), method, srv.URL+path, key, body, headers...)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return r
	}
	want := func(r reply, status int, what string) {
		t.Helper()
		if r.Status != status {
			t.Errorf("%s: %d %s, want %d", what, r.Status, r.Raw, status)
		}
	}
	mint := func(key, account string) string {
		t.Helper()
		r := do("POST", "/v1/accounts/"+account+"/tokens", key, nil)
		if r.Status != 201 {
			t.Fatalf("mint for %s: %d %s", account, r.Status, r.Raw)
		}
		return r.Body["token"].(string)
	}

	r := do("POST", "/v1/accounts/"+mine+"/tokens", sf.Key, nil)
	want(r, 201, "mint")
	token := r.Body["token"].(string)
	exp, err := time.Parse(time.RFC3339, r.Body["expires_at"].(string))
	if err != nil || !strings.HasPrefix(token, "bt_") || exp.Before(time.Now()) || exp.After(time.Now().Add(4*time.Second)) ||
		len(r.Body["scopes"].([]any)) != 6 || r.Body["account"] != mine {
		t.Fatalf("token %v (expires_at %v %v): want bt_..., the account, 6 scopes, 3s to live", r.Body, exp, err)
	}
	cart := order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}
	want(do("GET", "/v1/availability?sku=BRG-00001", token, nil), 200, "availability with a token")
	want(do("GET", "/v1/accounts/"+mine+"/credit", token, nil), 200, "credit with a token")
	want(do("POST", "/v1/accounts/"+mine+"/quotes", token, cart), 200, "quote with a token")
	placed := do("POST", "/v1/accounts/"+mine+"/orders", token, cart, "Idempotency-Key", "token-1")
	want(placed, 201, "order with a token")
	want(do("GET", "/v1/accounts/"+mine+"/orders/"+placed.Body["order_id"].(string), token, nil), 200, "the order with a token")

	want(do("GET", "/v1/accounts/"+neighbour+"/credit", token, nil), 403, "another account of the storefront")
	want(do("GET", "/v1/accounts/"+other.Accounts[0]+"/credit", token, nil), 403, "another storefront's account")
	want(do("POST", "/v1/accounts/"+mine+"/tokens", token, nil), 403, "a token minting a token")
	want(do("GET", "/admin/v1/breakers", token, nil), 403, "a token on the admin API")
	want(do("POST", "/v1/accounts/"+other.Accounts[0]+"/tokens", sf.Key, nil), 403, "minting for another storefront's account")
	want(do("POST", "/v1/accounts/"+mine+"/tokens", creds.AdminKey, nil), 403, "minting with an admin key")
	i := len("bt_") + 8
	tampered := token[:i] + map[bool]string{true: "A", false: "B"}[token[i] != 'A'] + token[i+1:]
	want(do("GET", "/v1/accounts/"+mine+"/credit", tampered, nil), 401, "a tampered token")
	// Another account's claims under this token's signature.
	claims, _, _ := strings.Cut(strings.TrimPrefix(mint(sf.Key, neighbour), "bt_"), ".")
	_, mySig, _ := strings.Cut(token, ".")
	want(do("GET", "/v1/accounts/"+neighbour+"/credit", "bt_"+claims+"."+mySig, nil), 401, "claims signed for another token")

	// The key that minted it is revoked: its tokens stop working within the change log's reach.
	cmd := exec.Command(binary, "keys", "create", "--name", "web shop server", "--storefront", sf.Name)
	cmd.Env = append(os.Environ(), "B2BRIDGE_DATA="+dir)
	out, err := cmd.CombinedOutput()
	key, id := shownKey.FindStringSubmatch(string(out)), keyID.FindStringSubmatch(string(out))
	if err != nil || key == nil || id == nil {
		t.Fatalf("keys create: %v\n%s", err, out)
	}
	var short string
	for start := time.Now(); ; time.Sleep(interval / 4) {
		if r := do("POST", "/v1/accounts/"+mine+"/tokens", key[1], nil); r.Status == 201 {
			short = r.Body["token"].(string)
			break
		}
		if time.Since(start) > 10*interval {
			t.Fatal("the new key never worked")
		}
	}
	want(do("GET", "/v1/accounts/"+mine+"/credit", short, nil), 200, "a new key's token")
	cmd = exec.Command(binary, "keys", "revoke", id[1])
	cmd.Env = append(os.Environ(), "B2BRIDGE_DATA="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keys revoke: %v\n%s", err, out)
	}
	for start := time.Now(); do("GET", "/v1/accounts/"+mine+"/credit", short, nil).Status != 401; time.Sleep(interval / 4) {
		if time.Since(start) > 10*interval {
			t.Fatal("a revoked key's token still works")
		}
	}

	// And it expires.
	time.Sleep(time.Until(exp) + 10*time.Millisecond)
	r = do("GET", "/v1/accounts/"+mine+"/credit", token, nil)
	want(r, 401, "an expired token")
	if !strings.Contains(r.Raw, "expired") {
		t.Errorf("an expired token's 401 does not say so: %s", r.Raw)
	}
}

// CORS is off unless configured; then a storefront's origins may call /v1 from a
// browser, and no other origin gets CORS headers.
func TestCORSPerStorefront(t *testing.T) {
	dir, creds, _ := erpDir(t)
	north, south := creds.Storefronts[0], creds.Storefronts[1]
	const shop, elsewhere = "https://shop.north.example", "https://evil.example"
	// Preflights are the browser's protocol, not API operations: sent unchecked.
	preflight := func(srv *server, origin string) http.Header {
		t.Helper()
		req, _ := http.NewRequest("OPTIONS", srv.URL+"/v1/accounts/"+north.Accounts[0]+"/orders", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	read := func(srv *server, key, origin string) reply {
		t.Helper()
		r, err := call(context.Background(), "GET", srv.URL+"/v1/accounts/"+north.Accounts[0]+"/credit", key, nil, "Origin", origin)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	off := startServer(t, dir)
	if h := preflight(off, shop); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS is on without configuration: %v", h)
	}
	if r := read(off, north.Key, shop); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS is on without configuration: %v", r.Header)
	}
	off.stop()

	srv := startServer(t, dir, "B2BRIDGE_BROWSER_ORIGINS="+north.Name+"="+shop+",http://localhost:3000")
	h := preflight(srv, shop)
	if h.Get("Access-Control-Allow-Origin") != shop || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Idempotency-Key") ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight from %s: %v", shop, h)
	}
	if h := preflight(srv, elsewhere); h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight from %s got CORS headers: %v", elsewhere, h)
	}
	token := func() string {
		r, err := call(context.Background(), "POST", srv.URL+"/v1/accounts/"+north.Accounts[0]+"/tokens", north.Key, nil)
		if err != nil || r.Status != 201 {
			t.Fatalf("mint: %d %s %v", r.Status, r.Raw, err)
		}
		return r.Body["token"].(string)
	}()
	r := read(srv, token, shop)
	if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != shop || !strings.Contains(r.Header.Get("Vary"), "Origin") {
		t.Errorf("a north token from %s: %d %v", shop, r.Status, r.Header)
	}
	if r := read(srv, token, elsewhere); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a north token from %s got CORS headers: %v", elsewhere, r.Header)
	}
	// South has no origins: its credentials get none, even from north's origin.
	if r := read(srv, south.Key, shop); r.Status != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("south's key from north's origin: %d %v", r.Status, r.Header)
	}
}

// Browser settings that cannot work stop serve with the setting named.
func TestBadBrowserSettingsAreNamed(t *testing.T) {
	dir, _, _ := erpDir(t)
	for env, want := range map[string]string{
		"B2BRIDGE_BROWSER_ORIGINS=north-shop=https://shop.example/path": "browser.origins.north-shop",
		"B2BRIDGE_BROWSER_ORIGINS=north-shop=*":                         "browser.origins.north-shop",
		"B2BRIDGE_BROWSER_ORIGINS=https://shop.example":                 "B2BRIDGE_BROWSER_ORIGINS",
		"B2BRIDGE_BROWSER_TOKEN_SECRET=short":                           "token secret",
		"B2BRIDGE_BROWSER_TOKEN_TTL=48h":                                "token TTL",
	} {
		cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", dir)
		cmd.Env = append(os.Environ(), env)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("%s: err %v, want a failure naming %q:\n%s", env, err, want, out)
		}
	}
}
