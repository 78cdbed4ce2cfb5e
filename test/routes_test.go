package test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	adminapi "github.com/b2bridge/b2bridge/admin"
	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/erpmock"
	"github.com/b2bridge/b2bridge/storefront"
)

// Every route the storefront and admin APIs register, enumerated from the Fiber app
// itself so that a new route cannot be missed, refuses the wrong credentials with 401
// or 403 before anything reaches the ERP: the mock ERP answers only the start-up loads
// and fails the request (a 500) on any other call. Every route is in the OpenAPI
// document.
func TestEveryRegisteredRouteRefusesTheWrongKey(t *testing.T) {
	m := erpmock.NewERP(t)
	expired := time.Now().Add(-time.Minute)
	keys := []erp.APIKey{
		{Hash: erp.HashKey("north-key"), Storefront: "north", Accounts: []string{"A1"}},
		{Hash: erp.HashKey("south-key"), Storefront: "south", Accounts: []string{"B1"}},
		{Hash: erp.HashKey("south-expired"), Storefront: "south", Accounts: []string{"B1"}, ExpiresAt: &expired},
		{Hash: erp.HashKey("south-no-scope"), Storefront: "south", Accounts: []string{"B1"}, Scopes: []string{"nothing:here"}},
		{Hash: erp.HashKey("south-stock-only"), Storefront: "south", Accounts: []string{"B1"}, Scopes: []string{"availability:read", "tokens:write"}},
		{Hash: erp.HashKey("admin-key"), Admin: true},
		{Hash: erp.HashKey("admin-expired"), Admin: true, ExpiresAt: &expired},
		{Hash: erp.HashKey("admin-no-scope"), Admin: true, Scopes: []string{"nothing:here"}},
	}
	m.EXPECT().APIKeys(mock.Anything).Return(keys, nil).Once()
	m.EXPECT().Mappings(mock.Anything, mock.Anything).Return(nil, nil).Twice()
	cfg := bridge.DefaultConfig
	cfg.TokenSecret = []byte("a secret the replicas share, 32+ bytes")
	svc, err := bridge.New(m, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.LoadKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Browser tokens, as a storefront's server would mint them: one that has expired
	// (from a replica with a 1s TTL), one of another account, one without the route's
	// scope, one tampered with.
	mint := func(svc *bridge.Service, key, account string) string {
		p, err := svc.Authenticate(key)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := svc.MintToken(p, account)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	shortERP := erpmock.NewERP(t)
	shortERP.EXPECT().APIKeys(mock.Anything).Return(keys, nil).Once()
	cfg.TokenTTL = time.Second
	short, err := bridge.New(shortERP, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := short.LoadKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	expiredToken := mint(short, "south-key", "B1")
	otherAccountToken, stockOnlyToken := mint(svc, "north-key", "A1"), mint(svc, "south-stock-only", "B1")
	good := mint(svc, "south-key", "B1")
	i := len(bridge.TokenPrefix) + 4 // inside the claims: a whole base64 digit
	tamperedToken := good[:i] + map[bool]string{true: "A", false: "B"}[good[i] != 'A'] + good[i+1:]
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)) + 10*time.Millisecond) // past expiredToken's second
	if err := svc.LoadMappings(context.Background()); err != nil {
		t.Fatal(err)
	}
	app := storefront.New(svc, storefront.Options{Limits: storefront.DefaultRateLimits})
	adminapi.Mount(app, svc, storefront.RateLimit("admin", storefront.DefaultRateLimits.Admin, storefront.DefaultRateLimits))
	storefront.MountDocs(app)
	adminapi.MountConsole(app)

	params := strings.NewReplacer(":account", "B1", ":id", "1", ":kind", "skus", ":key", "X-1")
	walked := 0
	for _, r := range app.GetRoutes(true) {
		if r.Method != "HEAD" && !contract.documents(r.Method, r.Path) {
			t.Errorf("%s %s is served and not in the OpenAPI document", r.Method, r.Path)
		}
		if !strings.HasPrefix(r.Path, "/v1/") && !strings.HasPrefix(r.Path, "/admin/v1/") {
			continue
		}
		walked++
		path := params.Replace(r.Path)
		cases := map[string]struct {
			key    string
			status int
		}{
			"no key":        {"", 401},
			"malformed key": {"Bearer", 401},
			"unknown key":   {"sk_not-a-key", 401}, // a revoked key is one the ERP no longer lists
		}
		add := func(name, key string, status int) {
			cases[name] = struct {
				key    string
				status int
			}{key, status}
		}
		add("an expired token", expiredToken, 401)
		add("a tampered token", tamperedToken, 401)
		if strings.HasPrefix(r.Path, "/v1/") {
			add("an admin key", "admin-key", 403)
			add("an expired key", "south-expired", 401)
			add("a key without the scope", "south-no-scope", 403)
			if strings.Contains(r.Path, ":account") {
				add("another storefront's key", "north-key", 403)
				add("another account's token", otherAccountToken, 403)
			}
			if !strings.HasSuffix(r.Path, "/availability") {
				add("a token without the scope", stockOnlyToken, 403)
			}
		} else {
			add("a storefront key", "south-key", 403)
			add("a browser token", stockOnlyToken, 403)
			add("an expired admin key", "admin-expired", 401)
			add("an admin key without the scope", "admin-no-scope", 403)
		}
		for name, c := range cases {
			req := httptest.NewRequest(r.Method, path, strings.NewReader(`{"lines":[{"sku":"A","qty":1}]}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "k1")
			if c.key != "" {
				req.Header.Set("Authorization", "Bearer "+c.key)
			}
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var p struct{ Code string }
			json.Unmarshal(body, &p)
			if resp.StatusCode != c.status || (r.Method != "HEAD" && p.Code != map[int]string{401: "unauthorized", 403: "forbidden"}[c.status]) {
				t.Errorf("%s %s with %s: %d %s, want %d", r.Method, path, name, resp.StatusCode, body, c.status)
			}
		}
	}
	if walked < 20 {
		t.Errorf("walked %d routes: the router enumeration is broken", walked)
	}
}
