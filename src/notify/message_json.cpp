// A message's JSON form for the outbox (detail/message_json.hpp).
#include "detail/message_json.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <netpulse/core/json.hpp>

namespace netpulse::notify::detail {

namespace {

namespace json = boost::json;

json::object map_json(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

template <class T>
json::value opt(const std::optional<T>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

core::Error bad(std::string_view field) {
  return core::Error(core::Errc::kInvalidInput,
                     fmt::format("the stored message has no valid '{}'", field),
                     {{"field", std::string(field)}});
}

// Readers of one object's fields; each remembers the first missing or mistyped field.
struct Reader {
  const json::object& o;
  std::string prefix;
  std::string failed;

  const json::value* at(std::string_view k) {
    const auto* v = o.if_contains(k);
    if (v == nullptr && failed.empty()) failed = prefix + std::string(k);
    return v;
  }
  void fail(std::string_view k) {
    if (failed.empty()) failed = prefix + std::string(k);
  }
  std::string str(std::string_view k) {
    const auto* v = at(k);
    if (v == nullptr || !v->is_string()) return fail(k), std::string();
    return std::string(v->get_string());
  }
  std::int64_t i64(std::string_view k) {
    const auto* v = at(k);
    if (v == nullptr || !v->is_int64()) return fail(k), 0;
    return v->get_int64();
  }
  double num(std::string_view k) {
    const auto* v = at(k);
    if (v == nullptr || !v->is_number()) return fail(k), 0.0;
    return v->to_number<double>();
  }
  std::optional<std::int64_t> opt_i64(std::string_view k) {
    const auto* v = at(k);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_int64()) return fail(k), std::nullopt;
    return v->get_int64();
  }
  std::optional<double> opt_num(std::string_view k) {
    const auto* v = at(k);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_number()) return fail(k), std::nullopt;
    return v->to_number<double>();
  }
  std::map<std::string, std::string> map(std::string_view k) {
    std::map<std::string, std::string> out;
    const auto* v = at(k);
    if (v == nullptr || !v->is_object()) return fail(k), out;
    for (const auto& [name, value] : v->get_object()) {
      if (!value.is_string()) return fail(k), out;
      out.emplace(std::string(name), std::string(value.get_string()));
    }
    return out;
  }
};

}  // namespace

std::string message_to_json(const Message& m) {
  json::array alerts;
  for (const auto& a : m.alerts) {
    alerts.push_back(json::object{
        {"id", a.id},
        {"rule_id", a.rule_id},
        {"rule_name", a.rule_name},
        {"status", a.status},
        {"severity", a.severity},
        {"subject", a.subject},
        {"device_id", opt(a.device_id)},
        {"device_name", a.device_name},
        {"labels", map_json(a.labels)},
        {"annotations", map_json(a.annotations)},
        {"value", a.value},
        {"threshold", opt(a.threshold)},
        {"started_at", a.started_at},
        {"fired_at", opt(a.fired_at)},
        {"resolved_at", opt(a.resolved_at)},
        {"acknowledged_by", a.acknowledged_by},
        {"impact", a.impact},
        {"fingerprint", a.fingerprint},
        {"url", a.url},
    });
  }
  json::object o{
      {"org_id", m.org_id},
      {"notification_id", m.notification_id},
      {"kind", message_kind_name(m.kind)},
      {"severity", m.severity},
      {"receiver", m.receiver},
      {"group_key", m.group_key},
      {"group_labels", map_json(m.group_labels)},
      {"common_labels", map_json(m.common_labels)},
      {"common_annotations", map_json(m.common_annotations)},
      {"alerts", std::move(alerts)},
      {"title", m.title},
      {"text", m.text},
      {"html", m.html},
      {"ack_url", m.ack_url},
      {"recipient", m.recipient},
      {"external_url", m.external_url},
      {"created_at", m.created_at},
  };
  return core::to_json_text(o);
}

core::Result<Message> message_from_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = core::parse_json(text, ec);
  if (ec || !v.is_object()) return bad("(the message)");
  Reader r{v.get_object(), "", ""};
  Message m;
  m.org_id = r.i64("org_id");
  m.notification_id = r.i64("notification_id");
  const auto kind = r.str("kind");
  bool known = false;
  for (auto k : {MessageKind::kFiring, MessageKind::kResolved, MessageKind::kAcknowledged,
                 MessageKind::kEscalation, MessageKind::kDigest, MessageKind::kTest}) {
    if (message_kind_name(k) == kind) {
      m.kind = k;
      known = true;
    }
  }
  if (!known) r.fail("kind");
  m.severity = r.str("severity");
  m.receiver = r.str("receiver");
  m.group_key = r.str("group_key");
  m.group_labels = r.map("group_labels");
  m.common_labels = r.map("common_labels");
  m.common_annotations = r.map("common_annotations");
  m.title = r.str("title");
  m.text = r.str("text");
  m.html = r.str("html");
  m.ack_url = r.str("ack_url");
  // Absent in rows written before messages named a recipient.
  if (r.at("recipient") != nullptr) m.recipient = r.str("recipient");
  m.external_url = r.str("external_url");
  m.created_at = r.i64("created_at");
  const auto* alerts = r.at("alerts");
  if (alerts == nullptr || !alerts->is_array()) {
    r.fail("alerts");
  } else {
    std::size_t i = 0;
    for (const auto& item : alerts->get_array()) {
      const auto prefix = fmt::format("alerts[{}].", i++);
      if (!item.is_object()) {
        r.fail(prefix);
        break;
      }
      Reader a{item.get_object(), prefix, ""};
      MessageAlert x;
      x.id = a.i64("id");
      x.rule_id = a.i64("rule_id");
      x.rule_name = a.str("rule_name");
      x.status = a.str("status");
      x.severity = a.str("severity");
      x.subject = a.str("subject");
      x.device_id = a.opt_i64("device_id");
      x.device_name = a.str("device_name");
      x.labels = a.map("labels");
      x.annotations = a.map("annotations");
      x.value = a.num("value");
      x.threshold = a.opt_num("threshold");
      x.started_at = a.i64("started_at");
      x.fired_at = a.opt_i64("fired_at");
      x.resolved_at = a.opt_i64("resolved_at");
      x.acknowledged_by = a.str("acknowledged_by");
      x.impact = a.i64("impact");
      x.fingerprint = a.str("fingerprint");
      x.url = a.str("url");
      if (!a.failed.empty()) {
        r.fail(a.failed);
        break;
      }
      m.alerts.push_back(std::move(x));
    }
  }
  if (!r.failed.empty()) return bad(r.failed);
  return m;
}

}  // namespace netpulse::notify::detail
