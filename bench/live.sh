#!/usr/bin/env bash
# bench/live.sh — the live feed's figures (issue 16), against the real server:
#
#   bench/live.sh NETPULSE_BINARY
#
# The clients and the samples are bench/live_fanout.cpp (Boost.Beast, compiled here with g++ -O2),
# all on 127.0.0.1:
#   probe    one client following one series; BENCH_LIVE_PROBE (200) samples POSTed one at a
#            time, 10 ms apart: from the POST's start to the client having the sample, p50 / p99 /
#            max. Target: p99 < 50 ms.
#   fanout   BENCH_LIVE_CLIENTS (1,000) clients, each following 10 series (10 followers per
#            series); BENCH_LIVE_RATE (10,000) samples/s POSTed for BENCH_LIVE_SECONDS (60) s in
#            batches every 10 ms: deliveries expected (samples x 10) and made, deliveries/s, p99
#            latency from the POST to the client, clients closed; the server's CPU (cores, from
#            /proc/PID/task/*/schedstat) and RSS (VmRSS, VmHWM) over the run. Target: all
#            delivered, p99 < 100 ms.
# There is no peer: no other monitoring server of this kind has a comparable feed to run beside.
# BENCH_RUNS (3) runs, each on a fresh server; medians. BENCH_QUICK=1: 1 run, 100 clients, 10 s.
# Figures go to stdout and to bench/out/live-<UTC time>.txt.
set -euo pipefail
export LC_ALL=C

quick=${BENCH_QUICK:-0}
if [[ "$quick" == 1 ]]; then
  runs=${BENCH_RUNS:-1}
  clients=${BENCH_LIVE_CLIENTS:-100}
  seconds=${BENCH_LIVE_SECONDS:-10}
else
  runs=${BENCH_RUNS:-3}
  clients=${BENCH_LIVE_CLIENTS:-1000}
  seconds=${BENCH_LIVE_SECONDS:-60}
fi
rate=${BENCH_LIVE_RATE:-10000}
probe_n=${BENCH_LIVE_PROBE:-200}

die() {
  echo "bench/live: error: $*" >&2
  exit 1
}
log() { echo "bench/live: $*" >&2; }

(($# == 1)) || {
  echo "usage: $0 NETPULSE_BINARY" >&2
  exit 2
}
[[ "$quick" == 0 || "$quick" == 1 ]] || die "BENCH_QUICK must be 0 or 1, got '$quick'"
[[ "$runs" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9, got '$runs'"
[[ "$clients" =~ ^[1-9][0-9]{0,3}$ ]] || die "BENCH_LIVE_CLIENTS must be 1..9999"
[[ "$seconds" =~ ^[1-9][0-9]{0,2}$ ]] || die "BENCH_LIVE_SECONDS must be 1..999"
[[ "$rate" =~ ^[1-9][0-9]{2,5}$ ]] || die "BENCH_LIVE_RATE must be 100..999999"
[[ "$probe_n" =~ ^[1-9][0-9]{0,3}$ ]] || die "BENCH_LIVE_PROBE must be 1..9999"
binary=$(realpath -e "$1" 2>/dev/null) || die "binary '$1' does not exist"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in python3 curl g++; do
  command -v "$tool" >/dev/null || die "'$tool' not found: run scripts/bootstrap"
done
# A socket per client on each side.
ulimit -n $((clients * 2 + 1024)) 2>/dev/null || die "cannot raise the open-file limit to $((clients * 2 + 1024))"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netpulse-bench-live.XXXXXX")
netpulse_pid=""
cleanup() {
  local rc=$?
  set +e
  stop_child "$netpulse_pid" netpulse
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

source "$here/../scripts/lib/children.sh"
source "$here/../scripts/lib/netpulse.sh"

log "compiling bench/live_fanout.cpp"
g++ -std=c++20 -O2 -o "$tmp/live_fanout" "$here/live_fanout.cpp" -pthread ||
  die "g++ failed on live_fanout.cpp"

admin_email=bench@netpulse.test
admin_password="bench-$RANDOM$RANDOM-$RANDOM$RANDOM"
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/status; }

results=$tmp/results.txt
: >"$results"
for ((run = 1; run <= runs; run++)); do
  export NETPULSE_ALERTS_DEFAULT_RULES=false NETPULSE_HTTP_MAX_CONNECTIONS=$((clients + 100)) \
    NETPULSE_HTTP_MAX_CONNECTIONS_PER_IP=0
  start_netpulse "$tmp/run$run"
  token=$(curl -sS -m 30 -H 'Content-Type: application/json' \
    -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" "$np_url/api/v1/auth/login" |
    jq_py 'd["data"]["access_token"]') || die "login failed"
  key=$(curl -sS -m 30 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"name":"bench","role":"api_user"}' "$np_url/api/v1/api-keys" | jq_py 'd["data"]["key"]') ||
    die "the API key failed"
  port=${np_url##*:}

  log "run $run/$runs: probe, $probe_n samples one at a time"
  probe=$("$tmp/live_fanout" "$port" "$token" "$key" probe "$probe_n") || die "the probe failed"

  log "run $run/$runs: fan-out, $clients clients x 10 series, $rate samples/s for $seconds s"
  cpu0=$(netpulse_cpu_ns "$netpulse_pid")
  rss0=$(rss_kb "$netpulse_pid" VmRSS)
  t0=$(date +%s.%N)
  fan=$("$tmp/live_fanout" "$port" "$token" "$key" fanout "$clients" 10 "$rate" "$seconds") ||
    die "the fan-out failed"
  t1=$(date +%s.%N)
  cpu1=$(netpulse_cpu_ns "$netpulse_pid")
  rss1=$(rss_kb "$netpulse_pid" VmRSS)
  hwm=$(rss_kb "$netpulse_pid" VmHWM)
  kill -0 "$netpulse_pid" 2>/dev/null || die "netpulse died during the run"
  cores=$(python3 -c "print(f'{($cpu1 - $cpu0) / 1e9 / ($t1 - $t0):.2f}')")
  echo "$probe $fan $cores $rss0 $rss1 $hwm" >>"$results"
  log "run $run/$runs: $probe | $fan | cores $cores rss ${rss0}->${rss1} kB (peak $hwm)"
  stop_child "$netpulse_pid" netpulse
  netpulse_pid=""
done

mkdir -p "$here/out"
report="$here/out/live-$(date -u +%Y%m%dT%H%M%SZ).txt"
python3 - "$results" "$clients" "$rate" "$seconds" "$probe_n" <<'EOF' | tee "$report"
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
clients, rate, seconds, probe_n = sys.argv[2:6]
med = lambda i: statistics.median(float(r[i]) for r in rows)
# probe: 0 "probe" 1 received 2 p50 3 p99 4 max
# fanout: 5 "fanout" 6 expected 7 delivered 8 per_s 9 p50 10 p99 11 max 12 closed 13 elapsed
# 14 cores 15 rss0 16 rss1 17 hwm
print(f"live feed: {len(rows)} run(s), medians")
print(f"  probe: {probe_n} samples POSTed one at a time -> one client")
print(f"    received {med(1):.0f} of {probe_n}; latency p50 {med(2):.2f} ms, p99 {med(3):.2f} ms, "
      f"max {med(4):.2f} ms   (target p99 < 50 ms)")
print(f"  fan-out: {clients} clients x 10 series, {rate} samples/s for {seconds} s")
print(f"    deliveries {med(7):.0f} of {med(6):.0f} expected ({100 * med(7) / med(6):.2f} %), "
      f"{med(8):.0f}/s; clients closed {med(12):.0f}")
print(f"    latency POST -> client: p50 {med(9):.2f} ms, p99 {med(10):.2f} ms, "
      f"max {med(11):.2f} ms   (target: all delivered, p99 < 100 ms)")
print(f"    server: {med(14):.2f} cores; RSS {med(15) / 1024:.1f} -> {med(16) / 1024:.1f} MiB "
      f"(peak {med(17) / 1024:.1f} MiB)")
for i, r in enumerate(rows, 1):
    print(f"  run {i}: probe p99 {float(r[3]):.2f} ms; fan-out {float(r[7]):.0f}/{float(r[6]):.0f}, "
          f"p99 {float(r[10]):.2f} ms, {float(r[14]):.2f} cores")
EOF
