# shellcheck shell=bash
# scripts/lib/children.sh — the benchmarks' child processes: stop one, wait until one serves.
# Sourced; needs `log` (one line to stderr) and `die` (log and exit 1) in the sourcing script.
#
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
