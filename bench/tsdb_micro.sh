#!/usr/bin/env bash
# bench/tsdb_micro.sh — figures of the tsdb module alone, without the server, from the build that
# made NETPULSE_BINARY (BUILD/src/netpulse -> BUILD/bench/<program>, built here if missing):
#   chunk_size           bytes/sample of 24 h of 60 s data in each chunk encoding and sealed
#                        (the budgets are checked by the unit tests; docs/format/chunk.md)
#   line_protocol_parse  lines/s of the line protocol parser on 100,000 SNMP-like counter lines
#                        (BENCH_RUNS runs, 3 by default, and their median)
#   store_memory         the store's heap per series with 24 h in its head (glibc's count: use a
#                        build without sanitizers, as `make bench` does)
# No peer runs these: they are the module's own figures, for comparing one commit with another.
# The output also goes to bench/out/tsdb-micro-<time>.txt.
#
#   bench/tsdb_micro.sh NETPULSE_BINARY
set -euo pipefail
export LC_ALL=C

die() {
  echo "bench/tsdb_micro: error: $*" >&2
  exit 1
}

(($# == 1)) || {
  echo "usage: $0 NETPULSE_BINARY" >&2
  exit 2
}
binary=$(realpath -e "$1" 2>/dev/null) || die "binary '$1' does not exist"
build_dir=$(dirname "$(dirname "$binary")")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
programs=(chunk_size line_protocol_parse store_memory)
if [[ -f "$build_dir/CMakeCache.txt" ]]; then
  echo "bench/tsdb_micro: building ${programs[*]} in $build_dir" >&2
  cmake --build "$build_dir" --target "${programs[@]}" >/dev/null || die "could not build them"
fi
mkdir -p "$here/out"
report=$here/out/tsdb-micro-$(date -u +%Y%m%dT%H%M%SZ).txt
for program in "${programs[@]}"; do
  [[ -x "$build_dir/bench/$program" ]] ||
    die "no $program in $build_dir/bench (configure $build_dir with NETPULSE_BUILD_BENCH=ON)"
  echo "--- $program"
  "$build_dir/bench/$program" || die "$program failed"
done | tee "$report"
echo "bench/tsdb_micro: report in $report" >&2
