package storefront_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/mock"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
	"github.com/b2bridge/b2bridge/erp/erpmock"
	"github.com/b2bridge/b2bridge/storefront"
)

// mockApp serves the API over an ERP mock that answers only the key list and (empty)
// mappings: any other ERP
// call panics, which the app turns into a 500 that fails the test.
func mockApp(t *testing.T) *fiber.App {
	t.Helper()
	m := erpmock.NewERP(t)
	m.EXPECT().APIKeys(mock.Anything).Return([]erp.APIKey{
		{Hash: erp.HashKey("north"), Storefront: "north", Accounts: []string{"A1"}},
		{Hash: erp.HashKey("south"), Storefront: "south", Accounts: []string{"B1"}},
		{Hash: erp.HashKey("admin"), Admin: true},
	}, nil).Once()
	m.EXPECT().Mappings(mock.Anything, mock.Anything).Return(nil, nil).Twice() // SKUs and customers
	return newApp(t, m)
}

func newApp(t testing.TB, e erp.ERP) *fiber.App {
	t.Helper()
	return newAppLimited(t, e, storefront.DefaultRateLimits)
}

func newAppLimited(t testing.TB, e erp.ERP, limits storefront.RateLimits) *fiber.App {
	t.Helper()
	return newAppWith(t, e, storefront.Options{Limits: limits})
}

// newAppWith returns the app over e with these options; its access log is written, as in
// production, to o.AccessLog or else to where the test does not see it.
func newAppWith(t testing.TB, e erp.ERP, o storefront.Options) *fiber.App {
	t.Helper()
	svc, err := bridge.New(e, bridge.DefaultConfig, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.LoadKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := svc.LoadMappings(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	if o.AccessLog == nil {
		o.AccessLog = io.Discard
	}
	return storefront.New(svc, o)
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t *testing.T, app *fiber.App, method, path, key string, body string, headers ...string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := response{status: resp.StatusCode, header: resp.Header, body: map[string]any{}}
	b, _ := io.ReadAll(resp.Body)
	out.raw = string(b)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out.body); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, b, err)
		}
	}
	return out
}

const cartJSON = `{"lines":[{"sku":"BRG-00001","qty":1}]}`

var routes = []struct {
	method, path, body string
	account            bool // the route names an account
}{
	{"GET", "/v1/availability?sku=BRG-00001", "", false},
	{"GET", "/v1/accounts/B1/prices?sku=BRG-00001", "", true},
	{"GET", "/v1/accounts/B1/credit", "", true},
	{"POST", "/v1/accounts/B1/quotes", cartJSON, true},
	{"POST", "/v1/accounts/B1/orders", cartJSON, true},
	{"GET", "/v1/accounts/B1/orders", "", true},
	{"GET", "/v1/accounts/B1/orders/1", "", true},
}

func TestEveryRouteRefusesTheWrongKeyWithoutReadingTheERP(t *testing.T) {
	app := mockApp(t)
	for _, r := range routes {
		cases := map[string]struct {
			key    string
			status int
			code   string
		}{
			"no key":    {"", 401, "unauthorized"},
			"wrong key": {"nope", 401, "unauthorized"},
			"admin key": {"admin", 403, "forbidden"},
		}
		if r.account {
			cases["another storefront's account"] = struct {
				key    string
				status int
				code   string
			}{"north", 403, "forbidden"}
		}
		for name, c := range cases {
			got := do(t, app, r.method, r.path, c.key, r.body, "Idempotency-Key", "k1")
			if got.status != c.status || got.body["code"] != c.code {
				t.Errorf("%s %s with %s: %d %v, want %d %s", r.method, r.path, name, got.status, got.body["code"], c.status, c.code)
			}
			if ct := got.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s %s with %s: Content-Type %q", r.method, r.path, name, ct)
			}
		}
	}
}

func TestBadInputIsRefusedBeforeTheERP(t *testing.T) {
	app := mockApp(t)
	long := strings.Repeat("x", 256)
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		code, field              string
	}{
		{"no Idempotency-Key", "POST", "/v1/accounts/B1/orders", cartJSON, nil, 400, "idempotency_key_missing", "Idempotency-Key"},
		{"Idempotency-Key too long", "POST", "/v1/accounts/B1/orders", cartJSON, []string{"Idempotency-Key", long}, 400, "invalid_request", "Idempotency-Key"},
		{"no lines", "POST", "/v1/accounts/B1/orders", `{"lines":[]}`, []string{"Idempotency-Key", "k"}, 400, "invalid_request", "lines"},
		{"zero quantity", "POST", "/v1/accounts/B1/orders", `{"lines":[{"sku":"A","qty":1},{"sku":"B","qty":0}]}`, []string{"Idempotency-Key", "k"}, 400, "invalid_request", "lines[1].qty"},
		{"fractional quantity", "POST", "/v1/accounts/B1/quotes", `{"lines":[{"sku":"A","qty":1.5}]}`, nil, 400, "invalid_request", "lines[0].qty"},
		{"quantity out of range", "POST", "/v1/accounts/B1/quotes", `{"lines":[{"sku":"A","qty":1},{"sku":"A","qty":99999999999999999999}]}`, nil, 400, "invalid_request", "lines[1].qty"},
		{"misspelt field", "POST", "/v1/accounts/B1/orders", `{"po_numbr":"PO-1","lines":[{"sku":"A","qty":1}]}`, []string{"Idempotency-Key", "k"}, 400, "invalid_request", "po_numbr"},
		{"unknown line field", "POST", "/v1/accounts/B1/quotes", `{"lines":[{"sku":"A","qty":1},{"sku":"B","qty":1,"price":"1"}]}`, nil, 400, "invalid_request", "lines[1].price"},
		{"lines twice", "POST", "/v1/accounts/B1/orders", `{"lines":[{"sku":"A","qty":1}],"lines":[{"sku":"B","qty":9}]}`, []string{"Idempotency-Key", "k"}, 400, "invalid_request", "lines"},
		{"trailing data", "POST", "/v1/accounts/B1/quotes", `{"lines":[{"sku":"A","qty":1}]} {"lines":[]}`, nil, 400, "invalid_request", "body"},
		{"wrong type", "POST", "/v1/accounts/B1/quotes", `{"lines":[{"sku":7,"qty":1}]}`, nil, 400, "invalid_request", "lines[0].sku"},
		{"null lines", "POST", "/v1/accounts/B1/quotes", `{"lines":null}`, nil, 400, "invalid_request", "lines"},
		{"not an object", "POST", "/v1/accounts/B1/quotes", `[1,2]`, nil, 400, "invalid_request", "body"},
		{"bad decimal", "POST", "/v1/accounts/B1/quotes", `{"lines":[{"sku":"A","qty":1,"unit_price":"1,50"}]}`, nil, 400, "invalid_request", "lines[0].unit_price"},
		// encoding/json's tokens took an array or object here for one rune (its first
		// delimiter), then walked the rest as the line's fields: an array panicked.
		{"unit price an array", "POST", "/v1/accounts/B1/quotes", `{"lines":[{"sku":"A","qty":1,"unit_price":[1,2]}]}`, nil, 400, "invalid_request", "lines[0].unit_price"},
		{"unit price an object", "POST", "/v1/accounts/B1/quotes", `{"lines":[{"sku":"A","qty":1,"unit_price":{"a":1}}]}`, nil, 400, "invalid_request", "lines[0].unit_price"},
		{"negative unit price", "POST", "/v1/accounts/B1/quotes", `{"lines":[{"sku":"A","qty":1,"unit_price":"-1"}]}`, nil, 400, "invalid_request", "lines[0].unit_price"},
		{"bad date", "POST", "/v1/accounts/B1/quotes", `{"requested_delivery_date":"tomorrow","lines":[{"sku":"A","qty":1}]}`, nil, 400, "invalid_request", "requested_delivery_date"},
		{"not JSON", "POST", "/v1/accounts/B1/quotes", `{"lines":`, nil, 400, "invalid_request", "body"},
		{"no sku", "GET", "/v1/availability", "", nil, 400, "invalid_request", "sku"},
		{"too many SKUs", "GET", "/v1/availability?" + strings.Repeat("sku=A&", 101), "", nil, 400, "invalid_request", "sku"},
		{"qty count mismatch", "GET", "/v1/accounts/B1/prices?sku=A&sku=B&qty=1", "", nil, 400, "invalid_request", "qty"},
		{"limit too large", "GET", "/v1/accounts/B1/orders?limit=101", "", nil, 400, "invalid_request", "limit"},
		{"bad cursor", "GET", "/v1/accounts/B1/orders?cursor=zzz", "", nil, 400, "invalid_request", "cursor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, app, tc.method, tc.path, "south", tc.body, tc.headers...)
			if got.status != tc.status || got.body["code"] != tc.code {
				t.Fatalf("%d %v, want %d %s: %v", got.status, got.body["code"], tc.status, tc.code, got.body)
			}
			errs, _ := got.body["errors"].([]any)
			if len(errs) == 0 || errs[0].(map[string]any)["field"] != tc.field {
				t.Errorf("errors = %v, want field %s", got.body["errors"], tc.field)
			}
		})
	}
}

func TestOrderFlowOnTheEmbeddedERP(t *testing.T) {
	e := embeddedtest.Open(t)
	app := newApp(t, e)
	key := e.Credentials.Storefronts[0].Key
	acct := e.Credentials.Storefronts[0].Accounts[0]

	avail := do(t, app, "GET", "/v1/availability?sku=BRG-00001&sku=NOPE", key, "")
	items := avail.body["items"].([]any)
	if avail.status != 200 || len(items) != 2 || items[0].(map[string]any)["source"] != "erp" ||
		items[1].(map[string]any)["error"] != "unknown_sku" {
		t.Fatalf("availability: %d %v", avail.status, avail.body)
	}
	prices := do(t, app, "GET", "/v1/accounts/"+acct+"/prices?sku=BRG-00001&qty=1", key, "")
	price := prices.body["lines"].([]any)[0].(map[string]any)["unit_price"].(string)

	body := `{"po_number":"PO-7","lines":[{"sku":"BRG-00001","qty":2,"unit_price":"` + price + `"}]}`
	placed := do(t, app, "POST", "/v1/accounts/"+acct+"/orders", key, body, "Idempotency-Key", "flow-1")
	if placed.status != 201 || placed.header.Get("Location") != "/v1/accounts/"+acct+"/orders/"+placed.body["order_id"].(string) {
		t.Fatalf("place: %d %v %v", placed.status, placed.header, placed.body)
	}
	replay := do(t, app, "POST", "/v1/accounts/"+acct+"/orders", key, body, "Idempotency-Key", "flow-1")
	if replay.status != 200 || replay.header.Get("Idempotent-Replayed") != "true" || replay.body["order_id"] != placed.body["order_id"] {
		t.Errorf("replay: %d %v %v", replay.status, replay.header, replay.body)
	}
	reused := do(t, app, "POST", "/v1/accounts/"+acct+"/orders", key, cartJSON, "Idempotency-Key", "flow-1")
	if reused.status != 422 || reused.body["code"] != "idempotency_key_reused" {
		t.Errorf("reused key: %d %v", reused.status, reused.body)
	}
	changed := do(t, app, "POST", "/v1/accounts/"+acct+"/orders", key, `{"lines":[{"sku":"BRG-00001","qty":1,"unit_price":"0.01"}]}`, "Idempotency-Key", "flow-2")
	if changed.status != 409 || changed.body["code"] != "price_changed" {
		t.Errorf("price changed: %d %v", changed.status, changed.body)
	}
	got := do(t, app, "GET", "/v1/accounts/"+acct+"/orders/"+placed.body["order_id"].(string), key, "")
	if got.status != 200 || got.body["total"] != placed.body["total"] || got.body["po_number"] != "PO-7" {
		t.Errorf("get: %d %v", got.status, got.body)
	}
	other := e.Credentials.Storefronts[1]
	if r := do(t, app, "GET", "/v1/accounts/"+other.Accounts[0]+"/orders/"+placed.body["order_id"].(string), other.Key, ""); r.status != 404 {
		t.Errorf("another account's order: %d, want 404", r.status)
	}
	list := do(t, app, "GET", "/v1/accounts/"+acct+"/orders?limit=1", key, "")
	if list.status != 200 || len(list.body["orders"].([]any)) != 1 {
		t.Errorf("list: %d %v", list.status, list.body)
	}
	quote := do(t, app, "POST", "/v1/accounts/"+acct+"/quotes", key, `{"lines":[{"sku":"BRG-00001","qty":1},{"sku":"BRG-00010","qty":1}]}`)
	lines, _ := quote.body["lines"].([]any)
	if quote.status != 200 || len(lines) != 2 || lines[1].(map[string]any)["problem"] != "insufficient_stock" {
		t.Errorf("quote: %d %v", quote.status, quote.body)
	}
	credit := do(t, app, "GET", "/v1/accounts/"+acct+"/credit", key, "")
	if credit.status != 200 || credit.body["currency"] == nil || credit.body["available"] == nil {
		t.Errorf("credit: %d %v", credit.status, credit.body)
	}
}

// Every answer, an error too, says no cache may keep it and no browser may sniff it,
// and names no server software.
func TestSecureHeaders(t *testing.T) {
	app := mockApp(t)
	for _, path := range []string{"/v1/accounts/A1/credit", "/v1/availability", "/healthz", "/nowhere"} {
		got := do(t, app, "GET", path, "", "")
		if got.header.Get("Cache-Control") != "no-store" || got.header.Get("X-Content-Type-Options") != "nosniff" ||
			got.header.Get("Server") != "" {
			t.Errorf("GET %s: %d %v", path, got.status, got.header)
		}
	}
}

// Rate limits count per storefront and route class: past the limit a read is 429
// rate_limited with Retry-After and the RateLimit fields, while writes and another
// storefront's reads go on.
func TestRateLimitsPerStorefrontAndClass(t *testing.T) {
	e := embeddedtest.Open(t)
	svc, err := bridge.New(e, bridge.DefaultConfig, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.LoadKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	app := storefront.New(svc, storefront.Options{Limits: storefront.RateLimits{Reads: 3, Writes: 2, Window: time.Minute}})
	north, south := e.Credentials.Storefronts[0], e.Credentials.Storefronts[1]
	for i := 1; i <= 4; i++ {
		got := do(t, app, "GET", "/v1/availability?sku=BRG-00001", north.Key, "")
		switch {
		case i <= 3 && (got.status != 200 || got.header.Get("X-RateLimit-Remaining") != fmt.Sprint(3-i) || got.header.Get("X-RateLimit-Limit") != "3"):
			t.Errorf("read %d: %d %v", i, got.status, got.header)
		case i == 4 && (got.status != 429 || got.body["code"] != "rate_limited" || got.header.Get("Retry-After") == "" ||
			got.header.Get("RateLimit-Remaining") != "0" || got.header.Get("RateLimit-Limit") != "3"):
			t.Errorf("read %d past the limit: %d %v %v", i, got.status, got.header, got.body)
		}
	}
	if got := do(t, app, "GET", "/v1/availability?sku=BRG-00001", south.Key, ""); got.status != 200 {
		t.Errorf("another storefront's read: %d", got.status)
	}
	if got := do(t, app, "POST", "/v1/accounts/"+north.Accounts[0]+"/quotes", north.Key, cartJSON); got.status != 200 {
		t.Errorf("a write while reads are limited: %d %v", got.status, got.body)
	}
}
