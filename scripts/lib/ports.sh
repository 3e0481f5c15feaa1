# scripts/lib/ports.sh — sourced by the shell tests and benchmarks.

# Prints a TCP port in 20000..49999 that nothing listens on now (ss), or fails after 100 tries.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 30000))
    if [[ -z "$(ss -Htln "sport = :$port")" ]]; then
      echo "$port"
      return 0
    fi
  done
  return 1
}
