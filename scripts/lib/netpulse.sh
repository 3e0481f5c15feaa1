# shellcheck shell=bash
# scripts/lib/netpulse.sh — a benchmark's NetPulse server. Sourced after children.sh; needs `die`
# in the sourcing script and the globals `binary` (the netpulse binary), `admin_email` and
# `admin_password` (the first start's administrator).
#
# start_netpulse DIR: starts `netpulse serve` with its data in DIR (log in DIR.log), on a port
# it picks itself (127.0.0.1:0, read back from its "listening on" line: no race for a free port
# with another process), without rate limits or the access log, and waits until /health answers.
# Sets netpulse_pid and np_url.
# shellcheck disable=SC2154 # binary, admin_email and admin_password: the sourcing script's
start_netpulse() {
  local dir=$1 port="" i seen=0
  mkdir -p "$dir"
  # The log is appended to across restarts: only this start's lines are read.
  [[ -f "$dir.log" ]] && seen=$(wc -l <"$dir.log")
  env NETPULSE_HTTP_LISTEN="127.0.0.1:0" \
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
  for ((i = 0; i < 300; i++)); do
    port=$(tail -n +$((seen + 1)) "$dir.log" |
      sed -n 's/^netpulse: listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' | tail -1)
    [[ -n "$port" ]] && break
    kill -0 "$netpulse_pid" 2>/dev/null || die "netpulse exited during start-up (see $dir.log)"
    sleep 0.1
  done
  [[ -n "$port" ]] || die "netpulse did not say where it listens (see $dir.log)"
  np_url="http://127.0.0.1:$port"
  wait_200 "$np_url/health" "$netpulse_pid" netpulse "$dir.log"
}

# netpulse_cpu_ns PID: the CPU time its threads have run, in ns (the sum of the first field of
# /proc/PID/task/*/schedstat; threads that already ended are not counted, and the server's
# threads live as long as it does).
netpulse_cpu_ns() {
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}
