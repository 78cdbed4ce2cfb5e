#!/usr/bin/env bash
# The read budget of DESIGN.md: cached availability and price reads against a bare Fiber
# handler returning a fixed JSON body, measured in the same run, each server alone on
# core 0 and wrk on core 1. Prints each rate, the ratios to bare, and the p99 latency of
# the cached reads at half the bare rate.
#   DUR=10 CONNS=64 test/bench/reads.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-10}
CONNS=${CONNS:-64}
PAUSE_MS=${PAUSE_MS:-5}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores (server and load apart)" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
go build -o "$tmp/b2bridge" ./cmd/b2bridge
go build -o "$tmp/barefiber" ./test/bench/barefiber

wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
rate() { # url [header]: requests per second at full speed
  taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" ${2:+-H "$2"} "$1" | awk '/Non-2xx/{print "non-2xx answers: " $0 > "/dev/stderr"; exit 1} /Requests\/sec/{printf "%d", $2}'
}
p99_at() { # rate url header: p99 latency and the rate actually reached, paced
  local conns=$(( ($1 * PAUSE_MS + 999) / 1000 ))
  PAUSE_MS=$PAUSE_MS taskset -c 1 wrk -t1 -c"$conns" -d"${DUR}s" --latency -s test/bench/pace.lua -H "$3" "$2" |
    awk '/ 99%/{p=$2} /Requests\/sec/{r=$2} END{printf "p99 %s at %d req/s", p, r}'
}

taskset -c 0 "$tmp/barefiber" -addr 127.0.0.1:18181 & pids+=($!)
wait_for http://127.0.0.1:18181/
bare=$(rate http://127.0.0.1:18181/)
half=$((bare / 2))
bare_p99=$(p99_at "$half" http://127.0.0.1:18181/ "X-Bench: 1")
kill "${pids[0]}"

taskset -c 0 "$tmp/b2bridge" serve --addr 127.0.0.1:18182 --data "$tmp/data" >"$tmp/serve.out" 2>"$tmp/serve.err" & pids+=($!)
wait_for http://127.0.0.1:18182/healthz
key=$(grep -o '"key": "[^"]*"' "$tmp/data/demo-credentials.json" | head -1 | cut -d'"' -f4)
account=$(grep -o '"C[0-9]*"' "$tmp/data/demo-credentials.json" | head -1 | tr -d '"')
auth="Authorization: Bearer $key"
avail_url="http://127.0.0.1:18182/v1/availability?sku=BRG-00001"
price_url="http://127.0.0.1:18182/v1/accounts/$account/prices?sku=BRG-00001&qty=1"
curl -sf -o /dev/null -H "$auth" "$avail_url" && curl -sf -o /dev/null -H "$auth" "$price_url" # warm the caches
avail=$(rate "$avail_url" "$auth")
price=$(rate "$price_url" "$auth")
avail_p99=$(p99_at "$half" "$avail_url" "$auth")
price_p99=$(p99_at "$half" "$price_url" "$auth")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
echo "bare fiber, fixed JSON:     $bare req/s; $bare_p99 (the harness's own floor)"
echo "cached availability:        $avail req/s = $(ratio "$avail" "$bare") of bare (budget ≥ 0.70); $avail_p99 (budget < 2ms at $half)"
echo "cached prices:              $price req/s = $(ratio "$price" "$bare") of bare (budget ≥ 0.70); $price_p99 (budget < 2ms at $half)"
echo "(wrk -t1 -c$CONNS -d${DUR}s on core 1, server on core 0; p99 runs pace each connection with a ${PAUSE_MS}ms pause)"
