// bench/tsdb_http.cpp — the HTTP client of bench/tsdb.sh: HTTP/1.1 over ONE keep-alive TCP
// connection, timed with a monotonic clock, with no process start-up or file reading inside the
// timed part. Compiled by the script (g++ -O2).
//
//   tsdb_http [-H 'Name: value']... [--count-accepted] post URL CONTENT_TYPE FILE...
//     Reads every FILE into memory, then POSTs them in order and prints
//       seconds <wall time from the first byte sent to the last response read>
//       requests <n>
//       connections <TCP connections opened: 1 unless the server closed one>
//       accepted <sum of "accepted":N over the answers>     (with --count-accepted)
//   tsdb_http [-H 'Name: value']... get URL COUNT WARMUP
//     WARMUP untimed GETs, then COUNT timed sequential GETs; prints p50_ms, p99_ms, mean_ms,
//     max_ms (nearest-rank percentiles of the per-request times) and connections;
//     TSDB_HTTP_DUMP=FILE also writes each GET's start (Unix ms) and time (ms), one per line.
//
// URL is http://HOST:PORT/path?query (an IPv4 address or a name; no TLS). Any answer outside
// 200..299 stops the run: its status and the start of its body go to stderr, exit 3. Network or
// protocol errors: exit 4. Usage errors: exit 2. Responses may use Content-Length or chunked
// encoding; gzip is never asked for.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

namespace {

[[noreturn]] void fail(int code, const std::string& what) {
  std::fprintf(stderr, "tsdb_http: %s\n", what.c_str());
  std::exit(code);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct Url {
  std::string host, port, target;
};

Url parse_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) fail(2, "only http:// URLs: " + std::string(url));
  url.remove_prefix(scheme.size());
  auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  Url u;
  u.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    u.host = authority;
    u.port = "80";
  } else {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  }
  if (u.host.empty() || u.port.empty()) fail(2, "bad URL: " + std::string(url));
  return u;
}

struct Response {
  int status = 0;
  std::string body;
  bool close = false;
};

class Connection {
 public:
  explicit Connection(Url url) : url_(std::move(url)) {}
  ~Connection() { close(); }
  int connects() const { return connects_; }

  // Sends one request and reads its answer. A request on a reused connection that the server has
  // closed meanwhile (idle timeout) is retried once on a new connection.
  Response roundtrip(const std::string& head, std::string_view body) {
    for (int attempt = 0;; ++attempt) {
      const bool reused = fd_ >= 0;
      if (fd_ < 0) open();
      if (send_all(head, body)) {
        std::optional<Response> r = read_response(reused && attempt == 0);
        if (r) {
          if (r->close) close();
          return std::move(*r);
        }
      }
      close();
      if (!reused || attempt > 0) fail(4, "connection to " + url_.host + ":" + url_.port + " lost");
    }
  }

 private:
  void open() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(url_.host.c_str(), url_.port.c_str(), &hints, &res); rc != 0) {
      fail(4, "cannot resolve " + url_.host + ": " + gai_strerror(rc));
    }
    for (addrinfo* a = res; a; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
        break;
      }
      ::close(fd);
    }
    freeaddrinfo(res);
    if (fd_ < 0) fail(4, "cannot connect to " + url_.host + ":" + url_.port);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    buf_.clear();
    ++connects_;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }

  bool send_all(const std::string& head, std::string_view body) {
    iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
    int n = body.empty() ? 1 : 2;
    iovec* v = iov;
    while (n > 0) {
      msghdr msg{};
      msg.msg_iov = v;
      msg.msg_iovlen = static_cast<std::size_t>(n);
      ssize_t w = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      auto left = static_cast<std::size_t>(w);
      while (n > 0 && left >= v->iov_len) {
        left -= v->iov_len;
        ++v;
        --n;
      }
      if (n > 0) {
        v->iov_base = static_cast<char*>(v->iov_base) + left;
        v->iov_len -= left;
      }
    }
    return true;
  }

  // Reads more bytes into buf_; false on EOF or error.
  bool fill() {
    char tmp[65536];
    for (;;) {
      ssize_t r = ::recv(fd_, tmp, sizeof tmp, 0);
      if (r > 0) {
        buf_.append(tmp, static_cast<std::size_t>(r));
        return true;
      }
      if (r < 0 && errno == EINTR) continue;
      return false;
    }
  }

  // Ensures buf_ holds at least `n` bytes from `pos`.
  bool need(std::size_t pos, std::size_t n) {
    while (buf_.size() < pos + n) {
      if (!fill()) return false;
    }
    return true;
  }

  // Returns the position just past the next CRLF at or after `pos`, reading as needed.
  std::optional<std::size_t> line_end(std::size_t pos) {
    for (;;) {
      auto crlf = buf_.find("\r\n", pos);
      if (crlf != std::string::npos) return crlf + 2;
      if (!fill()) return std::nullopt;
    }
  }

  // nullopt: the connection closed before any byte of an answer arrived on a reused connection
  // (the caller retries); any later problem is fatal.
  std::optional<Response> read_response(bool may_retry) {
    for (;;) {
      std::size_t head_end;
      for (;;) {
        head_end = buf_.find("\r\n\r\n");
        if (head_end != std::string::npos) break;
        if (!fill()) {
          if (buf_.empty() && may_retry) return std::nullopt;
          fail(4, "connection closed while reading an answer's head");
        }
      }
      std::string_view head(buf_.data(), head_end);
      Response r;
      auto first = head.find("\r\n");
      std::string_view status_line = head.substr(0, first);
      if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12) {
        fail(4, "bad status line: " + std::string(status_line.substr(0, 80)));
      }
      const bool http10 = status_line.substr(0, 8) == "HTTP/1.0";
      r.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
      std::optional<std::size_t> length;
      bool chunked = false;
      bool keep_alive = false;
      std::size_t pos = first == std::string_view::npos ? head.size() : first + 2;
      while (pos < head.size()) {
        auto eol = head.find("\r\n", pos);
        std::string_view line =
            head.substr(pos, eol == std::string_view::npos ? head.npos : eol - pos);
        pos = eol == std::string_view::npos ? head.size() : eol + 2;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string name = lower(trim(line.substr(0, colon)));
        std::string value = lower(trim(line.substr(colon + 1)));
        if (name == "content-length") {
          length = std::strtoull(value.c_str(), nullptr, 10);
        } else if (name == "transfer-encoding") {
          chunked = value.find("chunked") != std::string::npos;
        } else if (name == "connection") {
          if (value.find("close") != std::string::npos) r.close = true;
          if (value.find("keep-alive") != std::string::npos) keep_alive = true;
        }
      }
      if (http10 && !keep_alive) r.close = true;
      std::size_t body_start = head_end + 4;
      if (r.status >= 100 && r.status < 200) {  // interim answer: skip it
        buf_.erase(0, body_start);
        continue;
      }
      if (r.status == 204 || r.status == 304) {
        buf_.erase(0, body_start);
      } else if (chunked) {
        std::size_t p = body_start;
        for (;;) {
          auto e = line_end(p);
          if (!e) fail(4, "connection closed inside a chunked body");
          std::size_t size = std::strtoull(buf_.c_str() + p, nullptr, 16);
          p = *e;
          if (size == 0) {  // trailers until an empty line
            for (;;) {
              auto t = line_end(p);
              if (!t) fail(4, "connection closed inside chunked trailers");
              bool empty = *t == p + 2;
              p = *t;
              if (empty) break;
            }
            break;
          }
          if (!need(p, size + 2)) fail(4, "connection closed inside a chunk");
          r.body.append(buf_, p, size);
          p += size + 2;
        }
        buf_.erase(0, p);
      } else if (length) {
        if (!need(body_start, *length)) fail(4, "connection closed inside a body");
        r.body.assign(buf_, body_start, *length);
        buf_.erase(0, body_start + *length);
      } else {  // until the server closes
        while (fill()) {
        }
        r.body.assign(buf_, body_start);
        buf_.clear();
        r.close = true;
      }
      return r;
    }
  }

  Url url_;
  int fd_ = -1;
  int connects_ = 0;
  std::string buf_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(2, "cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void check(const Response& r, const std::string& what) {
  if (r.status >= 200 && r.status < 300) return;
  std::string body = r.body.substr(0, 400);
  for (auto& c : body) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "tsdb_http: %s answered HTTP %d: %s\n", what.c_str(), r.status,
               body.c_str());
  std::exit(3);
}

// The N of the first `"accepted":N` in `body`, or -1.
long long accepted_of(const std::string& body) {
  auto p = body.find("\"accepted\"");
  if (p == std::string::npos) return -1;
  p = body.find(':', p);
  if (p == std::string::npos) return -1;
  char* end = nullptr;
  long long v = std::strtoll(body.c_str() + p + 1, &end, 10);
  return end == body.c_str() + p + 1 ? -1 : v;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void usage() {
  std::fprintf(stderr,
               "usage: tsdb_http [-H 'Name: value']... [--count-accepted] post URL CONTENT_TYPE "
               "FILE...\n"
               "       tsdb_http [-H 'Name: value']... get URL COUNT WARMUP\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> headers;
  bool count_accepted = false;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-H" && i + 1 < argc) {
      headers.emplace_back(argv[++i]);
    } else if (a == "--count-accepted") {
      count_accepted = true;
    } else {
      break;
    }
  }
  if (argc - i < 2) usage();
  const std::string mode = argv[i];
  const Url url = parse_url(argv[i + 1]);
  std::string extra;
  for (auto& h : headers) extra += h + "\r\n";
  const std::string host_header = "Host: " + url.host + ":" + url.port + "\r\n";

  Connection conn(url);
  if (mode == "post") {
    if (argc - i < 4) usage();
    const std::string content_type = argv[i + 2];
    std::vector<std::string> names(argv + i + 3, argv + argc);
    std::vector<std::string> bodies;
    bodies.reserve(names.size());
    for (auto& n : names) bodies.push_back(read_file(n));
    std::vector<std::string> heads;
    for (auto& b : bodies) {
      heads.push_back("POST " + url.target + " HTTP/1.1\r\n" + host_header +
                      "Content-Type: " + content_type +
                      "\r\nContent-Length: " + std::to_string(b.size()) + "\r\n" + extra + "\r\n");
    }
    long long accepted = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t k = 0; k < bodies.size(); ++k) {
      Response r = conn.roundtrip(heads[k], bodies[k]);
      check(r, "POST " + names[k]);
      if (count_accepted) {
        long long a = accepted_of(r.body);
        accepted = (a < 0 || accepted < 0) ? -1 : accepted + a;
      }
    }
    const double elapsed = seconds_since(start);
    std::printf("seconds %.6f\nrequests %zu\nconnections %d\n", elapsed, bodies.size(),
                conn.connects());
    if (count_accepted) std::printf("accepted %lld\n", accepted);
    return 0;
  }
  if (mode == "get") {
    if (argc - i != 4) usage();
    const long count = std::strtol(argv[i + 2], nullptr, 10);
    const long warmup = std::strtol(argv[i + 3], nullptr, 10);
    if (count < 1 || warmup < 0) usage();
    const std::string head = "GET " + url.target + " HTTP/1.1\r\n" + host_header + extra + "\r\n";
    for (long k = 0; k < warmup; ++k) check(conn.roundtrip(head, {}), "GET (warm-up)");
    std::vector<double> ms;
    std::vector<double> at_ms;  // each GET's start, Unix ms (TSDB_HTTP_DUMP)
    ms.reserve(static_cast<std::size_t>(count));
    at_ms.reserve(static_cast<std::size_t>(count));
    for (long k = 0; k < count; ++k) {
      at_ms.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count());
      const auto t = std::chrono::steady_clock::now();
      Response r = conn.roundtrip(head, {});
      ms.push_back(seconds_since(t) * 1e3);
      check(r, "GET");
    }
    // TSDB_HTTP_DUMP=FILE: every GET's start (Unix ms) and latency (ms), one per line.
    if (const char* dump = std::getenv("TSDB_HTTP_DUMP"); dump && *dump) {
      if (FILE* f = std::fopen(dump, "w")) {
        for (std::size_t k = 0; k < ms.size(); ++k) std::fprintf(f, "%.3f %.4f\n", at_ms[k], ms[k]);
        std::fclose(f);
      }
    }
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    auto rank = [&](double p) {
      auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
      return sorted[std::clamp<std::size_t>(k, 1, sorted.size()) - 1];
    };
    double sum = 0;
    for (double v : ms) sum += v;
    std::printf("p50_ms %.4f\np99_ms %.4f\nmean_ms %.4f\nmax_ms %.4f\nconnections %d\n", rank(0.50),
                rank(0.99), sum / static_cast<double>(ms.size()), sorted.back(), conn.connects());
    return 0;
  }
  usage();
}
