// bench/tsdb_gen.cpp — the data sets of bench/tsdb.sh: interface octet counters (or CPU-percent
// gauges) as InfluxDB line protocol and as NetPulse JSON, split into batch files. Compiled by the
// script (g++ -O2).
//
//   tsdb_gen [--model counter|gauge] [--no-json] OUTDIR END_TS SERIES POINTS BATCH_LINES
//
// SERIES series (a multiple of 10), N = 0..SERIES/10-1, M = 0..9, each with POINTS samples 60 s
// apart ending at END_TS (Unix seconds). Fixed seed: the same values on every run (only the
// timestamps follow END_TS).
//   counter (default): `ifHCInOctets{host="devN",ifName="ethM"}`. Every series has a base rate in
//     bytes/s drawn log-uniformly in [1e3, 1e7] and a start value uniform in [0, 2^40); each 60-s
//     interval adds round(rate * 60 * (1 + noise)), noise uniform in [-5%, +5%].
//   gauge: `cpu_usage{host="devN",cpu="M"}`, an integer percentage: a start value uniform in
//     0..100, then each 60-s interval a step uniform in -3..+3, reflected at 0 and 100.
//
// Samples are written in time order (every series at t0, then every series at t1, ...), as
//   OUTDIR/lp-NNNNN.txt     `ifHCInOctets,host=dev7,ifName=eth3 value=123 1721199945`, one a line
//   OUTDIR/json-NNNNN.json  `[{"metric_name":"ifHCInOctets","value":123,"timestamp":1721199945,
//                             "tags":{"host":"dev7","ifName":"eth3"}},...]`  (not with --no-json)
// BATCH_LINES samples per file (the last file may hold fewer; NNNNN from 00000), and
//   OUTDIR/probe.txt        `<ts> <value>` per line: the expected points of dev7/eth3 (dev7/3).
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

// splitmix64: small, fast, and the same sequence with every compiler and library.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "tsdb_gen: %s\n", what.c_str());
  std::exit(1);
}

std::int64_t parse_positive(const char* text, const char* name) {
  std::int64_t v = 0;
  std::string_view s(text);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v <= 0) {
    fail(std::string(name) + " must be a positive integer, got '" + text + "'");
  }
  return v;
}

void write_file(const std::string& path, const std::string& data) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) fail("cannot create " + path);
  if (std::fwrite(data.data(), 1, data.size(), f) != data.size() || std::fclose(f) != 0) {
    fail("cannot write " + path);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool gauge = false, with_json = true;
  int a = 1;
  for (; a < argc; ++a) {
    const std::string_view opt = argv[a];
    if (opt == "--model" && a + 1 < argc) {
      const std::string_view m = argv[++a];
      if (m != "counter" && m != "gauge") fail("--model must be counter or gauge");
      gauge = m == "gauge";
    } else if (opt == "--no-json") {
      with_json = false;
    } else {
      break;
    }
  }
  if (argc - a != 5) {
    std::fprintf(stderr,
                 "usage: tsdb_gen [--model counter|gauge] [--no-json] OUTDIR END_TS SERIES POINTS "
                 "BATCH_LINES\n");
    return 2;
  }
  const std::string dir = argv[a];
  const std::int64_t end_ts = parse_positive(argv[a + 1], "END_TS");
  const std::int64_t series = parse_positive(argv[a + 2], "SERIES");
  const std::int64_t points = parse_positive(argv[a + 3], "POINTS");
  const std::int64_t batch = parse_positive(argv[a + 4], "BATCH_LINES");
  if (series % 10 != 0) fail("SERIES must be a multiple of 10");
  const std::int64_t t0 = end_ts - (points - 1) * 60;
  if (t0 <= 0) fail("END_TS too small for POINTS");
  const std::int64_t probe = 7 * 10 + 3;  // dev7, eth3
  if (probe >= series) fail("SERIES must be at least 80 (the probe series is dev7/eth3)");

  Rng rng{0x6e657470756c7365ULL};  // "netpulse"
  const double lo = std::log(1e3), hi = std::log(1e7);
  std::vector<double> rate(series);
  std::vector<std::int64_t> value(series);
  for (std::int64_t s = 0; s < series; ++s) {
    if (gauge) {
      value[s] = static_cast<std::int64_t>(rng.next() % 101);  // 0..100
    } else {
      rate[s] = std::exp(lo + rng.uniform() * (hi - lo));
      value[s] = static_cast<std::int64_t>(rng.next() >> 24);  // [0, 2^40)
    }
  }

  // Names and label text per series, built once.
  const std::string metric = gauge ? "cpu_usage" : "ifHCInOctets";
  const std::string label2 = gauge ? "cpu" : "ifName";
  std::vector<std::string> host(series), ifname(series);
  for (std::int64_t s = 0; s < series; ++s) {
    host[s] = "dev" + std::to_string(s / 10);
    ifname[s] = (gauge ? "" : "eth") + std::to_string(s % 10);
  }

  std::string lp, json, probe_out;
  std::int64_t in_batch = 0, file_no = 0;
  auto flush = [&] {
    char name[32];
    std::snprintf(name, sizeof name, "/lp-%05lld.txt", static_cast<long long>(file_no));
    write_file(dir + name, lp);
    if (with_json) {
      json += "]\n";
      std::snprintf(name, sizeof name, "/json-%05lld.json", static_cast<long long>(file_no));
      write_file(dir + name, json);
    }
    lp.clear();
    json.clear();
    in_batch = 0;
    ++file_no;
  };
  for (std::int64_t p = 0; p < points; ++p) {
    const std::int64_t ts = t0 + p * 60;
    for (std::int64_t s = 0; s < series; ++s) {
      if (p > 0 && gauge) {
        std::int64_t v = value[s] + static_cast<std::int64_t>(rng.next() % 7) - 3;
        value[s] = v < 0 ? -v : v > 100 ? 200 - v : v;
      } else if (p > 0) {
        const double noise = (rng.uniform() * 2.0 - 1.0) * 0.05;
        value[s] += std::llround(rate[s] * 60.0 * (1.0 + noise));
      }
      lp += metric;
      lp += ",host=";
      lp += host[s];
      lp += ',';
      lp += label2;
      lp += '=';
      lp += ifname[s];
      lp += " value=";
      append_int(lp, value[s]);
      lp += ' ';
      append_int(lp, ts);
      lp += '\n';

      if (with_json) {
        json += in_batch == 0 ? "[" : ",";
        json += R"({"metric_name":")";
        json += metric;
        json += R"(","value":)";
        append_int(json, value[s]);
        json += R"(,"timestamp":)";
        append_int(json, ts);
        json += R"(,"tags":{"host":")";
        json += host[s];
        json += R"(",")";
        json += label2;
        json += R"(":")";
        json += ifname[s];
        json += "\"}}";
      }

      if (s == probe) {
        append_int(probe_out, ts);
        probe_out += ' ';
        append_int(probe_out, value[s]);
        probe_out += '\n';
      }
      if (++in_batch == batch) flush();
    }
  }
  if (in_batch > 0) flush();
  write_file(dir + "/probe.txt", probe_out);
  std::printf("%lld samples in %lld batch files, t0 %lld, end %lld\n",
              static_cast<long long>(series * points), static_cast<long long>(file_no),
              static_cast<long long>(t0), static_cast<long long>(end_ts));
  return 0;
}
