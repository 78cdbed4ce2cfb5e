package test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	shownKey = regexp.MustCompile(`(?m)^  ((?:sk|adm)_\S+)$`)
	keyID    = regexp.MustCompile(`created key (\S+)`)
)

// An operator's whole key life cycle with the CLI against two running replicas: a new
// key works on both, narrowed to its scopes and accounts; a rotation leaves two working
// keys; a revoked key stops working on both within a few follow intervals; keys list
// shows what happened, never a key.
func TestKeysLifeCycleAcrossReplicas(t *testing.T) {
	eachERP(t, func(t *testing.T, e *erpTarget) {
		cli := func(wantOK bool, args ...string) string { t.Helper(); return e.cli(t, wantOK, args...) }
		created := func(out string) (key, id string) {
			t.Helper()
			k, i := shownKey.FindStringSubmatch(out), keyID.FindStringSubmatch(out)
			if k == nil || i == nil {
				t.Fatalf("no key shown:\n%s", out)
			}
			return k[1], i[1]
		}
		const interval = 200 * time.Millisecond
		env := []string{"B2BRIDGE_FOLLOW_INTERVAL=" + interval.String()}
		replicas := []*server{e.start(t, env...), e.start(t, env...)}
		sf := e.creds.Storefronts[0]
		mine, other := sf.Accounts[0], sf.Accounts[1]
		status := func(s *server, key, path string) int {
			r, err := call(context.Background(), "GET", s.URL+path, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			return r.Status
		}
		// eventually waits until every replica answers path with want: the change log
		// carries a key change to replicas within a follow interval or two.
		// eventually returns how long the slower replica took.
		eventually := func(key, path string, want int) time.Duration {
			t.Helper()
			start := time.Now()
			for i, s := range replicas {
				for status(s, key, path) != want {
					if time.Since(start) > 10*interval {
						t.Fatalf("replica %d: %s still %d after %v, want %d", i, path, status(s, key, path), time.Since(start), want)
					}
					time.Sleep(interval / 20)
				}
			}
			return time.Since(start)
		}

		cli(false, "keys", "create", "--name", "nobody", "--storefront", sf.Name, "--scopes", "orders:delete")
		cli(false, "keys", "create", "--name", "stranger", "--storefront", sf.Name, "--accounts", "C9999")
		cli(false, "keys", "create", "--name", "stale", "--storefront", sf.Name, "--expires", "2001-01-01")
		cli(false, "keys", "create", "--name", "nogroup", "--storefront", sf.Name, "--groups", "NO-SUCH-GROUP")
		cli(false, "keys", "create", "--name", "both", "--storefront", sf.Name, "--admin")
		key, id := created(cli(true, "keys", "create", "--name", "web shop", "--storefront", sf.Name,
			"--scopes", "availability:read,prices:read", "--accounts", mine))
		prices := "/v1/accounts/" + mine + "/prices?sku=BRG-00001"
		eventually(key, prices, 200)
		eventually(key, "/v1/accounts/"+other+"/prices?sku=BRG-00001", 403) // not one of its accounts
		eventually(key, "/v1/accounts/"+mine+"/credit", 403)                // not one of its scopes

		out := cli(true, "keys", "rotate", id, "--data", e.dir)
		next, nextID := created(out)
		if !strings.Contains(out, "keys revoke "+id) {
			t.Errorf("rotate does not say how to revoke the old key:\n%s", out)
		}
		eventually(next, prices, 200)
		eventually(next, "/v1/accounts/"+mine+"/credit", 403) // the successor has the same scopes
		eventually(key, prices, 200)

		// Timed from the revocation's commit: one follow interval for the next poll to
		// see it, and a little for the replicas to reload their keys (measured 99-206ms
		// for a 200ms interval; the bound leaves room for a loaded CI machine).
		probe, probeID := created(cli(true, "keys", "create", "--name", "probe", "--storefront", sf.Name))
		eventually(probe, prices, 200)
		if _, err := e.db.RevokeKey(context.Background(), probeID); err != nil {
			t.Fatal(err)
		}
		if took := eventually(probe, prices, 401); took > 2*interval {
			t.Errorf("a revoked key worked on a replica for %v, more than two follow intervals (%v)", took, interval)
		} else {
			t.Logf("a revoked key stopped working on both replicas within %v (follow interval %v)", took, interval)
		}
		cli(true, "keys", "revoke", id)
		eventually(key, prices, 401)
		eventually(next, prices, 200)
		cli(false, "keys", "revoke", "no-such-key")

		for _, s := range replicas {
			s.stop() // a clean stop writes the keys' last use
		}
		list := cli(true, "keys", "list")
		if strings.Contains(list, key) || strings.Contains(list, next) {
			t.Fatalf("keys list shows a key:\n%s", list)
		}
		today := time.Now().UTC().Format(time.DateOnly)
		for _, l := range strings.Split(list, "\n") {
			f := strings.Fields(l)
			switch {
			case len(f) == 0:
			case f[0] == id && (strings.Count(l, today) != 3 || !strings.Contains(l, "availability:read,prices:read")):
				t.Errorf("the revoked key: want created, last used and revoked today, and its scopes:\n%s", l)
			case f[0] == nextID && (strings.Count(l, today) != 2 || !strings.HasSuffix(l, "-")):
				t.Errorf("its successor: want created and last used today, not revoked:\n%s", l)
			}
		}
		if !strings.Contains(list, id) || !strings.Contains(list, nextID) {
			t.Errorf("keys list lacks %s or %s:\n%s", id, nextID, list)
		}
	})
}
