#!/usr/bin/env bash
# bench/alerts.sh — the alert engine's figures (issue 14), in one run:
#
#   bench/alerts.sh NETPULSE_BINARY
#
# 1. The engine alone: bench/alerts_engine.cpp (built here in the binary's build tree, like
#    bench/tsdb_micro.sh), which opens the real engine, database, inventory and store in a temp
#    dir (see its header for every detail):
#      evaluation  samples/s through the engine's per-sample path on one core, 10,000 series,
#                  SamplesAppended published straight on the bus (time inside the publish
#                  calls), with (a) the default rules only, none selecting the series, (b) the
#                  defaults plus 1,000 threshold rules that never cross (a series selected by 1.9
#                  of them on average), (c) 10 anomaly rules (one baseline per series); the
#                  median of BENCH_RUNS runs. Target: >= 2 M samples/s through 1,000 rules.
#      memory      EngineStats::state_bytes per rule state and per series for (b) and (c), and
#                  the heap the first round (binding every series) allocated, per series.
#                  Target: <= 2 KiB per baselined series.
#      latency     a crossing sample appended through Store::append to its AlertChanged on the
#                  bus, real loop and clock: append log write, head apply, evaluation, the SQLite
#                  commit of the transition, the publish; BENCH_ALERTS_LATENCY alerts (1,000) one
#                  after another, p50 / p99. Target: p99 < 5 ms.
#                  BENCH_ALERTS_BATCH (1,000) samples per SamplesAppended; BENCH_ALERTS_EVICT_MB
#                  (0) MB written between two batches, untimed, to evaluate with cold caches as
#                  the server does (the store and the parsers run between batches).
#      backtest    a threshold rule (avg over 30 min, for 10 min) replayed over 24 hours of the
#                  10,000 series at 5-minute steps (2.88 M samples): backtest() to its answer,
#                  the store's read and the replay on a worker. Target: "a few seconds".
# 2. Ingest with rules vs without, the real server: bench/tsdb.sh's data (bench/tsdb_gen.cpp:
#    BENCH_ALERTS_SERIES series `ifHCInOctets{host="devN",ifName="ethM"}` x 100 samples 60 s
#    apart, line protocol in batches of 10,000 lines) POSTed to /api/v2/write over one
#    keep-alive connection by bench/tsdb_http.cpp; samples/s = samples / upload wall time. Per run,
#    three servers one after another, each on a fresh data dir (the order rotates run to run):
#      none      every rule deleted through DELETE /api/v1/alert-rules/{id} before the upload
#                (the default set included; there is no switch to leave them out)
#      defaults  the default rules as a new install has them (none selects ifHCInOctets)
#      +1000     the defaults plus 1,000 threshold rules POSTed to /api/v1/alert-rules, never
#                crossing: 900 `ifHCInOctets{host="devN"}` (N 0..899; fn value, rate and avg
#                over 600 s in turn) and 100 `ifHCInOctets{ifName="ethM",host=~"devD.*"}` (D 0..9;
#                fn value, for_s 60): 1.9 rules per series on average, as in 1.
#    Checked per server: netpulse_tsdb_samples_appended_total equals the samples; with +1000,
#    netpulse_alerts_samples_matched_total is 1.9 x the samples and no alert is open. Reported:
#    the median rate of each, +1000 / none (ratio of the medians, and the median of the per-run
#    ratios) and the engine's evaluation time (netpulse_alerts_evaluation_seconds_total) as a
#    share of the upload. Target: +1000 >= 0.9 x none.
#
# Env: BENCH_RUNS (5), BENCH_ALERTS_SERIES (10000; a multiple of 100), BENCH_ALERTS_STEPS
#      (50 rounds per evaluation run), BENCH_ALERTS_LATENCY (1000), BENCH_QUICK=1 (smoke run:
#      1 run, 1,000 series, 5 rounds, 200 alerts). Everything on 127.0.0.1; only the processes
#      this script started are stopped. The table also goes to bench/out/alerts-<time>.txt.
set -euo pipefail
export LC_ALL=C

quick=${BENCH_QUICK:-0}
if [[ "$quick" == 1 ]]; then
  runs=${BENCH_RUNS:-1}
  series=${BENCH_ALERTS_SERIES:-1000}
  export BENCH_ALERTS_STEPS=${BENCH_ALERTS_STEPS:-5}
  export BENCH_ALERTS_LATENCY=${BENCH_ALERTS_LATENCY:-200}
else
  runs=${BENCH_RUNS:-5}
  series=${BENCH_ALERTS_SERIES:-10000}
fi
export BENCH_RUNS=$runs
points=100  # per series, 60 s apart
batch=10000 # lines per POST
configs=(none defaults rules)

die() {
  echo "bench/alerts: error: $*" >&2
  exit 1
}
log() { echo "bench/alerts: $*" >&2; }

(($# == 1)) || {
  echo "usage: $0 NETPULSE_BINARY" >&2
  exit 2
}
[[ "$quick" == 0 || "$quick" == 1 ]] || die "BENCH_QUICK must be 0 or 1, got '$quick'"
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || die "BENCH_RUNS must be 1..99, got '$runs'"
if ! [[ "$series" =~ ^[1-9][0-9]{2,5}$ ]] || ((series % 100 != 0 || series > 100000)); then
  die "BENCH_ALERTS_SERIES must be a multiple of 100 in 100..100000, got '$series'"
fi
binary=$(realpath -e "$1" 2>/dev/null) || die "binary '$1' does not exist"
[[ -x "$binary" ]] || die "'$binary' is not executable"
build_dir=$(dirname "$(dirname "$binary")")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in g++ python3 curl timeout; do
  command -v "$tool" >/dev/null || die "'$tool' not found: run scripts/bootstrap --bench"
done
samples=$((series * points))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netpulse-bench-alerts.XXXXXX")
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

# shellcheck source=scripts/lib/children.sh
source "$here/../scripts/lib/children.sh"
# shellcheck source=scripts/lib/netpulse.sh
source "$here/../scripts/lib/netpulse.sh"

# field NAME FILE: the value of `NAME value` in FILE.
field() { awk -v k="$1" '$1 == k { print $2; found = 1 } END { exit !found }' "$2"; }
per() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
# median VALUES...: the middle value (mean of the two middle ones for an even count).
median() {
  (($# > 0)) || return 0
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.6f\n", v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# --- 1. the engine alone ------------------------------------------------------------------------
driver=$build_dir/bench/alerts_engine
if [[ -f "$build_dir/CMakeCache.txt" ]]; then
  log "building alerts_engine in $build_dir"
  cmake --build "$build_dir" --target alerts_engine >/dev/null || die "could not build alerts_engine"
fi
[[ -x "$driver" ]] || die "no alerts_engine in $build_dir/bench (configure with NETPULSE_BUILD_BENCH=ON)"
log "the engine alone: evaluation ($runs runs per rule set), memory, latency"
timeout --kill-after=5 900 "$driver" all >"$tmp/engine.txt" || die "alerts_engine failed"
for f in eval.defaults.samples_per_s eval.defaults+1000.samples_per_s eval.defaults+1000.matched_per_s \
  eval.defaults+1000.matched_per_sample eval.defaults+1000.bind_round_samples_per_s \
  eval.anomaly.samples_per_s eval.defaults+1000.state_bytes_per_state \
  eval.defaults+1000.state_bytes_per_series eval.defaults+1000.bind_heap_bytes_per_series \
  eval.anomaly.state_bytes_per_state eval.anomaly.bind_heap_bytes_per_series latency.alerts \
  backtest.series backtest.samples backtest.seconds \
  latency.p50_ms latency.p99_ms latency.max_ms latency.evaluated_p50_ms latency.evaluated_p99_ms \
  latency.commit_p50_ms latency.commit_p99_ms; do
  field "$f" "$tmp/engine.txt" >/dev/null || die "alerts_engine printed no $f"
done
ef() { field "$1" "$tmp/engine.txt"; }

# --- 2. ingest with and without rules -----------------------------------------------------------
log "compiling bench/tsdb_gen.cpp and bench/tsdb_http.cpp"
g++ -std=c++20 -O2 -o "$tmp/tsdb_gen" "$here/tsdb_gen.cpp" || die "g++ failed on tsdb_gen.cpp"
g++ -std=c++20 -O2 -o "$tmp/tsdb_http" "$here/tsdb_http.cpp" || die "g++ failed on tsdb_http.cpp"
end_ts=$(($(date +%s) / 60 * 60 - 60))
mkdir -p "$tmp/data"
"$tmp/tsdb_gen" --no-json "$tmp/data" "$end_ts" "$series" "$points" "$batch" >"$tmp/gen.txt" ||
  die "the data generator failed"
log "data: $(cat "$tmp/gen.txt")"
lp_files=("$tmp/data"/lp-*.txt)

# rules.py URL TOKEN delete-all|add|count: deletes every rule, or posts the 1,000 rules, over one
# keep-alive connection; prints how many rules the organization has afterwards.
cat >"$tmp/rules.py" <<'EOF'
import http.client, json, sys, urllib.parse
url, token, action = sys.argv[1], sys.argv[2], sys.argv[3]
u = urllib.parse.urlsplit(url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
def call(method, path, body=None):
    headers = {"Authorization": "Bearer " + token}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status // 100 != 2:
        sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data) if data else None
def ids():
    out, page = [], 1
    while True:
        d = call("GET", f"/api/v1/alert-rules?page={page}&per_page=500")
        out += [r["id"] for r in d["data"]]
        if not d["pagination"]["has_next"]:
            return out
        page += 1
if action == "delete-all":
    for i in ids():
        call("DELETE", f"/api/v1/alert-rules/{i}")
elif action == "add":
    conditions = [
        {"fn": "value", "op": ">", "value": 1e15, "clear": 9e14},
        {"fn": "rate", "op": ">", "value": 1e12},
        {"fn": "avg", "window_s": 600, "op": ">", "value": 1e15},
    ]
    # 900 rules on one host each (hosts beyond the data's select nothing), 100 on an ifName and
    # a host's first digit: as bench/alerts_engine.cpp's set.
    for h in range(900):
        call("POST", "/api/v1/alert-rules", {"name": f"octets dev{h}", "kind": "threshold",
             "selector": f'ifHCInOctets{{host="dev{h}"}}', "condition": conditions[h % 3],
             "for_s": 0, "severity": "warning"})
    for p in range(10):
        for d in range(10):
            call("POST", "/api/v1/alert-rules", {"name": f"octets eth{p} dev{d}*",
                 "kind": "threshold", "selector": f'ifHCInOctets{{ifName="eth{p}",host=~"dev{d}.*"}}',
                 "condition": {"fn": "value", "op": "<", "value": -1}, "for_s": 60,
                 "severity": "critical"})
print(len(ids()))
EOF

np_url=""
admin_email=bench@netpulse.test
admin_password="bench-$RANDOM$RANDOM-$RANDOM$RANDOM"
json_get() {
  python3 -c 'import json, sys; d = json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$1" "$2" 2>/dev/null
}
# login: sets token (the admin's access token) and api_key (an api_user key).
token="" api_key=""
login() {
  local code
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
num_eq() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'; }

declare -A rate=() cpu=()
ratio_runs="" cpu_ratio_runs="" eval_share="" matched_per_sample=""
# Rule evaluations per sample with +1000: every series is selected by one ifName rule, and by
# its host's rule when the host is below dev900.
hosts=$((series / 10))
want_matched=$(awk -v h="$hosts" 'BEGIN { printf "%.4f", 1 + (h < 900 ? h : 900) / h }')
# ingest RUN CONFIG: one server, one upload; appends to rate[CONFIG].
ingest() {
  local run=$1 config=$2 dir=$tmp/run$1-$2 rules out=$tmp/post-$1-$2.txt rc=0 seconds m cpu0 cpu1
  start_netpulse "$dir"
  login
  case $config in
  none) rules=$(python3 "$tmp/rules.py" "$np_url" "$token" delete-all) || die "deleting the rules failed" ;;
  defaults) rules=$(python3 "$tmp/rules.py" "$np_url" "$token" count) || die "listing the rules failed" ;;
  rules) rules=$(python3 "$tmp/rules.py" "$np_url" "$token" add) || die "posting the rules failed" ;;
  esac
  [[ "$config" != none || "$rules" == 0 ]] || die "$rules rules left after deleting them all"
  cpu0=$(netpulse_cpu_ns "$netpulse_pid")
  timeout --kill-after=5 900 "$tmp/tsdb_http" -H "Authorization: Token $api_key" \
    post "$np_url/api/v2/write?precision=s" "text/plain; charset=utf-8" "${lp_files[@]}" \
    >"$out" 2>"$out.err" || rc=$?
  ((rc == 0)) || die "ingest ($config): the client failed (status $rc: $(cat "$out.err"))"
  seconds=$(field seconds "$out")
  cpu1=$(netpulse_cpu_ns "$netpulse_pid")
  ((cpu1 > cpu0)) || die "ingest ($config): no CPU time read from /proc/$netpulse_pid/task/*/schedstat"
  curl -sS -m 10 -o "$tmp/metrics.txt" "$np_url/metrics" || die "GET /metrics failed"
  m=$(field netpulse_tsdb_samples_appended_total "$tmp/metrics.txt") || die "no samples_appended_total"
  num_eq "$m" "$samples" || die "ingest ($config): $m samples appended, not $samples; figures invalid"
  if [[ "$config" == rules ]]; then
    m=$(field netpulse_alerts_samples_matched_total "$tmp/metrics.txt") || die "no samples_matched_total"
    matched_per_sample=$(per "$m" "$samples")
    num_eq "$matched_per_sample" "$want_matched" ||
      die "ingest (+1000): $matched_per_sample rule evaluations per sample, not $want_matched; figures invalid"
    for s in pending firing; do
      m=$(field "netpulse_alerts{status=\"$s\"}" "$tmp/metrics.txt") || die "no netpulse_alerts gauge"
      num_eq "$m" 0 || die "ingest (+1000): $m alerts $s: a threshold crossed; figures invalid"
    done
    m=$(field netpulse_alerts_evaluation_seconds_total "$tmp/metrics.txt") || die "no evaluation_seconds"
    eval_share+=" $(per "$m" "$seconds")"
  fi
  rate[$config]+=" $(per "$samples" "$seconds")"
  cpu[$config]+=" $(per "$((cpu1 - cpu0))" "$samples")"
  log "run $run/$runs $config ($rules rules): $(per "$samples" "$seconds") samples/s"
  stop_child "$netpulse_pid" netpulse
  netpulse_pid=""
  rm -rf "$dir"
}

log "ingest: $runs run(s) x ${#configs[@]} servers, $samples samples each"
for ((run = 1; run <= runs; run++)); do
  for ((i = 0; i < ${#configs[@]}; i++)); do
    ingest "$run" "${configs[(i + run - 1) % ${#configs[@]}]}"
  done
  none_last=${rate[none]##* } rules_last=${rate[rules]##* }
  ratio_runs+=" $(per "$rules_last" "$none_last")"
  none_last=${cpu[none]##* } rules_last=${cpu[rules]##* }
  cpu_ratio_runs+=" $(per "$rules_last" "$none_last")"
done

# --- report -------------------------------------------------------------------------------------
# shellcheck disable=SC2086 # space-separated numbers
med() { median $1; }
row() { awk -v l="$1" -v v="$2" -v f="$3" -v t="$4" 'BEGIN { printf "%-60s %14s   %s\n", l, sprintf(f, v), t }'; }
none_med=$(med "${rate[none]}")
rules_med=$(med "${rate[rules]}")
report=$tmp/report.txt
{
  echo "NetPulse alerts benchmark — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "host: $(uname -n), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
  echo "netpulse: $("$binary" --version 2>/dev/null | head -n1) ($binary), git $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"
  if ((quick)); then echo "QUICK MODE (BENCH_QUICK=1): a smoke run, not figures to compare with full runs"; fi
  echo
  echo "The engine alone (bench/alerts_engine, 10,000 series, one core, median of $runs runs)"
  printf '%-60s %14s   %s\n' measurement value target
  row "evaluation, default rules only: samples/s" "$(ef eval.defaults.samples_per_s)" "%.0f" ""
  row "evaluation, defaults + 1,000 threshold rules: samples/s" "$(ef eval.defaults+1000.samples_per_s)" "%.0f" ">= 2,000,000"
  row "  ... (sample, rule) evaluations/s" "$(ef eval.defaults+1000.matched_per_s)" "%.0f" ""
  row "  ... rules per sample" "$(ef eval.defaults+1000.matched_per_sample)" "%.2f" ""
  row "  ... first round after the rules changed (binds): samples/s" "$(ef eval.defaults+1000.bind_round_samples_per_s)" "%.0f" ""
  row "evaluation, 10 anomaly rules (a baseline per series): samples/s" "$(ef eval.anomaly.samples_per_s)" "%.0f" ""
  row "threshold rule state: state_bytes / states, bytes" "$(ef eval.defaults+1000.state_bytes_per_state)" "%.0f" ""
  row "threshold rule state: state_bytes / series, bytes" "$(ef eval.defaults+1000.state_bytes_per_series)" "%.0f" ""
  row "threshold rule state: heap of the bindings / series, bytes" "$(ef eval.defaults+1000.bind_heap_bytes_per_series)" "%.0f" ""
  row "anomaly baseline: state_bytes / baselined series, bytes" "$(ef eval.anomaly.state_bytes_per_state)" "%.0f" "<= 2,048"
  row "anomaly baseline: heap allocated by binding / series, bytes" "$(ef eval.anomaly.bind_heap_bytes_per_series)" "%.0f" "<= 2,048"
  row "crossing sample appended -> AlertChanged, p50 ms ($(ef latency.alerts) alerts)" "$(ef latency.p50_ms)" "%.3f" ""
  row "crossing sample appended -> AlertChanged, p99 ms" "$(ef latency.p99_ms)" "%.3f" "< 5"
  row "crossing sample appended -> AlertChanged, max ms" "$(ef latency.max_ms)" "%.3f" ""
  row "  ... append -> evaluated, p50 ms (the store's 1-ms apply delay)" "$(ef latency.evaluated_p50_ms)" "%.3f" ""
  row "  ... append -> evaluated, p99 ms" "$(ef latency.evaluated_p99_ms)" "%.3f" ""
  row "  ... evaluated -> AlertChanged (SQLite commit), p50 ms" "$(ef latency.commit_p50_ms)" "%.3f" ""
  row "  ... evaluated -> AlertChanged (SQLite commit), p99 ms" "$(ef latency.commit_p99_ms)" "%.3f" ""
  row "backtest, 24 h of $(ef backtest.series) series ($(ef backtest.samples) samples): seconds" "$(ef backtest.seconds)" "%.2f" "a few seconds"
  echo
  echo "Ingest through the server (line protocol, $samples samples = $series series x $points, batches of $batch lines, median of $runs runs)"
  printf '%-60s %14s   %s\n' measurement value target
  row "ingest, no rules at all: samples/s" "$none_med" "%.0f" ""
  row "ingest, default rules: samples/s" "$(med "${rate[defaults]}")" "%.0f" ""
  row "ingest, defaults + 1,000 threshold rules: samples/s" "$rules_med" "%.0f" ""
  row "  +1,000 / none, ratio of the medians" "$(per "$rules_med" "$none_med")" "%.3f" ">= 0.9"
  row "  +1,000 / none, median of the per-run ratios" "$(med "$ratio_runs")" "%.3f" ">= 0.9"
  row "  engine evaluation time / upload time (+1,000)" "$(med "$eval_share")" "%.3f" ""
  row "server CPU per sample, no rules: ns" "$(med "${cpu[none]}")" "%.1f" ""
  row "server CPU per sample, default rules: ns" "$(med "${cpu[defaults]}")" "%.1f" ""
  row "server CPU per sample, defaults + 1,000 threshold rules: ns" "$(med "${cpu[rules]}")" "%.1f" ""
  row "  +1,000 / none, median of the per-run CPU ratios" "$(med "$cpu_ratio_runs")" "%.3f" ""
  echo
  echo "raw: none [${rate[none]# }] defaults [${rate[defaults]# }] +1000 [${rate[rules]# }] samples/s; per-run ratios [${ratio_runs# }]"
  echo "raw CPU ns/sample: none [${cpu[none]# }] defaults [${cpu[defaults]# }] +1000 [${cpu[rules]# }]; per-run ratios [${cpu_ratio_runs# }]"
} >"$report"
cat "$report"
mkdir -p "$here/out"
saved=$here/out/alerts-$(date -u +%Y%m%dT%H%M%SZ).txt
{
  cat "$report"
  echo
  echo "=== bench/alerts_engine figures"
  cat "$tmp/engine.txt"
} >"$saved"
echo "saved: $saved"
