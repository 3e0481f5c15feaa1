# shellcheck shell=bash
# scripts/lib/children.sh — sourced by the benchmark scripts. Needs a `log` function (one line to
# stderr) in the sourcing script.
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
