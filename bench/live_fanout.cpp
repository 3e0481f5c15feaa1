// bench/live.sh's driver: WebSocket clients of NetPulse's live feed, and the samples they follow
// pushed through the ingest API, in one process (Boost.Beast, header-only; g++ -O2).
//
//   live_fanout PORT TOKEN INGEST_KEY MODE ...
//
//   probe N          one client following `lf_probe`; N samples POSTed one at a time, 10 ms
//                    apart, each carrying its send time (Unix ms) as its value: per sample the
//                    time from the POST's start to the client having it. Prints
//                    "probe <received> <p50 ms> <p99 ms> <max ms>".
//   fanout C S R D   C clients, each following S series (`lf_fan{s="k"}`, k over C*S/10 series:
//                    10 followers per series); R samples/s POSTed for D seconds in batches every
//                    10 ms (one sample per series in turn), each carrying its send time. Prints
//                    "fanout <expected deliveries> <delivered> <delivered/s> <p50> <p99> <max>
//                    <clients closed>".
//
// Every client authenticates with TOKEN (the access token of one user) in its first message.
// Latency is measured against the same host's wall clock, in ms; the values are doubles of ms.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "live_fanout: %s\n", what.c_str());
  std::exit(1);
}

struct Stats {
  std::vector<double> latencies;  // ms
  std::size_t received = 0;
  std::size_t closed = 0;
  std::size_t ready = 0;  // clients subscribed
};

// One client: connect, upgrade, auth, subscribe, then read samples until the end.
class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(net::io_context& ioc, Stats& stats, std::string token, std::string subscribe)
      : ws_(ioc), stats_(stats), token_(std::move(token)), subscribe_(std::move(subscribe)) {}

  void start(const tcp::endpoint& ep, std::uint16_t port) {
    beast::get_lowest_layer(ws_).async_connect(
        ep, [self = shared_from_this(), port](beast::error_code ec) {
          if (ec) die("connect: " + ec.message());
          self->ws_.async_handshake(
              "127.0.0.1:" + std::to_string(port), "/api/v1/live", [self](beast::error_code ec) {
                if (ec) die("handshake: " + ec.message());
                self->send("{\"type\":\"auth\",\"token\":\"" + self->token_ + "\"}");
                self->read();
              });
        });
  }

  void close() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

 private:
  void send(std::string text) {
    out_ = std::move(text);
    ws_.text(true);
    ws_.async_write(net::buffer(out_),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec) die("write: " + ec.message());
                    });
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        ++self->stats_.closed;
        return;
      }
      self->on_message(beast::buffers_to_string(self->buffer_.data()));
      self->buffer_.clear();
      self->read();
    });
  }

  void on_message(const std::string& text) {
    if (text.find("\"type\":\"sample\"") != std::string::npos) {
      auto at = text.rfind("\"v\":");
      if (at == std::string::npos) die("a sample without v: " + text);
      const double sent = std::strtod(text.c_str() + at + 4, nullptr);
      stats_.latencies.push_back(now_ms() - sent);
      ++stats_.received;
      return;
    }
    if (text.find("\"type\":\"ready\"") != std::string::npos) return send(subscribe_);
    if (text.find("\"type\":\"subscribed\"") != std::string::npos) {
      ++stats_.ready;
      return;
    }
    if (text.find("\"type\":\"error\"") != std::string::npos) die("the feed said: " + text);
  }

  websocket::stream<beast::tcp_stream> ws_;
  Stats& stats_;
  std::string token_;
  std::string subscribe_;
  std::string out_;
  beast::flat_buffer buffer_;
};

// POSTs line protocol (precision ms) with the ingest key over one keep-alive connection.
class Writer {
 public:
  Writer(std::uint16_t port, std::string key) : port_(port), key_(std::move(key)), stream_(ioc_) {
    stream_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  }
  void post(std::string body) {
    http::request<http::string_body> req{http::verb::post, "/api/v2/write?precision=ms", 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    req.set(http::field::authorization, "Token " + key_);
    req.set(http::field::content_type, "text/plain");
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    if (res.result_int() != 204) die("ingest answered " + std::to_string(res.result_int()));
  }

 private:
  std::uint16_t port_;
  std::string key_;
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string line(const std::string& metric, const std::string& label, double value, long ts) {
  char buf[64];
  std::snprintf(buf, sizeof buf, " value=%.3f %ld\n", value, ts);
  return metric + label + buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) die("usage: live_fanout PORT TOKEN KEY probe N | fanout C S R D");
  const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  const std::string token = argv[2], key = argv[3], mode = argv[4];
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  net::io_context ioc;
  Stats stats;
  std::vector<std::shared_ptr<Client>> clients;
  auto run_for = [&](std::chrono::milliseconds d) {
    ioc.restart();
    ioc.run_for(d);
  };

  if (mode == "probe") {
    const int n = std::atoi(argv[5]);
    auto c = std::make_shared<Client>(ioc, stats, token,
                                      R"({"type":"subscribe","series":["lf_probe"]})");
    c->start(ep, port);
    for (int i = 0; i < 500 && stats.ready < 1; ++i) run_for(std::chrono::milliseconds(10));
    if (stats.ready < 1) die("the probe client did not subscribe");
    Writer w(port, key);
    std::atomic<bool> done{false};
    std::thread reader([&] {
      while (!done) run_for(std::chrono::milliseconds(5));
    });
    for (int i = 0; i < n; ++i) {
      const double t = now_ms();
      w.post(line("lf_probe", ",host=p", t, static_cast<long>(t)));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    done = true;
    reader.join();
    auto lat = stats.latencies;
    const double p50 = percentile(lat, 0.5), p99 = percentile(lat, 0.99);
    const double max = lat.empty() ? -1.0 : lat.back();  // sorted by percentile()
    std::printf("probe %zu %.3f %.3f %.3f\n", stats.received, p50, p99, max);
    c->close();
    return 0;
  }

  if (mode != "fanout" || argc < 9) die("usage: live_fanout PORT TOKEN KEY fanout C S R D");
  const int nclients = std::atoi(argv[5]), per = std::atoi(argv[6]), rate = std::atoi(argv[7]),
            seconds = std::atoi(argv[8]);
  const int nseries = std::max(1, nclients * per / 10);
  for (int i = 0; i < nclients; ++i) {
    std::string sub = R"({"type":"subscribe","series":[)";
    for (int j = 0; j < per; ++j) {
      if (j) sub += ',';
      sub += "\"lf_fan{s=\\\"" + std::to_string((i * per + j) % nseries) + "\\\"}\"";
    }
    sub += "]}";
    clients.push_back(std::make_shared<Client>(ioc, stats, token, sub));
    clients.back()->start(ep, port);
    if (i % 50 == 49) run_for(std::chrono::milliseconds(20));
  }
  for (int i = 0; i < 3000 && stats.ready < static_cast<std::size_t>(nclients); ++i) {
    run_for(std::chrono::milliseconds(10));
  }
  if (stats.ready < static_cast<std::size_t>(nclients)) {
    die(std::to_string(stats.ready) + " of " + std::to_string(nclients) + " clients subscribed");
  }
  std::fprintf(stderr, "live_fanout: %d clients subscribed; pushing %d samples/s for %d s\n",
               nclients, rate, seconds);

  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) run_for(std::chrono::milliseconds(5));
  });
  Writer w(port, key);
  const int per_batch = std::max(1, rate / 100);
  std::size_t pushed = 0;
  int next_series = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int tick = 0; tick < seconds * 100; ++tick) {
    std::string body;
    const double t = now_ms();
    for (int k = 0; k < per_batch; ++k) {
      body += line("lf_fan", ",s=" + std::to_string(next_series), t, static_cast<long>(t));
      next_series = (next_series + 1) % nseries;
    }
    w.post(std::move(body));
    pushed += static_cast<std::size_t>(per_batch);
    std::this_thread::sleep_until(start + std::chrono::milliseconds(10 * (tick + 1)));
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  done = true;
  reader.join();
  const std::size_t expected = pushed * 10;
  auto lat = stats.latencies;
  const double p50 = percentile(lat, 0.5), p99 = percentile(lat, 0.99);
  const double max = lat.empty() ? -1.0 : lat.back();  // sorted by percentile()
  std::printf("fanout %zu %zu %.0f %.3f %.3f %.3f %zu %.1f\n", expected, stats.received,
              static_cast<double>(stats.received) / elapsed, p50, p99, max, stats.closed, elapsed);
  for (auto& c : clients) c->close();
  return 0;
}
