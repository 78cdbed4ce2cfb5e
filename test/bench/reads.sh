#!/usr/bin/env bash
# The read budget of DESIGN.md: cached availability and price reads against a bare Fiber
# handler returning a fixed JSON body, in the same run, servers on core 0 and wrk on
# core 1. The machine is noisy, so each round measures bare, availability and prices back
# to back, and the ratios reported are the medians of the per-round ratios.
# Then p99 latency at half the bare rate, open loop (test/bench/openloop: requests due on
# a fixed schedule, latency from when each was due; bare Fiber measured the same way is
# the floor of the harness itself). wrk cannot show it: its paced connections fall into
# step, and bare Fiber alone measured 3-4 ms p99 that way.
# ITEMS=100000 ACCOUNTS=5000 seeds that catalog first and spreads the reads over all of it
# and over the key's accounts (cache misses included) instead of one hot SKU.
#   ROUNDS=3 DUR=5 [ITEMS=100000 ACCOUNTS=5000] test/bench/reads.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-5}
ITEMS=${ITEMS:-}
ACCOUNTS=${ACCOUNTS:-5000}
CONNS=${CONNS:-64}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores (servers and load apart)" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
go build -o "$tmp/b2bridge" ./cmd/b2bridge
go build -o "$tmp/barefiber" ./test/bench/barefiber
go build -o "$tmp/openloop" ./test/bench/openloop

wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
rate() { # url header: requests per second at full speed
  local script=()
  case "$1" in *"{"*) script=(-s test/bench/random.lua) ;; esac
  PATH_TEMPLATE=/${1#http://*/} ITEMS=$ITEMS ACCOUNTS=$accounts \
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" "${script[@]}" -H "$2" "$1" |
    awk '/Non-2xx/{print "non-2xx answers: " $0 > "/dev/stderr"; exit 1} /Requests\/sec/{printf "%d", $2}'
}
p99_at() { # rate url header: p99 latency at that rate, open loop
  taskset -c 1 "$tmp/openloop" -rate "$1" -duration "${DUR}s" -url "$2" -header "$3" -items "${ITEMS:-0}" -accounts "$accounts" |
    awk '{printf "p99 %s at %d req/s (p50 %s, p99.9 %s)", $6, $12, $2, $8}'
}
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

if [ -n "$ITEMS" ]; then
  echo "seeding $ITEMS items, $ACCOUNTS accounts" >&2
  "$tmp/b2bridge" erp seed --data "$tmp/data" --items "$ITEMS" --accounts "$ACCOUNTS" >/dev/null
fi
taskset -c 0 "$tmp/barefiber" -addr 127.0.0.1:18181 & pids+=($!)
# The rate limits are off: one key sends far more than a storefront's default limit.
B2BRIDGE_RATE_LIMIT_READS=0 taskset -c 0 "$tmp/b2bridge" serve --addr 127.0.0.1:18182 --data "$tmp/data" >"$tmp/serve.out" 2>"$tmp/serve.err" & pids+=($!)
wait_for http://127.0.0.1:18181/
wait_for http://127.0.0.1:18182/healthz
# The first storefront's key and first account (python reads the whole file: a pipe into
# head would end grep with SIGPIPE, which pipefail turns into a failure on a large file).
read -r key account < <(python3 -c "import json,sys; s = json.load(open(sys.argv[1]))['storefronts'][0]; print(s['key'], s['accounts'][0])" "$tmp/data/demo-credentials.json")
auth="Authorization: Bearer $key"
bare_url="http://127.0.0.1:18181/"
avail_url="http://127.0.0.1:18182/v1/availability?sku=BRG-00001"
price_url="http://127.0.0.1:18182/v1/accounts/$account/prices?sku=BRG-00001&qty=1"
curl -sf -o /dev/null -H "$auth" "$avail_url" && curl -sf -o /dev/null -H "$auth" "$price_url" # warm the caches
accounts=
if [ -n "$ITEMS" ]; then
  accounts=$(python3 -c "import json,sys; print(','.join(json.load(open(sys.argv[1]))['storefronts'][0]['accounts']))" "$tmp/data/demo-credentials.json")
  avail_url="http://127.0.0.1:18182/v1/availability?sku=BRG-{n}"
  price_url="http://127.0.0.1:18182/v1/accounts/{account}/prices?sku=BRG-{n}&qty=1"
fi

: >"$tmp/avail" ; : >"$tmp/price" ; : >"$tmp/bare"
rss() { ps -o rss= -p "${pids[1]}" | awk '{printf "%.1f MiB", $1/1024}'; }
rss_before=$(rss)
for r in $(seq "$ROUNDS"); do
  bare=$(rate "$bare_url" "X-Bench: 1"); avail=$(rate "$avail_url" "$auth"); price=$(rate "$price_url" "$auth")
  echo "round $r: bare $bare, availability $avail, prices $price req/s"
  echo "$bare" >>"$tmp/bare"
  awk -v a="$avail" -v b="$bare" 'BEGIN{printf "%.3f\n", a/b}' >>"$tmp/avail"
  awk -v a="$price" -v b="$bare" 'BEGIN{printf "%.3f\n", a/b}' >>"$tmp/price"
done
echo "b2bridge resident memory: $rss_before before the rounds, $(rss) after"
bare=$(median <"$tmp/bare")
half=$((bare / 2))
echo "cached availability: median $(median <"$tmp/avail") of bare (budget ≥ 0.85)"
echo "cached prices:       median $(median <"$tmp/price") of bare (budget ≥ 0.85)"
echo "at half the median bare rate ($half req/s), open loop:"
echo "  bare fiber:          $(p99_at "$half" "$bare_url" "X-Bench: 1")"
echo "  cached availability: $(p99_at "$half" "$avail_url" "$auth")"
echo "  cached prices:       $(p99_at "$half" "$price_url" "$auth")   (budget: p99 < 2ms)"
