#!/usr/bin/env bash
# Resident memory under a sustained mixed load at a fixed rate: the bridge (core 0) on
# the embedded ERP seeded with ITEMS items and ACCOUNTS accounts, its caches bounded to
# CACHE_BYTES, driven by `b2bridge loadtest` (core 1). The load test draws its carts from
# the whole catalog (--skus) and its buyers from every account, and reads stock, prices
# and credit in turn, so all three caches miss, fill and evict. RSS (and its
# anonymous and file-backed parts), the Go heap in use, the caches' cost, their evictions
# and how many of the three caches have evicted are sampled every 10 s, and the anonymous
# part is split in two: what Go holds from the OS and has not released (heap, stacks,
# runtime metadata) and the rest, outside Go, which is SQLite's memory through modernc's
# allocator (page caches, prepared statements); an estimate, as Go counts some memory it
# holds and has not touched, so it reads below zero while the bridge starts. The verdict
# compares the mean RSS of the last minute with that of the minute after the first
# eviction (a cache at its bound): flat means within 10 %. File-backed RSS is the
# binary's own pages, faulted in as the load reaches more of its code, and the pages of
# the database the readers map.
#   DUR=10m RATE=300 ITEMS=100000 ACCOUNTS=5000 CACHE_BYTES=4194304 test/bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-10m}
RATE=${RATE:-300}
ITEMS=${ITEMS:-100000}
ACCOUNTS=${ACCOUNTS:-5000}
CACHE_BYTES=${CACHE_BYTES:-4194304}
OUT=${OUT:-memory.csv}
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores (server and load apart)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
go build -o "$tmp/b2bridge" ./cmd/b2bridge
echo "seeding $ITEMS items, $ACCOUNTS accounts" >&2
"$tmp/b2bridge" erp seed --data "$tmp/data" --items "$ITEMS" --accounts "$ACCOUNTS" >/dev/null
sqlite3 "$tmp/data/erp.db" "SELECT sku FROM items" >"$tmp/skus"
printf 'cache:\n  max_bytes: %s\n' "$CACHE_BYTES" >"$tmp/config.yaml"
B2BRIDGE_RATE_LIMIT_READS=0 B2BRIDGE_RATE_LIMIT_WRITES=0 B2BRIDGE_LOG_LEVEL=warn taskset -c 0 \
  "$tmp/b2bridge" serve --config "$tmp/config.yaml" --addr 127.0.0.1:18185 --data "$tmp/data" >/dev/null 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:18185/readyz && break; sleep 0.1; done
# Alive too: with the port taken, another bridge would answer and be measured instead.
{ curl -sf -o /dev/null http://127.0.0.1:18185/readyz && kill -0 "$pid" 2>/dev/null; } ||
  { echo "the bridge did not start:" >&2; cat "$tmp/serve.err" >&2; exit 1; }

taskset -c 1 "$tmp/b2bridge" loadtest --target http://127.0.0.1:18185 --credentials "$tmp/data/demo-credentials.json" \
  --skus "$tmp/skus" --duration "$DUR" --rate "$RATE" >"$tmp/loadtest.out" 2>&1 &
load=$!
echo "seconds,rss_mib,heap_mib,cache_mib,evictions,anon_mib,file_mib,caches_evicting,go_mib,outside_go_mib" >"$OUT"
# Sampled while the load runs, not during the audit that follows it (the load test then
# reads every account's order history back through the bridge: another workload).
dur_s=$(python3 -c 'import re, sys; print(sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in re.findall(r"(\d+)([hms])", sys.argv[1])))' "$DUR")
start=$(date +%s)
while kill -0 "$load" 2>/dev/null && [ $(($(date +%s) - start)) -lt "$dur_s" ]; do
  read -r rss anon file < <(awk '/VmRSS/{r = $2} /RssAnon/{a = $2} /RssFile/{f = $2}
    END{printf "%.1f %.1f %.1f\n", r/1024, a/1024, f/1024}' "/proc/$pid/status")
  m=$(curl -s http://127.0.0.1:18185/metrics | awk '/^b2bridge_cache_cost_bytes/{c += $2}
    /^b2bridge_cache_evictions_total/{e += $2; if ($2 > 0) n++} /^go_memstats_heap_inuse_bytes/{h = $2}
    /^go_memstats_sys_bytes/{s = $2} /^go_memstats_heap_released_bytes/{rel = $2}
    END{printf "%.1f,%.1f,%d,%d,%.1f", h/1048576, c/1048576, e, n, (s - rel)/1048576}')
  IFS=, read -r heap cost evictions evicting gomem <<<"$m"
  outside=$(awk -v a="$anon" -v g="$gomem" 'BEGIN{printf "%.1f", a - g}')
  echo "$(($(date +%s) - start)),$rss,$heap,$cost,$evictions,$anon,$file,$evicting,$gomem,$outside" | tee -a "$OUT" >&2
  sleep 10
done
wait "$load" || { echo "the load test failed:" >&2; tail -30 "$tmp/loadtest.out" >&2; exit 1; }
sed -n '/^run /,/^divergence/p' "$tmp/loadtest.out" | grep . || tail -5 "$tmp/loadtest.out"
awk -F, 'NR > 1 { n++; t[n] = $1; r[n] = $2; h[n] = $3; an[n] = $6; g[n] = $9; o[n] = $10; if (!full && $5 > 0) full = $1 }
  END {
    if (!full) { print "no cache reached its bound (no eviction): run longer, at a higher rate or with a smaller CACHE_BYTES"; exit 1 }
    for (i = 1; i <= n; i++) {
      if (t[i] >= full && t[i] < full + 60) { a += r[i]; ha += h[i]; aa += an[i]; ga += g[i]; oa += o[i]; na++ }
      if (t[i] > t[n] - 60) { b += r[i]; hb += h[i]; ab += an[i]; gb += g[i]; ob += o[i]; nb++ }
      if (r[i] > max) max = r[i]
    }
    printf "resident memory: first eviction at %d s; the minute after %.1f MiB (anonymous %.1f, Go heap %.1f), the last minute %.1f MiB (anonymous %.1f, Go heap %.1f), max %.1f; growth %.3f, anonymous %.3f, Go heap %.3f (budget: flat, at most 1.10); of the anonymous, Go itself %.1f -> %.1f MiB and outside Go (SQLite) %.1f -> %.1f\n", full, a/na, aa/na, ha/na, b/nb, ab/nb, hb/nb, max, (b/nb)/(a/na), (ab/nb)/(aa/na), (hb/nb)/(ha/na), ga/na, gb/nb, oa/na, ob/nb
  }' "$OUT"
echo "samples in $OUT" >&2
