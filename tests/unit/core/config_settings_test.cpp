// Settings saved from the web UI (core/config.hpp): the catalog of every key with its type,
// description and when it applies; saved values put over the file and the environment with the
// file's checks; start-up leaving out a saved value that no longer passes; the problems a change
// brings, and only those.
#include <fstream>
#include <set>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/config.hpp>

#include "support/temp_dir.hpp"

using netpulse::core::Environment;
using netpulse::core::find_setting;
using netpulse::core::load_config_with_saved;
using netpulse::core::saved_setting_text;
using netpulse::core::saved_settings_problems;
using netpulse::core::SavedSettings;
using netpulse::core::setting_catalog;
using netpulse::core::SettingApply;
using netpulse::core::settings_report;

namespace {

const netpulse::core::SettingState& state(const netpulse::core::SettingsReport& r,
                                          std::string_view key) {
  for (auto& s : r.settings) {
    if (s.info->key == key) return s;
  }
  FAIL("no setting " << key);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("settings: the catalog lists every key in the file's order with its description",
          "[core][config][settings]") {
  const auto& all = setting_catalog();
  REQUIRE(all.size() > 100);
  CHECK(all.front().key == "http.listen");
  CHECK(all.front().section == "http");
  CHECK(all.front().type == "string");
  CHECK(all.front().description.find("Address and port to listen on") == 0);
  CHECK(all.front().apply == SettingApply::kFileOnly);

  const auto* host = find_setting("notify.smtp.host");
  REQUIRE(host);
  CHECK(host->apply == SettingApply::kLive);
  CHECK(host->section == "notify.smtp");
  CHECK(host->description.find("SMTP relay") != std::string::npos);
  // A key without a comment of its own shares the one above it.
  const auto* key_file = find_setting("http.tls.key_file");
  REQUIRE(key_file);
  CHECK(key_file->description.find("PEM certificate chain") == 0);

  CHECK(find_setting("notify.smtp.password")->secret);
  CHECK(find_setting("http.metrics_token")->secret);
  CHECK_FALSE(find_setting("notify.smtp.from")->secret);
  CHECK(find_setting("pollers.down_after")->apply == SettingApply::kRestart);
  CHECK(find_setting("pollers.down_after")->type == "integer");
  CHECK(find_setting("http.rate_limit.per_ip_rps")->type == "number");
  CHECK(find_setting("http.cors_allowed_origins")->type == "list");
  CHECK(find_setting("log.level")->choices.size() == 6);
  // What decides where the server listens, keeps data and may connect stays in the file.
  for (auto key : {"http.listen", "http.tls.enabled", "storage.data_dir", "database.synchronous",
                   "network.outbound_deny", "pollers.checks_ca_file", "notify.smtp.ca_file",
                   "workers.threads"}) {
    INFO(key);
    REQUIRE(find_setting(key));
    CHECK(find_setting(key)->apply == SettingApply::kFileOnly);
  }
  CHECK_FALSE(find_setting("http.nope"));
  // Every key of the schema, once.
  std::set<std::string> keys;
  for (auto& s : all) CHECK(keys.insert(s.key).second);
}

TEST_CASE("settings: a JSON value must fit the key's type to be saved",
          "[core][config][settings]") {
  auto text = [](const char* key, const char* json) {
    return saved_setting_text(*find_setting(key), boost::json::parse(json));
  };
  CHECK(*text("pollers.down_after", "5") == "5");
  CHECK(*text("notify.smtp.host", R"("smtp.example.net")") == R"("smtp.example.net")");
  CHECK(*text("http.rate_limit.per_ip_rps", "12") == "12");
  CHECK(*text("http.rate_limit.per_ip_rps", "12.5") == "12.5");
  CHECK(*text("http.cors_allowed_origins", R"(["https://a.example"])") ==
        R"(["https://a.example"])");
  CHECK(*text("log.access_log", "false") == "false");

  auto refused = [&](const char* key, const char* json, std::string_view why) {
    auto r = text(key, json);
    INFO(key << " = " << json);
    REQUIRE_FALSE(r);
    CHECK(r.error().details.at("field").as_string() == key);
    CHECK(r.error().message.find(why) != std::string::npos);
  };
  refused("pollers.down_after", R"("5")", "whole number");
  refused("pollers.down_after", "5.5", "whole number");
  refused("pollers.down_after", "18446744073709551615", "too large");
  refused("notify.smtp.host", "5", "must be a string");
  refused("notify.smtp.host", std::string(R"(")" + std::string(3000, 'a') + R"(")").c_str(),
          "at most 2048 bytes");
  refused("log.access_log", R"("yes")", "true or false");
  refused("http.cors_allowed_origins", R"(["a", 1])", "list of strings");
  refused("http.cors_allowed_origins", R"({"a": 1})", "list of strings");
  refused("storage.data_dir", R"("/tmp")", "config file or the environment only");
  refused("http.listen", R"("0.0.0.0:80")", "config file or the environment only");
}

TEST_CASE("settings: saved values win over the file and the environment",
          "[core][config][settings]") {
  netpulse::test::TempDir dir;
  auto path = dir.file("netpulse.toml");
  std::ofstream(path) << "[pollers]\ndown_after = 4\n[notify.smtp]\nport = 2525\n";
  Environment env{{"NETPULSE_LOG_LEVEL", "warn"}};
  SavedSettings saved{{"pollers.down_after", "7"}, {"log.level", R"("debug")"}};
  auto r = settings_report(path, env, saved);
  CHECK(r.problems.empty());
  CHECK(r.ignored.empty());
  CHECK(r.config.pollers.down_after == 7);
  CHECK(r.config.log.level == "debug");
  CHECK(r.config.notify.smtp_port == 2525);

  const auto& down = state(r, "pollers.down_after");
  CHECK(down.value == 7);
  CHECK(down.base == 4);
  CHECK(down.base_source == "file");
  REQUIRE(down.saved);
  CHECK(*down.saved == 7);
  const auto& level = state(r, "log.level");
  CHECK(level.base == "warn");
  CHECK(level.base_source == "environment");
  const auto& listen = state(r, "http.listen");
  CHECK(listen.base_source == "default");
  CHECK_FALSE(listen.saved);

  // The start-up load with the same saved settings gives the same config.
  auto c = load_config_with_saved(path, env, saved);
  REQUIRE(c);
  CHECK(c->ignored.empty());
  CHECK(c->config.pollers.down_after == 7);
}

TEST_CASE("settings: a saved value that no longer passes is left out, never stopping a start",
          "[core][config][settings]") {
  SavedSettings saved{{"pollers.gone", "1"},                // a key of an older version
                      {"pollers.up_after", R"("two")"},     // the wrong type
                      {"auth.throttle_base_s", "0"},        // out of range
                      {"storage.data_dir", R"("/tmp/x")"},  // not editable
                      {"pollers.down_after", "{"},          // not JSON
                      {"pollers.flap_up_after", "9"}};      // fine
  auto c = load_config_with_saved(std::nullopt, {}, saved);
  REQUIRE(c);
  CHECK(c->config.pollers.flap_up_after == 9);
  CHECK(c->config.pollers.up_after == 1);
  CHECK(c->config.auth.throttle_base_s == 1);
  CHECK(c->config.storage.data_dir == "var");
  std::map<std::string, std::string> why;
  for (auto& p : c->ignored) why[p.key] = p.message;
  CHECK(why.size() == 5);
  CHECK(why["pollers.gone"] == "is not a setting of this version");
  CHECK(why["pollers.up_after"] == "must be a whole number");
  CHECK(why["auth.throttle_base_s"] == "must be between 1 and 3600, not 0");
  CHECK(why["storage.data_dir"].find("config file") != std::string::npos);
  CHECK(why["pollers.down_after"].find("not valid JSON") != std::string::npos);

  auto r = settings_report(std::nullopt, {}, saved);
  CHECK(r.kept == SavedSettings{{"pollers.flap_up_after", "9"}});
  CHECK(state(r, "auth.throttle_base_s").saved_problem == "must be between 1 and 3600, not 0");
  CHECK(state(r, "pollers.flap_up_after").saved_problem.empty());

  // Saved values that fail only together (a relay host without a sender) are all left out.
  SavedSettings pair{{"notify.smtp.host", R"("127.0.0.1")"}, {"log.level", R"("debug")"}};
  c = load_config_with_saved(std::nullopt, {}, pair);
  REQUIRE(c);
  CHECK(c->config.notify.smtp_host.empty());
  CHECK(c->config.log.level == "info");
  CHECK(c->ignored.size() == 2);
  CHECK(c->kept.empty());

  // The file itself must still load: a saved setting cannot make up for it.
  CHECK_FALSE(load_config_with_saved(std::nullopt, {{"NETPULSE_POLLERS_DOWN_AFTER", "0"}},
                                     {{"pollers.down_after", "3"}}));
}

TEST_CASE("settings: a change is refused for the problems it brings, not the file's",
          "[core][config][settings]") {
  auto problems = saved_settings_problems(std::nullopt, {}, {{"notify.smtp.host", R"("h")"}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].key == "notify.smtp.from");
  CHECK(problems[0].message.find("required when notify.smtp.host is set") != std::string::npos);
  CHECK(saved_settings_problems(std::nullopt, {},
                                {{"notify.smtp.host", R"("h")"}, {"notify.smtp.from", R"("a@b")"}})
            .empty());
  problems = saved_settings_problems(std::nullopt, {}, {{"pollers.down_after", "0"}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].key == "pollers.down_after");
  CHECK(problems[0].source == "settings");
  // A problem the environment has already is not the change's.
  Environment broken{{"NETPULSE_AUTH_THROTTLE_MAX_S", "0"}};
  CHECK(saved_settings_problems(std::nullopt, broken, {{"pollers.down_after", "5"}}).empty());
}
