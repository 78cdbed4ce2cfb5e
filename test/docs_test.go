package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/b2bridge/b2bridge/storefront"
)

// fetch fetches a path through the checked client and returns its answer and body.
func fetch(t *testing.T, srv *server, path string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return resp, body
}

// The binary serves the document the tests hold it to, as YAML and as the same JSON,
// and a docs page whose every asset it serves itself: the page needs no network.
func TestOpenAPIDocumentAndDocsPage(t *testing.T) {
	dir, _, _ := erpDir(t)
	srv := startServer(t, dir)

	resp, body := fetch(t, srv, "/openapi.yaml")
	if ct := resp.Header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("/openapi.yaml Content-Type %q", ct)
	}
	if !bytes.Equal(body, storefront.OpenAPI) {
		t.Error("/openapi.yaml is not the document the tests validate against")
	}
	_, body = fetch(t, srv, "/openapi.json")
	var fromJSON, fromYAML any
	if err := json.Unmarshal(body, &fromJSON); err != nil {
		t.Fatalf("/openapi.json: %v", err)
	}
	if err := yaml.Unmarshal(storefront.OpenAPI, &fromYAML); err != nil {
		t.Fatal(err)
	}
	roundTrip, _ := json.Marshal(fromYAML)
	json.Unmarshal(roundTrip, &fromYAML)
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Error("/openapi.json says something other than /openapi.yaml")
	}

	_, page := fetch(t, srv, "/docs")
	refs := regexp.MustCompile(`(?:src|href|spec-url)="([^"]*)"`).FindAllStringSubmatch(string(page), -1)
	if len(refs) < 2 {
		t.Fatalf("/docs names %d assets, want the document and the renderer: %s", len(refs), page)
	}
	for _, m := range refs {
		if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
			t.Errorf("/docs loads %q: not from this server", m[1])
			continue
		}
		fetch(t, srv, m[1])
	}
	resp, js := fetch(t, srv, "/docs/redoc.standalone.js", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || len(js) > 500<<10 {
		t.Errorf("the renderer: Content-Encoding %q, %d bytes; want it gzipped", resp.Header.Get("Content-Encoding"), len(js))
	}
}

// The order history pages newest first by next_cursor, every page held to the document.
func TestOrderHistoryPages(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir)
	sf := creds.Storefronts[0]
	acct := sf.Accounts[0]
	var placed []string
	for i := range 3 {
		r, err := call(context.Background(), "POST", srv.URL+"/v1/accounts/"+acct+"/orders", sf.Key,
			order{PONumber: fmt.Sprint("PO-H", i), Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}}, "Idempotency-Key", fmt.Sprint("history-", i))
		if err != nil || r.Status != 201 {
			t.Fatalf("order %d: %d %s %v", i, r.Status, r.Raw, err)
		}
		placed = append([]string{r.Body["order_id"].(string)}, placed...) // newest first
	}
	var listed []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("the history does not end")
		}
		r, err := call(context.Background(), "GET", srv.URL+"/v1/accounts/"+acct+"/orders?limit=2"+cursor, sf.Key, nil)
		if err != nil || r.Status != 200 {
			t.Fatalf("page %d: %d %s %v", pages, r.Status, r.Raw, err)
		}
		for _, o := range r.Body["orders"].([]any) {
			listed = append(listed, o.(map[string]any)["order_id"].(string))
		}
		next, _ := r.Body["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + next
	}
	if !reflect.DeepEqual(listed, placed) {
		t.Errorf("history %v, want %v", listed, placed)
	}
}

// A purge empties the caches: the next read asks the ERP.
func TestPurgeCaches(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir)
	sf := creds.Storefronts[0]
	source := func() string {
		r, err := call(context.Background(), "GET", srv.URL+"/v1/availability?sku=BRG-00001", sf.Key, nil)
		if err != nil || r.Status != 200 {
			t.Fatalf("availability: %d %s %v", r.Status, r.Raw, err)
		}
		return r.Body["items"].([]any)[0].(map[string]any)["source"].(string)
	}
	source()
	if s := source(); s != "cache" {
		t.Fatalf("second read from %q, want cache", s)
	}
	admin(t, srv, creds.AdminKey, "DELETE", "/cache", nil, 204)
	if s := source(); s != "erp" {
		t.Errorf("read after the purge from %q, want erp", s)
	}
}

// The contract check fails on drift either way: a field the code sends that the document
// lost, a field the document requires that the code does not send, and a problem code a
// route does not list. Each is introduced on purpose into a copy of the document and
// checked against real answers of the binary.
func TestOpenAPIDriftFails(t *testing.T) {
	dir, creds, db := erpDir(t)
	srv := startServer(t, dir)
	sf := creds.Storefronts[0]
	mustExec(t, db, `UPDATE stock SET on_hand = 0, reserved = 0 WHERE item_id = 4`)
	raw := &http.Client{} // unchecked: these answers are checked below, against drifted documents
	answer := func(sku, key string) (*http.Request, *http.Response, []byte) {
		b, _ := json.Marshal(order{Lines: []orderLine{{SKU: sku, Qty: 1}}})
		req, _ := http.NewRequest("POST", srv.URL+"/v1/accounts/"+sf.Accounts[0]+"/orders", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+sf.Key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return req, resp, body
	}
	okReq, ok, okBody := answer("BRG-00001", "drift-1")
	shortReq, short, shortBody := answer("BRG-00004", "drift-2")
	if ok.StatusCode != 201 || short.StatusCode != 409 {
		t.Fatalf("answers %d and %d, want 201 and 409", ok.StatusCode, short.StatusCode)
	}
	if !contract.documents("GET", "/v1/accounts/:account/orders/:id") || contract.documents("GET", "/v1/nowhere") ||
		contract.documents("PATCH", "/v1/availability") {
		t.Error("the route check does not tell documented routes from others")
	}
	// The document as it is passes both.
	for _, a := range []struct {
		req  *http.Request
		resp *http.Response
		body []byte
	}{{okReq, ok, okBody}, {shortReq, short, shortBody}} {
		if err := contract.check(a.req, a.resp.StatusCode, a.resp.Header, a.body); err != nil {
			t.Fatalf("the document itself: %v", err)
		}
	}

	for _, d := range []struct {
		name  string
		drift func(doc map[string]any)
		req   *http.Request
		resp  *http.Response
		body  []byte
		want  string
	}{
		{"a field the document lost", func(doc map[string]any) {
			delete(dig(doc, "components", "schemas", "Order", "properties"), "total")
			order := dig(doc, "components", "schemas", "Order")
			order["required"] = without(order["required"].([]any), "total")
		}, okReq, ok, okBody, "total"},
		{"a field the code does not send", func(doc map[string]any) {
			order := dig(doc, "components", "schemas", "Order")
			order["required"] = append(order["required"].([]any), "discount")
			dig(order, "properties")["discount"] = map[string]any{"type": "string"}
		}, okReq, ok, okBody, "discount"},
		{"a problem code the route does not list", func(doc map[string]any) {
			code := dig(doc, "paths", "/v1/accounts/{account}/orders", "post", "responses", "409", "content",
				"application/problem+json", "schema")["allOf"].([]any)[1].(map[string]any)["properties"].(map[string]any)["code"].(map[string]any)
			code["enum"] = []any{"price_changed"}
		}, shortReq, short, shortBody, "insufficient_stock"},
	} {
		t.Run(d.name, func(t *testing.T) {
			var doc map[string]any
			if err := yaml.Unmarshal(storefront.OpenAPI, &doc); err != nil {
				t.Fatal(err)
			}
			d.drift(doc)
			spec, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			drifted, err := newContract(spec)
			if err != nil {
				t.Fatal(err)
			}
			err = drifted.check(d.req, d.resp.StatusCode, d.resp.Header, d.body)
			if err == nil {
				t.Fatal("the drifted document passed a real answer")
			}
			if !strings.Contains(err.Error(), d.want) {
				t.Errorf("the failure does not name %q: %v", d.want, err)
			}
		})
	}
}

func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

func without(list []any, v any) []any {
	var out []any
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// The demo storefront (/, with the embedded ERP) and the admin console (/admin) are
// served from assets of their own that stay small and need no network; the demo page is
// not served when configured off.
func TestPagesAreSmallAndLocal(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir)
	for _, path := range []string{"/", "/admin"} {
		_, page := fetch(t, srv, path)
		total := len(page)
		refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(page), -1)
		for _, m := range refs {
			if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
				t.Errorf("%s loads %q: not from this server", path, m[1])
				continue
			}
			_, body := fetch(t, srv, m[1])
			total += len(body)
		}
		if total > 48<<10 {
			t.Errorf("%s and its assets are %d bytes; keep them under 48 KiB", path, total)
		}
		t.Logf("%s and its assets: %d bytes", path, total)
	}
	if _, found := fetch(t, srv, "/demo/catalog?q=BEARING%2000003"); !strings.Contains(string(found), `"sku":"BRG-00003"`) {
		t.Errorf("/demo/catalog?q=BEARING 00003: %s", found)
	}
	_, buyers := fetch(t, srv, "/demo/storefronts")
	if !strings.Contains(string(buyers), creds.Storefronts[0].Key) || strings.Contains(string(buyers), creds.AdminKey) {
		t.Errorf("/demo/storefronts: want the storefront keys and not the admin key: %s", buyers)
	}
	srv.stop()

	off := startServer(t, dir, "B2BRIDGE_DEMO_PAGE=false")
	for _, path := range []string{"/", "/demo/storefronts"} {
		r, err := call(context.Background(), "GET", off.URL+path, "", nil)
		if err != nil || r.Status != 404 {
			t.Errorf("%s with the demo page off: %d %v, want 404", path, r.Status, err)
		}
	}
}
