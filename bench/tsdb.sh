#!/usr/bin/env bash
# bench/tsdb.sh — time-series storage of netpulse beside VictoriaMetrics, on this machine, on the
# same data, in one run.
#
#   bench/tsdb.sh NETPULSE_BINARY
#
# Data (generated once per invocation by bench/tsdb_gen.cpp, compiled here with g++ -O2): 10,000
# series `ifHCInOctets{host="devN",ifName="ethM"}` (N 0..999, M 0..9) x 100 samples 60 s apart,
# ending at a fixed time taken at start (now rounded down to the minute, minus one minute, so that
# VictoriaMetrics' 30-s query latency offset hides nothing). Realistic counters: per series a base
# rate log-uniform in 1e3..1e7 bytes/s, a start value up to 2^40, each interval adding
# rate*60*(1 +- 5% uniform noise), rounded; fixed seed. In time order (every series at t0, then
# at t1, ...), in batches of 10,000 lines: InfluxDB line protocol with precision=s, and the same
# samples as netpulse JSON for /api/v1/metrics.
#
# Peer: VictoriaMetrics (Debian's victoria-metrics, single-node; -influxSkipSingleField so the
# metric is `ifHCInOctets` as in netpulse, otherwise its defaults). Netpulse: a temp data dir,
# no access log, rate limits raised out of the way, a known first admin and an api_user API key.
# Each run starts every server on a fresh data dir on a free 127.0.0.1 port, and measures:
#   ingest     all batches POSTed in order over ONE keep-alive connection by bench/tsdb_http.cpp
#              (bodies read into memory first): samples/s = samples / wall time of the upload.
#              netpulse: POST /api/v2/write?precision=s (Authorization: Token KEY), each 204;
#              VM: POST /write?precision=s. Any non-2xx answer: exit 1.
#   json       netpulse only, in a fresh data dir: the same samples as JSON arrays to
#              POST /api/v1/metrics (Bearer KEY); every answer 2xx, data.accepted summing to all.
#   disk       bytes/sample = (size after ingest and a graceful stop) - (size of the same data dir
#              after a graceful stop before any sample), both `du -sb`, over the samples. The
#              baseline is the auth database, keys (netpulse) or empty storage layout (VM). VM's
#              /internal/force_flush is not enough here: 1.79 keeps fresh parts in memory for ~10 s
#              after it, so VM is stopped too (SIGTERM flushes everything); its cache/ dir, written
#              at shutdown and rebuildable, is left out (its size is in the raw section).
#   RSS        VmRSS of the server process right after the upload, and that over the series.
#   query      the series {host="dev7",ifName="eth3"} over [t0, end], 100 points: netpulse
#              GET /api/v1/query_range (raw samples, Bearer KEY), VM the same with step=60s (its
#              response cache on, as shipped). First checked: exactly the 100 expected
#              (timestamp, value) pairs (netpulse's times in s or ms), retried for up to 10 s in
#              case samples become visible late (the wait is logged), else exit 1. Then 20 warm-up
#              and BENCH_TSDB_QUERIES sequential GETs over one keep-alive connection: p50 and p99
#              (nearest rank) of the per-request times.
# VM's ingest is also checked against its own counter (vm_rows_inserted_total{type="influx"}).
# Reported: the MEDIAN of each figure over the runs, and netpulse/VM. The table also goes to
# bench/out/tsdb-<time>.txt with every run's raw figures.
#
# Env: BENCH_RUNS (3), BENCH_TSDB_SERIES (10000; a multiple of 10, at least 80),
#      BENCH_TSDB_QUERIES (500), BENCH_QUICK=1 (smoke run: 1 run, 1,000 series, 100 queries,
#      unless set otherwise), BENCH_TSDB_PEER_ONLY=1 (VictoriaMetrics only; NETPULSE_BINARY may
#      then be left out). Quick smoke run: BENCH_QUICK=1 bench/tsdb.sh BIN
set -euo pipefail
export LC_ALL=C

quick=${BENCH_QUICK:-0}
if [[ "$quick" == 1 ]]; then
  runs=${BENCH_RUNS:-1}
  series=${BENCH_TSDB_SERIES:-1000}
  queries=${BENCH_TSDB_QUERIES:-100}
else
  runs=${BENCH_RUNS:-3}
  series=${BENCH_TSDB_SERIES:-10000}
  queries=${BENCH_TSDB_QUERIES:-500}
fi
peer_only=${BENCH_TSDB_PEER_ONLY:-0}
points=100     # per series, 60 s apart
batch=10000    # lines (samples) per POST
warmup=20      # untimed queries before the timed ones

die() {
  echo "bench/tsdb: error: $*" >&2
  exit 1
}
log() { echo "bench/tsdb: $*" >&2; }

usage() {
  echo "usage: $0 NETPULSE_BINARY    (BENCH_TSDB_PEER_ONLY=1 $0: VictoriaMetrics only)" >&2
  exit 2
}
[[ "$quick" == 0 || "$quick" == 1 ]] || die "BENCH_QUICK must be 0 or 1, got '$quick'"
[[ "$peer_only" == 0 || "$peer_only" == 1 ]] || die "BENCH_TSDB_PEER_ONLY must be 0 or 1, got '$peer_only'"
binary=""
if ((peer_only)); then
  (($# <= 1)) || usage
else
  (($# == 1)) || usage
  binary=$(realpath -e "$1" 2>/dev/null) || die "binary '$1' does not exist"
  [[ -x "$binary" ]] || die "'$binary' is not executable"
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || die "BENCH_RUNS must be 1..99, got '$runs'"
if ! [[ "$series" =~ ^[1-9][0-9]{1,5}$ ]] || ((series % 10 != 0 || series < 80 || series > 100000)); then
  die "BENCH_TSDB_SERIES must be a multiple of 10 in 80..100000, got '$series'"
fi
if ! [[ "$queries" =~ ^[1-9][0-9]{0,5}$ ]] || ((queries > 100000)); then
  die "BENCH_TSDB_QUERIES must be 1..100000, got '$queries'"
fi
for tool in victoria-metrics g++ python3 curl ss du timeout; do
  command -v "$tool" >/dev/null || die "'$tool' not found: run scripts/bootstrap --bench"
done
samples=$((series * points))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netpulse-bench-tsdb.XXXXXX")
vm_pid=""
netpulse_pid=""

# stop_child PID NAME: SIGTERM, up to 10 s to exit, then SIGKILL. Only our own children.
stop_child() {
  local pid=$1 name=$2
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  set +e
  stop_child "$netpulse_pid" netpulse
  stop_child "$vm_pid" victoria-metrics
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck source=scripts/lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/ports.sh"

# wait_200 URL PID NAME LOG: until URL answers 200, at most 30 s, while PID lives.
wait_200() {
  local url=$1 pid=$2 name=$3 logfile=$4 deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$logfile" >&2
      die "$name exited during start-up"
    fi
    [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)" == 200 ]] && return 0
    sleep 0.2
  done
  tail -n 30 "$logfile" >&2
  die "$name: $url did not answer 200 within 30 s"
}

# stop_gracefully PID NAME LOG: SIGTERM and up to 120 s for a clean exit (status 0). Anything
# else makes the disk figure meaningless: SIGKILL and die. Sets stop_seconds.
stop_seconds=0
stop_gracefully() {
  local pid=$1 name=$2 logfile=$3 start=$EPOCHREALTIME rc=0
  kill -TERM "$pid" 2>/dev/null || die "$name (pid $pid) is not running"
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    tail -n 30 "$logfile" >&2
    die "$name did not stop within 120 s of SIGTERM: killed; its disk figure is invalid"
  fi
  wait "$pid" || rc=$?
  stop_seconds=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
  if ((rc != 0)); then
    tail -n 30 "$logfile" >&2
    die "$name exited with status $rc on SIGTERM; without a clean stop its figures are invalid"
  fi
}

dir_bytes() { du -sb "$1" | cut -f1; }
rss_bytes() { awk '/^VmRSS:/ { print $2 * 1024; found = 1 } END { exit !found }' "/proc/$1/status"; }
# field NAME FILE: the value of `NAME value` in the helper's output.
field() { awk -v k="$1" '$1 == k { print $2; found = 1 } END { exit !found }' "$2"; }
urlencode() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
    [a-zA-Z0-9._~-]) out+=$c ;;
    *) printf -v c '%%%02X' "'$c" && out+=$c ;;
    esac
  done
  echo "$out"
}

# --- helpers and data ---------------------------------------------------------------------------
log "compiling bench/tsdb_gen.cpp and bench/tsdb_http.cpp"
g++ -std=c++20 -O2 -o "$tmp/tsdb_gen" "$here/tsdb_gen.cpp" || die "g++ failed on tsdb_gen.cpp"
g++ -std=c++20 -O2 -o "$tmp/tsdb_http" "$here/tsdb_http.cpp" || die "g++ failed on tsdb_http.cpp"

end_ts=$(($(date +%s) / 60 * 60 - 60))
t0=$((end_ts - (points - 1) * 60))
mkdir -p "$tmp/data"
"$tmp/tsdb_gen" "$tmp/data" "$end_ts" "$series" "$points" "$batch" >"$tmp/gen.txt" ||
  die "the data generator failed"
log "data: $(cat "$tmp/gen.txt") ($(du -sh "$tmp/data" | cut -f1) on disk)"
lp_files=("$tmp/data"/lp-*.txt)
json_files=("$tmp/data"/json-*.json)
(($(wc -l <"$tmp/data/probe.txt") == points)) || die "the generator wrote a bad probe file"

selector='ifHCInOctets{host="dev7",ifName="eth3"}'
query_args="query=$(urlencode "$selector")&start=$t0&end=$end_ts"

# check.py np|vm ANSWER PROBE: the answer holds exactly the expected points of the probe series.
cat >"$tmp/check.py" <<'EOF'
import json, sys
kind, path, probe = sys.argv[1:4]
want = [tuple(int(x) for x in line.split()) for line in open(probe)]
text = open(path, encoding="utf-8", errors="replace").read()
def bad(why):
    sys.exit(f"{why}; answer: {text[:300]}")
try:
    doc = json.loads(text)
    if kind == "np":
        if doc.get("success") is not True:
            bad("success is not true")
        series = doc["data"]["series"]
        key = "points"
    else:
        if doc.get("status") != "success":
            bad("status is not success")
        series = doc["data"]["result"]
        key = "values"
except (ValueError, KeyError, TypeError) as e:
    bad(f"unexpected answer shape ({e!r})")
if len(series) != 1:
    bad(f"{len(series)} series instead of 1")
got = series[0].get(key)
if not isinstance(got, list) or len(got) != len(want):
    bad(f"{len(got) if isinstance(got, list) else 'no'} points instead of {len(want)}")
for (ts, value), point in zip(want, got):
    try:
        t, v = float(point[0]), float(point[1])
    except (ValueError, KeyError, IndexError, TypeError):
        bad(f"a point is not [time, value]: {point!r}")
    if t not in (ts, ts * 1000.0):  # seconds (or milliseconds)
        bad(f"point at {point[0]}, expected {ts}")
    if v != value:
        bad(f"value {point[1]} at {ts}, expected {value}")
EOF
# probe NAME np|vm URL [HEADER]: the query answer must hold exactly the probe series' expected
# points; retried for up to 10 s in case the last samples become visible with a delay. Sets
# probe_wait (seconds waited, 0 normally).
probe_wait=0
probe() {
  local name=$1 kind=$2 url=$3 why="" start=$SECONDS tries=0
  local headers=()
  if (($# > 3)); then headers=(-H "$4"); fi
  while :; do
    if curl -sS -m 10 -o "$tmp/answer.json" "${headers[@]}" "$url" 2>"$tmp/answer.err"; then
      why=$(python3 "$tmp/check.py" "$kind" "$tmp/answer.json" "$tmp/data/probe.txt" 2>&1) && break
    else
      why=$(cat "$tmp/answer.err")
    fi
    ((SECONDS - start < 10)) ||
      die "$name: the probe query does not give the $points expected points ($why); figures invalid"
    sleep 0.5
    tries=$((tries + 1))
  done
  # SECONDS ticks whole seconds: only a retry means the samples were not visible at once.
  probe_wait=0
  if ((tries > 0)); then probe_wait=$((SECONDS - start > 0 ? SECONDS - start : 1)); fi
  if ((probe_wait > 0)); then log "$name: the probe query needed $probe_wait s to see all samples"; fi
}

# post_batches NAME OUT ARGS...: runs the upload client, dying on any non-2xx or error.
post_batches() {
  local name=$1 out=$2 rc=0
  shift 2
  timeout --kill-after=5 900 "$tmp/tsdb_http" "$@" >"$out" 2>"$out.err" || rc=$?
  case $rc in
  0) ;;
  3) die "$name ingest: a batch was refused ($(cat "$out.err")); figures invalid" ;;
  124 | 137) die "$name ingest: not done within 900 s" ;;
  *) die "$name ingest: the client failed (status $rc: $(cat "$out.err"))" ;;
  esac
  (($(field connections "$out") == 1)) ||
    log "WARNING: $name closed the connection during the upload ($(field connections "$out") connections)"
}

# time_queries NAME URL OUT [HEADER]: the timed GET loop.
time_queries() {
  local name=$1 url=$2 out=$3 rc=0
  shift 3
  local headers=()
  if (($# > 0)); then headers=(-H "$1"); fi
  timeout --kill-after=5 900 "$tmp/tsdb_http" "${headers[@]}" get "$url" "$queries" "$warmup" \
    >"$out" 2>"$out.err" || rc=$?
  ((rc == 0)) || die "$name queries failed (status $rc: $(cat "$out.err")); figures invalid"
}

# --- VictoriaMetrics --------------------------------------------------------------------------
vm_url=""
start_vm() {
  local dir=$1 port
  port=$(free_port) || die "no free port"
  mkdir -p "$dir"
  victoria-metrics -storageDataPath="$dir" -httpListenAddr="127.0.0.1:$port" \
    -retentionPeriod=1 -influxSkipSingleField -loggerLevel=WARN \
    </dev/null >>"$dir.log" 2>&1 &
  vm_pid=$!
  vm_url="http://127.0.0.1:$port"
  wait_200 "$vm_url/health" "$vm_pid" victoria-metrics "$dir.log"
}
vm_size() {  # the storage dir without cache/ (rebuildable, written at shutdown)
  local total cache=0
  total=$(dir_bytes "$1")
  [[ -d "$1/cache" ]] && cache=$(dir_bytes "$1/cache")
  echo $((total - cache))
}

# run_vm RUN: one VictoriaMetrics run; appends to the vm_* lists.
run_vm() {
  local run=$1 dir=$tmp/run$1/vm base size rss0 rss seconds inserted cache
  start_vm "$dir"
  stop_gracefully "$vm_pid" victoria-metrics "$dir.log"
  vm_pid=""
  base=$(vm_size "$dir")
  start_vm "$dir"
  rss0=$(rss_bytes "$vm_pid") || die "no VmRSS for victoria-metrics"

  post_batches victoria-metrics "$tmp/vm-post-$run.txt" \
    post "$vm_url/write?precision=s" text/plain "${lp_files[@]}"
  rss=$(rss_bytes "$vm_pid") || die "no VmRSS for victoria-metrics"
  seconds=$(field seconds "$tmp/vm-post-$run.txt")
  inserted=$(curl -sS -m 10 "$vm_url/metrics" |
    awk '$1 == "vm_rows_inserted_total{type=\"influx\"}" { print $2 }')
  [[ "$inserted" == "$samples" ]] ||
    die "victoria-metrics counted '${inserted:-?}' inserted influx rows, not $samples; figures invalid"

  # make the rows searchable at once (VM buffers them for up to a second or two)
  curl -sS -m 30 -o /dev/null "$vm_url/internal/force_flush" || die "victoria-metrics: force_flush failed"
  probe victoria-metrics vm "$vm_url/api/v1/query_range?$query_args&step=60s"
  time_queries victoria-metrics "$vm_url/api/v1/query_range?$query_args&step=60s" "$tmp/vm-get-$run.txt"

  stop_gracefully "$vm_pid" victoria-metrics "$dir.log"
  vm_pid=""
  size=$(vm_size "$dir")
  cache=0
  [[ -d "$dir/cache" ]] && cache=$(dir_bytes "$dir/cache")

  vm_ingest+=" $(awk -v n="$samples" -v s="$seconds" 'BEGIN { printf "%.1f", n / s }')"
  vm_bps+=" $(awk -v a="$size" -v b="$base" -v n="$samples" 'BEGIN { printf "%.4f", (a - b) / n }')"
  vm_rss+=" $rss"
  vm_p50+=" $(field p50_ms "$tmp/vm-get-$run.txt")"
  vm_p99+=" $(field p99_ms "$tmp/vm-get-$run.txt")"
  {
    echo "run $run victoria-metrics: upload $seconds s; RSS $rss0 B at start, $rss B after ingest;"
    echo "  disk $base B empty, $size B after ingest and stop (+ cache/ $cache B, left out), stop took $stop_seconds s;"
    echo "  probe visible after $probe_wait s; query $(tr '\n' ' ' <"$tmp/vm-get-$run.txt")"
  } >>"$raw"
  rm -rf "$tmp/run$run"
}

# --- netpulse ---------------------------------------------------------------------------------
np_url=""
admin_email=bench@netpulse.test
admin_password="bench-$RANDOM$RANDOM-$RANDOM$RANDOM"
start_netpulse() {
  local dir=$1 port
  port=$(free_port) || die "no free port"
  mkdir -p "$dir"
  env NETPULSE_HTTP_LISTEN="127.0.0.1:$port" \
    NETPULSE_STORAGE_DATA_DIR="$dir" \
    NETPULSE_LOG_ACCESS_LOG=false \
    NETPULSE_HTTP_RATE_LIMIT_PER_IP_RPS=1000000000.0 \
    NETPULSE_HTTP_RATE_LIMIT_PER_IP_BURST=100000000 \
    NETPULSE_HTTP_RATE_LIMIT_PER_USER_RPS=1000000000.0 \
    NETPULSE_HTTP_RATE_LIMIT_PER_USER_BURST=100000000 \
    NETPULSE_ADMIN_EMAIL="$admin_email" \
    NETPULSE_ADMIN_PASSWORD="$admin_password" \
    "$binary" serve </dev/null >>"$dir.log" 2>&1 &
  netpulse_pid=$!
  np_url="http://127.0.0.1:$port"
  wait_200 "$np_url/health" "$netpulse_pid" netpulse "$dir.log"
}
# json_get EXPR FILE: a value from a JSON file by a Python expression over `d`.
json_get() {
  python3 -c 'import json, sys; d = json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$1" "$2" 2>/dev/null
}
# new_api_key: logs in as the admin and creates an api_user key; sets api_key.
api_key=""
new_api_key() {
  local token code
  code=$(curl -sS -m 30 -o "$tmp/login.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" "$np_url/api/v1/auth/login") ||
    die "POST /api/v1/auth/login failed"
  token=$(json_get 'd["data"]["access_token"]' "$tmp/login.json") ||
    die "login answered $code without data.access_token: $(head -c 300 "$tmp/login.json")"
  code=$(curl -sS -m 30 -o "$tmp/key.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $token" -d '{"name":"bench","role":"api_user"}' \
    "$np_url/api/v1/api-keys") || die "POST /api/v1/api-keys failed"
  api_key=$(json_get 'd["data"]["key"]' "$tmp/key.json") ||
    die "POST /api/v1/api-keys answered $code without data.key: $(head -c 300 "$tmp/key.json")"
}

# run_netpulse RUN: line protocol ingest, RSS, query, disk; then JSON ingest in a fresh dir.
run_netpulse() {
  local run=$1 dir=$tmp/run$1/np base size rss0 rss seconds json_seconds accepted
  start_netpulse "$dir"
  new_api_key
  stop_gracefully "$netpulse_pid" netpulse "$dir.log"
  netpulse_pid=""
  base=$(dir_bytes "$dir")
  start_netpulse "$dir"
  rss0=$(rss_bytes "$netpulse_pid") || die "no VmRSS for netpulse"

  post_batches netpulse "$tmp/np-post-$run.txt" -H "Authorization: Token $api_key" \
    post "$np_url/api/v2/write?precision=s" "text/plain; charset=utf-8" "${lp_files[@]}"
  rss=$(rss_bytes "$netpulse_pid") || die "no VmRSS for netpulse"
  seconds=$(field seconds "$tmp/np-post-$run.txt")

  probe netpulse np "$np_url/api/v1/query_range?$query_args" "Authorization: Bearer $api_key"
  time_queries netpulse "$np_url/api/v1/query_range?$query_args" "$tmp/np-get-$run.txt" \
    "Authorization: Bearer $api_key"

  stop_gracefully "$netpulse_pid" netpulse "$dir.log"
  netpulse_pid=""
  size=$(dir_bytes "$dir")

  # JSON ingest, fresh data dir
  start_netpulse "$tmp/run$run/np-json"
  new_api_key
  post_batches "netpulse JSON" "$tmp/np-json-$run.txt" -H "Authorization: Bearer $api_key" \
    --count-accepted post "$np_url/api/v1/metrics" application/json "${json_files[@]}"
  json_seconds=$(field seconds "$tmp/np-json-$run.txt")
  accepted=$(field accepted "$tmp/np-json-$run.txt")
  [[ "$accepted" == "$samples" ]] ||
    die "netpulse JSON ingest: data.accepted summed to $accepted (-1: missing), not $samples; figures invalid"
  stop_gracefully "$netpulse_pid" netpulse "$tmp/run$run/np-json.log"
  netpulse_pid=""

  np_ingest+=" $(awk -v n="$samples" -v s="$seconds" 'BEGIN { printf "%.1f", n / s }')"
  np_json+=" $(awk -v n="$samples" -v s="$json_seconds" 'BEGIN { printf "%.1f", n / s }')"
  np_bps+=" $(awk -v a="$size" -v b="$base" -v n="$samples" 'BEGIN { printf "%.4f", (a - b) / n }')"
  np_rss+=" $rss"
  np_p50+=" $(field p50_ms "$tmp/np-get-$run.txt")"
  np_p99+=" $(field p99_ms "$tmp/np-get-$run.txt")"
  {
    echo "run $run netpulse: upload $seconds s, JSON upload $json_seconds s; RSS $rss0 B at start, $rss B after ingest;"
    echo "  disk $base B without samples, $size B after ingest and stop, stop took $stop_seconds s;"
    echo "  probe visible after $probe_wait s; query $(tr '\n' ' ' <"$tmp/np-get-$run.txt")"
  } >>"$raw"
  rm -rf "$tmp/run$run"
}

# --- the runs ---------------------------------------------------------------------------------
raw=$tmp/raw.txt
: >"$raw"
vm_ingest="" vm_bps="" vm_rss="" vm_p50="" vm_p99=""
np_ingest="" np_json="" np_bps="" np_rss="" np_p50="" np_p99=""
log "$runs run(s): $samples samples ($series series x $points), $queries timed queries each"
for ((run = 1; run <= runs; run++)); do
  run_vm "$run"
  log "run $run/$runs victoria-metrics: ${vm_ingest##* } samples/s, ${vm_bps##* } B/sample, RSS ${vm_rss##* } B, query p50 ${vm_p50##* } ms p99 ${vm_p99##* } ms"
  if ((!peer_only)); then
    run_netpulse "$run"
    log "run $run/$runs netpulse: ${np_ingest##* } samples/s (JSON ${np_json##* }), ${np_bps##* } B/sample, RSS ${np_rss##* } B, query p50 ${np_p50##* } ms p99 ${np_p99##* } ms"
  fi
done

# --- report -----------------------------------------------------------------------------------
# median VALUES...: the middle value (mean of the two middle ones for an even count); "" if none.
median() {
  (($# > 0)) || return 0
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.6f\n", v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# shellcheck disable=SC2086 # the lists are space-separated numbers
med() { median $1; }
# row LABEL NP VM SCALE FORMAT: one table line; NP/VM multiplied by SCALE, "-" when empty.
row() {
  awk -v label="$1" -v np="$2" -v vm="$3" -v scale="$4" -v fmt="$5" 'BEGIN {
    a = (np == "") ? "-" : sprintf(fmt, np * scale)
    b = (vm == "") ? "-" : sprintf(fmt, vm * scale)
    r = (np == "" || vm == "" || vm == 0) ? "-" : sprintf("%.3f", np / vm)
    printf "%-40s %14s %16s %12s\n", label, a, b, r }'
}
per_series() {
  if [[ -n "$1" ]]; then awk -v r="$1" -v s="$series" 'BEGIN { printf "%.6f", r / s }'; fi
}

np_rss_med=$(med "$np_rss")
vm_rss_med=$(med "$vm_rss")
timestamp=$(date -u +%Y%m%dT%H%M%SZ)
report=$tmp/report.txt
{
  echo "NetPulse TSDB benchmark — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "host: $(uname -n), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
  if ((peer_only)); then
    echo "netpulse: not run (BENCH_TSDB_PEER_ONLY=1)"
  else
    echo "netpulse: $("$binary" --version 2>/dev/null | head -n1) ($binary), git $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"
  fi
  echo "victoria-metrics: $(dpkg-query -W -f='${Version}' victoria-metrics 2>/dev/null || echo '?') (Debian), -influxSkipSingleField, defaults otherwise"
  echo "data: $samples samples = $series series x $points points 60 s apart, t0 $t0 .. $end_ts, batches of $batch lines, one keep-alive connection"
  echo "$runs run(s), fresh data dirs; figures: median over the runs of each figure separately; all on 127.0.0.1"
  if ((quick)); then echo "QUICK MODE (BENCH_QUICK=1): a smoke run, not figures to compare with full runs"; fi
  echo
  printf '%-40s %14s %16s %12s\n' measurement NetPulse VictoriaMetrics NetPulse/VM
  row "ingest line protocol, samples/s (+)" "$(med "$np_ingest")" "$(med "$vm_ingest")" 1 "%.0f"
  row "ingest JSON, samples/s (+)" "$(med "$np_json")" "" 1 "%.0f"
  row "disk after stop, bytes/sample (-)" "$(med "$np_bps")" "$(med "$vm_bps")" 1 "%.3f"
  row "RSS after ingest, MiB (-)" "$np_rss_med" "$vm_rss_med" "$(awk 'BEGIN { print 1 / 1048576 }')" "%.1f"
  row "RSS after ingest / series, bytes (-)" "$(per_series "$np_rss_med")" "$(per_series "$vm_rss_med")" 1 "%.0f"
  row "query 100 points p50, ms (-)" "$(med "$np_p50")" "$(med "$vm_p50")" 1 "%.3f"
  row "query 100 points p99, ms (-)" "$(med "$np_p99")" "$(med "$vm_p99")" 1 "%.3f"
  echo "(+) higher is better, (-) lower is better"
} >"$report"

cat "$report"
mkdir -p "$here/out"
saved=$here/out/tsdb-$timestamp.txt
{
  cat "$report"
  echo
  echo "=== raw figures per run"
  cat "$raw"
} >"$saved"
echo "saved: $saved"
