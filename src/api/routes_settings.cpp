// The server's settings (Admin → Settings, docs/settings.md), for system administrators:
// GET /api/v1/settings lists every key of the config with its value in effect, where that came
// from, the value saved here if any, and whether the key may be changed here; PATCH saves or
// takes back some keys (JSON merge-patch: null takes a saved value back). A change is checked with
// the whole config as the next start would load it, saved in one transaction, then applied at
// once for the keys that allow it; the others wait for a restart, which the answer says.
// Secrets (the SMTP password, the /metrics token, trap communities) are never shown: only set
// or not. Loading the config again runs on the worker pool; the answer is made on the loop.

#include <functional>
#include <memory>

#include <fmt/format.h>

#include <netpulse/core/config.hpp>
#include <netpulse/db/settings.hpp>

#include "detail/handler.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

constexpr std::size_t kMaxChangesPerRequest = 100;

core::SavedSettings saved_values(const db::SavedSettingRows& rows) {
  core::SavedSettings out;
  for (auto& [key, row] : rows) out[key] = row.value;
  return out;
}

boost::json::value shown(const core::SettingInfo& info, const boost::json::value& v) {
  return info.secret ? boost::json::value(nullptr) : v;
}

bool is_set(const boost::json::value& v) {
  if (v.is_string()) return !v.as_string().empty();
  if (v.is_array()) return !v.as_array().empty();
  return !v.is_null();
}

boost::json::object settings_json(const RouteDeps::Settings& s, const core::SettingsReport& report,
                                  const db::SavedSettingRows& rows) {
  boost::json::array list;
  bool restart_required = false;
  for (auto& st : report.settings) {
    const auto& info = *st.info;
    boost::json::object o{{"key", info.key},
                          {"section", info.section},
                          {"type", info.type},
                          {"description", info.description},
                          {"apply", core::setting_apply_name(info.apply)},
                          {"secret", info.secret}};
    if (!info.choices.empty()) {
      boost::json::array choices;
      for (auto& c : info.choices) choices.emplace_back(c);
      o["choices"] = std::move(choices);
    }
    auto running = s.running.find(info.key);
    const boost::json::value& now = running != s.running.end() ? running->second : st.value;
    o["value"] = shown(info, now);
    o["base"] = shown(info, st.base);
    o["base_source"] = st.base_source;
    if (info.secret) {
      o["set"] = is_set(now);
      o["base_set"] = is_set(st.base);
    }
    if (auto row = rows.find(info.key); row != rows.end() && st.saved) {
      boost::json::object saved{{"value", shown(info, *st.saved)},
                                {"updated_by", row->second.updated_by},
                                {"updated_at", row->second.updated_at}};
      // A saved value the server leaves out (refused since an upgrade, or by a file edited
      // since): in the database still, not in effect.
      if (!st.saved_problem.empty()) saved["problem"] = st.saved_problem;
      o["saved"] = std::move(saved);
    } else {
      o["saved"] = nullptr;
    }
    // What the next start would load differs from what runs: a saved change waiting for a
    // restart, or the config file edited since the start.
    const bool pending = st.value != now;
    o["pending_restart"] = pending;
    if (pending && !info.secret) o["next"] = st.value;
    restart_required = restart_required || pending;
    list.push_back(std::move(o));
  }
  boost::json::object out{{"settings", std::move(list)},
                          {"restart_required", restart_required},
                          {"config_file", s.config_file ? boost::json::value(*s.config_file)
                                                        : boost::json::value(nullptr)}};
  // The file or the environment as they are now do not load (edited since the start): say so,
  // since the next start would fail.
  boost::json::array problems;
  for (auto& p : report.problems) problems.emplace_back(p.to_string());
  out["problems"] = std::move(problems);
  // Saved settings left out, those of keys this version does not have among them (PATCH with
  // null deletes them).
  boost::json::array ignored;
  for (auto& p : report.ignored) ignored.push_back({{"key", p.key}, {"reason", p.message}});
  out["ignored"] = std::move(ignored);
  return out;
}

// Reading the config file and loading it again with the saved settings (parsing the defaults,
// checking every key) takes about a millisecond: it runs on the worker pool, and the answer is
// made back on the loop, which alone reads and writes RouteDeps::Settings::running.
struct Where {
  db::Database& db;
  core::WorkerPool* workers;
  boost::asio::any_io_executor loop;
};

template <class R>
void off_loop(const Where& w, const ContextPtr& ctx, std::function<R()> work,
              std::function<void(R)> then) {
  if (!w.workers) return then(work());
  if (auto r = w.workers->run<R>(std::move(work), w.loop, std::move(then)); !r) {
    ctx->reply_error(r.error());
  }
}

struct Loaded {
  std::optional<core::Error> error;
  db::SavedSettingRows rows;
  core::SettingsReport report;
};

void reply_settings(const ContextPtr& ctx, const RouteDeps::Settings& s, const Where& w) {
  off_loop<std::shared_ptr<Loaded>>(
      w, ctx,
      [&db = w.db, file = s.config_file, env = s.environment] {
        auto out = std::make_shared<Loaded>();
        auto rows = db::load_saved_settings(db);
        if (!rows) {
          out->error = std::move(rows).error();
          return out;
        }
        out->rows = std::move(*rows);
        out->report = core::settings_report(file, env, saved_values(out->rows));
        return out;
      },
      [ctx, &s](std::shared_ptr<Loaded> l) {
        if (l->error) return ctx->reply_error(*l->error);
        ctx->reply_data(settings_json(s, l->report, l->rows));
      });
}

// A PATCH checked: the rows to write (a value, or none to delete), and the config and settings
// as the next start will load them.
struct Checked {
  std::optional<core::Error> error;
  std::map<std::string, std::optional<std::string>> changes;
  core::SettingsReport report;
};

std::shared_ptr<Checked> check_patch(db::Database& db, const boost::json::object& body,
                                     const std::optional<std::string>& file,
                                     const core::Environment& env) {
  auto out = std::make_shared<Checked>();
  auto fail = [&](core::Error e) {
    out->error = std::move(e);
    return out;
  };
  if (body.empty()) return fail(core::invalid_field("body", "names no setting"));
  if (body.size() > kMaxChangesPerRequest) {
    return fail(core::invalid_field(
        "body", fmt::format("changes at most {} settings at once", kMaxChangesPerRequest)));
  }
  auto rows = db::load_saved_settings(db);
  if (!rows) return fail(std::move(rows).error());
  auto& changes = out->changes;
  for (auto& [k, v] : body) {
    std::string key(k);
    const auto* info = core::find_setting(key);
    if (!info && v.is_null() && rows->count(key)) {
      changes[key] = std::nullopt;  // a saved key of an older version: deleted
      continue;
    }
    if (!info) return fail(core::invalid_field(key, "is not a setting"));
    if (v.is_null()) {
      if (info->apply == core::SettingApply::kFileOnly) {
        return fail(core::invalid_field(key, "is set in the config file or the environment only"));
      }
      changes[key] = std::nullopt;
      continue;
    }
    auto text = core::saved_setting_text(*info, v);
    if (!text) return fail(text.error());
    changes[key] = std::move(*text);
  }
  // The saved settings in effect, changed: saved ones already left out do not count against it.
  auto next = core::settings_report(file, env, saved_values(*rows)).kept;
  for (auto& [key, value] : changes) {
    if (value) {
      next[key] = *value;
    } else {
      next.erase(key);
    }
  }
  if (auto problems = core::saved_settings_problems(file, env, next); !problems.empty()) {
    // The first names the field; all are listed (a relay host without a sender names both).
    auto error = core::invalid_field(problems.front().key, problems.front().message);
    boost::json::array list;
    for (auto& p : problems) list.push_back({{"field", p.key}, {"reason", p.message}});
    error.details["problems"] = std::move(list);
    return fail(std::move(error));
  }
  out->report = core::settings_report(file, env, next);
  return out;
}

void patch_settings(const ContextPtr& ctx, RouteDeps::Settings& s, const Where& w,
                    std::int64_t now_s) {
  off_loop<std::shared_ptr<Checked>>(
      w, ctx,
      [&db = w.db, body = ctx->body(), file = s.config_file, env = s.environment] {
        return check_patch(db, body, file, env);
      },
      [ctx, &s, w, now_s](std::shared_ptr<Checked> checked) {
        if (checked->error) return ctx->reply_error(*checked->error);
        std::string target = "settings";
        for (auto& [key, value] : checked->changes) {
          target += (target == "settings" ? " " : ",") + key;
        }
        ctx->set_audit_target(std::move(target));
        db::save_settings(w.db, checked->changes, ctx->principal().actor, now_s, w.loop,
                          [ctx, &s, w, checked](core::Result<void> r) {
                            if (!r) return ctx->reply_error(r.error());
                            // The live keys changed take effect now, and run from here on.
                            bool live = false;
                            for (auto& st : checked->report.settings) {
                              if (st.info->apply != core::SettingApply::kLive) continue;
                              if (!checked->changes.count(st.info->key)) continue;
                              s.running[st.info->key] = st.value;
                              live = true;
                            }
                            if (live && s.apply_live) s.apply_live(checked->report.config);
                            reply_settings(ctx, s, w);
                          });
      });
}

boost::json::object settings_patch_schema() {
  return {{"type", "object"},
          {"description",
           "Dotted setting keys, each with a value of its type, or null to take a saved value "
           "back (JSON merge-patch)."},
          {"additionalProperties", true}};
}

}  // namespace

void register_settings_routes(Router& router, const RouteDeps& deps) {
  using http::verb;
  auto& s = *deps.settings;
  const Where where{deps.db, deps.workers, deps.loop};
  router.add(make_route(verb::get, "/api/v1/settings", Permission::kSettingsAdmin,
                        "The server's settings (system administrators): every key with its value "
                        "in effect, its source, the value saved here and when it applies.",
                        "settings",
                        [&s, where](ContextPtr ctx) { reply_settings(ctx, s, where); }));
  auto patch = make_route(
      verb::patch, "/api/v1/settings", Permission::kSettingsAdmin,
      "Save settings or take saved ones back (system administrators). Checked with the whole "
      "config; live keys apply at once, the others at the next start.",
      "settings",
      [&s, where, &clock = deps.clock](ContextPtr ctx) {
        patch_settings(ctx, s, where, clock.unix_seconds());
      },
      Body::kJson);
  patch.doc.request_schema = settings_patch_schema();
  router.add(std::move(patch));
}

}  // namespace netpulse::api::detail
