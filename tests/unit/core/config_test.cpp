// Configuration: embedded defaults, a TOML file checked key by key against them, environment
// overrides of every type, every problem reported at once with its key and line, and
// parse_listen_address.
#include <fstream>

#include <catch2/catch.hpp>

#include <netpulse/core/config.hpp>

#include "support/temp_dir.hpp"

using netpulse::core::check_config;
using netpulse::core::ConfigProblem;
using netpulse::core::Environment;
using netpulse::core::load_config;

namespace {

std::string write_file(const netpulse::test::TempDir& dir, const std::string& text) {
  auto path = dir.file("netpulse.toml");
  std::ofstream(path) << text;
  return path;
}

// The one problem reported, which must exist.
ConfigProblem only_problem(const std::vector<ConfigProblem>& problems) {
  INFO("problems: " << problems.size());
  REQUIRE(problems.size() == 1);
  return problems.front();
}

}  // namespace

TEST_CASE("config: the embedded defaults load with no file and no environment", "[core][config]") {
  auto config = load_config(std::nullopt, {});
  REQUIRE(config);
  CHECK(config->http.listen_host == "127.0.0.1");
  CHECK(config->http.listen_port == 8080);
  CHECK(config->http.max_body_bytes == 10485760);
  CHECK(config->http.cors_allowed_origins.empty());
  CHECK_FALSE(config->http.tls.enabled);
  CHECK(config->http.rate_limit.per_ip_rps == 100.0);
  CHECK(config->storage.data_dir == "var");
  CHECK(config->database.synchronous == "NORMAL");
  CHECK(config->database.write_queue_max == 10000);
  CHECK(config->database.max_batch == 512);
  CHECK(config->database.reader_connections == 4);
  CHECK(config->auth.issuer == "netpulse");
  CHECK(config->log.level == "info");
  CHECK(config->log.access_log);
  CHECK(config->workers.threads == 2);
  CHECK(config->warnings.empty());
  CHECK(check_config(std::nullopt, {}).empty());
}

TEST_CASE("config: a file overrides only the keys it sets", "[core][config]") {
  netpulse::test::TempDir dir;
  auto path = write_file(dir,
                         "[http]\nlisten = \"[::1]:9090\"\ncors_allowed_origins = "
                         "[\"https://noc.example.net\"]\n"
                         "[http.rate_limit]\nper_ip_rps = 5\n"
                         "[database]\nsynchronous = \"full\"\n");
  auto config = load_config(path, {});
  REQUIRE(config);
  CHECK(config->http.listen_host == "::1");
  CHECK(config->http.listen_port == 9090);
  CHECK(config->http.cors_allowed_origins == std::vector<std::string>{"https://noc.example.net"});
  CHECK(config->http.rate_limit.per_ip_rps == 5.0);  // an integer where a number is expected
  CHECK(config->database.synchronous == "FULL");
  CHECK(config->database.max_batch == 512);
}

TEST_CASE("config: a bad file is reported with the key and line", "[core][config]") {
  struct Case {
    const char* name;
    std::string text;
    std::string key;
    int line;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"unknown key", "[http]\nlisten = \"127.0.0.1:1\"\nlisten_port = 80\n", "http.listen_port", 3,
       "unknown key"},
      {"unknown section", "\n[htttp]\nlisten = \"x\"\n", "htttp", 2, "unknown section"},
      {"wrong type", "[database]\nmax_batch = \"many\"\n", "database.max_batch", 2,
       "must be an integer, not a string"},
      {"boolean as string", "[log]\naccess_log = \"yes\"\n", "log.access_log", 2,
       "must be a boolean"},
      {"array of non-strings", "[http]\ntrusted_proxies = [1, 2]\n", "http.trusted_proxies", 2,
       "every element must be a string"},
      {"section given as a value", "http = 5\n", "http", 1, "must be a table"},
      {"value out of range", "\n\n[database]\nreader_connections = 0\n",
       "database.reader_connections", 4, "must be between 1 and 64, not 0"},
      {"meaningless value", "[database]\nsynchronous = \"sometimes\"\n", "database.synchronous", 2,
       "must be \"NORMAL\" or \"FULL\""},
      {"bad listen address", "[http]\nlisten = \"localhost\"\n", "http.listen", 2,
       "must be an IP address and port"},
      {"bad TOML", "[http]\nlisten = \n", "", 2, "not valid TOML"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      netpulse::test::TempDir dir;
      auto path = write_file(dir, c.text);
      auto p = only_problem(check_config(path, {}));
      CHECK(p.source == path);
      CHECK(p.key == c.key);
      CHECK(p.line == c.line);
      CHECK_THAT(p.message, Catch::Contains(c.message_part));
      CHECK_THAT(p.to_string(), Catch::StartsWith(path + ":" + std::to_string(c.line) + ": "));

      auto loaded = load_config(path, {});
      REQUIRE_FALSE(loaded);
      CHECK(loaded.error().code == netpulse::core::Errc::kConfigError);
      CHECK_THAT(loaded.error().message, Catch::Contains(p.to_string()));
    }
  }
}

TEST_CASE("config: every problem is reported at once", "[core][config]") {
  netpulse::test::TempDir dir;
  auto path = write_file(dir,
                         "[http]\n"
                         "listen = \"nowhere\"\n"     // 2: bad address
                         "max_connections = \"a\"\n"  // 3: wrong type
                         "colour = \"blue\"\n"        // 4: unknown key
                         "[log]\n"
                         "level = \"loud\"\n"  // 6: bad value
                         "[workers]\n"
                         "threads = 0\n");  // 8: out of range
  Environment env = {{"NETPULSE_DATABASE_MAX_BATCH", "lots"}};
  auto problems = check_config(path, env);
  std::vector<std::string> keys;
  for (auto& p : problems) keys.push_back(p.key);
  CHECK_THAT(keys, Catch::UnorderedEquals(std::vector<std::string>{
                       "http.listen", "http.max_connections", "http.colour", "log.level",
                       "workers.threads", "database.max_batch"}));

  auto loaded = load_config(path, env);
  REQUIRE_FALSE(loaded);
  const auto& listed = loaded.error().details.at("problems").as_array();
  CHECK(listed.size() == problems.size());
}

TEST_CASE("config: environment variables override each type of setting", "[core][config]") {
  Environment env = {
      {"NETPULSE_HTTP_LISTEN", "0.0.0.0:80"},                     // string
      {"NETPULSE_HTTP_MAX_CONNECTIONS", "42"},                    // integer
      {"NETPULSE_HTTP_RATE_LIMIT_PER_IP_RPS", "2.5"},             // number
      {"NETPULSE_HTTP_TLS_ENABLED", "true"},                      // boolean
      {"NETPULSE_HTTP_TLS_CERT_FILE", "/etc/c.pem"},              // nested section
      {"NETPULSE_HTTP_TLS_KEY_FILE", "/etc/k.pem"},               //
      {"NETPULSE_HTTP_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2,,"},  // array
      {"NETPULSE_HTTP_CORS_ALLOWED_ORIGINS", ""},                 // empty array
      {"NETPULSE_LOG_ACCESS_LOG", "0"},                           //
      {"HOME", "/root"},                                          // not ours
  };
  netpulse::test::TempDir dir;
  auto path = write_file(dir, "[http]\nlisten = \"127.0.0.1:1\"\nmax_connections = 7\n");
  auto config = load_config(path, env);
  REQUIRE(config);
  CHECK(config->http.listen_host == "0.0.0.0");
  CHECK(config->http.listen_port == 80);
  CHECK(config->http.max_connections == 42);
  CHECK(config->http.rate_limit.per_ip_rps == 2.5);
  CHECK(config->http.tls.enabled);
  CHECK(config->http.tls.cert_file == "/etc/c.pem");
  CHECK(config->http.trusted_proxies == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  CHECK(config->http.cors_allowed_origins.empty());
  CHECK_FALSE(config->log.access_log);
  CHECK(config->warnings.empty());
}

TEST_CASE("config: a bad environment value names the variable", "[core][config]") {
  struct Case {
    std::string name;
    std::string value;
    std::string key;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"NETPULSE_HTTP_MAX_CONNECTIONS", "12x", "http.max_connections", "must be an integer"},
      {"NETPULSE_HTTP_MAX_CONNECTIONS", "", "http.max_connections", "must be an integer"},
      {"NETPULSE_HTTP_RATE_LIMIT_PER_IP_RPS", "fast", "http.rate_limit.per_ip_rps",
       "must be a number"},
      {"NETPULSE_HTTP_RATE_LIMIT_PER_IP_RPS", "inf", "http.rate_limit.per_ip_rps",
       "must be a number"},
      {"NETPULSE_LOG_ACCESS_LOG", "maybe", "log.access_log", "must be true or false"},
      {"NETPULSE_WORKERS_THREADS", "0", "workers.threads", "must be between 1 and 64"},
      {"NETPULSE_HTTP_LISTEN", "127.0.0.1:99999", "http.listen", "must be an IP address and port"},
  };
  for (const auto& c : cases) {
    SECTION(c.name + "=" + c.value) {
      auto p = only_problem(check_config(std::nullopt, {{c.name, c.value}}));
      CHECK(p.key == c.key);
      CHECK(p.line == 0);
      CHECK_THAT(p.source, Catch::StartsWith("environment"));
      CHECK_THAT(p.message, Catch::Contains(c.message_part));
      if (c.message_part.rfind("must be between", 0) != 0 && c.key != "http.listen") {
        CHECK_THAT(p.message, Catch::Contains(c.name));
      }
    }
  }
}

TEST_CASE("config: an unknown NETPULSE_ variable is a warning, not an error", "[core][config]") {
  Environment env = {{"NETPULSE_HTTP_LISTN", "0.0.0.0:80"}, {"NETPULSE_ADMIN_EMAIL", "a@b.c"}};
  std::vector<std::string> warnings;
  CHECK(check_config(std::nullopt, env, &warnings).empty());
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("NETPULSE_HTTP_LISTN"));
  auto config = load_config(std::nullopt, env);
  REQUIRE(config);
  CHECK(config->warnings == warnings);
  CHECK(config->http.listen_port == 8080);
}

TEST_CASE("config: a missing file is a problem naming it", "[core][config]") {
  netpulse::test::TempDir dir;
  auto path = dir.file("absent.toml");
  auto problems = check_config(path, {});
  REQUIRE_FALSE(problems.empty());
  CHECK(problems.front().source == path);
}

TEST_CASE("config: parse_listen_address accepts ip:port and [v6]:port only", "[core][config]") {
  struct Case {
    const char* text;
    bool ok;
    const char* host;
    std::uint16_t port;
  };
  const Case cases[] = {
      {"127.0.0.1:8080", true, "127.0.0.1", 8080},
      {"0.0.0.0:80", true, "0.0.0.0", 80},
      {"127.0.0.1:65535", true, "127.0.0.1", 65535},
      {"localhost:8080", false, "", 0},
      {"999.1.1.1:80", false, "", 0},
      {"[::1]:8080", true, "::1", 8080},
      {"[::]:443", true, "::", 443},
      {"[fe80::1%eth0]:22", true, "fe80::1%eth0", 22},
      {"127.0.0.1:0", true, "127.0.0.1", 0},
      {"127.0.0.1:65536", false, "", 0},
      {"127.0.0.1:-1", false, "", 0},
      {"127.0.0.1:80x", false, "", 0},
      {"127.0.0.1:", false, "", 0},
      {":8080", false, "", 0},
      {"127.0.0.1", false, "", 0},
      {"::1:8080", false, "", 0},
      {"[::1]8080", false, "", 0},
      {"[::1]:", false, "", 0},
      {"[::1", false, "", 0},
      {"", false, "", 0},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    std::string host = "unchanged";
    std::uint16_t port = 1;
    CHECK(netpulse::core::parse_listen_address(c.text, host, port) == c.ok);
    if (c.ok) {
      CHECK(host == c.host);
      CHECK(port == c.port);
    } else {
      CHECK(host == "unchanged");
    }
  }
}

TEST_CASE("config: the embedded default text is the documented file", "[core][config]") {
  auto text = netpulse::core::default_config_text();
  CHECK_THAT(std::string(text), Catch::Contains("[database]"));
  CHECK_THAT(std::string(text), Catch::Contains("listen = \"127.0.0.1:8080\""));
}

TEST_CASE("config: hostile and oversized files are refused with a clear reason", "[core][config]") {
  netpulse::test::TempDir dir;
  struct Case {
    const char* what;
    std::string text;
    const char* expect;  // in the problem's message
  };
  std::string nested = "a = " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  std::vector<Case> cases = {
      {"binary garbage", std::string("\x7f\x45\x4c\x46\x02\x01\x01\xff\xfe", 9), "not valid TOML"},
      {"NUL bytes", std::string("[http]\nlisten = \"a\0b\"\n", 22), "NUL"},
      {"over 1 MiB", "# " + std::string(1 << 20, 'x') + "\n", "at most 1048576 bytes"},
      {"deeply nested arrays", nested, ""},
      {"a 100 KB string value", "[http]\nlisten = \"" + std::string(100000, 'h') + ":80\"\n",
       "http.listen"},
      {"duplicate keys", "[http]\nlisten = \"127.0.0.1:1\"\nlisten = \"127.0.0.1:2\"\n",
       "not valid TOML"},
      {"unterminated string", "[http]\nlisten = \"127.0.0.1:1\n", "not valid TOML"},
      {"invalid UTF-8", "[log]\nlevel = \"\xff\xfe\"\n", "not valid TOML"},
  };
  for (auto& c : cases) {
    INFO(c.what);
    auto path = write_file(dir, c.text);
    auto problems = check_config(path, {});
    REQUIRE_FALSE(problems.empty());
    std::string all;
    for (auto& p : problems) all += p.to_string() + "\n";
    INFO(all);
    CHECK(all.find(c.expect) != std::string::npos);
    CHECK(problems.front().source == path);
  }

  // A directory where a file should be.
  auto problems = check_config(dir.path(), {});
  REQUIRE(problems.size() == 1);
  CHECK(problems.front().message == "not a regular file");
}

TEST_CASE("config: audit retention and the API key lifetime default to a year; 0 turns them off",
          "[core][config]") {
  auto defaults = load_config(std::nullopt, {});
  REQUIRE(defaults);
  CHECK(defaults->auth.audit_retention_days == 365);
  CHECK(defaults->auth.api_key_default_ttl_days == 365);
  auto off = load_config(std::nullopt, {{"NETPULSE_AUTH_AUDIT_RETENTION_DAYS", "0"},
                                        {"NETPULSE_AUTH_API_KEY_DEFAULT_TTL_DAYS", "0"}});
  REQUIRE(off);
  CHECK(off->auth.audit_retention_days == 0);
  CHECK(off->auth.api_key_default_ttl_days == 0);
  netpulse::test::TempDir dir;
  auto path =
      write_file(dir, "[auth]\naudit_retention_days = -1\napi_key_default_ttl_days = 4000\n");
  auto problems = check_config(path, {});
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].key == "auth.audit_retention_days");
  CHECK(problems[1].key == "auth.api_key_default_ttl_days");
}
