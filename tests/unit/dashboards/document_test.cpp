// parse_dashboard: a dashboard body checked field by field and normalized; the default dashboard
// passes its own checks; every refusal names its field.
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/core/json.hpp>
#include <netpulse/dashboards/dashboards.hpp>

#include "dashboards/detail/store_impl.hpp"

using namespace netpulse;

namespace {

core::Result<dashboards::DashboardInput> parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = core::parse_json(text, ec);
  REQUIRE_FALSE(ec);
  return dashboards::parse_dashboard(v);
}

std::string field_of(const core::Error& e) {
  const auto* f = e.details.if_contains("field");
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

}  // namespace

TEST_CASE("dashboards: the default dashboard passes the checks it is stored with", "[dashboards]") {
  const auto d = dashboards::detail::default_dashboard();
  CHECK(d.name == "Network overview");
  CHECK(d.is_default);
  CHECK(d.time_range == "6h");
  REQUIRE(d.panels.size() == 7);
  std::vector<std::string> kinds;
  for (const auto& p : d.panels) kinds.emplace_back(p.at("kind").as_string());
  CHECK(kinds == std::vector<std::string>{"status", "stat", "gauge", "timeseries", "timeseries",
                                          "topn", "topn"});
  // Round trip: what is stored parses again to the same panels.
  boost::json::object body{{"name", d.name}, {"panels", d.panels}};
  auto again = dashboards::parse_dashboard(body);
  REQUIRE(again);
  CHECK(again->panels == d.panels);
}

TEST_CASE("dashboards: a panel's missing fields get their defaults", "[dashboards]") {
  auto d = parse(R"({"name":"Core","panels":[
      {"kind":"timeseries","x":0,"y":0,"query":{"selector":"icmp_rtt_avg_ms{host=\"r1\"}"}},
      {"kind":"status","x":6,"y":0,"devices":{"group":"core"}}]})");
  REQUIRE(d);
  CHECK(d->time_range == "6h");
  CHECK_FALSE(d->is_default);
  CHECK_FALSE(d->version);
  REQUIRE(d->panels.size() == 2);
  const auto& p = d->panels[0].as_object();
  CHECK(p.at("id") == "p1");
  CHECK(p.at("title") == "");
  CHECK(p.at("w") == 6);
  CHECK(p.at("h") == 4);
  CHECK(p.at("unit") == "");
  CHECK(p.at("min").is_null());
  CHECK(p.at("thresholds").as_array().empty());
  CHECK(p.at("devices").is_null());
  const auto& q = p.at("query").as_object();
  CHECK(q.at("selector") == "icmp_rtt_avg_ms{host=\"r1\"}");
  CHECK(q.at("fn").is_null());
  CHECK(q.at("by").as_array().empty());
  CHECK(q.at("scale").to_number<double>() == 1);
  const auto& s = d->panels[1].as_object();
  CHECK(s.at("id") == "p2");
  CHECK(s.at("query").is_null());
  CHECK(s.at("devices").at("group") == "core");
  CHECK(s.at("devices").at("tag").is_null());
}

TEST_CASE("dashboards: thresholds are kept in order of value", "[dashboards]") {
  auto d = parse(R"({"name":"T","panels":[{"kind":"stat","x":0,"y":0,
      "query":{"selector":"cpu"},"thresholds":[{"value":90,"severity":"critical"},
      {"value":70,"severity":"warning"}]}]})");
  REQUIRE(d);
  const auto& t = d->panels[0].at("thresholds").as_array();
  REQUIRE(t.size() == 2);
  CHECK(t[0].at("severity") == "warning");
  CHECK(t[1].at("severity") == "critical");
}

TEST_CASE("dashboards: every refusal names its field", "[dashboards]") {
  const std::string panel = R"("kind":"stat","x":0,"y":0,"query":{"selector":"cpu"})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([])", "body"},
      {R"({})", "name"},
      {R"({"name":"   "})", "name"},
      {R"({"name":")" + std::string(101, 'n') + R"("})", "name"},
      {R"({"name":"a","colour":"red"})", "colour"},
      {R"({"name":"a","time_range":"5y"})", "time_range"},
      {R"({"name":"a","version":0})", "version"},
      {R"({"name":"a","is_default":"yes"})", "is_default"},
      {R"({"name":"a","panels":{}})", "panels"},
      {R"({"name":"a","panels":[3]})", "panels[0]"},
      {R"({"name":"a","panels":[{"kind":"pie","x":0,"y":0}]})", "panels[0].kind"},
      {R"({"name":"a","panels":[{"kind":"stat","y":0,"query":{"selector":"cpu"}}]})",
       "panels[0].x"},
      {R"({"name":"a","panels":[{"kind":"stat","x":12,"y":0,"query":{"selector":"cpu"}}]})",
       "panels[0].x"},
      {R"({"name":"a","panels":[{"kind":"stat","x":8,"y":0,"w":6,"query":{"selector":"cpu"}}]})",
       "panels[0].w"},
      {R"({"name":"a","panels":[{"kind":"stat","x":0,"y":0,"h":25,"query":{"selector":"cpu"}}]})",
       "panels[0].h"},
      {R"({"name":"a","panels":[{"kind":"stat","x":0,"y":0}]})", "panels[0].query"},
      {R"({"name":"a","panels":[{"kind":"stat","x":0,"y":0,"query":{"selector":"cpu{"}}]})",
       "panels[0].query.selector"},
      {R"({"name":"a","panels":[{"kind":"stat","x":0,"y":0,"query":{"selector":"cpu","fn":"deriv"}}]})",
       "panels[0].query.fn"},
      {R"({"name":"a","panels":[{"kind":"stat","x":0,"y":0,"query":{"selector":"cpu","agg":"median"}}]})",
       "panels[0].query.agg"},
      {R"({"name":"a","panels":[{"kind":"stat","x":0,"y":0,"query":{"selector":"cpu","by":["a b"]}}]})",
       "panels[0].query.by"},
      {R"({"name":"a","panels":[{"kind":"stat","x":0,"y":0,"query":{"selector":"cpu","topk":0}}]})",
       "panels[0].query.topk"},
      {R"({"name":"a","panels":[{"kind":"stat","x":0,"y":0,"query":{"selector":"cpu","scale":0}}]})",
       "panels[0].query.scale"},
      {R"({"name":"a","panels":[{"kind":"stat","x":0,"y":0,"query":{"selector":"cpu","sql":"x"}}]})",
       "panels[0].query.sql"},
      {R"({"name":"a","panels":[{)" + panel + R"(,"devices":{"group":"g"}}]})",
       "panels[0].devices"},
      {R"({"name":"a","panels":[{)" + panel + R"(,"unit":"furlongs"}]})", "panels[0].unit"},
      {R"({"name":"a","panels":[{)" + panel + R"(,"min":5,"max":5}]})", "panels[0].max"},
      {R"({"name":"a","panels":[{)" + panel + R"(,"thresholds":[{"value":1}]}]})",
       "panels[0].thresholds[0].severity"},
      {R"({"name":"a","panels":[{)" + panel + R"(,"id":"bad id"}]})", "panels[0].id"},
      {R"({"name":"a","panels":[{)" + panel +
           R"(,"id":"x"},{"id":"x","kind":"stat","x":6,"y":0,"query":{"selector":"cpu"}}]})",
       "panels[1].id"},
      {R"({"name":"a","panels":[{)" + panel +
           R"(},{"kind":"stat","x":3,"y":2,"query":{"selector":"cpu"}}]})",
       "panels[1]"},
  };
  for (const auto& [body, field] : cases) {
    INFO(body);
    auto r = parse(body);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kInvalidInput);
    CHECK(field_of(r.error()) == field);
  }
  // 49 panels: one too many.
  std::string many = R"({"name":"a","panels":[)";
  for (int i = 0; i < 49; ++i) {
    if (i) many += ",";
    many +=
        R"({"kind":"stat","x":0,"y":)" + std::to_string(i * 4) + R"(,"query":{"selector":"cpu"}})";
  }
  many += "]}";
  auto r = parse(many);
  REQUIRE_FALSE(r);
  CHECK(field_of(r.error()) == "panels");
}

TEST_CASE("dashboards: the fields a GET shows are accepted back and ignored", "[dashboards]") {
  auto d = parse(R"({"id":4,"org_id":9,"name":"Edge","created_by":"x","updated_by":"y",
      "created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","version":3,
      "is_default":true,"time_range":"24h","panels":[]})");
  REQUIRE(d);
  CHECK(d->name == "Edge");
  CHECK(d->version == 3);
  CHECK(d->is_default);
  CHECK(d->time_range == "24h");
}
