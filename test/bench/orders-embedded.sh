#!/usr/bin/env bash
# Order throughput on the embedded ERP (SQLite, synchronous=FULL) through the real binary,
# against the direct-SQL ceiling measured in the same sitting: 3-line orders with a key
# each from CLIENTS connections, the bridge on core 0 and wrk on core 1; then the same
# transaction run directly by ../shared/ceiling/sqlite at FULL on core 0 (the bridge idle). Interleaved
# rounds; the ratio is the median of the per-round ratios. p99/p50 of the bridge's rounds.
# The bridge's CPU time per order (user + system, from /proc) is the figure to compare
# code changes by where fsync, not CPU, bounds the rate. The bridge logs at its default
# level: each order's access log line gives its latency and its time in ERP calls, and
# their difference is the bridge's own overhead. Each round also gives, from /metrics, how
# many orders one group commit carried on average (how much one fsync was shared) and its
# mean COMMIT time.
# SYNC=NORMAL runs both at synchronous=NORMAL instead. ITEMS=100000 ACCOUNTS=5000 seeds that
# catalog and spreads the orders' lines over all of it and their buyers over every account
# (the ceiling keeps its own fixed data set). LINES=10 books orders of that many lines (the
# ceiling keeps its 3: its ratio is then no longer like for like).
#   CLIENTS=64 ROUNDS=3 DUR=10 [SYNC=FULL] [ITEMS=100000 ACCOUNTS=5000] [LINES=3] test/bench/orders-embedded.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIENTS=${CLIENTS:-64}
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-10}
SYNC=${SYNC:-FULL}
CEILING=${CEILING:-../shared/ceiling}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores (server and load apart)" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
go build -o "$tmp/b2bridge" ./cmd/b2bridge
(cd "$CEILING/sqlite" && GOFLAGS=-mod=mod go build -o "$tmp/ceiling-sqlite" .)
ITEMS=${ITEMS:-}
if [ -n "$ITEMS" ]; then
  echo "seeding $ITEMS items, ${ACCOUNTS:=5000} accounts" >&2
  "$tmp/b2bridge" erp seed --data "$tmp/data" --items "$ITEMS" --accounts "$ACCOUNTS" >/dev/null
else
  "$tmp/b2bridge" erp seed --data "$tmp/data" >/dev/null
fi
sqlite3 "$tmp/data/erp.db" "UPDATE stock SET on_hand = 1000000000, reserved = 0;
  UPDATE accounts SET credit_hold = 0, credit_limit = 1000000000000, exposure = 0;"
B2BRIDGE_RATE_LIMIT_WRITES=0 B2BRIDGE_EMBEDDED_SYNCHRONOUS=$SYNC taskset -c 0 "$tmp/b2bridge" serve --addr 127.0.0.1:18184 --data "$tmp/data" \
  >/dev/null 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:18184/readyz && break; sleep 0.1; done
STOREFRONTS=$(python3 -c "import json,sys; print(';'.join(s['key'] + '=' + ','.join(s['accounts']) for s in json.load(open(sys.argv[1]))['storefronts']))" "$tmp/data/demo-credentials.json")

: >"$tmp/ratios"
: >"$tmp/tails"
: >"$tmp/groups"
# groups: the group-commit counters so far: orders, groups, seconds in COMMIT.
groups() {
  curl -sf http://127.0.0.1:18184/metrics | awk '/^b2bridge_erp_order_group_size_sum /{o = $2}
    /^b2bridge_erp_order_group_size_count /{g = $2} /^b2bridge_erp_order_group_commit_seconds_sum /{s = $2}
    END{print o + 0, g + 0, s + 0}'
}
for r in $(seq "$ROUNDS"); do
  cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat") # the bridge's user+system clock ticks
  read -r o0 g0 s0 < <(groups)
  STOREFRONTS=$STOREFRONTS RUN="e$r" ITEMS=$ITEMS taskset -c 1 wrk -t1 -c"$CLIENTS" -d"${DUR}s" --latency -s test/bench/orders.lua \
    http://127.0.0.1:18184 >"$tmp/wrk.$r"
  if grep -q Non-2xx "$tmp/wrk.$r"; then echo "non-2xx answers:" >&2; cat "$tmp/wrk.$r" >&2; exit 1; fi
  b=$(awk '/Requests\/sec/{printf "%d", $2}' "$tmp/wrk.$r")
  cpu=$(awk -v t0="$cpu0" -v t1="$(awk '{print $14 + $15}' "/proc/$pid/stat")" -v hz="$(getconf CLK_TCK)" \
    '/requests in/{printf "%d", (t1 - t0) / hz * 1e6 / $1}' "$tmp/wrk.$r")
  read -r o1 g1 s1 < <(groups)
  group=$(awk -v o=$((o1 - o0)) -v g=$((g1 - g0)) -v s0="$s0" -v s1="$s1" \
    'BEGIN{if (g > 0) printf "%.1f %.2f", o / g, (s1 - s0) / g * 1000; else printf "0 0"}')
  c=$(taskset -c 0 "$tmp/ceiling-sqlite" -w 1 -sync "$SYNC" -d "${DUR}s" | awk '{for(i=1;i<=NF;i++) if($i=="orders/s") printf "%d", $(i-1)}')
  tail=$(awk 'function us(v){ if (v ~ /us$/) return v+0; if (v ~ /ms$/) return v*1000; return v*1000000 }
    / 50%/{p50=us($2)} / 99%/{p99=us($2)} END{printf "%.2f", p99/p50}' "$tmp/wrk.$r")
  p=$(awk '/ 50%/{p50=$2} / 99%/{p99=$2} END{print "p50 " p50 ", p99 " p99}' "$tmp/wrk.$r")
  echo "round $r: bridge $b orders/s ($p, p99/p50 $tail, $cpu us of bridge CPU per order, ${group% *} orders per group commit, COMMIT ${group#* } ms), direct SQLite $SYNC $c orders/s, ratio $(awk -v b="$b" -v c="$c" 'BEGIN{printf "%.2f", b/c}')"
  echo "$b" >>"$tmp/rates"
  echo "$cpu" >>"$tmp/cpu"
  echo "$tail" >>"$tmp/tails"
  echo "${group% *}" >>"$tmp/groups"
  awk -v b="$b" -v c="$c" 'BEGIN{printf "%.3f\n", b/c}' >>"$tmp/ratios"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
echo "median bridge orders/s with $CLIENTS clients at $SYNC: $(median "$tmp/rates") (budget at FULL: 4500 with 64 clients, 2000 with 8)"
echo "median p99/p50: $(median "$tmp/tails") (budget: at most 3)"
echo "median bridge CPU per order: $(median "$tmp/cpu") us (user + system time of the bridge process)"
echo "median orders per group commit: $(median "$tmp/groups") (with $CLIENTS clients)"
echo "median ratio bridge/direct SQLite $SYNC: $(median "$tmp/ratios") (budget at NORMAL: at least 0.9)"
python3 - "$tmp/serve.err" <<'PY'
import json, sys
over, lat, erp = [], [], []
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("msg") == "request" and r.get("method") == "POST" and r.get("status") == 201 and "erp_us" in r:
        lat.append(r["latency_us"]); erp.append(r["erp_us"]); over.append(r["latency_us"] - r["erp_us"])
p50 = lambda v: sorted(v)[len(v) // 2] if v else 0
print(f"bridge overhead per order: p50 {p50(over)} us (budget: under 200), p99 {sorted(over)[int(len(over) * .99)] if over else 0} us; "
      f"latency p50 {p50(lat)} us, ERP time p50 {p50(erp)} us, {len(over)} orders")
PY
