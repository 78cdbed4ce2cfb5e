package test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/erp/embedded"
)

// A crash cannot lose a confirmed order: orders stream into a server on the embedded ERP
// (group commit, synchronous=FULL) from 32 clients until the server is killed with
// SIGKILL mid-load; every order the clients saw answered 201 must be in the database
// when it is reopened. An answer sent before its group's COMMIT returned would be lost
// by a kill between the two. (Surviving a power cut rests on synchronous=FULL too.)
func TestKilledServerLosesNoConfirmedOrder(t *testing.T) {
	dir, creds, db := erpDir(t)
	mustExec(t, db, `UPDATE accounts SET credit_hold = 0, credit_limit = 10000000000000, exposure = 0`)
	mustExec(t, db, `UPDATE stock SET on_hand = 1000000000, reserved = 0`)
	srv := startServer(t, dir, "B2BRIDGE_RATE_LIMIT_WRITES=0")
	sf := creds.Storefronts[0]

	var (
		mu        sync.Mutex
		confirmed []string // order ids answered 201
		failed    atomic.Int32
		stop      atomic.Bool
		wg        sync.WaitGroup
	)
	for c := 0; c < 32; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				account := sf.Accounts[rand.IntN(len(sf.Accounts))]
				sku := embedded.SKU(1 + rand.IntN(900)) // 120: a multiple of every pack, above every minimum
				r, err := call(context.Background(), "POST", fmt.Sprintf("%s/v1/accounts/%s/orders", srv.URL, account), sf.Key,
					order{Lines: []orderLine{{SKU: sku, Qty: 120}}}, "Idempotency-Key", fmt.Sprintf("crash-%d-%d", c, i))
				switch {
				case err != nil:
					failed.Add(1)
					return // the server is gone
				case r.Status == 201:
					mu.Lock()
					confirmed = append(confirmed, r.Body["order_id"].(string))
					mu.Unlock()
				default:
					t.Errorf("order answered %d %s", r.Status, r.Raw)
					return
				}
			}
		}(c)
	}
	time.Sleep(2 * time.Second)
	srv.kill()
	stop.Store(true)
	wg.Wait()

	if len(confirmed) < 100 || failed.Load() == 0 {
		t.Fatalf("%d orders confirmed and %d requests cut by the kill: the kill did not land mid-load", len(confirmed), failed.Load())
	}
	// Reopened: the test's own connection, after the server's process is gone.
	var found int
	for i := 0; i < len(confirmed); i += 500 {
		batch := confirmed[i:min(i+500, len(confirmed))]
		var n int
		q := `SELECT COUNT(*) FROM orders WHERE id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(batch)), ",") + `)`
		args := make([]any, len(batch))
		for j, id := range batch {
			args[j] = id
		}
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		found += n
	}
	if found != len(confirmed) {
		t.Errorf("%d orders answered 201 before the kill, %d of them in the ERP after it", len(confirmed), found)
	}
	t.Logf("%d orders confirmed before the kill, %d of them found after it; %d requests cut", len(confirmed), found, failed.Load())
}
