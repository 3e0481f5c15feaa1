// Fuzz target: the settings saved from the web UI (core/config.hpp). The input is a PATCH
// /api/v1/settings body; each key the catalog has goes through saved_setting_text (the route's
// per-key check), the raw text of every member is also put in as a saved value (what a database
// edited by hand may hold), and settings_report loads them over the defaults as a start would.
// Properties: nothing crashes; a value saved_setting_text accepts is JSON of the key's type that
// apply_saved takes without a type problem; settings_report keeps only saved keys, lists every
// key of the catalog, and whatever it leaves out it names.
#include <boost/json.hpp>

#include <netpulse/core/config.hpp>
#include <netpulse/core/json.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(settings) {
  const auto text = fuzz::as_text(data, size);
  boost::system::error_code ec;
  auto body = core::parse_json(text, ec);
  if (ec || !body.is_object()) return 0;
  core::SavedSettings accepted, raw;
  for (auto& [k, v] : body.as_object()) {
    std::string key(k);
    raw[key] = core::to_json_text(v);
    const auto* info = core::find_setting(key);
    if (!info) continue;
    auto saved = core::saved_setting_text(*info, v);
    if (!saved) {
      if (!saved.error().details.contains("field")) fuzz::fail("a refusal without its field");
      continue;
    }
    if (info->apply == core::SettingApply::kFileOnly) fuzz::fail("a file-only key accepted");
    accepted[key] = *saved;
  }
  for (const auto* saved : {&accepted, &raw}) {
    auto report = core::settings_report(std::nullopt, {}, *saved);
    if (report.settings.size() != core::setting_catalog().size()) fuzz::fail("a key missing");
    if (!report.problems.empty()) fuzz::fail("the defaults alone have a problem");
    for (auto& [key, value] : report.kept) {
      if (!saved->count(key)) fuzz::fail("a kept key that was not saved");
    }
    if (report.kept.size() + report.ignored.size() != saved->size()) {
      fuzz::fail("a saved key neither kept nor named as left out");
    }
    // An accepted value can only be refused for its meaning (a range, a pair), never for its
    // type or its key.
    for (auto& p : report.ignored) {
      if (saved != &accepted) continue;
      for (std::string_view type_message :
           {"must be a whole number", "must be a string", "must be true or false",
            "must be a list of strings", "must be a number", "not valid JSON", "not a setting",
            "config file or the environment only"}) {
        if (p.message.find(type_message) != std::string::npos) {
          fuzz::fail("an accepted value refused: " + p.to_string());
        }
      }
    }
    if (!core::load_config_with_saved(std::nullopt, {}, *saved)) fuzz::fail("a start refused");
  }
  return 0;
}
