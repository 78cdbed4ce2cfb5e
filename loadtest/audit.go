package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// Audit is the order path checked against the ERP after a run.
type Audit struct {
	Confirmed   int      // orders the run was told about
	Found       int      // orders of the run the ERP holds
	Divergences []string // each way the two differ; none is the only good result
}

// audit reads back, through the API, every order of every account the run used, keeps
// those of this run (their PO number is the run's Idempotency-Key), and compares them
// with what the run was told: confirmed but missing, two orders for one key, totals or
// lines that differ, and orders the run was never told about.
func (r *run) audit(ctx context.Context) (Audit, error) {
	a := Audit{Confirmed: len(r.confirmed)}
	found := map[string][]orderWire{} // by PO number
	accounts := map[string]string{}   // account → key
	for _, acct := range r.accounts {
		accounts[acct.id] = acct.key
	}
	ids := make([]string, 0, len(accounts))
	for id := range accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		orders, err := r.ordersOf(ctx, id, accounts[id])
		if err != nil {
			return a, err
		}
		for _, o := range orders {
			if o.PO != nil && strings.HasPrefix(*o.PO, r.cfg.RunID+"-") {
				found[*o.PO] = append(found[*o.PO], o)
				a.Found++
			}
		}
	}
	keys := make([]string, 0, len(r.confirmed))
	for k := range r.confirmed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		want, got := r.confirmed[key], found[key]
		switch {
		case len(got) == 0:
			a.Divergences = append(a.Divergences, fmt.Sprintf("key %s: order %s was confirmed and is not in the ERP", key, want.order.OrderID))
		case len(got) > 1:
			a.Divergences = append(a.Divergences, fmt.Sprintf("key %s: %d orders in the ERP for one key", key, len(got)))
		default:
			if d := differs(want.order, got[0]); d != "" {
				a.Divergences = append(a.Divergences, fmt.Sprintf("key %s: order %s %s", key, want.order.OrderID, d))
			}
		}
	}
	var never []string
	for po, orders := range found {
		if _, ok := r.confirmed[po]; !ok {
			for _, o := range orders {
				never = append(never, fmt.Sprintf("key %s: order %s is in the ERP and the run was never told about it", po, o.OrderID))
			}
		}
	}
	sort.Strings(never)
	a.Divergences = append(a.Divergences, never...)
	return a, nil
}

// differs says how an order in the ERP differs from its confirmation, or "".
func differs(confirmed, erp orderWire) string {
	if confirmed.OrderID != erp.OrderID {
		return "is order " + erp.OrderID + " in the ERP"
	}
	if confirmed.Total != erp.Total {
		return fmt.Sprintf("total %s confirmed, %s in the ERP", confirmed.Total, erp.Total)
	}
	if !slices.Equal(confirmed.Lines, erp.Lines) {
		return fmt.Sprintf("lines %+v confirmed, %+v in the ERP", confirmed.Lines, erp.Lines)
	}
	return ""
}

// ordersOf lists every order of an account, page by page.
func (r *run) ordersOf(ctx context.Context, account, key string) ([]orderWire, error) {
	var all []orderWire
	cursor := ""
	for {
		u := r.cfg.Target + "/v1/accounts/" + account + "/orders?limit=100"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		ans := r.do(ctx, "GET", u, key, nil, "")
		if ans.err != nil || ans.status != 200 {
			return nil, fmt.Errorf("audit: list orders of %s: %d %s %v", account, ans.status, ans.body, ans.err)
		}
		var page struct {
			Orders     []orderWire `json:"orders"`
			NextCursor *string     `json:"next_cursor"`
		}
		if err := json.Unmarshal(ans.body, &page); err != nil {
			return nil, fmt.Errorf("audit: list orders of %s: %w", account, err)
		}
		all = append(all, page.Orders...)
		if page.NextCursor == nil || *page.NextCursor == "" {
			return all, nil
		}
		cursor = *page.NextCursor
	}
}
