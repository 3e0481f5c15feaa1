#!/usr/bin/env bash
# bench/ui.sh — the web UI's figures (issue 16) in headless Chromium against the real server:
#
#   bench/ui.sh NETPULSE_BINARY
#
# The server is seeded through its API with 1,000 devices (disabled: nothing is polled), 10,000
# series (one sample each, pushed as line protocol) and 200 open alerts (a threshold rule and 200
# series above it). Then bench/ui.mjs (playwright-core driving Debian's Chromium) measures:
#   first-load transfer   the JS and CSS of the page, gzipped as sent. Target: < 150 KB.
#   overview              navigation to an interactive overview (device tiles and open alerts
#                         drawn), signed in by the session cookie: a fresh context (cold cache)
#                         and a reload (warm), medians of BENCH_UI_RUNS (5). Target: < 1 s.
#   10,000-point chart    the metric explorer drawing 10,000 raw samples of one series: from the
#                         chart's start to uPlot's first draw, median. Target: < 100 ms.
#   device list scroll    a page of 100 devices (the API's page; the list pages, it does not
#                         scroll 10,000 rows) scrolled top to bottom: frames over 25 ms.
#   topology map          the 1,000 devices (a core, 10 aggregation, 40 access, 949 CPE) on the
#                         map: navigation to the drawn map, median; then 6 turns of the wheel
#                         of 5 steps each: the median and slowest step, and the redraw at each
#                         settled zoom. A screenshot of
#                         the whole map goes to bench/out/map-1k-<UTC time>.png.
# Figures go to stdout and to bench/out/ui-<UTC time>.txt.
set -euo pipefail
export LC_ALL=C

runs=${BENCH_UI_RUNS:-5}
die() {
  echo "bench/ui: error: $*" >&2
  exit 1
}
log() { echo "bench/ui: $*" >&2; }

(($# == 1)) || {
  echo "usage: $0 NETPULSE_BINARY" >&2
  exit 2
}
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || die "BENCH_UI_RUNS must be 1..99, got '$runs'"
binary=$(realpath -e "$1" 2>/dev/null) || die "binary '$1' does not exist"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in python3 curl node; do
  command -v "$tool" >/dev/null || die "'$tool' not found: run scripts/bootstrap"
done
[[ -x /usr/bin/chromium || -n "${CHROMIUM:-}" ]] || die "chromium not found: run scripts/bootstrap"
[[ -d "$here/../web/node_modules/playwright-core" ]] || die "web/node_modules: run scripts/bootstrap"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netpulse-bench-ui.XXXXXX")
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

admin_email=bench@netpulse.test
admin_password="bench-$RANDOM$RANDOM-$RANDOM$RANDOM"
export NETPULSE_ALERTS_DEFAULT_RULES=false
start_netpulse "$tmp/ui"

log "seeding 1,000 devices, 10,000 series, 200 open alerts and a series of 10,000 samples"
python3 - "$np_url" "$admin_email" "$admin_password" <<'EOF' || die "seeding failed"
import http.client, json, sys, time, urllib.parse
url, email, password = sys.argv[1:4]
u = urllib.parse.urlparse(url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
def call(method, path, body=None, auth=None, ctype="application/json"):
    headers = {"Content-Type": ctype} if body is not None else {}
    if auth: headers["Authorization"] = auth
    data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse(); text = r.read()
    if r.status >= 300: sys.exit(f"{method} {path}: {r.status} {text[:300]!r}")
    return json.loads(text) if text else None
token = call("POST", "/api/v1/auth/login", {"email": email, "password": password})["data"]["access_token"]
bearer = "Bearer " + token
# A small ISP's tree: a core, 10 aggregation routers, 40 access switches (4 per aggregation) and
# 949 CPE spread over the access switches — 1,000 devices, for the topology map.
def device(i, name, kind, parents):
    body = {"name": name, "address": f"127.1.{i // 250}.{i % 250 + 1}", "type": kind, "enabled": False}
    if parents: body["parents"] = parents
    return call("POST", "/api/v1/devices", body, bearer)["data"]["id"]
core = device(0, "core-0", "router", [])
aggs = [device(1 + a, f"agg-{a:02d}", "router", [core]) for a in range(10)]
access = [device(11 + s, f"acc-{s:02d}", "switch", [aggs[s // 4]]) for s in range(40)]
for i in range(51, 1000):
    device(i, f"cpe-{i:04d}", "cpe", [access[i % 40]])
key = call("POST", "/api/v1/api-keys", {"name": "ui-bench", "role": "api_user"}, bearer)["data"]["key"]
call("POST", "/api/v1/alert-rules", {"name": "ui hot", "kind": "threshold", "selector": "ui_temp",
     "condition": {"op": ">", "value": 90}, "for_s": 0, "severity": "critical"}, bearer)
now = int(time.time()) - 5
lines = [f"ui_load,host=h{i // 10},port=p{i % 10} value={i % 100} {now}" for i in range(9800)]
lines += [f"ui_temp,host=hot{i} value=95 {now}" for i in range(200)]
# One series of 10,000 samples, one every 10 s: the explorer's 10,000-point chart.
lines += [f"ui_chart,host=core-1 value={(i * 7919) % 1000 / 10} {now - (9999 - i) * 10}" for i in range(10000)]
call("POST", "/api/v2/write?precision=s", "\n".join(lines), "Token " + key, "text/plain")
for _ in range(100):
    open_alerts = call("GET", "/api/v1/alerts?open=true&per_page=1", auth=bearer)["pagination"]["total"]
    if open_alerts >= 200: break
    time.sleep(0.1)
else:
    sys.exit(f"only {open_alerts} of 200 alerts opened")
EOF

log "measuring in headless Chromium ($runs runs)"
mkdir -p "$here/out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$(BENCH_UI_SHOT="$here/out/map-1k-$stamp.png" node "$here/ui.mjs" "$np_url" "$admin_email" "$admin_password" "$runs") || die "ui.mjs failed"
report="$here/out/ui-$stamp.txt"
python3 - "$out" <<'EOF' | tee "$report"
import sys
fig = {l.split()[0]: l.split(maxsplit=1)[1] for l in sys.argv[1].splitlines() if l.strip()}
kb = int(fig["first_load_bytes"].split()[0]) / 1024
print("web UI: 1,000 devices, 10,000 series, 200 open alerts")
print(f"  first-load JS + CSS (gzip as sent): {kb:.1f} KB   (target < 150 KB)")
print(f"  navigation -> interactive overview, cold cache: {fig['overview_cold_ms']}")
print(f"  navigation -> interactive overview, warm (reload): {fig['overview_warm_ms']}   (target < 1 s)")
print(f"  10,000-point chart, start -> first draw: {fig['chart_10k_draw_ms']}   (target < 100 ms)")
print(f"  device list (100-row page) scrolled in 120 frames: {fig['devices_scroll']}")
print(f"  topology map of 1,000 devices, navigation -> drawn: {fig['map_1k_ms']}")
print(f"  topology map, 6 wheel turns of 5 steps: {fig['map_zoom_frames']}")
EOF
