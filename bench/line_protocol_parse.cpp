// bench/line_protocol_parse — the InfluxDB line protocol parser's throughput on 100,000
// SNMP-like counter lines (500 hosts x 48 interfaces, nanosecond timestamps), parsed in one call
// into samples (parse_line_protocol). Prints lines/s; BENCH_RUNS runs (default 3) and their median.
// Run by bench/tsdb_micro.sh; exits 1 if the parser reports an issue or loses a line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <netpulse/tsdb/ingest_parse.hpp>

using namespace netpulse::tsdb;

int main() {
  constexpr int kLines = 100'000;
  constexpr Timestamp kNow = 1'721'199'945'123;
  const char* runs_env = std::getenv("BENCH_RUNS");
  const int runs = std::max(1, runs_env ? std::atoi(runs_env) : 3);
  std::string body;
  for (int i = 0; i < kLines; ++i) {
    body += "ifHCInOctets,host=dev" + std::to_string(i % 500) + ",ifName=eth" +
            std::to_string(i % 48) + " value=" + std::to_string(1'000'000'000ll + i * 1337ll) +
            " " + std::to_string(1721199945000000000ll + i * 1'000'000'000ll) + "\n";
  }
  ParseLimits limits;
  limits.max_lines = kLines;
  std::vector<double> rates;
  for (int run = 0; run < runs; ++run) {
    const auto start = std::chrono::steady_clock::now();
    const ParseResult r = parse_line_protocol(body, Precision::kNanoseconds, kNow, limits);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.issues.empty() || r.samples.size() != kLines) {
      std::fprintf(stderr, "line protocol: %zu issue(s), %zu of %d samples\n", r.issues.size(),
                   r.samples.size(), kLines);
      return 1;
    }
    rates.push_back(kLines / seconds);
    std::printf("line protocol: %d lines (%zu bytes) in %.3f s = %.0f lines/s\n", kLines,
                body.size(), seconds, rates.back());
  }
  std::sort(rates.begin(), rates.end());
  std::printf("line protocol: median of %d run(s): %.0f lines/s\n", runs, rates[rates.size() / 2]);
  return 0;
}
