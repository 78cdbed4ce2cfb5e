#!/usr/bin/env bash
# DESIGN.md's budgets and issue #14's targets, measured in one sitting on this machine
# (server on core 0, load on core 1), each against its baseline of the same sitting,
# printed as one table. The scripts it runs print their rounds; the table is at the end.
#   test/bench/budgets.sh              (about 30 minutes)
#   QUICK=1 test/bench/budgets.sh      (about 15: no 10-minute memory run)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() { # name, log file, command...
  echo "== $1" >&2; local log=$out/$2; shift 2
  "$@" 2>&1 | grep -v debconf | tee "$log" >&2
}

run "cached reads against bare Fiber" reads env ROUNDS=3 DUR=5 bash test/bench/reads.sh
run "orders on the embedded ERP at FULL, 64 clients" full64 env CLIENTS=64 ROUNDS=3 DUR=10 bash test/bench/orders-embedded.sh
run "orders on the embedded ERP at FULL, 8 clients" full8 env CLIENTS=8 ROUNDS=3 DUR=10 bash test/bench/orders-embedded.sh
run "orders on the embedded ERP at NORMAL, 64 clients" normal64 env SYNC=NORMAL CLIENTS=64 ROUNDS=3 DUR=10 bash test/bench/orders-embedded.sh
run "reads spread over 100,000 items and 5,000 accounts" reads100k env ROUNDS=3 DUR=5 ITEMS=100000 ACCOUNTS=5000 bash test/bench/reads.sh
run "orders over 100,000 items and 5,000 accounts at FULL, 64 clients" full64x100k env CLIENTS=64 ROUNDS=3 DUR=10 ITEMS=100000 ACCOUNTS=5000 bash test/bench/orders-embedded.sh
if pg_isready -q -h 127.0.0.1 -p 5432 && command -v pgbench >/dev/null; then
  run "orders on PostgreSQL against pgbench, 32 clients" pg env CLIENTS=32 ROUNDS=3 DUR=10 bash test/bench/orders-pg.sh
fi
if [ -z "${QUICK:-}" ]; then
  run "resident memory, 10 minutes of mixed load over 100,000 items" memory env DUR=10m OUT="$out/memory.csv" bash test/bench/memory.sh
fi

# field FILE AWK-PROGRAM: one figure from one script's output ("" if that script did not run).
field() { [ -f "$out/$1" ] && awk "$2" "$out/$1" || true; }
ms() { case "$1" in *us) awk -v v="${1%us}" 'BEGIN{printf "%.3f", v/1000}' ;; *ms) echo "${1%ms}" ;; *s) awk -v v="${1%s}" 'BEGIN{print v*1000}' ;; *) echo "$1" ;; esac; }
rate() { field "$1" '/median bridge orders\/s/{print $9}'; }
verdict() { # value, budget, >= or <=
  awk -v v="$1" -v b="$2" -v dir="$3" 'BEGIN{ if (v == "") { print "not measured"; exit }
    met = (dir == ">=") ? v >= b : v <= b
    printf "%s (%.2f of budget)", met ? "met" : "MISSED", v / b }'; }
row() { printf "%-50s %-10s %-10s %s\n" "$1" "$2" "$3" "$4"; }

avail=$(field reads '/cached availability: median/{print $4}')
prices=$(field reads '/cached prices: +median/{print $4}')
p99a=$(ms "$(field reads '/cached availability: p99/{print $4}')")
p99p=$(ms "$(field reads '/cached prices: +p99/{print $4}')")
echo
echo "b2bridge budgets, $(date -u +%Y-%m-%d), $(nproc) cores: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
row "figure" "measured" "budget" "verdict"
row "cached availability, ratio to bare Fiber" "$avail" ">= 0.85" "$(verdict "$avail" 0.85 '>=')"
row "cached prices, ratio to bare Fiber" "$prices" ">= 0.85" "$(verdict "$prices" 0.85 '>=')"
row "cached availability p99 at half bare (ms)" "$p99a" "< 2" "$(verdict "$p99a" 2 '<=')"
row "cached prices p99 at half bare (ms)" "$p99p" "< 2" "$(verdict "$p99p" 2 '<=')"
for c in full64:64 full8:8; do
  f=${c%%:*}; n=${c#*:}; budget=$([ "$n" = 64 ] && echo 4500 || echo 2000)
  v=$(rate "$f"); t=$(field "$f" '/median p99\/p50/{print $3}')
  x=$(field "$f" '/median ratio bridge\/direct SQLite/{print $6}')
  g=$(field "$f" '/median orders per group commit/{print $6}')
  row "embedded orders/s, FULL, $n clients" "$v" ">= $budget" "$(verdict "$v" "$budget" '>=')${x:+, ${x}x the serial ceiling}${g:+, $g per group commit}"
  row "embedded orders p99/p50, FULL, $n clients" "$t" "<= 3" "$(verdict "$t" 3 '<=')"
done
v=$(field reads100k '/cached availability: median/{print $4}')
row "availability, 100,000 items, ratio to bare" "$v" ">= 0.85" "$(verdict "$v" 0.85 '>=')"
v=$(field reads100k '/cached prices: +median/{print $4}')
row "prices, 5,000 accounts x 100,000 items, ratio" "$v" ">= 0.85" "$(verdict "$v" 0.85 '>=')"
v=$(rate full64x100k); x=$(field full64x100k '/median ratio bridge\/direct SQLite/{print $6}')
row "embedded orders/s, FULL, 64 clients, 100,000 items" "$v" ">= 4500" "$(verdict "$v" 4500 '>=')${x:+, ${x}x the serial ceiling}"
v=$(field full64x100k '/median p99\/p50/{print $3}')
row "  p99/p50 of those" "$v" "<= 3" "$(verdict "$v" 3 '<=')"
v=$(field normal64 '/median ratio bridge\/direct SQLite/{print $6}')
row "embedded orders, NORMAL, ratio to its ceiling" "$v" ">= 0.9" "$(verdict "$v" 0.9 '>=')"
o=$(field full64 '/bridge overhead per order: p50/{print $6}')
row "bridge overhead on an order, p50 (us)" "$o" "< 200" "$(verdict "$o" 200 '<=')"
v=$(field pg '/median ratio bridge\/direct with/{sub(":", "", $7); print $7}')
x=$(field pg '/median machine CPU per order/{print $6 " us of CPU per order, pgbench " $17}')
row "PostgreSQL orders, ratio to pgbench, 32 clients" "$v" ">= 0.9" "$(verdict "$v" 0.9 '>=')${x:+, $x}"
v=$(field pg '/median p99\/p50/{print $3}')
row "PostgreSQL orders p99/p50" "$v" "<= 3" "$(verdict "$v" 3 '<=')"
v=$(field memory '/^resident memory:/{for (i = 1; i < NF; i++) if ($i == "growth") { v = $(i+1); sub(",", "", v); print v }}')
row "resident memory, last minute / first at bound" "$v" "<= 1.10" "$(verdict "$v" 1.10 '<=')"
