#!/usr/bin/env bash
# bench/icmp.sh — NetPulse's ICMP echo engine beside fping, on this machine, on the same targets,
# in one run. Loopback only: the targets are 127.1.Y.Z (Z 1..250), answered by this kernel.
#
#   bench/icmp.sh NETPULSE_BINARY        (as root: raw ICMP sockets; fping -i 0 needs root too)
#
# The engine is driven by bench/icmp_bench.cpp (target icmp_bench of the build that made
# NETPULSE_BINARY, i.e. BUILD/src/netpulse -> BUILD/bench/icmp_bench; built here if missing).
#   burst      one echo to each of the N targets, as fast as each tool goes: `icmp_bench burst`
#              (all N handed to the engine at once, timeout 1 s) and `fping -c1 -i 0 -q -f FILE`
#              (its default 500 ms timeout). echoes/s = replies / wall time of the whole process
#              (start to exit, measured here the same way for both), replies counted from each
#              tool's own output. BENCH_RUNS runs alternating the two; the median of each figure.
#   sustained  each of the N targets pinged once a second for BENCH_ICMP_SECONDS:
#              `icmp_bench sustained` (100 slices of N/100 echoes a second, timeout 1 s): loss %
#              and CPU % of one core (its getrusage, user + system, over the run's wall time).
#              fping in the equivalent mode, `fping -c S -p 1000 -q -f FILE` (every target every
#              1,000 ms, S rounds; its default -i of 10 ms between any two pings caps it at 100
#              echoes/s) and again with `-i 0`, each stopped with SIGINT after S+30 s if not done
#              (fping then prints its summary): exit status, loss over its summary lines (of
#              targets x S) and CPU (/usr/bin/time) are reported for what they are.
# Note: loopback echo replies are produced by the kernel in softirq context, partly accounted
# to the sending process's system time; that is included in both tools' CPU.
# The table also goes to bench/out/icmp-<time>.txt with every run's raw figures.
#
# Env: BENCH_RUNS (3), BENCH_ICMP_TARGETS (10000; 100..60000), BENCH_ICMP_SECONDS (60),
#      BENCH_QUICK=1 (1 run, 10 s sustained, unless set otherwise),
#      BENCH_ICMP_SKIP_FPING_SUSTAINED=1 (skip fping's sustained run).
set -euo pipefail
export LC_ALL=C

quick=${BENCH_QUICK:-0}
if [[ "$quick" == 1 ]]; then
  runs=${BENCH_RUNS:-1}
  seconds=${BENCH_ICMP_SECONDS:-10}
else
  runs=${BENCH_RUNS:-3}
  seconds=${BENCH_ICMP_SECONDS:-60}
fi
targets=${BENCH_ICMP_TARGETS:-10000}
skip_fping_sustained=${BENCH_ICMP_SKIP_FPING_SUSTAINED:-0}

die() {
  echo "bench/icmp: error: $*" >&2
  exit 1
}
log() { echo "bench/icmp: $*" >&2; }

(($# == 1)) || {
  echo "usage: $0 NETPULSE_BINARY" >&2
  exit 2
}
[[ "$quick" == 0 || "$quick" == 1 ]] || die "BENCH_QUICK must be 0 or 1, got '$quick'"
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || die "BENCH_RUNS must be 1..99, got '$runs'"
[[ "$seconds" =~ ^[1-9][0-9]{0,3}$ ]] || die "BENCH_ICMP_SECONDS must be 1..9999, got '$seconds'"
if ! [[ "$targets" =~ ^[1-9][0-9]{2,4}$ ]] || ((targets > 60000)); then
  die "BENCH_ICMP_TARGETS must be 100..60000, got '$targets'"
fi
((EUID == 0)) || die "run as root (raw ICMP sockets; fping -i 0)"
command -v fping >/dev/null || die "fping not found: run scripts/bootstrap --bench"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (Debian package 'time')"

binary=$(realpath -e "$1" 2>/dev/null) || die "binary '$1' does not exist"
build_dir=$(dirname "$(dirname "$binary")")
driver=$build_dir/bench/icmp_bench
if [[ -f "$build_dir/CMakeCache.txt" ]]; then
  log "building icmp_bench in $build_dir"
  cmake --build "$build_dir" --target icmp_bench >/dev/null || die "could not build icmp_bench"
fi
[[ -x "$driver" ]] || die "no driver at $driver (configure $build_dir with NETPULSE_BUILD_BENCH=ON)"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netpulse-bench-icmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The targets: 127.1.0.1 .. 127.1.0.250, 127.1.1.1 .., as many as asked.
awk -v n="$targets" 'BEGIN { for (i = 0; i < n; i++) printf "127.%d.%d.%d\n", 1 + int(i / 62500), int(i / 250) % 250, i % 250 + 1 }' >"$tmp/targets.txt"

field() { awk -v k="$1" '$1 == k { print $2; found = 1 } END { exit !found }' "$2"; }
# median VALUES...: the middle value (mean of the two middle ones for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# fping_replies FILE: the sum of rcv over fping's "host : xmt/rcv/%loss = X/Y/Z%" summary lines.
fping_replies() { awk -F'[/ =,]+' '/xmt\/rcv\/%loss/ { for (i = 1; i <= NF; i++) if ($i == "%loss") { s += $(i + 2) } } END { print s + 0 }' "$1"; }
fping_sent() { awk -F'[/ =,]+' '/xmt\/rcv\/%loss/ { for (i = 1; i <= NF; i++) if ($i == "%loss") { s += $(i + 1) } } END { print s + 0 }' "$1"; }

raw=$tmp/raw.txt
: >"$raw"
np_rate=() np_replies=() fping_burst_rate=() fping_burst_replies=() np_inner=()
for ((run = 1; run <= runs; run++)); do
  log "burst run $run/$runs: netpulse"
  start=$EPOCHREALTIME
  timeout 60 "$driver" burst "$tmp/targets.txt" 1000 >"$tmp/np-burst.txt" || die "icmp_bench burst failed"
  end=$EPOCHREALTIME
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f", b - a }')
  replies=$(field replies "$tmp/np-burst.txt")
  np_replies+=("$replies")
  np_rate+=("$(awk -v r="$replies" -v w="$wall" 'BEGIN { printf "%.1f", r / w }')")
  np_inner+=("$(field echoes_per_s "$tmp/np-burst.txt")")
  echo "run $run netpulse burst: wall ${wall}s replies $replies; driver: $(paste -sd' ' "$tmp/np-burst.txt")" >>"$raw"

  log "burst run $run/$runs: fping"
  start=$EPOCHREALTIME
  rc=0
  timeout 60 fping -c1 -i 0 -q -f "$tmp/targets.txt" >"$tmp/fp-burst.txt" 2>&1 || rc=$?
  end=$EPOCHREALTIME
  ((rc <= 1)) || die "fping burst exited with status $rc: $(tail -n 3 "$tmp/fp-burst.txt")"
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f", b - a }')
  replies=$(fping_replies "$tmp/fp-burst.txt")
  fping_burst_replies+=("$replies")
  fping_burst_rate+=("$(awk -v r="$replies" -v w="$wall" 'BEGIN { printf "%.1f", r / w }')")
  echo "run $run fping burst: wall ${wall}s replies $replies exit $rc" >>"$raw"
done

log "sustained: netpulse, $targets targets every second for ${seconds}s"
timeout $((seconds + 60)) "$driver" sustained "$tmp/targets.txt" "$seconds" 1000 >"$tmp/np-sus.txt" ||
  die "icmp_bench sustained failed"
echo "netpulse sustained: $(paste -sd' ' "$tmp/np-sus.txt")" >>"$raw"

# fping_sustained NAME ARGS...: runs `fping -c $seconds -p 1000 ARGS -q -f targets`, bounded by
# `timeout -s INT` (fping prints its summary on SIGINT); sets fp_status, fp_sent, fp_replies,
# fp_loss, fp_cpu and appends the details to the raw figures.
fping_sustained() {
  local name=$1 rc=0 start end wall expected
  shift
  log "sustained: fping -c $seconds -p 1000 $* on $targets targets (bounded: SIGINT after $((seconds + 30))s)"
  start=$EPOCHREALTIME
  /usr/bin/time -f 'fping_cpu %U %S %e' -o "$tmp/fp-time.txt" \
    timeout -s INT $((seconds + 30)) fping -c "$seconds" -p 1000 "$@" -q -f "$tmp/targets.txt" \
    >"$tmp/fp-sus.txt" 2>&1 || rc=$?
  end=$EPOCHREALTIME
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  fp_sent=$(fping_sent "$tmp/fp-sus.txt")
  fp_replies=$(fping_replies "$tmp/fp-sus.txt")
  expected=$((targets * seconds))
  fp_loss=$(awk -v r="$fp_replies" -v e="$expected" 'BEGIN { printf "%.2f", 100 * (e - r) / e }')
  fp_cpu=$(awk -v w="$wall" '/fping_cpu/ { printf "%.1f", 100 * ($2 + $3) / w }' "$tmp/fp-time.txt")
  if ((rc == 124)); then
    fp_status="stopped by SIGINT after ${wall}s (not done: $fp_sent of $expected sent)"
  else
    fp_status="exit $rc after ${wall}s"
  fi
  {
    echo "fping sustained ($name: -c $seconds -p 1000 $*): $fp_status; sent $fp_sent replies $fp_replies of $expected"
    grep -v 'xmt/rcv' "$tmp/fp-sus.txt" | head -n 5 || true
    cat "$tmp/fp-time.txt"
  } >>"$raw"
}
fd_status="skipped" fd_sent="-" fd_replies="-" fd_loss="-" fd_cpu="-"
f0_status="skipped" f0_sent="-" f0_replies="-" f0_loss="-" f0_cpu="-"
if [[ "$skip_fping_sustained" != 1 ]]; then
  fping_sustained "default -i"
  fd_status=$fp_status fd_sent=$fp_sent fd_replies=$fp_replies fd_loss=$fp_loss fd_cpu=$fp_cpu
  fping_sustained "-i 0" -i 0
  f0_status=$fp_status f0_sent=$fp_sent f0_replies=$fp_replies f0_loss=$fp_loss f0_cpu=$fp_cpu
fi

timestamp=$(date -u +%Y%m%dT%H%M%SZ)
{
  echo "bench/icmp: NetPulse ICMP echo engine beside fping $(fping -v 2>&1 | awk '{ print $NF }'), $(uname -r), $(nproc) CPU(s)"
  echo "targets: $targets loopback addresses 127.1.y.z; burst: median of $runs run(s); sustained: ${seconds}s"
  echo "netpulse socket mode: $(field mode "$tmp/np-burst.txt")"
  echo
  printf '%-46s %16s %16s %16s\n' measurement NetPulse fping "fping -i 0"
  printf '%-46s %16s %16s %16s\n' "burst: echoes/s (replies / process wall time)" "$(median "${np_rate[@]}")" "$(median "${fping_burst_rate[@]}")" "(burst is -i 0)"
  printf '%-46s %16s %16s %16s\n' "burst: replies of $targets" "$(median "${np_replies[@]}")" "$(median "${fping_burst_replies[@]}")" "-"
  printf '%-46s %16s %16s %16s\n' "burst: echoes/s inside the driver (no startup)" "$(median "${np_inner[@]}")" "-" "-"
  printf '%-46s %16s %16s %16s\n' "sustained ${seconds}s: echoes sent" "$(field echoes "$tmp/np-sus.txt")" "$fd_sent" "$f0_sent"
  printf '%-46s %16s %16s %16s\n' "sustained: replies" "$(field replies "$tmp/np-sus.txt")" "$fd_replies" "$f0_replies"
  printf '%-46s %16s %16s %16s\n' "sustained: loss % (of targets x seconds)" "$(field loss_percent "$tmp/np-sus.txt")" "$fd_loss" "$f0_loss"
  printf '%-46s %16s %16s %16s\n' "sustained: CPU % of one core" "$(field cpu_percent "$tmp/np-sus.txt")" "$fd_cpu" "$f0_cpu"
  printf '%-46s %16s %16s %16s\n' "sustained: RTT p50 / p99 ms" "$(field rtt_p50_ms "$tmp/np-sus.txt") / $(field rtt_p99_ms "$tmp/np-sus.txt")" "-" "-"
  echo "fping sustained, default -i (10 ms): $fd_status"
  echo "fping sustained, -i 0: $f0_status"
  echo
  echo "raw:"
  cat "$raw"
} >"$tmp/report.txt"
mkdir -p "$here/out"
cp "$tmp/report.txt" "$here/out/icmp-$timestamp.txt"
cat "$tmp/report.txt"
log "saved bench/out/icmp-$timestamp.txt"
