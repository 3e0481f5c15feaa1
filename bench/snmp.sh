#!/usr/bin/env bash
# bench/snmp.sh — NetPulse's SNMP engine (pollers::SnmpClient, driven by bench/snmp_bench.cpp)
# beside prometheus-snmp-exporter (Debian), walking the same agents, on this machine, in one run.
#
#   bench/snmp.sh NETPULSE_BINARY
#
# The driver is the `snmp_bench` target of NETPULSE_BINARY's build tree (built here if missing;
# SNMP_BENCH_DRIVER overrides). Agents, all on loopback, started here and stopped by PID:
#   snmpd     Debian's, one process listening on 127.0.0.1:P (the small agent: this machine's
#             few interfaces) and on 1,000 more addresses 127.0.1.1 .. 127.0.4.250 (the scale
#             phase); v2c community `public`.
#   snmpsimd  a generated recording of IF-MIB with BENCH_SNMP_LARGE_IFACES (900) interfaces,
#             every ifTable/ifXTable column (~41 values an interface; ~37,000 in all), counters
#             near their wrap points (the large agent).
# (a) CPU per value. Both clients walk the subtrees of the exporter's if_mib module (sysUpTime,
#     interfaces = 1.3.6.1.2.1.2, ifXTable = 1.3.6.1.2.1.31.1.1), GETBULK max-repetitions 25,
#     one subtree after another. The exporter runs with bench/snmp_exporter.yml generated below
#     (module if_mib as upstream's generator writes it: every ifTable/ifXTable column a metric,
#     ifAlias/ifDescr/ifName as lookup labels), on a free 127.0.0.1 port, scraped with curl
#     `/snmp?target=127.0.0.1:PORT&module=if_mib`; its CPU is utime+stime from /proc/PID/stat
#     before and after the timed scrapes (after one warm-up scrape). NetPulse's is getrusage of
#     the driver around the same number of scrapes (after one warm-up). The agents' CPU is not
#     counted for either. Values = varbinds walked per scrape, as NetPulse's walk returns them
#     (the same subtrees for both; the exporter's sample lines are reported too). Scrapes per
#     run: BENCH_SNMP_SCRAPES (300) small, BENCH_SNMP_LARGE_SCRAPES (3) large; BENCH_RUNS (3)
#     runs; the MEDIAN per figure. Target: NetPulse <= 1/3 of the exporter's CPU per value.
# (b) Scale. The driver polls the 1,000 snmpd addresses every BENCH_SNMP_INTERVAL_MS (60000) for
#     BENCH_SNMP_CYCLES (2) cycles, each poll one walk_columns of interfaces + ifXTable, keeping
#     BENCH_SNMP_IN_FLIGHT (600) walks under way: values/s (over the run and over the busy part
#     of the cycles), CPU % of one core, the share of agent-cycles answered inside their
#     interval, the peak in flight.
# The report goes to stdout and bench/out/snmp-<time>.txt. BENCH_QUICK=1: 1 run, 50 small
# scrapes, 200 large interfaces, 10 s interval.
set -euo pipefail
export LC_ALL=C

(($# == 1)) || {
  echo "usage: $0 NETPULSE_BINARY" >&2
  exit 2
}
binary=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() {
  echo "bench/snmp.sh: $*" >&2
  exit 1
}

quick=${BENCH_QUICK:-0}
runs=${BENCH_RUNS:-3}
small_scrapes=${BENCH_SNMP_SCRAPES:-300}
large_scrapes=${BENCH_SNMP_LARGE_SCRAPES:-3}
large_ifaces=${BENCH_SNMP_LARGE_IFACES:-900}
interval_ms=${BENCH_SNMP_INTERVAL_MS:-60000}
cycles=${BENCH_SNMP_CYCLES:-2}
in_flight=${BENCH_SNMP_IN_FLIGHT:-600}
agents=1000
if [[ "$quick" == 1 ]]; then
  runs=${BENCH_RUNS:-1}
  small_scrapes=${BENCH_SNMP_SCRAPES:-50}
  large_ifaces=${BENCH_SNMP_LARGE_IFACES:-200}
  interval_ms=${BENCH_SNMP_INTERVAL_MS:-10000}
fi
((cycles >= 1 && cycles <= 100)) || die "BENCH_SNMP_CYCLES must be 1..100"

for tool in /usr/sbin/snmpd /usr/bin/snmpsimd /usr/bin/prometheus-snmp-exporter /usr/bin/snmpget \
  curl python3; do
  command -v "$tool" >/dev/null || die "missing $tool (scripts/bootstrap --bench installs it)"
done

build_dir=$(cd "$(dirname "$binary")/.." && pwd)
driver=${SNMP_BENCH_DRIVER:-$build_dir/bench/snmp_bench}
if [[ ! -x "$driver" ]]; then
  cmake --build "$build_dir" --target snmp_bench >/dev/null || die "cannot build snmp_bench"
fi
grep -q "CMAKE_BUILD_TYPE:STRING=Release" "$build_dir/CMakeCache.txt" 2>/dev/null ||
  echo "bench/snmp.sh: warning: $build_dir is not a Release build" >&2

tmp=$(mktemp -d /tmp/netpulse-bench-snmp-XXXXXX)
chmod 755 "$tmp"
started_pids=()
cleanup() {
  for pid in "${started_pids[@]}"; do
    { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { # $1: udp|tcp
  python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
per() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
proc_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
clk_tck=$(getconf CLK_TCK)
wait_answer() { # port community
  for _ in $(seq 1 300); do
    MIBS= snmpget -v2c -c "$2" -t 0.3 -r 0 -On "127.0.0.1:$1" 1.3.6.1.2.1.1.3.0 >/dev/null 2>&1 &&
      return 0
    sleep 0.2
  done
  return 1
}

# --- agents --------------------------------------------------------------------------------------
snmpd_port=$(free_port udp)
# The listening addresses go on the command line: snmpd.conf lines are cut at ~4 KiB, and an
# agentAddress line with 1,001 addresses silently loses most of them.
addresses="udp:127.0.0.1:$snmpd_port"
for ((i = 0; i < agents; i++)); do
  addresses+=",udp:127.0.$((1 + i / 250)).$((1 + i % 250)):$snmpd_port"
done
printf 'rocommunity public 127.0.0.0/8\ndontLogTCPWrappersConnects yes\n' >"$tmp/snmpd.conf"
mkdir -p "$tmp/snmpd"
SNMP_PERSISTENT_DIR=$tmp/snmpd MIBS= /usr/sbin/snmpd -f -C -c "$tmp/snmpd.conf" -Lf "$tmp/snmpd.log" \
  -M /nonexistent -m "" -I -smux -p "$tmp/snmpd.pid" "$addresses" &
snmpd_pid=$!
started_pids+=("$snmpd_pid")
wait_answer "$snmpd_port" public || die "snmpd did not answer: $(tail -5 "$tmp/snmpd.log")"

mkdir -p "$tmp/sim/data" "$tmp/sim/cache"
chmod -R 755 "$tmp/sim"
chmod 777 "$tmp/sim/cache"
# Community = file name: `public` (what the exporter's module sends) and `large`.
python3 - "$large_ifaces" >"$tmp/sim/data/public.snmprec" <<'EOF'
import sys
n = int(sys.argv[1])
# (column, type, value(i)) for ifTable (1.3.6.1.2.1.2.2.1.C) and ifXTable (1.3.6.1.2.1.31.1.1.1.C)
W32, W64 = 2**32, 2**64
if_table = [(1, 2, lambda i: i), (2, 4, lambda i: f"GigabitEthernet0/{i}"), (3, 2, lambda i: 6),
            (4, 2, lambda i: 1500), (5, 66, lambda i: 1000000000),
            (6, "4x", lambda i: f"0050569a{i:04x}"), (7, 2, lambda i: 1), (8, 2, lambda i: 1 + i % 2),
            (9, 67, lambda i: 1000 + i), (10, 65, lambda i: W32 - 1 - i), (11, 65, lambda i: i * 7),
            (12, 65, lambda i: i), (13, 65, lambda i: 0), (14, 65, lambda i: i % 3),
            (15, 65, lambda i: 0), (16, 65, lambda i: (W32 - 1) * (i % 2)),
            (17, 65, lambda i: i * 11), (18, 65, lambda i: i), (19, 65, lambda i: 0),
            (20, 65, lambda i: 0), (21, 66, lambda i: 0), (22, 6, lambda i: "0.0")]
if_x = [(1, 4, lambda i: f"Gi0/{i}")] + [(c, 65, lambda i, c=c: i * c) for c in range(2, 6)] + \
       [(c, 70, lambda i, c=c: W64 - 1 - i * c) for c in range(6, 14)] + \
       [(14, 2, lambda i: 1), (15, 66, lambda i: 1000), (16, 2, lambda i: 2), (17, 2, lambda i: 1),
        (18, 4, lambda i: f"uplink {i}"), (19, 67, lambda i: 0)]
print("1.3.6.1.2.1.1.1.0|4|recorded large router")
print("1.3.6.1.2.1.1.3.0|67|123456")
print(f"1.3.6.1.2.1.2.1.0|2|{n}")
for col, typ, val in if_table:
    for i in range(1, n + 1):
        print(f"1.3.6.1.2.1.2.2.1.{col}.{i}|{typ}|{val(i)}")
for col, typ, val in if_x:
    for i in range(1, n + 1):
        print(f"1.3.6.1.2.1.31.1.1.1.{col}.{i}|{typ}|{val(i)}")
EOF
cp "$tmp/sim/data/public.snmprec" "$tmp/sim/data/large.snmprec"
chmod 644 "$tmp/sim/data/"*.snmprec
sim_port=$(free_port udp)
sim_user=()
[[ $(id -u) == 0 ]] && sim_user=(--process-user=nobody --process-group=nogroup)
/usr/bin/snmpsimd --data-dir="$tmp/sim/data" --cache-dir="$tmp/sim/cache" \
  --agent-udpv4-endpoint="127.0.0.1:$sim_port" --logging-method=null "${sim_user[@]}" \
  >"$tmp/snmpsim.log" 2>&1 &
started_pids+=("$!")
wait_answer "$sim_port" large || die "snmpsimd did not answer: $(tail -5 "$tmp/snmpsim.log")"

# --- the exporter --------------------------------------------------------------------------------
python3 "$here/snmp_exporter_yml.py" >"$tmp/snmp.yml"
mkdir -p "$here/out"
cp "$tmp/snmp.yml" "$here/out/snmp_exporter.yml" # kept beside the report, for reference
exporter_port=$(free_port tcp)
/usr/bin/prometheus-snmp-exporter --config.file="$tmp/snmp.yml" \
  --web.listen-address="127.0.0.1:$exporter_port" >"$tmp/exporter.log" 2>&1 &
exporter_pid=$!
started_pids+=("$exporter_pid")
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$exporter_port/" >/dev/null && break
  sleep 0.1
done
scrape() { # target -> body on stdout
  curl -sf --max-time 300 "http://127.0.0.1:$exporter_port/snmp?target=$1&module=if_mib"
}

# --- (a) CPU per value ---------------------------------------------------------------------------
roots=1.3.6.1.2.1.1.3,1.3.6.1.2.1.2,1.3.6.1.2.1.31.1.1
declare -A figures
raw=""
measure() { # name port community scrapes
  local name=$1 port=$2 community=$3 scrapes=$4 out np_values np_us ex_lines t0 t1 ex_us
  out=$("$driver" walk --port "$port" --community "$community" --roots "$roots" \
    --scrapes "$scrapes" --max-rep 25) || die "snmp_bench walk failed"
  np_values=$(sed -E 's/.*values_per_scrape=([0-9]+).*/\1/' <<<"$out")
  np_us=$(sed -E 's/.*us_per_value=([0-9.]+).*/\1/' <<<"$out")
  [[ "$community" == public ]] || die "the exporter config knows community public only"
  scrape "127.0.0.1:$port" >"$tmp/scrape.txt" || die "exporter scrape failed"
  ex_lines=$(grep -v '^#' "$tmp/scrape.txt" | grep -vc '^snmp_scrape_')
  t0=$(proc_cpu_ticks "$exporter_pid")
  for ((s = 0; s < scrapes; s++)); do scrape "127.0.0.1:$port" >/dev/null || die "scrape failed"; done
  t1=$(proc_cpu_ticks "$exporter_pid")
  ex_us=$(awk -v d=$((t1 - t0)) -v hz="$clk_tck" -v n="$scrapes" -v v="$np_values" \
    'BEGIN { printf "%.3f", d * 1e6 / hz / (n * v) }')
  figures[$name.np]+="$np_us "
  figures[$name.ex]+="$ex_us "
  figures[$name.values]=$np_values
  figures[$name.lines]=$ex_lines
  raw+="run $name: netpulse $out | exporter cpu_ticks=$((t1 - t0)) scrapes=$scrapes"
  raw+=" sample_lines=$ex_lines us_per_value=$ex_us"$'\n'
}

for ((run = 1; run <= runs; run++)); do
  measure small "$snmpd_port" public "$small_scrapes"
  measure large "$sim_port" public "$large_scrapes"
done

# --- (b) scale -----------------------------------------------------------------------------------
scale=$("$driver" scale --agents "$agents" --first 127.0.1.1 --port "$snmpd_port" \
  --community public --roots 1.3.6.1.2.1.2,1.3.6.1.2.1.31.1.1 --interval-ms "$interval_ms" \
  --cycles "$cycles" --in-flight "$in_flight" --timeout-ms 5000) || die "snmp_bench scale failed"
field() { sed -E "s/.*[ ^]$1=([^ ]+).*/\1/" <<<" $scale"; }

# --- report --------------------------------------------------------------------------------------
mkdir -p "$here/out"
report=$tmp/report.txt
{
  echo "bench/snmp.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs; runs=$runs (median)"
  echo
  echo "(a) CPU per walked value (varbinds of sysUpTime + interfaces + ifXTable, GETBULK x25)"
  printf "%-34s %12s %12s %10s %14s\n" agent netpulse_us exporter_us ratio values/scrape
  for name in small large; do
    np=$(tr ' ' '\n' <<<"${figures[$name.np]}" | grep . | median)
    ex=$(tr ' ' '\n' <<<"${figures[$name.ex]}" | grep . | median)
    label="snmpd (this host's interfaces)"
    [[ $name == large ]] && label="snmpsim ($large_ifaces interfaces)"
    printf "%-34s %12.3f %12.3f %10s %14s\n" "$label" "$np" "$ex" "$(per "$np" "$ex")" \
      "${figures[$name.values]}"
  done
  echo "(exporter sample lines per scrape: small ${figures[small.lines]}, large ${figures[large.lines]};"
  echo " ratio = netpulse/exporter; target <= 0.333; agents' own CPU excluded for both)"
  echo
  echo "(b) scale: $agents agent addresses on one snmpd, every $((interval_ms / 1000)) s x $cycles cycles,"
  echo "    window $in_flight walks in flight (walk_columns of interfaces + ifXTable)"
  echo "    peak in flight        $(field peak_in_flight)"
  echo "    values                $(field values) ($(field failed) failed walks; errors $(field errors))"
  echo "    values/s (whole run)  $(field values_per_s)"
  echo "    values/s (busy part)  $(field busy_values_per_s) (busy $(field busy_s) s of $(field wall_s) s)"
  echo "    CPU % of one core     $(field cpu_pct) (cpu $(field cpu_s) s; $(field us_per_value) us/value)"
  echo "    cycles inside interval $(field on_time_share) ($(field on_time) on time, $(field late) late)"
  echo
  echo "raw:"
  echo -n "$raw"
  echo "scale: $scale"
} >"$report"
cat "$report"
cp "$report" "$here/out/snmp-$(date -u +%Y%m%dT%H%M%SZ).txt"
