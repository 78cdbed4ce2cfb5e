package storefront_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/mock"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/erp"
	"github.com/b2bridge/b2bridge/erp/erpmock"
	"github.com/b2bridge/b2bridge/storefront"
)

// FuzzCart sends arbitrary bodies to the quote route of the real app. Nothing may panic
// (a panic is a 500), every answer is 200 or a 4xx problem, and whatever reaches the ERP
// is a cart the API promises to check: 1 to MaxLines lines, each with a SKU and a
// positive quantity. Seeds cover the shapes the decoder refuses.
func FuzzCart(f *testing.F) {
	for _, seed := range []string{
		cartJSON,
		`{"po_number":"PO-1","ship_to":"S1","requested_delivery_date":"2026-12-01","lines":[{"sku":"A","qty":2,"unit_price":"12.50"}]}`,
		`{"lines":[{"sku":"A","qty":1}],"lines":[{"sku":"B","qty":2}]}`,
		`{"po_numbr":"x","lines":[{"sku":"A","qty":1}]}`,
		`{"lines":[{"sku":"A","qty":-1}]}`,
		`{"lines":[{"sku":"A","qty":1e3}]}`,
		`{"lines":[{"sku":"A","qty":99999999999999999999}]}`,
		`{"lines":[{"sku":"","qty":1}]}`,
		`{"lines":[{"sku":"A","qty":1,"unit_price":1.5}]}`,
		`{"lines":[{"sku":"A","qty":1,"unit_price":"1e400"}]}`,
		`{"lines":[]} trailing`,
		`{"lines":null}`,
		`[]`, `null`, `"x"`, `{`, ``,
		`{"lines":[{"sku":"A\u0000","qty":1}]}`,
	} {
		f.Add(seed)
	}
	m := erpmock.NewERP(f)
	m.EXPECT().APIKeys(mock.Anything).Return([]erp.APIKey{{Hash: erp.HashKey("k"), Storefront: "s", Accounts: []string{"A1"}}}, nil).Once()
	m.EXPECT().Mappings(mock.Anything, mock.Anything).Return(nil, nil).Twice()
	var violation atomic.Pointer[string] // what the ERP was sent that it must never be
	m.EXPECT().Quote(mock.Anything, mock.Anything).RunAndReturn(func(_ context.Context, d erp.OrderDraft) (erp.Quote, error) {
		if len(d.Lines) < 1 || len(d.Lines) > storefront.MaxLines {
			v := fmt.Sprintf("a cart of %d lines", len(d.Lines))
			violation.Store(&v)
		}
		for _, l := range d.Lines {
			if l.SKU == "" || l.Qty < 1 || l.Qty > 1_000_000 {
				v := fmt.Sprintf("a line %+v", l)
				violation.Store(&v)
			}
		}
		return erp.Quote{Currency: "EUR"}, nil
	}).Maybe()
	app := newApp(f, m)
	f.Fuzz(func(t *testing.T, body string) { post(t, app, "/v1/accounts/A1/quotes", body, 200, &violation) })
}

// FuzzOrder sends arbitrary bodies to the order route, with strict mappings, of the
// real app. Nothing may panic, every answer is 201 or a 4xx problem, and no order
// reaches the ERP with a line count over the limit, a quantity that is not positive, or
// a SKU that is not the ERP SKU of a mapping, in the mapping's units.
func FuzzOrder(f *testing.F) {
	for _, seed := range []string{
		`{"lines":[{"sku":"X-BOX3","qty":2}]}`,
		`{"lines":[{"sku":"A","qty":1},{"sku":"X-BOX3","qty":1}]}`,
		`{"lines":[{"sku":"BRG-00001","qty":1}]}`,
		`{"lines":[{"sku":"X-BOX3","qty":400000}]}`,
		`{"lines":[{"sku":"X-BOX3","qty":0}]}`,
		`{"lines":[{"sku":"x-box3","qty":1}]}`,
		`{"po_number":"PO","lines":[{"sku":"A","qty":1,"unit_price":"9.99"}],"lines":[]}`,
	} {
		f.Add(seed)
	}
	factors := map[string]int{"BRG-00001": 1, "BRG-00002": 3} // by ERP SKU
	m := erpmock.NewERP(f)
	m.EXPECT().APIKeys(mock.Anything).Return([]erp.APIKey{{Hash: erp.HashKey("k"), Storefront: "s", Accounts: []string{"A1"}}}, nil).Once()
	m.EXPECT().Mappings(mock.Anything, erp.MappingFilter{Kind: erp.MappingSKUs}).Return([]erp.Mapping{
		{Kind: erp.MappingSKUs, Key: "A", ERPSKU: "BRG-00001", Factor: 1},
		{Kind: erp.MappingSKUs, Storefront: "s", Key: "X-BOX3", ERPSKU: "BRG-00002", Unit: "BOX3", Factor: 3},
	}, nil).Once()
	m.EXPECT().Mappings(mock.Anything, erp.MappingFilter{Kind: erp.MappingCustomers}).Return(nil, nil).Once()
	var violation atomic.Pointer[string]
	m.EXPECT().PlaceOrder(mock.Anything, mock.Anything).RunAndReturn(func(_ context.Context, d erp.OrderDraft) (erp.Placement, error) {
		if len(d.Lines) < 1 || len(d.Lines) > storefront.MaxLines {
			v := fmt.Sprintf("an order of %d lines", len(d.Lines))
			violation.Store(&v)
		}
		for _, l := range d.Lines {
			if f, ok := factors[l.SKU]; !ok || l.Qty < 1 || l.Qty%f != 0 || l.Factor != f {
				v := fmt.Sprintf("a line %+v", l)
				violation.Store(&v)
			}
		}
		return erp.Placement{}, &erp.Refusal{Reason: erp.ReasonInsufficientStock} // a refusal: the answer is a 409
	}).Maybe()
	cfg := bridge.DefaultConfig
	cfg.StrictMappings = true
	svc, err := bridge.New(m, cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	if err := svc.LoadKeys(context.Background()); err != nil {
		f.Fatal(err)
	}
	if err := svc.LoadMappings(context.Background()); err != nil {
		f.Fatal(err)
	}
	app := storefront.New(svc, storefront.Options{})
	f.Fuzz(func(t *testing.T, body string) { post(t, app, "/v1/accounts/A1/orders", body, 201, &violation) })
}

// post sends body to path with the fuzz key: the answer must be success or a 4xx
// problem, and the mock ERP must have recorded no violation.
func post(t *testing.T, app *fiber.App, path, body string, success int, violation *atomic.Pointer[string]) {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "fuzz")
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := violation.Swap(nil); v != nil {
		t.Errorf("body %q reached the ERP as %s", body, *v)
	}
	if resp.StatusCode != success && (resp.StatusCode < 400 || resp.StatusCode > 499) {
		t.Errorf("body %q: status %d", body, resp.StatusCode)
	}
}
