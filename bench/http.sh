#!/usr/bin/env bash
# bench/http.sh — HTTP throughput and latency of netpulse beside nginx, on this machine, in one run.
#
#   bench/http.sh NETPULSE_BINARY
#
# Starts nginx (Debian's nginx-light: own temp prefix and config, `worker_processes auto`, no
# access log) serving a 200-byte static JSON file, and netpulse (temp data dir, no access log,
# rate limits raised out of the way, a known first admin), each on a free 127.0.0.1 port. Then,
# BENCH_RUNS times, interleaved, runs `wrk -t2 -c64 -d10s --latency` against:
#   nginx   GET /static.json          the peer: a static file from a mature C server
#   alive   netpulse GET /alive       the server's floor: routing + a tiny JSON body
#   me      netpulse GET /api/v1/auth/me with a Bearer token (JWT check + user lookup)
# and prints, per target, the MEDIAN requests/s, p50 and p99 latency (each the median of its
# own runs), and netpulse's ratios to nginx. The table also goes to bench/out/http-<time>.txt
# with the raw wrk output. Any non-2xx/3xx response makes the figures invalid: exit 1.
#
# Env: BENCH_DURATION (10s; wrk's -d: 3s, 1m), BENCH_RUNS (3), BENCH_THREADS (2),
#      BENCH_CONNECTIONS (64). Quick smoke run: BENCH_DURATION=3s BENCH_RUNS=1 bench/http.sh BIN
set -euo pipefail
export LC_ALL=C

duration=${BENCH_DURATION:-10s}
runs=${BENCH_RUNS:-3}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-64}

die() {
  echo "bench/http: error: $*" >&2
  exit 1
}
log() { echo "bench/http: $*" >&2; }

(($# == 1)) || {
  echo "usage: $0 NETPULSE_BINARY" >&2
  exit 2
}
binary=$(realpath -e "$1" 2>/dev/null) || die "binary '$1' does not exist"
[[ -x "$binary" ]] || die "'$binary' is not executable"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || die "BENCH_RUNS must be 1..99, got '$runs'"
[[ "$threads" =~ ^[1-9][0-9]*$ && "$connections" =~ ^[1-9][0-9]*$ ]] ||
  die "BENCH_THREADS and BENCH_CONNECTIONS must be positive integers"
case "$duration" in
*[0-9]s) duration_s=${duration%s} ;;
*[0-9]m) duration_s=$((${duration%m} * 60)) ;;
*[0-9]) duration_s=$duration ;;
*) duration_s=x ;;
esac
if ! [[ "$duration_s" =~ ^[1-9][0-9]*$ ]] || ((duration_s > 600)); then
  die "BENCH_DURATION must be like 10s, 1m or 10 (at most 10 minutes), got '$duration'"
fi
for tool in nginx wrk curl ss; do
  command -v "$tool" >/dev/null || die "'$tool' not found: run scripts/bootstrap --bench"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netpulse-bench-http.XXXXXX")
nginx_pid=""
netpulse_pid=""

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

# shellcheck source=scripts/lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/ports.sh"
# shellcheck source=scripts/lib/children.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/children.sh"

# --- nginx ------------------------------------------------------------------------------------
# The master runs as root; its workers as nobody, so the tree must be world-readable.
chmod 0755 "$tmp"
mkdir -p "$tmp/nginx/www" "$tmp/nginx/temp"
# Exactly 200 bytes of JSON (checked below).
body='{"status":"ok","service":"netpulse-bench","note":"static peer for the HTTP benchmark","items":[1,2,3,4,5,6,7,8,9,10],"padding":"'
pad=$((199 - ${#body} - 2))
printf '%s%s"}\n' "$body" "$(printf 'x%.0s' $(seq 1 "$pad"))" >"$tmp/nginx/www/static.json"
[[ $(stat -c %s "$tmp/nginx/www/static.json") -eq 200 ]] || die "static.json is not 200 bytes"
chmod -R a+rX "$tmp/nginx"

nginx_port=$(free_port) || die "no free port"
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  types { application/json json; }
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $tmp/nginx/temp/body;
  proxy_temp_path $tmp/nginx/temp/proxy;
  fastcgi_temp_path $tmp/nginx/temp/fastcgi;
  uwsgi_temp_path $tmp/nginx/temp/uwsgi;
  scgi_temp_path $tmp/nginx/temp/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $tmp/nginx/www;
  }
}
EOF
nginx -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
  </dev/null >"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
wait_200 "http://127.0.0.1:$nginx_port/static.json" "$nginx_pid" nginx "$tmp/nginx/error.log"
nginx_workers=$(pgrep -c -P "$nginx_pid" || true)

# --- netpulse ---------------------------------------------------------------------------------
netpulse_port=$(free_port) || die "no free port"
while [[ "$netpulse_port" == "$nginx_port" ]]; do netpulse_port=$(free_port); done
admin_email=bench@netpulse.test
admin_password="bench-$RANDOM$RANDOM-$RANDOM$RANDOM"
mkdir -p "$tmp/data"
env NETPULSE_HTTP_LISTEN="127.0.0.1:$netpulse_port" \
  NETPULSE_STORAGE_DATA_DIR="$tmp/data" \
  NETPULSE_LOG_ACCESS_LOG=false \
  NETPULSE_HTTP_RATE_LIMIT_PER_IP_RPS=1000000000.0 \
  NETPULSE_HTTP_RATE_LIMIT_PER_IP_BURST=100000000 \
  NETPULSE_HTTP_RATE_LIMIT_PER_USER_RPS=1000000000.0 \
  NETPULSE_HTTP_RATE_LIMIT_PER_USER_BURST=100000000 \
  NETPULSE_ADMIN_EMAIL="$admin_email" \
  NETPULSE_ADMIN_PASSWORD="$admin_password" \
  "$binary" serve </dev/null >"$tmp/netpulse.log" 2>&1 &
netpulse_pid=$!
np_url="http://127.0.0.1:$netpulse_port"
wait_200 "$np_url/health" "$netpulse_pid" netpulse "$tmp/netpulse.log"

# login: a fresh access token (tokens live [auth] access_token_ttl_s, 15 min by default, so
# each /me run logs in anew).
login() {
  local response token
  response=$(curl -sS -m 30 -H 'Content-Type: application/json' \
    -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" "$np_url/api/v1/auth/login") ||
    die "POST /api/v1/auth/login failed"
  token=$(sed -nE 's/.*"access_token"[[:space:]]*:[[:space:]]*"([^"]+)".*/\1/p' <<<"$response")
  [[ -n "$token" ]] || die "no access_token in the login response: $response"
  echo "$token"
}
token=$(login)
code=$(curl -s -o "$tmp/me.json" -m 10 -w '%{http_code}' -H "Authorization: Bearer $token" "$np_url/api/v1/auth/me")
[[ "$code" == 200 ]] || die "GET /api/v1/auth/me with the token answered $code: $(cat "$tmp/me.json")"

# --- the runs ---------------------------------------------------------------------------------
targets=(nginx alive me)
declare -A url=(
  [nginx]="http://127.0.0.1:$nginx_port/static.json"
  [alive]="$np_url/alive"
  [me]="$np_url/api/v1/auth/me"
)
declare -A label=(
  [nginx]="nginx GET /static.json (200 B)"
  [alive]="netpulse GET /alive"
  [me]="netpulse GET /api/v1/auth/me"
)

# to_us VALUE: wrk's latency (850.00us, 1.23ms, 2.00s, 1.10m) in microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 1 : (u == "ms") ? 1e3 : (u == "s") ? 1e6 : (u == "m") ? 6e7 : -1
    if (f < 0) { print "NaN"; exit 1 }
    printf "%.1f\n", n * f }'
}
# median VALUES...: the middle value (mean of the two middle ones for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A rps_list=() p50_list=() p99_list=() bad=() sockerr=()
raw=$tmp/raw.txt
: >"$raw"
log "wrk -t$threads -c$connections -d$duration --latency, $runs run(s) x ${#targets[@]} targets, interleaved"
for ((run = 1; run <= runs; run++)); do
  for t in "${targets[@]}"; do
    headers=()
    if [[ "$t" == me ]]; then
      headers=(-H "Authorization: Bearer $(login)")
    fi
    out=$tmp/wrk-$t-$run.txt
    if ! timeout --kill-after=5 $((duration_s + 60)) \
      wrk -t"$threads" -c"$connections" -d"$duration" --latency "${headers[@]}" "${url[$t]}" >"$out" 2>&1; then
      cat "$out" >&2
      die "wrk against ${url[$t]} failed"
    fi
    {
      echo "--- run $run: ${label[$t]}"
      cat "$out"
    } >>"$raw"
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    [[ -n "$rps" && -n "$p50" && -n "$p99" ]] || {
      cat "$out" >&2
      die "could not read wrk's output"
    }
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    errs=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out")
    rps_list[$t]+="$rps "
    p50_list[$t]+="$(to_us "$p50") "
    p99_list[$t]+="$(to_us "$p99") "
    bad[$t]=$((${bad[$t]:-0} + ${non2xx:-0}))
    sockerr[$t]=$((${sockerr[$t]:-0} + ${errs:-0}))
    log "run $run/$runs ${label[$t]}: $rps req/s, p50 $p50, p99 $p99${non2xx:+, NON-2xx: $non2xx}${errs:+, socket errors: $errs}"
  done
done

# --- report -----------------------------------------------------------------------------------
declare -A rps_med=() p50_med=() p99_med=()
for t in "${targets[@]}"; do
  read -r -a values <<<"${rps_list[$t]}"
  rps_med[$t]=$(median "${values[@]}")
  read -r -a values <<<"${p50_list[$t]}"
  p50_med[$t]=$(median "${values[@]}")
  read -r -a values <<<"${p99_list[$t]}"
  p99_med[$t]=$(median "${values[@]}")
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }

timestamp=$(date -u +%Y%m%dT%H%M%SZ)
report=$tmp/report.txt
{
  echo "NetPulse HTTP benchmark — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "host: $(uname -n), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
  echo "netpulse: $("$binary" --version 2>/dev/null | head -n1) ($binary), git $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //'), worker_processes auto ($nginx_workers workers)"
  echo "wrk: $(wrk -v 2>&1 | head -n1 | awk '{ print $2 }'), -t$threads -c$connections -d$duration --latency, $runs run(s) per target, interleaved; all on 127.0.0.1"
  echo "figures: median over the runs of each of req/s, p50 and p99 separately"
  echo
  printf '%-32s %12s %10s %10s %8s %8s\n' target "req/s" "p50 ms" "p99 ms" "non-2xx" "sock-err"
  for t in "${targets[@]}"; do
    printf '%-32s %12.0f %10.3f %10.3f %8d %8d\n' "${label[$t]}" "${rps_med[$t]}" \
      "$(awk -v u="${p50_med[$t]}" 'BEGIN { print u / 1000 }')" \
      "$(awk -v u="${p99_med[$t]}" 'BEGIN { print u / 1000 }')" "${bad[$t]}" "${sockerr[$t]}"
  done
  echo
  echo "ratios to nginx (req/s: higher is better; p99: lower is better)"
  printf '  %-40s %s\n' "netpulse_alive_rps / nginx_rps" "$(ratio "${rps_med[alive]}" "${rps_med[nginx]}")"
  printf '  %-40s %s\n' "netpulse_alive_p99 / nginx_p99" "$(ratio "${p99_med[alive]}" "${p99_med[nginx]}")"
  printf '  %-40s %s\n' "netpulse_me_rps / nginx_rps" "$(ratio "${rps_med[me]}" "${rps_med[nginx]}")"
  printf '  %-40s %s\n' "netpulse_me_p99 / nginx_p99" "$(ratio "${p99_med[me]}" "${p99_med[nginx]}")"
} >"$report"

invalid=0
for t in "${targets[@]}"; do
  if ((bad[$t] > 0)); then
    echo "INVALID: ${label[$t]} got ${bad[$t]} non-2xx/3xx responses (rate limit? token?); its figures are not a benchmark" >>"$report"
    invalid=1
  fi
done

cat "$report"
mkdir -p "$here/out"
saved=$here/out/http-$timestamp.txt
{
  cat "$report"
  echo
  echo "=== raw wrk output"
  cat "$raw"
} >"$saved"
echo "saved: $saved"
if ((invalid)); then
  exit 1
fi
