package test

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

// The logs of a run that used every secret the bridge handles (storefront and admin
// keys and browser tokens, good and bad, in Authorization headers; a DSN with a password; failures that are
// logged with their causes) contain none of them. The first screen on standard output
// shows the demo keys on purpose; the log is standard error.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := postgresTarget(t)
	const password = "pw-must-not-leak"
	dsn := strings.TrimPrefix(e.env[0], "B2BRIDGE_ERP_DSN=")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password) // trust auth ignores it
	srv := startServer(t, e.dir, "B2BRIDGE_ERP_DSN="+u.String(), "B2BRIDGE_LOG_LEVEL=debug")
	sf, adminKey := e.creds.Storefronts[0], e.creds.AdminKey
	const wrongKey = "sk_WRONGKEYMUSTNOTLEAK"
	ctx := context.Background()
	minted, err := call(ctx, "POST", srv.URL+"/v1/accounts/"+sf.Accounts[0]+"/tokens", sf.Key, nil)
	if err != nil || minted.Status != 201 {
		t.Fatalf("mint: %d %s %v", minted.Status, minted.Raw, err)
	}
	token := minted.Body["token"].(string)
	badToken := token[:len(token)-4] + "AAAA"
	for _, r := range []struct {
		method, path, key string
		body              any
		headers           []string
	}{
		{"GET", "/v1/availability?sku=BRG-00001", sf.Key, nil, nil},
		{"GET", "/v1/availability?sku=BRG-00001", wrongKey, nil, nil},
		{"GET", "/v1/accounts/" + sf.Accounts[0] + "/credit", token, nil, nil},
		{"GET", "/v1/accounts/" + sf.Accounts[0] + "/credit", badToken, nil, nil},
		{"GET", "/v1/accounts/" + sf.Accounts[0] + "/credit", adminKey, nil, nil},
		{"GET", "/admin/v1/mappings/skus", sf.Key, nil, nil},
		{"PUT", "/admin/v1/faults", adminKey, map[string]any{"class": "order_writes", "error_rate": 1}, nil},
		{"POST", "/v1/accounts/" + sf.Accounts[0] + "/orders", sf.Key, order{Lines: []orderLine{{SKU: "BRG-00001", Qty: 1}}},
			[]string{"Idempotency-Key", "logged-failure"}},
		{"PUT", "/admin/v1/faults", adminKey, map[string]any{"class": "stock_reads", "error_rate": 1}, nil},
		{"GET", "/v1/availability?sku=BRG-00002", sf.Key, nil, nil},
	} {
		if _, err := call(ctx, r.method, srv.URL+r.path, r.key, r.body, r.headers...); err != nil {
			t.Fatal(err)
		}
	}
	srv.stop()
	logs := srv.stderr.String()
	if !strings.Contains(logs, "place order") {
		t.Fatalf("the failed order was not logged, so this test proves nothing:\n%s", logs)
	}
	for name, secret := range map[string]string{"storefront key": sf.Key, "admin key": adminKey, "wrong key": wrongKey,
		"DSN password": password, "Authorization header": "Bearer ", "browser token": token[len(token)-20:],
		"tampered token": badToken[len(badToken)-20:]} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the %s:\n%s", name, logs)
		}
	}
}
