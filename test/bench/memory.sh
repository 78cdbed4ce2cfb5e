#!/usr/bin/env bash
# Resident memory under a sustained mixed load at a fixed rate: the bridge (core 0) on
# the embedded ERP seeded with ITEMS items and ACCOUNTS accounts, its caches bounded to
# CACHE_BYTES, driven by `b2bridge loadtest` (core 1) over the whole catalog (cache
# misses and evictions included). RSS is sampled every 10 s; the verdict compares the
# mean of the last minute with the mean of the second minute (the first warms the
# caches): flat means within 10 %.
#   DUR=10m RATE=300 ITEMS=100000 ACCOUNTS=5000 CACHE_BYTES=16777216 test/bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-10m}
RATE=${RATE:-300}
ITEMS=${ITEMS:-100000}
ACCOUNTS=${ACCOUNTS:-5000}
CACHE_BYTES=${CACHE_BYTES:-16777216}
OUT=${OUT:-memory.csv}
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores (server and load apart)" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
go build -o "$tmp/b2bridge" ./cmd/b2bridge
echo "seeding $ITEMS items, $ACCOUNTS accounts" >&2
"$tmp/b2bridge" erp seed --data "$tmp/data" --items "$ITEMS" --accounts "$ACCOUNTS" >/dev/null
printf 'cache:\n  max_bytes: %s\n' "$CACHE_BYTES" >"$tmp/config.yaml"
B2BRIDGE_RATE_LIMIT_READS=0 B2BRIDGE_RATE_LIMIT_WRITES=0 B2BRIDGE_LOG_LEVEL=warn taskset -c 0 \
  "$tmp/b2bridge" serve --config "$tmp/config.yaml" --addr 127.0.0.1:18185 --data "$tmp/data" >/dev/null 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:18185/readyz && break; sleep 0.1; done

taskset -c 1 "$tmp/b2bridge" loadtest --target http://127.0.0.1:18185 --credentials "$tmp/data/demo-credentials.json" \
  --duration "$DUR" --rate "$RATE" >"$tmp/loadtest.out" 2>&1 &
load=$!
echo "seconds,rss_mib" >"$OUT"
start=$(date +%s)
while kill -0 "$load" 2>/dev/null; do
  rss=$(awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$pid/status")
  echo "$(($(date +%s) - start)),$rss" | tee -a "$OUT" >&2
  sleep 10
done
wait "$load" || { echo "the load test failed:" >&2; tail -30 "$tmp/loadtest.out" >&2; exit 1; }
grep -E "^(run |orders:|divergence)" "$tmp/loadtest.out" || tail -5 "$tmp/loadtest.out"
awk -F, 'NR > 1 { t = $1; r = $2; all[NR] = r; ts[NR] = t; n = NR }
  END {
    for (i = 2; i <= n; i++) {
      if (ts[i] >= 60 && ts[i] < 120) { a += all[i]; na++ }
      if (ts[i] > ts[n] - 60) { b += all[i]; nb++ }
      if (all[i] > max) max = all[i]
    }
    printf "resident memory: minute 2 mean %.1f MiB, last minute mean %.1f MiB, max %.1f MiB; growth %.3f (budget: flat, at most 1.10)\n", a/na, b/nb, max, (b/nb)/(a/na)
  }' "$OUT"
echo "samples in $OUT" >&2
