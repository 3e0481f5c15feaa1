#!/usr/bin/env bash
# bench/soak.sh — the whole server under a steady mixed load for a bounded time, watched for leaks:
# memory, file descriptors, threads and disk measured every minute, their growth after a warm-up,
# and every error of the load, the pollers and the server log.
#
#   bench/soak.sh NETPULSE_BINARY
#
# What runs, all on loopback (nothing leaves 127.0.0.0/8):
#   agents    Debian's snmpsimd (0.4.5) serving ONE recording, bench/data/soak-switch.snmprec (an
#             8-port switch: system group, ifTable, ifXTable; sysUpTime and the counters move with
#             snmpsim's numeric variation module, so rates are non-zero), on SOAK_DEVICES UDP
#             endpoints 127.0.1.1, 127.0.1.2, ... (250 per /24) at one free port, community
#             `public`, shared round robin by SOAK_SNMPSIM_PROCS processes, each in its own session
#             (so that the kernel's autogroup scheduling does not make the agents and the server
#             share one CPU slice). snmpsimd is single-threaded Python: ~35 ms of CPU per device-run
#             (a GET of the system group, 5 GETBULKs for the 23 interface columns, 1 for the host
#             tables), so 1,000 devices every 60 s need ~0.6 of a core. On a machine loaded by
#             other work the agents starve and SNMP times out (the report says so);
#             SOAK_SNMPSIM_NICE=-10 (root) then raises their priority, process and autogroup:
#             they are the simulated network, not what is measured. As root snmpsimd drops to
#             nobody. Loopback addresses also answer ping.
#   server    `netpulse serve` (fresh temp data dir, a free 127.0.0.1 HTTP port, traps on
#             127.0.0.1:0, no access log, a known first admin) with the settings printed in the
#             report: generous per-IP and per-user rate limits so that the load is never throttled,
#             tsdb.max_series_per_org 1,000,000 (the soak has ~150 series per device),
#             tsdb.chunk_samples 8 (the minimum: every series seals its open chunk within the
#             warm-up, after which the tsdb's memory is sealed bytes it counts exactly; with the
#             default 120 an open chunk grows for 2 hours as a string whose capacity the server
#             does not report, and no 30-minute window could tell a leak from it; docs/soak.md),
#             pollers as shipped (ICMP and SNMP every SOAK_POLL_INTERVAL_S).
#   load      bench/soak_load.py (stdlib Python; its header says what each loop does): one CSV
#             import of the devices, then for SOAK_MINUTES: Telegraf-like line protocol ingest
#             (~320 lines/s of numbers and booleans + ~80 lines/s with string fields, gzip,
#             `Token <api key>`, SOAK_INGEST_HOSTS hosts, ~28 series each), API reads (devices, a
#             device, interfaces, query_range, query, series, events, pollers, groups; SOAK_READ_RPS
#             a second), API writes (group and device create / patch / get / delete, one step every
#             3 s) and login -> me -> refresh -> me -> logout every 5 s with a second user.
# Measured every minute (from outside: /proc, file sizes; and /metrics, /api/v1/pollers): the
# server's VmRSS, VmHWM, heap in use, tsdb chunk bytes in memory, open fds, threads, CPU;
# snmpsimd's CPU (to show it keeps up); netpulse.db, -wal, -shm and the tsdb directory; the
# load's requests and errors; the pollers' runs ok / failed, timeouts, overruns, throttled;
# WARN / ERROR lines of the server log.
# Reported (stdout and bench/out/soak-<time>.txt; beside it the server's log as
# soak-<time>.netpulse.log and every sample as soak-<time>.json): the table per minute, the growth from the end of the warm-up
# (SOAK_WARMUP_MINUTES) to the end, requests per kind with their errors, and a verdict: PASS when
# RSS and the heap in use, each less the tsdb's chunk bytes in memory (which grow by design:
# docs/soak.md), and the open fds grew < SOAK_MAX_GROWTH_PCT (5) %, no request failed (5xx, transport error, any
# 4xx), no poll failed, timed out, overran or was throttled after the warm-up, no ERROR line was
# logged, and the server stopped cleanly on SIGTERM. Exit status 0 on PASS, 1 on FAIL.
# Everything this script starts is stopped by PID at exit (trap).
#
# Env: SOAK_MINUTES (30), SOAK_WARMUP_MINUTES (10: past the first seal of the polled series'
#      chunks, 8 polls), SOAK_DEVICES (1000; 1..2000),
#      SOAK_POLL_INTERVAL_S (60), SOAK_INGEST_HOSTS (200), SOAK_READ_RPS (4),
#      SOAK_MAX_GROWTH_PCT (5), SOAK_SNMPSIM_PROCS (2: snmpsimd processes sharing the addresses),
#      SOAK_SNMPSIM_NICE (0: their nice value, also of their autogroups; below 0 needs root),
#      SOAK_SERVER_ENV ("NETPULSE_X=v ...": more server settings, winning over the soak's, e.g.
#      NETPULSE_TSDB_CHUNK_SAMPLES=120 to soak the shipped chunk size), SOAK_KEEP_DATA=DIR (copy
#      the data dir there at the end),
#      BENCH_QUICK=1 (3 minutes, warm-up 1, unless set).
#      A development run: SOAK_MINUTES=3 SOAK_WARMUP_MINUTES=1 SOAK_DEVICES=100.
set -euo pipefail
export LC_ALL=C

die() {
  echo "bench/soak: error: $*" >&2
  exit 2
}
log() { echo "bench/soak: $*" >&2; }

(($# == 1)) || {
  echo "usage: $0 NETPULSE_BINARY" >&2
  exit 2
}
binary=$(realpath -e "$1" 2>/dev/null) || die "binary '$1' does not exist"
[[ -x "$binary" ]] || die "'$binary' is not executable"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
  minutes=${SOAK_MINUTES:-3}
  warmup=${SOAK_WARMUP_MINUTES:-1}
else
  minutes=${SOAK_MINUTES:-30}
  warmup=${SOAK_WARMUP_MINUTES:-10}
fi
devices=${SOAK_DEVICES:-1000}
interval=${SOAK_POLL_INTERVAL_S:-60}
ingest_hosts=${SOAK_INGEST_HOSTS:-200}
read_rps=${SOAK_READ_RPS:-4}
max_growth=${SOAK_MAX_GROWTH_PCT:-5}
snmpsim_procs=${SOAK_SNMPSIM_PROCS:-2}
snmpsim_nice=${SOAK_SNMPSIM_NICE:-0}
in_range() { [[ "$1" =~ ^[1-9][0-9]*$ ]] && (($1 >= $2 && $1 <= $3)); }
in_range "$minutes" 2 1440 || die "SOAK_MINUTES must be 2..1440, got '$minutes'"
in_range "$warmup" 1 $((minutes - 1)) ||
  die "SOAK_WARMUP_MINUTES must be 1..$((minutes - 1)) (shorter than SOAK_MINUTES), got '$warmup'"
in_range "$devices" 1 2000 || die "SOAK_DEVICES must be 1..2000, got '$devices'"
in_range "$interval" 10 600 || die "SOAK_POLL_INTERVAL_S must be 10..600, got '$interval'"
in_range "$ingest_hosts" 5 5000 || die "SOAK_INGEST_HOSTS must be 5..5000, got '$ingest_hosts'"
if ! [[ "$read_rps" =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
  ! awk -v r="$read_rps" 'BEGIN { exit !(r >= 0.1 && r <= 200) }'; then
  die "SOAK_READ_RPS must be 0.1..200, got '$read_rps'"
fi
in_range "$snmpsim_procs" 1 16 || die "SOAK_SNMPSIM_PROCS must be 1..16, got '$snmpsim_procs'"
((snmpsim_procs <= devices)) || snmpsim_procs=$devices
if ! [[ "$snmpsim_nice" =~ ^-?[0-9]+$ ]] || ((snmpsim_nice < -20 || snmpsim_nice > 19)); then
  die "SOAK_SNMPSIM_NICE must be -20..19, got '$snmpsim_nice'"
fi
((snmpsim_nice >= 0 || EUID == 0)) || die "SOAK_SNMPSIM_NICE below 0 needs root"
[[ "$max_growth" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "SOAK_MAX_GROWTH_PCT must be a number, got '$max_growth'"

for tool in /usr/bin/snmpsimd /usr/bin/snmpget curl python3 ss; do
  command -v "$tool" >/dev/null || die "missing $tool (scripts/bootstrap installs it)"
done
[[ -f /usr/share/snmpsim/variation/numeric.py ]] ||
  die "snmpsim's numeric variation module is missing (Debian package snmpsim)"
build_dir=$(cd "$(dirname "$binary")/.." && pwd)
grep -q "CMAKE_BUILD_TYPE:STRING=Release" "$build_dir/CMakeCache.txt" 2>/dev/null ||
  log "warning: $build_dir is not a Release build"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netpulse-soak.XXXXXX")
chmod 755 "$tmp"
snmpsim_pids=()
netpulse_pid=""
load_pid=""
cleanup() {
  local rc=$?
  set +e
  stop_child "$load_pid" soak_load.py
  stop_child "$netpulse_pid" netpulse
  for pid in "${snmpsim_pids[@]}"; do
    stop_child "$pid" snmpsimd
  done
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck source=scripts/lib/ports.sh
source "$here/../scripts/lib/ports.sh"
# shellcheck source=scripts/lib/children.sh
source "$here/../scripts/lib/children.sh"

free_udp_port() {
  python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
agent_address() { echo "127.0.$((1 + $1 / 250)).$((1 + $1 % 250))"; }

# --- agents: snmpsimd on every soak address ------------------------------------------------------
# SOAK_SNMPSIM_PROCS processes share the addresses (round robin), each with its own index cache.
snmp_port=$(free_udp_port)
# snmpsimd drops to nobody when run as root: its data and cache must be reachable.
mkdir -p "$tmp/snmpsim/data"
chmod 755 "$tmp/snmpsim" "$tmp/snmpsim/data"
install -m 644 "$here/data/soak-switch.snmprec" "$tmp/snmpsim/data/public.snmprec"
for ((p = 0; p < snmpsim_procs; p++)); do
  mkdir -p "$tmp/snmpsim/cache-$p"
  chmod 777 "$tmp/snmpsim/cache-$p"
  for ((i = p; i < devices; i += snmpsim_procs)); do
    echo "--agent-udpv4-endpoint=$(agent_address "$i"):$snmp_port"
  done >"$tmp/snmpsim/endpoints-$p.txt"
  snmpsim_args=(--data-dir="$tmp/snmpsim/data" --cache-dir="$tmp/snmpsim/cache-$p"
    --args-from-file="$tmp/snmpsim/endpoints-$p.txt" --logging-method=null)
  if ((EUID == 0)); then
    snmpsim_args+=(--process-user=nobody --process-group=nogroup)
  fi
  # setsid execs in place (a background job of this script leads no process group): $! is
  # snmpsimd, checked below.
  setsid nice -n "$snmpsim_nice" /usr/bin/snmpsimd "${snmpsim_args[@]}" </dev/null \
    >"$tmp/snmpsim-$p.log" 2>&1 &
  snmpsim_pids+=("$!")
done
for pid in "${snmpsim_pids[@]}"; do
  [[ "$(ps -o sid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]] ||
    die "snmpsimd (pid $pid) did not start in its own session"
  if [[ -w /proc/$pid/autogroup ]] && ((snmpsim_nice != 0)); then
    echo "$snmpsim_nice" >"/proc/$pid/autogroup" || die "could not set the autogroup nice of snmpsimd"
  fi
done
for ((p = 0; p < snmpsim_procs; p++)); do
  last=$(((devices - 1 - p) / snmpsim_procs * snmpsim_procs + p)) # this process's last address
  answered=0
  for _ in $(seq 1 300); do
    kill -0 "${snmpsim_pids[$p]}" 2>/dev/null || break
    if MIBS='' snmpget -v2c -c public -t 0.3 -r 0 -On "$(agent_address "$last"):$snmp_port" \
      1.3.6.1.2.1.1.3.0 >/dev/null 2>&1; then
      answered=1
      break
    fi
    sleep 0.2
  done
  ((answered)) || die "snmpsimd $p did not answer on $(agent_address "$last"): $(tail -5 "$tmp/snmpsim-$p.log")"
done
log "snmpsimd (pids ${snmpsim_pids[*]}) answers on $devices addresses, port $snmp_port"

# --- the server ----------------------------------------------------------------------------------
admin_email=soak@netpulse.test
SOAK_ADMIN_PASSWORD="soak-$RANDOM$RANDOM-$RANDOM$RANDOM"
export SOAK_ADMIN_PASSWORD
port=$(free_port) || die "no free port"
mkdir -p "$tmp/data"
# The settings the soak changes from the shipped defaults (printed in the report).
server_env=(
  NETPULSE_HTTP_LISTEN="127.0.0.1:$port"
  NETPULSE_STORAGE_DATA_DIR="$tmp/data"
  NETPULSE_POLLERS_TRAPS_LISTEN=127.0.0.1:0
  NETPULSE_LOG_ACCESS_LOG=false
  NETPULSE_TSDB_MAX_SERIES_PER_ORG=1000000
  NETPULSE_TSDB_CHUNK_SAMPLES=8
  NETPULSE_HTTP_RATE_LIMIT_PER_IP_RPS=100000.0
  NETPULSE_HTTP_RATE_LIMIT_PER_IP_BURST=100000
  NETPULSE_HTTP_RATE_LIMIT_PER_USER_RPS=100000.0
  NETPULSE_HTTP_RATE_LIMIT_PER_USER_BURST=100000
)
# SOAK_SERVER_ENV: more settings, "NAME=value NAME=value" (e.g. NETPULSE_TSDB_CHUNK_SAMPLES=8).
for kv in ${SOAK_SERVER_ENV:-}; do
  [[ "$kv" =~ ^NETPULSE_[A-Z0-9_]+=.*$ ]] || die "SOAK_SERVER_ENV: '$kv' is not NETPULSE_NAME=value"
  server_env+=("$kv")
done
env "${server_env[@]}" NETPULSE_ADMIN_EMAIL="$admin_email" NETPULSE_ADMIN_PASSWORD="$SOAK_ADMIN_PASSWORD" \
  "$binary" serve </dev/null >"$tmp/netpulse.log" 2>&1 &
netpulse_pid=$!
wait_200 "http://127.0.0.1:$port/health" "$netpulse_pid" netpulse "$tmp/netpulse.log"
log "netpulse (pid $netpulse_pid) serves http://127.0.0.1:$port"

# --- load, sampling and report -------------------------------------------------------------------
stamp=$(date -u +%Y%m%dT%H%M%SZ)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# In the background and waited for, so that INT/TERM reach the trap at once.
python3 "$here/soak_load.py" --port "$port" --server-pid "$netpulse_pid" \
  --snmpsim-pids "$(IFS=,; echo "${snmpsim_pids[*]}")" --data-dir "$tmp/data" --server-log "$tmp/netpulse.log" \
  --admin-email "$admin_email" --devices "$devices" --snmp-port "$snmp_port" \
  --poll-interval "$interval" --minutes "$minutes" --warmup-minutes "$warmup" \
  --ingest-hosts "$ingest_hosts" --read-rps "$read_rps" --max-growth-pct "$max_growth" \
  --report "$tmp/body.txt" --rows-json "$tmp/rows.json" </dev/null &
load_pid=$!
load_rc=0
wait "$load_pid" || load_rc=$?
load_pid=""
((load_rc <= 1)) || die "bench/soak_load.py could not run the soak (exit status $load_rc)"

# Stop the server as systemd would and time its shutdown.
t0=$SECONDS
server_rc=0
if kill -0 "$netpulse_pid" 2>/dev/null; then
  kill -TERM "$netpulse_pid"
  for _ in $(seq 1 150); do
    kill -0 "$netpulse_pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$netpulse_pid" 2>/dev/null; then
    log "netpulse ignored SIGTERM for 30 s: SIGKILL"
    kill -KILL "$netpulse_pid" 2>/dev/null || true
  fi
fi
wait "$netpulse_pid" || server_rc=$?
netpulse_pid=""
stop_secs=$((SECONDS - t0))
if [[ -n "${SOAK_KEEP_DATA:-}" ]]; then
  mkdir -p "$SOAK_KEEP_DATA" && cp -a "$tmp/data/." "$SOAK_KEEP_DATA/" && log "data dir copied to $SOAK_KEEP_DATA"
fi

mkdir -p "$here/out"
report=$tmp/report.txt
{
  echo "bench/soak.sh $started, $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "binary $binary ($("$binary" --version 2>/dev/null | head -n 1 || echo '?'))"
  echo "command: SOAK_MINUTES=$minutes SOAK_WARMUP_MINUTES=$warmup SOAK_DEVICES=$devices" \
    "SOAK_POLL_INTERVAL_S=$interval SOAK_INGEST_HOSTS=$ingest_hosts SOAK_READ_RPS=$read_rps" \
    "SOAK_SNMPSIM_PROCS=$snmpsim_procs SOAK_SNMPSIM_NICE=$snmpsim_nice bench/soak.sh $1"
  echo "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "devices: $devices (snmpsimd v2c, bench/data/soak-switch.snmprec, 8 ports; $snmpsim_procs" \
    "snmpsimd processes at nice $snmpsim_nice), polled every $interval s (ICMP + SNMP)"
  echo "server settings changed from the defaults:"
  printf '  %s\n' "${server_env[@]}" | grep -v -e _LISTEN= -e _DATA_DIR=
  cat "$tmp/body.txt"
  if ((server_rc == 0)); then
    echo "  - the server stopped on SIGTERM in ${stop_secs} s, exit status 0"
  else
    echo "  - FAIL: the server stopped on SIGTERM in ${stop_secs} s with exit status $server_rc"
  fi
} >"$report"
if ((server_rc != 0)) && grep -q '^verdict: PASS' "$report"; then
  sed -i 's/^verdict: PASS/verdict: FAIL/' "$report"
  load_rc=1
fi
cat "$report"
cp "$report" "$here/out/soak-$stamp.txt"
cp "$tmp/netpulse.log" "$here/out/soak-$stamp.netpulse.log"
cp "$tmp/rows.json" "$here/out/soak-$stamp.json"
log "report: bench/out/soak-$stamp.txt (server log: soak-$stamp.netpulse.log, samples: soak-$stamp.json)"
exit "$load_rc"
