#!/usr/bin/env bash
# bench/notify.sh — the notifier's figures (issue 15), against the real server:
#
#   bench/notify.sh NETPULSE_BINARY
#
# The receiver is nginx (Debian's nginx-light, a test peer scripts/bootstrap installs) on
# 127.0.0.1, answering 204 to every POST and logging each request's arrival ($msec) and the
# X-NetPulse-Delivery header (the notification's id). One webhook channel (NetPulse format,
# signed), one policy: every alert its own group (group_by ["..."]), group_wait 0, criticals at
# once. Alerts come from ingested samples crossing a threshold rule (for_s 0), one series each.
#
#   latency     BENCH_NOTIFY_LATENCY (200) alerts one after another, 30 ms apart: for each, the
#               nginx arrival minus the notification's created_at (set when it is rendered, in
#               the loop's turn after the one that handled AlertChanged), p50 / p99 / max.
#               Target: p99 < 50 ms on loopback.
#   throughput  BENCH_NOTIFY_STORM (5,000) alerts raised by one ingest batch: notifications
#               delivered per second, from the first notification's created_at to the last
#               arrival. Target: >= 2,000/s. Meanwhile, sequential GET /api/v1/auth/me: p99 of
#               the API's latency during the storm against the same GETs idle (before it), and
#               the p99 of the GETs that started in each of the storm's phases: "engine" (from
#               the ingest POST to the first notification rendered: the alert engine raising
#               the alerts), "render" (to the last notification rendered) and "deliver" (to the
#               last arrival).
#
# Same machine, wall clocks of one host. BENCH_RUNS (3) runs, each on a fresh server; medians.
# Figures go to stdout and to bench/out/notify-<UTC time>.txt.
set -euo pipefail
export LC_ALL=C

runs=${BENCH_RUNS:-3}
latency_n=${BENCH_NOTIFY_LATENCY:-200}
storm_n=${BENCH_NOTIFY_STORM:-5000}

die() {
  echo "bench/notify: error: $*" >&2
  exit 1
}
log() { echo "bench/notify: $*" >&2; }

(($# == 1)) || {
  echo "usage: $0 NETPULSE_BINARY" >&2
  exit 2
}
[[ "$runs" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9, got '$runs'"
[[ "$latency_n" =~ ^[1-9][0-9]{0,3}$ ]] || die "BENCH_NOTIFY_LATENCY must be 1..9999"
[[ "$storm_n" =~ ^[1-9][0-9]{0,4}$ ]] || die "BENCH_NOTIFY_STORM must be 1..99999"
binary=$(realpath -e "$1" 2>/dev/null) || die "binary '$1' does not exist"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in nginx python3 curl g++; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
    die "'$tool' not found: run scripts/bootstrap"
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netpulse-bench-notify.XXXXXX")
netpulse_pid="" nginx_pid=""
cleanup() {
  local rc=$?
  set +e
  stop_child "$netpulse_pid" netpulse
  stop_child "$nginx_pid" nginx
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

source "$here/../scripts/lib/children.sh"
source "$here/../scripts/lib/netpulse.sh"
# shellcheck source=scripts/lib/ports.sh
source "$here/../scripts/lib/ports.sh"

g++ -std=c++20 -O2 -o "$tmp/tsdb_http" "$here/tsdb_http.cpp" || die "g++ failed on tsdb_http.cpp"

start_nginx() {
  local port=$1 dir=$tmp/nginx
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  log_format hook '\$msec \$http_x_netpulse_delivery';
  server {
    listen 127.0.0.1:$port;
    location / {
      access_log $dir/hooks.log hook;
      client_max_body_size 1m;
      return 204;
    }
  }
}
EOF
  : >"$dir/hooks.log"
  "$nginx_bin" -c "$dir/nginx.conf" -p "$dir" </dev/null >"$dir/out.log" 2>&1 &
  nginx_pid=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null -m 1 -X POST "http://127.0.0.1:$port/ready" && return 0
    kill -0 "$nginx_pid" 2>/dev/null || die "nginx exited: $(cat "$dir/out.log" "$dir/error.log")"
    sleep 0.1
  done
  die "nginx did not answer on 127.0.0.1:$port"
}

admin_email=bench@netpulse.test
admin_password="bench-$RANDOM$RANDOM-$RANDOM$RANDOM"
api() {  # METHOD PATH [BODY] -> prints the body; dies unless 2xx
  local method=$1 path=$2 body=${3:-} out=$tmp/api.json code
  code=$(curl -sS -m 30 -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $token" \
    ${body:+-H 'Content-Type: application/json' -d "$body"} "$np_url$path") || die "$method $path failed"
  [[ "$code" == 2* ]] || die "$method $path answered $code: $(head -c 300 "$out")"
  cat "$out"
}
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

results=$tmp/results.txt
: >"$results"
for ((run = 1; run <= runs; run++)); do
  hook_port=$(free_port)
  start_nginx "$hook_port"
  export NETPULSE_NETWORK_OUTBOUND_ALLOW="127.0.0.0/8" NETPULSE_ALERTS_DEFAULT_RULES=false
  start_netpulse "$tmp/run$run"
  token=$(curl -sS -m 30 -H 'Content-Type: application/json' \
    -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" "$np_url/api/v1/auth/login" |
    jq_py 'd["data"]["access_token"]') || die "login failed"
  key=$(api POST /api/v1/api-keys '{"name":"bench","role":"api_user"}' | jq_py 'd["data"]["key"]')
  channel=$(api POST /api/v1/notification-channels \
    "{\"name\":\"bench hook\",\"kind\":\"webhook\",\"settings\":{\"url\":\"http://127.0.0.1:$hook_port/hook\",\"format\":\"netpulse\",\"secret\":\"bench-secret-0123456789\"}}" |
    jq_py 'd["data"]["id"]')
  api POST /api/v1/notification-policies \
    "{\"name\":\"bench\",\"group_by\":[\"...\"],\"group_wait_s\":0,\"targets\":[{\"channel_id\":$channel}]}" >/dev/null
  api POST /api/v1/alert-rules \
    '{"name":"bench hot","kind":"threshold","selector":"bench_temp","condition":{"op":">","value":90},"for_s":0,"severity":"critical"}' >/dev/null
  now=$(($(date +%s) - 5))

  log "run $run/$runs: latency, $latency_n alerts one after another"
  for ((i = 0; i < latency_n; i++)); do
    curl -sS -m 10 -o /dev/null -H "Authorization: Token $key" --data-binary \
      "bench_temp,host=lat$i value=95 $now" "$np_url/api/v2/write?precision=s" || die "ingest failed"
    sleep 0.03
  done

  log "run $run/$runs: idle GET latency"
  "$tmp/tsdb_http" -H "Authorization: Bearer $token" get "$np_url/api/v1/auth/me" 300 30 \
    >"$tmp/idle.txt" || die "the idle GETs failed"

  log "run $run/$runs: a storm of $storm_n alerts in one batch"
  python3 -c "
import sys
n, now = int(sys.argv[1]), int(sys.argv[2])
print('\n'.join(f'bench_temp,host=storm{i} value=95 {now}' for i in range(n)))" "$storm_n" "$now" >"$tmp/storm.lp"
  TSDB_HTTP_DUMP="$tmp/busy-each.txt" "$tmp/tsdb_http" -H "Authorization: Bearer $token" \
    get "$np_url/api/v1/auth/me" 10000 0 >"$tmp/busy.txt" &
  busy_pid=$!
  storm_t0=$(date +%s.%N)
  curl -sS -m 60 -o /dev/null -H "Authorization: Token $key" --data-binary "@$tmp/storm.lp" \
    "$np_url/api/v2/write?precision=s" || die "the storm ingest failed"
  total=$((latency_n + storm_n))
  for _ in $(seq 1 600); do
    (($(wc -l <"$tmp/nginx/hooks.log") >= total)) && break
    sleep 0.1
  done
  wait "$busy_pid" || die "the busy GETs failed"
  got=$(wc -l <"$tmp/nginx/hooks.log")
  ((got >= total)) || die "only $got of $total notifications arrived within 60 s"

  # The notifications' ids and created_at, from the delivery log.
  python3 - "$np_url" "$token" "$tmp/notifications.json" <<'EOF'
import json, sys, urllib.request
url, token, out = sys.argv[1:]
rows, page = [], 1
while True:
    req = urllib.request.Request(f"{url}/api/v1/notifications?per_page=500&page={page}",
                                 headers={"Authorization": "Bearer " + token})
    d = json.load(urllib.request.urlopen(req, timeout=30))
    rows += d["data"]
    if not d["pagination"]["has_next"]:
        break
    page += 1
json.dump(rows, open(out, "w"))
EOF
  python3 - "$tmp/notifications.json" "$tmp/nginx/hooks.log" "$latency_n" "$tmp/idle.txt" \
    "$tmp/busy.txt" "$tmp/busy-each.txt" "$storm_t0" >>"$results" <<'EOF'
import datetime, json, sys
rows = json.load(open(sys.argv[1]))
latency_n = int(sys.argv[3])
created = {}
for r in rows:
    t = datetime.datetime.fromisoformat(r["created_at"].replace("Z", "+00:00")).timestamp()
    created[str(r["id"])] = t
    if r["status"] != "delivered":
        sys.exit(f"notification {r['id']} is {r['status']}")
arrivals = []
for line in open(sys.argv[2]):
    at, nid = line.split()
    if nid in created:
        arrivals.append((int(nid), float(at)))
arrivals.sort()
if len(arrivals) != len(created):
    sys.exit(f"{len(arrivals)} arrivals for {len(created)} notifications (a duplicate or a loss)")
lat = sorted((at - created[str(n)]) * 1000 for n, at in arrivals[:latency_n])
def pct(v, p): return v[min(len(v) - 1, int(p * len(v)))]
storm = arrivals[latency_n:]
start = min(created[str(n)] for n, _ in storm)
end = max(at for _, at in storm)
def field(path, name):
    for line in open(path):
        k, _, v = line.partition(" ")
        if k == name:
            return float(v)
    sys.exit(f"{path}: no {name}")
print(f"latency_p50_ms {pct(lat, 0.50):.2f}")
print(f"latency_p99_ms {pct(lat, 0.99):.2f}")
print(f"latency_max_ms {lat[-1]:.2f}")
print(f"storm_per_s {len(storm) / (end - start):.1f}")
print(f"idle_get_p99_ms {field(sys.argv[4], 'p99_ms'):.3f}")
print(f"busy_get_p99_ms {field(sys.argv[5], 'p99_ms'):.3f}")
# The storm's phases, by the GETs' start times: the engine raising the alerts (from the ingest
# POST to the first notification rendered), rendering (to the last one rendered), delivering
# (to the last arrival).
gets = [tuple(map(float, line.split())) for line in open(sys.argv[6])]
storm_created = sorted(created[str(n)] for n, _ in storm)
phases = {"engine": (float(sys.argv[7]), storm_created[0]),
          "render": (storm_created[0], storm_created[-1]),
          "deliver": (storm_created[-1], end)}
for name, (a, b) in phases.items():
    v = sorted(ms for at, ms in gets if a * 1000 <= at < b * 1000)
    print(f"busy_get_{name}_n {len(v)}")
    print(f"busy_get_{name}_p99_ms {pct(v, 0.99) if v else 0:.3f}")
EOF
  stop_child "$netpulse_pid" netpulse
  stop_child "$nginx_pid" nginx
  netpulse_pid="" nginx_pid=""
  rm -rf "$tmp/run$run" "$tmp/nginx"
  log "run $run/$runs: $(tail -n 12 "$results" | tr '\n' ' ')"
done

median() {
  awk -v k="$1" '$1 == k { print $2 }' "$results" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
report=$tmp/report.txt
{
  echo "NetPulse notifier benchmark — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "host: $(uname -n), $(nproc) CPUs, kernel $(uname -r)"
  echo "netpulse: $("$binary" --version 2>/dev/null | head -n1), git $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "receiver: nginx on loopback (204); median of $runs run(s)"
  echo
  printf '%-58s %12s   %s\n' measurement value target
  printf '%-58s %12s   %s\n' "AlertChanged -> webhook received, p50 ms ($latency_n alerts)" "$(median latency_p50_ms)" ""
  printf '%-58s %12s   %s\n' "AlertChanged -> webhook received, p99 ms" "$(median latency_p99_ms)" "< 50"
  printf '%-58s %12s   %s\n' "AlertChanged -> webhook received, max ms" "$(median latency_max_ms)" ""
  printf '%-58s %12s   %s\n' "storm of $storm_n alerts: notifications delivered/s" "$(median storm_per_s)" ">= 2,000"
  printf '%-58s %12s   %s\n' "GET /api/v1/auth/me p99 ms, idle" "$(median idle_get_p99_ms)" ""
  printf '%-58s %12s   %s\n' "GET /api/v1/auth/me p99 ms, during the storm" "$(median busy_get_p99_ms)" "unaffected"
  for phase in engine render deliver; do
    printf '%-58s %12s   %s\n' "  ... while the storm is in its $phase phase (GETs: $(median busy_get_${phase}_n))" \
      "$(median busy_get_${phase}_p99_ms)" ""
  done
  echo
  echo "raw:"
  cat "$results"
} >"$report"
cat "$report"
mkdir -p "$here/out"
saved=$here/out/notify-$(date -u +%Y%m%dT%H%M%SZ).txt
cp "$report" "$saved"
echo "saved: $saved"
