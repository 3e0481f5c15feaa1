#!/usr/bin/env bash
# bench/poller.sh — the WHOLE poller: the netpulse server polling its inventory (scheduler, ICMP
# cycles, SNMP system group + interface and host tables, rates, labels, interface state, samples
# into its tsdb, events, status) beside prometheus-snmp-exporter scraping the same agents, on this
# machine, in one run. bench/snmp.sh measures the SNMP engine alone; this is the server's cost.
#
#   bench/poller.sh NETPULSE_BINARY
#
# Agents: Debian's snmpd, one process on loopback, listening on a free UDP port P of 127.0.0.1
# and of BENCH_POLLER_DEVICES (1,000) more addresses 127.0.1.1, 127.0.1.2, ... (250 per /24),
# v2c community `public` (this host's interfaces and host tables; all agents answer the same).
# Each run has three phases, one after another, each measured over BENCH_POLLER_CYCLES (2) whole
# poll intervals of BENCH_POLLER_INTERVAL_S (60) seconds after one warm-up interval:
#   both       `netpulse serve` (NETPULSE_BINARY; fresh temp data dir, a free 127.0.0.1 HTTP port,
#              traps on 127.0.0.1:0, no access log, a known first admin, tsdb.max_series_per_org
#              raised to 1,000,000: this host's agent gives ~100 series a device, 1,000 devices
#              sit right at the default 100,000) with the devices created
#              by ONE CSV import (POST /api/v1/devices/import: name, address, snmp_version 2c,
#              snmp_community public, snmp_port P, poll_interval_s): ICMP and SNMP on, as shipped.
#   snmp-only  the same with NETPULSE_POLLERS_ICMP_MODE=off: the server's cost of SNMP alone.
#              ICMP's share of the server's CPU = 1 - cpu(snmp-only) / cpu(both).
#   exporter   prometheus-snmp-exporter (Debian) with module if_mib (bench/snmp_exporter_yml.py,
#              the same as bench/snmp.sh: sysUpTime + interfaces + ifXTable), scraped for each of
#              the agent addresses once per interval, spread over it as Prometheus spreads its
#              targets, by bench/poller_scrape.py (32 keep-alive connections). The exporter only
#              walks and renders; Prometheus's own ingest and storage are NOT counted, whereas
#              netpulse's figure includes its tsdb, so the comparison flatters the peer.
# Measured over the measured cycles, from outside the process:
#   CPU        utime+stime of the server (all its threads: loop, db writer, workers) or of the
#              exporter, from /proc/PID/stat, before and after; the agents' CPU is not counted.
#   values     SNMP varbinds polled. netpulse: runs_ok of kind snmp in /api/v1/pollers (delta) x
#              the values of one run: the mean of `snmp_values` of POST /api/v1/devices/{id}/poll
#              on the first device just before and just after the measured cycles (every agent is
#              the same snmpd, whose host tables change a little over time). Exporter: the sum
#              of its own snmp_scrape_pdus_returned over the scrapes. CPU us per value = CPU /
#              values. Also: samples stored (netpulse_tsdb_samples_appended_total delta of
#              /metrics) and CPU us per sample.
#   health     per kind: runs ok / failed, timeouts, overruns and throttled checks (deltas of
#              server.kinds in /api/v1/pollers, read as the system admin), share of runs ok,
#              runs against the expected devices x cycles.
#              Exporter: scrapes ok / failed / started more than 1 s late.
#   memory     VmRSS (and VmHWM) of the process at the end; tsdb series.
# Reported: the MEDIAN per figure over BENCH_RUNS (3) runs, and netpulse/exporter per value
# (target: netpulse <= 1/3 of the exporter's CPU per value). The report goes to stdout and
# bench/out/poller-<time>.txt, with every run's raw figures. Any failed phase: exit 1.
#
# Env: BENCH_RUNS (3), BENCH_POLLER_DEVICES (1000; 1..2000), BENCH_POLLER_INTERVAL_S (60),
#      BENCH_POLLER_CYCLES (2; 1..30), BENCH_POLLER_PERF=1 (`perf record --call-graph dwarf` of the server
#      during the measured cycles of the first run's `both` phase; `perf report` head in
#      bench/out/poller-perf-<time>.txt; perf's overhead inflates that phase's CPU figures;
#      BENCH_POLLER_PERF_DATA=FILE keeps perf.data there for `perf report -G`),
#      BENCH_POLLER_PHASES ("both snmp-only exporter": a subset for profiling or development),
#      BENCH_QUICK=1 (1 run, 10 s interval, 2 cycles).
#      About (1 + cycles) x interval x 3 phases per run: 27 min with the defaults, 2 min quick.
set -euo pipefail
export LC_ALL=C

die() {
  echo "bench/poller: error: $*" >&2
  exit 1
}
log() { echo "bench/poller: $*" >&2; }

(($# == 1)) || {
  echo "usage: $0 NETPULSE_BINARY" >&2
  exit 2
}
binary=$(realpath -e "$1" 2>/dev/null) || die "binary '$1' does not exist"
[[ -x "$binary" ]] || die "'$binary' is not executable"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

quick=${BENCH_QUICK:-0}
runs=${BENCH_RUNS:-3}
devices=${BENCH_POLLER_DEVICES:-1000}
interval=${BENCH_POLLER_INTERVAL_S:-60}
cycles=${BENCH_POLLER_CYCLES:-2}
phases=${BENCH_POLLER_PHASES:-both snmp-only exporter}
if [[ "$quick" == 1 ]]; then
  runs=${BENCH_RUNS:-1}
  interval=${BENCH_POLLER_INTERVAL_S:-10}
fi
[[ "$runs" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9, got '$runs'"
in_range() { [[ "$1" =~ ^[1-9][0-9]*$ ]] && (($1 >= $2 && $1 <= $3)); }
in_range "$devices" 1 2000 || die "BENCH_POLLER_DEVICES must be 1..2000, got '$devices'"
in_range "$interval" 5 600 || die "BENCH_POLLER_INTERVAL_S must be 5..600, got '$interval'"
in_range "$cycles" 1 30 || die "BENCH_POLLER_CYCLES must be 1..30, got '$cycles'"
for phase in $phases; do
  [[ "$phase" =~ ^(both|snmp-only|exporter)$ ]] ||
    die "BENCH_POLLER_PHASES: unknown phase '$phase' (both, snmp-only, exporter)"
done

for tool in /usr/sbin/snmpd /usr/bin/prometheus-snmp-exporter /usr/bin/snmpget curl python3 ss; do
  command -v "$tool" >/dev/null || die "missing $tool (scripts/bootstrap --bench installs it)"
done
if [[ "${BENCH_POLLER_PERF:-0}" == 1 ]]; then
  command -v perf >/dev/null || die "BENCH_POLLER_PERF=1 needs perf"
fi
build_dir=$(cd "$(dirname "$binary")/.." && pwd)
grep -q "CMAKE_BUILD_TYPE:STRING=Release" "$build_dir/CMakeCache.txt" 2>/dev/null ||
  log "warning: $build_dir is not a Release build"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netpulse-bench-poller.XXXXXX")
chmod 755 "$tmp"
snmpd_pid=""
exporter_pid=""
netpulse_pid=""
perf_pid=""
cleanup() {
  local rc=$?
  set +e
  [[ -n "$perf_pid" ]] && kill -INT "$perf_pid" 2>/dev/null && wait "$perf_pid" 2>/dev/null
  stop_child "$netpulse_pid" netpulse
  stop_child "$exporter_pid" prometheus-snmp-exporter
  stop_child "$snmpd_pid" snmpd
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
median() { { grep . || true; } | sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
clk_tck=$(getconf CLK_TCK)
now() { date +%s.%N; }
# sleep_until EPOCH: sleeps until that time (returns at once if it has passed).
sleep_until() {
  local left
  left=$(awk -v t="$1" -v n="$(now)" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')
  sleep "$left"
}
trim_perf() { # perf report --stdio without its padding, blank lines and IPC columns
  sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/[[:space:]]+$//' | grep -v '^#* *\.*$' |
    cut -c1-240
}
field() { # field NAME "k=v k=v ..." -> v
  tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2; exit}'
}

# --- agents --------------------------------------------------------------------------------------
snmpd_port=$(free_udp_port)
agent_address() { echo "127.0.$((1 + $1 / 250)).$((1 + $1 % 250))"; }
# The addresses go on the command line: snmpd.conf lines are cut at ~4 KiB (see bench/snmp.sh).
addresses="udp:127.0.0.1:$snmpd_port"
for ((i = 0; i < devices; i++)); do
  addresses+=",udp:$(agent_address "$i"):$snmpd_port"
done
printf 'rocommunity public 127.0.0.0/8\ndontLogTCPWrappersConnects yes\n' >"$tmp/snmpd.conf"
mkdir -p "$tmp/snmpd"
SNMP_PERSISTENT_DIR=$tmp/snmpd MIBS='' /usr/sbin/snmpd -f -C -c "$tmp/snmpd.conf" \
  -Lf "$tmp/snmpd.log" -M /nonexistent -m "" -I -smux -p "$tmp/snmpd.pid" "$addresses" &
snmpd_pid=$!
answered=0
for _ in $(seq 1 150); do
  kill -0 "$snmpd_pid" 2>/dev/null || break
  if MIBS='' snmpget -v2c -c public -t 0.3 -r 0 -On "$(agent_address $((devices - 1))):$snmpd_port" \
    1.3.6.1.2.1.1.3.0 >/dev/null 2>&1; then
    answered=1
    break
  fi
  sleep 0.2
done
((answered)) || die "snmpd did not answer on its last address: $(tail -5 "$tmp/snmpd.log")"

# --- the devices (CSV) and the exporter's targets ------------------------------------------------
{
  echo "name,address,type,snmp_version,snmp_community,snmp_port,poll_interval_s"
  for ((i = 0; i < devices; i++)); do
    printf 'bench-%04d,%s,router,2c,public,%s,%s\n' "$i" "$(agent_address "$i")" "$snmpd_port" \
      "$interval"
  done
} >"$tmp/devices.csv"
for ((i = 0; i < devices; i++)); do
  echo "$(agent_address "$i"):$snmpd_port"
done >"$tmp/targets.txt"

# --- netpulse phases -----------------------------------------------------------------------------
admin_email=bench@netpulse.test
admin_password="bench-$RANDOM$RANDOM-$RANDOM$RANDOM"
perf_report=""

# np_snapshot DIR NAME: the server's CPU, time, /api/v1/pollers and /metrics into DIR/NAME.*
np_snapshot() {
  local dir=$1 name=$2
  cpu_ticks "$netpulse_pid" >"$dir/$name.ticks"
  now >"$dir/$name.time"
  curl -sf -m 10 -H "Authorization: Bearer $token" "$np_url/api/v1/pollers" >"$dir/$name.pollers" ||
    die "GET /api/v1/pollers failed"
  curl -sf -m 10 "$np_url/metrics" >"$dir/$name.metrics" || die "GET /metrics failed"
}

# np_poll_values DIR: `snmp_values` of a poll of the first device now (its SNMP must succeed).
# 409 while a scheduled run of the device is under way: tried again.
np_poll_values() {
  local dir=$1 code
  for _ in $(seq 1 40); do
    code=$(curl -s -m 60 -o "$dir/poll.json" -w '%{http_code}' -X POST \
      -H "Authorization: Bearer $token" "$np_url/api/v1/devices/$first_id/poll")
    [[ "$code" == 409 ]] || break
    sleep 0.25
  done
  [[ "$code" == 200 ]] || die "POST /api/v1/devices/$first_id/poll answered $code: $(cat "$dir/poll.json")"
  python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))["data"]
o = d["snmp_outcome"]
sys.exit("the SNMP poll failed: %s" % o) if not (o and o["ok"] and d["snmp_values"] > 0) else None
print(d["snmp_values"])' "$dir/poll.json" || die "poll answer: $(cat "$dir/poll.json")"
}

# np_phase PHASE ICMP_MODE RUN: one netpulse phase; its figures as one k=v line in $result.
# Runs in the main shell (not in $(...)), so that the EXIT trap knows the server's PID.
np_phase() {
  local phase=$1 icmp_mode=$2 run=$3 dir port answer code values_before values_after t_ready
  dir=$tmp/$phase-$run
  mkdir -p "$dir/data"
  port=$(free_port) || die "no free port"
  env NETPULSE_HTTP_LISTEN="127.0.0.1:$port" \
    NETPULSE_STORAGE_DATA_DIR="$dir/data" \
    NETPULSE_POLLERS_TRAPS_LISTEN=127.0.0.1:0 \
    NETPULSE_POLLERS_ICMP_MODE="$icmp_mode" \
    NETPULSE_LOG_ACCESS_LOG=false \
    NETPULSE_TSDB_MAX_SERIES_PER_ORG=1000000 \
    NETPULSE_AUTH_ACCESS_TOKEN_TTL_S=7200 \
    NETPULSE_HTTP_RATE_LIMIT_PER_IP_RPS=100000.0 \
    NETPULSE_HTTP_RATE_LIMIT_PER_IP_BURST=100000 \
    NETPULSE_HTTP_RATE_LIMIT_PER_USER_RPS=100000.0 \
    NETPULSE_HTTP_RATE_LIMIT_PER_USER_BURST=100000 \
    NETPULSE_ADMIN_EMAIL="$admin_email" \
    NETPULSE_ADMIN_PASSWORD="$admin_password" \
    "$binary" serve </dev/null >"$dir/netpulse.log" 2>&1 &
  netpulse_pid=$!
  np_url="http://127.0.0.1:$port"
  wait_200 "$np_url/health" "$netpulse_pid" netpulse "$dir/netpulse.log"
  answer=$(curl -sf -m 30 "$np_url/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}") || die "login failed"
  token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])' \
    <<<"$answer") || die "no access_token in the login answer: $answer"

  code=$(curl -s -m 120 -o "$dir/import.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
    -H 'Content-Type: text/csv' --data-binary "@$tmp/devices.csv" "$np_url/api/v1/devices/import")
  [[ "$code" == 201 ]] || die "device import answered $code: $(head -c 600 "$dir/import.json")"
  first_id=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))["data"]
assert d["created"] == int(sys.argv[2]), d["created"]
print(min(x["id"] for x in d["devices"]))' "$dir/import.json" "$devices") ||
    die "the import did not create $devices devices"
  t_ready=$(now)

  # Warm-up: every check runs once within an interval of the plan (phases spread over it).
  sleep_until "$(awk -v t="$t_ready" -v i="$interval" 'BEGIN { printf "%.3f", t + i + 1 }')"
  [[ "$phase" == exporter ]] || values_before=$(np_poll_values "$dir")
  np_snapshot "$dir" s0
  if [[ "$phase" == both && "$run" == 1 && "${BENCH_POLLER_PERF:-0}" == 1 ]]; then
    perf record -F 1999 --call-graph dwarf,8192 -o "$tmp/perf.data" -p "$netpulse_pid" \
      >"$tmp/perf.log" 2>&1 &
    perf_pid=$!
  fi
  sleep_until "$(awk -v t="$(cat "$dir/s0.time")" -v i="$interval" -v c="$cycles" \
    'BEGIN { printf "%.3f", t + i * c }')"
  np_snapshot "$dir" s1
  if [[ -n "$perf_pid" ]]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf_pid=""
    [[ -n "${BENCH_POLLER_PERF_DATA:-}" ]] && cp "$tmp/perf.data" "$BENCH_POLLER_PERF_DATA"
    perf_report=$(
      echo "# self time by symbol"
      perf report -i "$tmp/perf.data" --no-children --percent-limit 0.5 --stdio -g none \
        --sort dso,symbol 2>/dev/null | trim_perf | head -n 80
      echo "# inclusive time (children) by symbol"
      perf report -i "$tmp/perf.data" --children --percent-limit 2 --stdio -g none \
        --sort symbol 2>/dev/null | trim_perf | head -n 150
    ) || true
  fi
  local rss hwm
  rss=$(status_kb "$netpulse_pid" VmRSS)
  hwm=$(status_kb "$netpulse_pid" VmHWM)
  values_after=$(np_poll_values "$dir")
  stop_child "$netpulse_pid" netpulse
  netpulse_pid=""
  python3 - "$dir" "$phase" "$clk_tck" "$values_before" "$values_after" "$rss" "$hwm" "$devices" \
    "$cycles" \
    >"$result" <<'EOF'
import json, sys
d, phase, hz, v0, v1, rss, hwm, devices, cycles = sys.argv[1:10]
hz, devices, cycles = int(hz), int(devices), int(cycles)
vpr = (int(v0) + int(v1)) / 2
def load(n):
    ticks = int(open(f"{d}/{n}.ticks").read())
    t = float(open(f"{d}/{n}.time").read())
    kinds = json.load(open(f"{d}/{n}.pollers"))["data"]["server"]["kinds"]
    m = {}
    for line in open(f"{d}/{n}.metrics"):
        if line.startswith("#") or not line.strip():
            continue
        name = line.split("{")[0].split()[0]
        m[name] = m.get(name, 0.0) + float(line.split()[-1])
    return ticks, t, kinds, m
t0, w0, k0, m0 = load("s0")
t1, w1, k1, m1 = load("s1")
cpu = (t1 - t0) / hz
wall = w1 - w0
out = {"phase": phase, "cpu_s": f"{cpu:.2f}", "wall_s": f"{wall:.1f}",
       "cpu_pct": f"{100 * cpu / wall:.2f}"}
for kind in ("icmp", "snmp"):
    for f in ("runs_ok", "runs_failed", "timeouts", "overruns", "throttled"):
        out[f"{kind}_{f}"] = k1[kind][f] - k0[kind][f]
    runs = out[f"{kind}_runs_ok"] + out[f"{kind}_runs_failed"]
    out[f"{kind}_ok_share"] = f"{out[f'{kind}_runs_ok'] / runs:.4f}" if runs else "-"
    out[f"{kind}_checks"] = k1[kind]["checks"]
values = out["snmp_runs_ok"] * vpr
samples = m1.get("netpulse_tsdb_samples_appended_total", 0) - m0.get(
    "netpulse_tsdb_samples_appended_total", 0)
out.update({"values_per_run": f"{vpr:.1f}", "values_before": v0, "values_after": v1,
            "values": int(values), "samples": int(samples),
            "us_per_value": f"{cpu * 1e6 / values:.3f}" if values else "-",
            "us_per_sample": f"{cpu * 1e6 / samples:.3f}" if samples else "-",
            "expected_runs": devices * cycles,
            "series": int(m1.get("netpulse_tsdb_series", 0)),
            "refused": int(m1.get("netpulse_tsdb_refused_samples_total", 0) -
                           m0.get("netpulse_tsdb_refused_samples_total", 0)),
            "rss_mb": f"{int(rss) / 1024:.1f}", "hwm_mb": f"{int(hwm) / 1024:.1f}"})
print(" ".join(f"{k}={v}" for k, v in out.items()))
EOF
}

# --- the exporter --------------------------------------------------------------------------------
python3 "$here/snmp_exporter_yml.py" >"$tmp/snmp.yml"
exporter_port=$(free_port) || die "no free port"
/usr/bin/prometheus-snmp-exporter --config.file="$tmp/snmp.yml" \
  --web.listen-address="127.0.0.1:$exporter_port" >"$tmp/exporter.log" 2>&1 &
exporter_pid=$!
wait_200 "http://127.0.0.1:$exporter_port/" "$exporter_pid" prometheus-snmp-exporter \
  "$tmp/exporter.log"

ex_phase() { # RUN: the figures as one k=v line in $result
  local out t0 t1 w0 w1 rss hwm
  python3 "$here/poller_scrape.py" --port "$exporter_port" --targets "$tmp/targets.txt" \
    --interval "$interval" --cycles 1 >/dev/null || die "exporter warm-up scrapes failed"
  t0=$(cpu_ticks "$exporter_pid")
  w0=$(now)
  out=$(python3 "$here/poller_scrape.py" --port "$exporter_port" --targets "$tmp/targets.txt" \
    --interval "$interval" --cycles "$cycles") || die "exporter scrapes failed"
  t1=$(cpu_ticks "$exporter_pid")
  w1=$(now)
  rss=$(status_kb "$exporter_pid" VmRSS)
  hwm=$(status_kb "$exporter_pid" VmHWM)
  awk -v out="$out" -v d=$((t1 - t0)) -v hz="$clk_tck" -v w0="$w0" -v w1="$w1" -v rss="$rss" \
    -v hwm="$hwm" -v expected=$((devices * cycles)) 'BEGIN {
    n = split(out, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); f[p[1]] = p[2] }
    cpu = d / hz; wall = w1 - w0
    printf "phase=exporter cpu_s=%.2f wall_s=%.1f cpu_pct=%.2f scrapes=%d ok=%d failed=%d late=%d",
      cpu, wall, 100 * cpu / wall, f["scrapes"], f["ok"], f["failed"], f["late"]
    printf " ok_share=%.4f expected_runs=%d values=%d samples=%d", f["ok"] / f["scrapes"], expected,
      f["pdus"], f["samples"]
    printf " values_per_run=%.0f us_per_value=%s us_per_sample=%s rss_mb=%.1f hwm_mb=%.1f\n",
      f["ok"] ? f["pdus"] / f["ok"] : 0, f["pdus"] ? sprintf("%.3f", cpu * 1e6 / f["pdus"]) : "-",
      f["samples"] ? sprintf("%.3f", cpu * 1e6 / f["samples"]) : "-", rss / 1024, hwm / 1024 }' \
    >"$result"
}

# --- runs ----------------------------------------------------------------------------------------
raw=()
result=$tmp/result.txt
per_phase_minutes=$(((interval * (cycles + 1) + 30) / 60 + 1))
log "$runs run(s) x phases ($phases), each ~$per_phase_minutes min: $devices devices every $interval s," \
  "warm-up 1 + $cycles measured cycles"
for ((run = 1; run <= runs; run++)); do
  for phase in $phases; do
    log "run $run/$runs: $phase"
    : >"$result"
    case "$phase" in
    both) np_phase both auto "$run" ;;
    snmp-only) np_phase snmp-only off "$run" ;;
    exporter) ex_phase "$run" ;;
    esac
    line=$(cat "$result")
    [[ -n "$line" ]] || die "phase $phase of run $run produced no figures"
    raw+=("run=$run $line")
    log "  $line"
  done
done

# --- report --------------------------------------------------------------------------------------
# med PHASE FIELD: median over the runs of FIELD of PHASE ("-" when no run has it).
med() {
  local r v values=""
  for r in "${raw[@]}"; do
    [[ "$(field phase "$r")" == "$1" ]] || continue
    v=$(field "$2" "$r")
    [[ "$v" =~ ^[0-9.]+$ ]] && values+="$v"$'\n'
  done
  if [[ -n "$values" ]]; then median <<<"$values"; else echo "-"; fi
}
icmp_shares=""
for ((run = 1; run <= runs; run++)); do
  both_cpu="" snmp_cpu=""
  for r in "${raw[@]}"; do
    [[ "$(field run "$r")" == "$run" ]] || continue
    case "$(field phase "$r")" in
    both) both_cpu=$(field cpu_s "$r") ;;
    snmp-only) snmp_cpu=$(field cpu_s "$r") ;;
    esac
  done
  icmp_shares+=$(awk -v b="$both_cpu" -v s="$snmp_cpu" 'BEGIN { if (b > 0) printf "%.4f", 1 - s / b }')$'\n'
done
icmp_share=$(median <<<"$icmp_shares")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.3f", a / b; else print "-" }'; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$here/out"
report=$tmp/report.txt
{
  echo "bench/poller.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs; runs=$runs (median)"
  echo "$devices devices (snmpd v2c on loopback addresses), poll interval ${interval} s,"
  echo "1 warm-up + $cycles measured cycles per phase; binary $binary"
  echo
  printf "%-26s %12s %12s %12s\n" "" "netpulse" "netpulse" "exporter"
  printf "%-26s %12s %12s %12s\n" "" "ICMP+SNMP" "SNMP only" "if_mib"
  row() { # label field [format]
    printf "%-26s %12s %12s %12s\n" "$1" "$(med both "$2")" "$(med snmp-only "$2")" \
      "$(med exporter "$2")"
  }
  row "CPU s (measured cycles)" cpu_s
  row "CPU % of one core" cpu_pct
  row "SNMP values / device-run" values_per_run
  row "SNMP values polled" values
  row "CPU us / SNMP value" us_per_value
  row "samples stored" samples
  row "CPU us / sample" us_per_sample
  row "RSS MiB at the end" rss_mb
  row "peak RSS MiB" hwm_mb
  echo
  echo "ratio netpulse / exporter, CPU per SNMP value (target <= 0.333):"
  echo "  whole server, ICMP+SNMP  $(ratio "$(med both us_per_value)" "$(med exporter us_per_value)")"
  echo "  whole server, SNMP only  $(ratio "$(med snmp-only us_per_value)" "$(med exporter us_per_value)")"
  echo "ICMP's share of the server's CPU (1 - snmp-only/both): ${icmp_share:--}"
  echo
  echo "health over the measured cycles (median; expected runs = devices x cycles = $((devices * cycles))):"
  for phase in both snmp-only; do
    printf "  %-9s snmp: ok %s failed %s (ok share %s) timeouts %s overruns %s throttled %s\n" \
      "$phase" "$(med "$phase" snmp_runs_ok)" "$(med "$phase" snmp_runs_failed)" \
      "$(med "$phase" snmp_ok_share)" "$(med "$phase" snmp_timeouts)" \
      "$(med "$phase" snmp_overruns)" "$(med "$phase" snmp_throttled)"
    [[ "$phase" == both ]] &&
      printf "  %-9s icmp: ok %s failed %s (ok share %s) timeouts %s overruns %s throttled %s\n" \
        "" "$(med both icmp_runs_ok)" "$(med both icmp_runs_failed)" "$(med both icmp_ok_share)" \
        "$(med both icmp_timeouts)" "$(med both icmp_overruns)" "$(med both icmp_throttled)"
  done
  printf "  %-9s scrapes ok %s failed %s (ok share %s), started >1 s late %s\n" exporter \
    "$(med exporter ok)" "$(med exporter failed)" "$(med exporter ok_share)" "$(med exporter late)"
  echo "  tsdb series at the end: both $(med both series), snmp-only $(med snmp-only series);" \
    "samples refused: $(med both refused) / $(med snmp-only refused)"
  echo
  echo "Values: netpulse = SNMP runs ok x one run's varbinds (system group, ifTable/ifXTable"
  echo "columns, host tables); exporter = its snmp_scrape_pdus_returned (sysUpTime, interfaces,"
  echo "ifXTable). netpulse's CPU includes its tsdb, statuses and events; the exporter's excludes"
  echo "Prometheus. Agents' CPU excluded for both."
  echo
  echo "raw:"
  printf '%s\n' "${raw[@]}"
} >"$report"
cat "$report"
cp "$report" "$here/out/poller-$stamp.txt"
if [[ -n "$perf_report" ]]; then
  printf '%s\n' "$perf_report" >"$here/out/poller-perf-$stamp.txt"
  echo "perf report (run 1, phase both): $here/out/poller-perf-$stamp.txt"
fi

# Figures are invalid if a phase lost most of its runs.
for r in "${raw[@]}"; do
  for key in ok_share snmp_ok_share icmp_ok_share; do
    share=$(field "$key" "$r")
    [[ -z "$share" || ("$key" == icmp_ok_share && "$(field phase "$r")" != both) ]] && continue
    awk -v s="$share" 'BEGIN { exit !(s != "-" && s + 0 >= 0.9) }' ||
      die "$(field phase "$r") of run $(field run "$r"): $key $share (< 0.9)"
  done
done
