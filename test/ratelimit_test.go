package test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// redisEnv names a Redis that the rate-limit test may use (CI sets it).
const redisEnv = "B2BRIDGE_TEST_REDIS_URL"

// With the counts in Redis, a storefront's limit holds across replicas: 16 reads spread
// over two processes with a limit of 10 are 10 answers and 6 refusals.
func TestRateLimitHoldsAcrossReplicas(t *testing.T) {
	base := os.Getenv(redisEnv)
	if base == "" {
		t.Skipf("set %s (redis://127.0.0.1:6379) to run against Redis", redisEnv)
	}
	// A database of its own, emptied before and after: the limiter's keys name storefronts.
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = fmt.Sprint("/", 10+rand.IntN(6))
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.FlushDB(context.Background()); client.Close() })
	if err := client.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}

	dir, creds, _ := erpDir(t)
	env := []string{"B2BRIDGE_RATE_LIMIT_REDIS_URL=" + u.String(), "B2BRIDGE_RATE_LIMIT_READS=10", "B2BRIDGE_RATE_LIMIT_WINDOW=1m"}
	servers := []*server{startServer(t, dir, env...), startServer(t, dir, env...)}
	key := creds.Storefronts[0].Key
	ok, limited := 0, 0
	for i := 0; i < 16; i++ {
		r, err := call(context.Background(), "GET", servers[i%2].URL+"/v1/availability?sku=BRG-00001", key, nil)
		switch {
		case err != nil:
			t.Fatal(err)
		case r.Status == 200:
			ok++
		case r.Status == 429 && r.Body["code"] == "rate_limited" && r.Header.Get("Retry-After") != "":
			limited++
		default:
			t.Errorf("read %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if ok != 10 || limited != 6 {
		t.Errorf("16 reads over two replicas with a shared limit of 10: %d answered, %d limited", ok, limited)
	}
}

// The admin API has a limit of its own, per admin key: past it 429, while storefronts
// go on.
func TestAdminRateLimit(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir, "B2BRIDGE_RATE_LIMIT_ADMIN=3")
	for i := 1; i <= 4; i++ {
		r, err := call(context.Background(), "GET", srv.URL+"/admin/v1/breakers", creds.AdminKey, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 200, false: 429}[i <= 3]; r.Status != want || (want == 429 && r.Body["code"] != "rate_limited") {
			t.Errorf("admin call %d: %d %s, want %d", i, r.Status, r.Raw, want)
		}
	}
	r, err := call(context.Background(), "GET", srv.URL+"/admin/v1/breakers", creds.Storefronts[0].Key, nil)
	if err != nil || r.Status != 403 {
		t.Errorf("a storefront key on /admin past the admin limit: %d %v, want 403 (refused before it is counted)", r.Status, err)
	}
	if r, err := call(context.Background(), "GET", srv.URL+"/v1/availability?sku=BRG-00001", creds.Storefronts[0].Key, nil); err != nil || r.Status != 200 {
		t.Errorf("a storefront read while the admin key is limited: %d %v", r.Status, err)
	}
}
