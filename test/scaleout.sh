#!/usr/bin/env bash
# Scale-out, measured: 3 `serve` replicas on one PostgreSQL ERP behind nginx (round
# robin), driven by `b2bridge loadtest`, whose order retries (same Idempotency-Key) land
# on any replica. One replica is killed with SIGKILL halfway; the audit must still end
# with divergence: 0. Before the run, the change-log fan-out time: an ERP change made in
# PostgreSQL, until all 3 replicas answer it (polled every ~10 ms).
#   DUR=20 RATE=300 test/scaleout.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-20}
RATE=${RATE:-300}
command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx >/dev/null; }
pg_isready -h 127.0.0.1 -q || { echo "PostgreSQL is not running on 127.0.0.1:5432 (see .ci/run)" >&2; exit 1; }

tmp=$(mktemp -d)
db=b2bridge_scaleout_$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
createdb -h 127.0.0.1 -U postgres "$db"
export B2BRIDGE_ERP_DSN="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
go build -o "$tmp/b2bridge" ./cmd/b2bridge
"$tmp/b2bridge" erp seed --data "$tmp/data" >/dev/null
key=$(sed -n 's/.*"key": "\(sk_[^"]*\)".*/\1/p' "$tmp/data/demo-credentials.json" | head -1)

ports=(18301 18302 18303)
for p in "${ports[@]}"; do
  B2BRIDGE_FOLLOW_INTERVAL=250ms "$tmp/b2bridge" serve --addr "127.0.0.1:$p" --data "$tmp/data" \
    >"$tmp/serve-$p.out" 2>"$tmp/serve-$p.err" & pids+=($!)
done
for p in "${ports[@]}"; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$p/readyz" && break; sleep 0.1; done
done
cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx-body;
  proxy_temp_path $tmp/nginx-proxy;
  upstream bridges {
    server 127.0.0.1:18301 max_fails=1 fail_timeout=10s;
    server 127.0.0.1:18302 max_fails=1 fail_timeout=10s;
    server 127.0.0.1:18303 max_fails=1 fail_timeout=10s;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:18300;
    location / {
      proxy_pass http://bridges;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
nginx -c "$tmp/nginx.conf"
for _ in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:18300/healthz && break; sleep 0.1; done

# Fan-out: the change log carries a stock change made in the ERP to every replica.
available() { curl -s -H "Authorization: Bearer $key" "http://127.0.0.1:$1/v1/availability?sku=BRG-00001" |
  grep -o '"available":[0-9]*' | head -1 | cut -d: -f2; }
for p in "${ports[@]}"; do available "$p" >/dev/null; done # every cache warm
fanout=()
for i in 1 2 3 4 5; do
  before=$(available 18301)
  psql -h 127.0.0.1 -U postgres -d "$db" -qc "UPDATE stock SET on_hand = on_hand + 1 WHERE item_id = 1 AND warehouse = 'WH-CENTRAL'"
  start=$(date +%s%N)
  for p in "${ports[@]}"; do
    deadline=$(( $(date +%s) + 10 ))
    until [ "$(available "$p")" = "$((before + 1))" ]; do
      [ "$(date +%s)" -lt "$deadline" ] || { echo "replica $p did not see the change within 10s" >&2; exit 1; }
      sleep 0.01
    done
  done
  fanout+=($(( ($(date +%s%N) - start) / 1000000 )))
done
echo "change-log fan-out to 3 replicas (ms, follow interval 250ms): ${fanout[*]}"

# The run, with replica 2 killed halfway.
"$tmp/b2bridge" loadtest --target http://127.0.0.1:18300 --credentials "$tmp/data/demo-credentials.json" \
  --duration "${DUR}s" --rate "$RATE" --mix reads=60,quotes=10,orders=30 --report "${REPORT:-/tmp/b2bridge-scaleout-report.html}" \
  >"$tmp/loadtest.out" 2>"$tmp/loadtest.err" & lt=$!
sleep $((DUR / 2))
kill -9 "${pids[1]}"
echo "killed the replica on port 18302 with SIGKILL at $((DUR / 2))s"
status=0
wait "$lt" || status=$?
cat "$tmp/loadtest.out"
[ "$status" = 0 ] && grep -qx 'divergence: 0' "$tmp/loadtest.out" || { echo "scale-out run FAILED" >&2; exit 1; }
echo "scale-out run: divergence 0 with a replica killed mid-run"
