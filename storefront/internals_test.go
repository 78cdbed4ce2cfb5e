package storefront_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"

	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/erpmock"
)

// What the ERP's driver says stays in the log: an answer never carries SQL, a file path,
// a key or a stack trace, whether the ERP fails, or a handler panics.
func TestAnswersHideInternals(t *testing.T) {
	m := erpmock.NewERP(t)
	m.EXPECT().APIKeys(mock.Anything).Return([]erp.APIKey{{Hash: erp.HashKey("north"), Storefront: "north", Accounts: []string{"A1"}}}, nil).Once()
	m.EXPECT().Mappings(mock.Anything, mock.Anything).Return(nil, nil).Twice()
	driver := errors.New(`ERROR: relation "stock" does not exist at SELECT on_hand FROM stock WHERE sku = $1 ` +
		`(/var/lib/b2bridge/erp.db, password=hunter2, key sk_live_0123456789)`)
	m.EXPECT().Stock(mock.Anything, mock.Anything, mock.Anything).Return(nil, driver)
	m.EXPECT().Credit(mock.Anything, mock.Anything).Return(erp.Credit{}, driver)
	m.EXPECT().PlaceOrder(mock.Anything, mock.Anything).Return(erp.Placement{}, driver)
	m.EXPECT().Quote(mock.Anything, mock.Anything).RunAndReturn(func(context.Context, erp.OrderDraft) (erp.Quote, error) {
		panic("index out of range [3] with length 3 in /work/main/erp/sqlerp/plan.go:113")
	})
	app := newApp(t, m)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/availability?sku=A", ""},
		{"GET", "/v1/accounts/A1/credit", ""},
		{"POST", "/v1/accounts/A1/orders", cartJSON},
		{"POST", "/v1/accounts/A1/quotes", cartJSON},
	} {
		got := do(t, app, c.method, c.path, "north", c.body, "Idempotency-Key", "internals")
		raw := strings.ToLower(got.raw)
		for _, secret := range []string{"select", "relation", "/var/lib", ".go", "hunter2", "sk_live", "goroutine", "panic", "index out of range"} {
			if strings.Contains(raw, secret) {
				t.Errorf("%s %s: %d answer shows %q: %s", c.method, c.path, got.status, secret, got.raw)
			}
		}
		if got.status < 500 || got.body["request_id"] == nil {
			t.Errorf("%s %s: %d %s, want a 5xx problem with a request id", c.method, c.path, got.status, got.raw)
		}
	}
}
