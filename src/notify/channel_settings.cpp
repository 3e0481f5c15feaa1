// Channel settings (detail/channels.hpp): the kinds' names, each kind's settings checked field by
// field (a refusal names the field, unknown fields are refused), the secrets split off the public
// fields, their redaction for the API, and the merge of a PATCH that keeps stored secrets.
// docs/notify-channels.md lists every kind's fields.
#include <array>
#include <cctype>
#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <netpulse/core/text.hpp>

#include "detail/body_template.hpp"
#include "detail/channels.hpp"

namespace netpulse::notify::detail {

namespace {

using boost::json::object;
using boost::json::value;

constexpr std::array<std::pair<ChannelKind, std::string_view>, 11> kKindNames = {{
    {ChannelKind::kEmail, "email"},
    {ChannelKind::kWebhook, "webhook"},
    {ChannelKind::kPagerDuty, "pagerduty"},
    {ChannelKind::kOpsgenie, "opsgenie"},
    {ChannelKind::kSlack, "slack"},
    {ChannelKind::kTeams, "teams"},
    {ChannelKind::kTelegram, "telegram"},
    {ChannelKind::kTwilio, "sms_twilio"},
    {ChannelKind::kAfricasTalking, "sms_africastalking"},
    {ChannelKind::kHttpSms, "sms_http"},
    {ChannelKind::kInApp, "in_app"},
}};

constexpr std::size_t kMaxRecipients = 50;
constexpr std::size_t kMaxHeaders = 20;
constexpr std::size_t kMaxUrlLength = 2048;
// The characters of an HTTP token (RFC 9110) besides letters and digits.
constexpr std::string_view kTokenExtra = "!#$%&'*+-.^_`|~";

// A check of one string value: nullptr when it is fine, else the reason.
using Check = const char* (*)(std::string_view);

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}
bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}
template <class Pred>
bool all_chars(std::string_view s, Pred pred) {
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}
bool is_printable_ascii(char c) {
  return c > 0x20 && c < 0x7f;
}

// One line of text people wrote: valid UTF-8, no control characters, 1..max code points.
const char* check_line(std::string_view s, std::size_t max) {
  auto n = core::utf8_length(s);
  if (!n || core::has_control(s)) return "must be valid UTF-8 without control characters";
  if (*n == 0) return "must not be empty";
  if (*n > max) return "is too long";
  return nullptr;
}

const char* check_e164(std::string_view s) {
  // "+", a country code that does not start with 0, 7 to 15 digits in all (ITU-T E.164).
  if (s.size() < 8 || s.size() > 16 || s[0] != '+' || s[1] == '0' ||
      !all_chars(s.substr(1), is_digit))
    return "must be a phone number in E.164 form (+254712345678)";
  return nullptr;
}

const char* check_email(std::string_view s) {
  const auto at = s.rfind('@');
  if (s.size() > 254 || at == std::string_view::npos || at == 0 || at > 64 || at + 1 == s.size())
    return "must be an email address";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
        c == '(' || c == ')' || c == '\\')
      return "must be an email address";
  }
  const auto domain = s.substr(at + 1);
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string::npos ||
      domain.find('@') != std::string::npos)
    return "must be an email address";
  return nullptr;
}

// A secret token: printable ASCII without spaces, 8..256 characters.
const char* check_token(std::string_view s) {
  if (s.size() < 8 || s.size() > 256 || !all_chars(s, is_printable_ascii))
    return "must be 8 to 256 printable ASCII characters without spaces";
  return nullptr;
}

const char* check_webhook_secret(std::string_view s) {
  if (s.size() < 16 || s.size() > 256 || !all_chars(s, is_printable_ascii))
    return "must be 16 to 256 printable ASCII characters without spaces";
  return nullptr;
}

const char* check_routing_key(std::string_view s) {
  if (s.size() != 32 || !all_chars(s, is_alnum))
    return "must be the 32-character integration key of an Events API v2 integration";
  return nullptr;
}

const char* check_opsgenie_key(std::string_view s) {
  if (s.size() < 8 || s.size() > 128 ||
      !all_chars(s, [](char c) { return is_alnum(c) || c == '-'; }))
    return "must be an Opsgenie API key (letters, digits and dashes)";
  return nullptr;
}

const char* check_bot_token(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 20 ||
      !all_chars(s.substr(0, colon), is_digit) || s.size() - colon - 1 < 20 || s.size() > 200 ||
      !all_chars(s.substr(colon + 1), [](char c) { return is_alnum(c) || c == '_' || c == '-'; }))
    return "must be a bot token as BotFather gives it (123456:ABC-DEF...)";
  return nullptr;
}

const char* check_account_sid(std::string_view s) {
  if (s.size() != 34 || s.substr(0, 2) != "AC" || !all_chars(s.substr(2), is_hex))
    return "must be a Twilio Account SID (AC and 32 hex digits)";
  return nullptr;
}

// A sender: an E.164 number, an alphanumeric sender id (1..11 letters, digits and spaces, with a
// letter) or a short code (3..8 digits).
const char* check_sender(std::string_view s) {
  if (!s.empty() && s[0] == '+') return check_e164(s);
  if (s.empty() || s.size() > 11 || !all_chars(s, [](char c) { return is_alnum(c) || c == ' '; }) ||
      (all_chars(s, is_digit) && s.size() < 3))
    return "must be an E.164 number, a short code or an alphanumeric sender id of at most 11 "
           "characters";
  return nullptr;
}

const char* check_twilio_from(std::string_view s) {
  // A Messaging Service SID sends as MessagingServiceSid instead of From.
  if (s.size() == 34 && s.substr(0, 2) == "MG" && all_chars(s.substr(2), is_hex)) return nullptr;
  return check_sender(s);
}

const char* check_at_username(std::string_view s) {
  if (s.empty() || s.size() > 64 ||
      !all_chars(s, [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; }))
    return "must be an Africa's Talking username (letters, digits, _ - .)";
  return nullptr;
}

const char* check_slack_channel(std::string_view s) {
  if (s.empty() || s.size() > 80 || !all_chars(s, is_printable_ascii))
    return "must be a channel (#ops), a user (@jane) or a channel id, without spaces";
  return nullptr;
}

const char* check_tag(std::string_view s) {
  return check_line(s, 50);
}

const char* check_secret_value(std::string_view s) {
  if (s.empty() || s.size() > 1024 || core::has_control(s) || !core::utf8_length(s))
    return "must be 1 to 1024 bytes of UTF-8 without control characters";
  return nullptr;
}

// An HTTP header name (an RFC 9110 token) that the client or the channel does not set itself.
const char* check_header_name(std::string_view s) {
  if (s.empty() || s.size() > 64 ||
      !all_chars(s, [](char c) { return is_alnum(c) || kTokenExtra.find(c) != std::string::npos; }))
    return "must be an HTTP header name";
  for (std::string_view reserved : {"host", "content-length", "connection", "transfer-encoding",
                                    "content-type", "te", "upgrade", "keep-alive"})
    if (iequals(s, reserved)) return "is set by NetPulse and cannot be configured";
  if (s.size() >= 11 && iequals(s.substr(0, 11), "x-netpulse-"))
    return "is set by NetPulse and cannot be configured";
  return nullptr;
}

const char* check_header_value(std::string_view s) {
  if (s.size() > 4096 || !all_chars(s, [](char c) { return c == '\t' || (c >= 0x20 && c < 0x7f); }))
    return "must be at most 4096 printable ASCII characters";
  return nullptr;
}

// An http(s) URL whose host is a name or an IP literal the policy allows.
core::Result<void> check_url(std::string_view url, const std::string& path,
                             const core::OutboundPolicy& policy) {
  if (url.empty() || url.size() > kMaxUrlLength || !all_chars(url, is_printable_ascii))
    return core::invalid_field(path,
                               "must be an http(s) URL of printable ASCII (percent-encode "
                               "the rest), at most 2048 characters");
  std::string_view rest;
  if (url.size() > 7 && iequals(url.substr(0, 7), "http://"))
    rest = url.substr(7);
  else if (url.size() > 8 && iequals(url.substr(0, 8), "https://"))
    rest = url.substr(8);
  else
    return core::invalid_field(path, "must be an http:// or https:// URL");
  const auto authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos)
    return core::invalid_field(path,
                               "must not carry credentials (user:password@): use a secret "
                               "header");
  std::string_view host = authority;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return core::invalid_field(path, "has a malformed host");
    port = host.substr(close + 1);
    host = host.substr(0, close + 1);
    if (!port.empty() && port.front() != ':')
      return core::invalid_field(path, "has a malformed host");
  } else if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    port = host.substr(colon);
    host = host.substr(0, colon);
  }
  if (!port.empty()) {
    port.remove_prefix(1);
    if (port.empty() || port.size() > 5 || !all_chars(port, is_digit) ||
        std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535)
      return core::invalid_field(path, "has a malformed port");
  }
  if (host.empty()) return core::invalid_field(path, "has no host");
  const auto literal = core::url_host_literal(url);
  if (!literal) {
    if (host.front() == '[' ||
        !all_chars(host, [](char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_'; }))
      return core::invalid_field(path, "has a malformed host");
    // A name whose last label starts with a digit is no DNS name but a number the resolver
    // would read as an address ("2852039166", "169.254.169.254."): refused so that it cannot
    // dodge this check.
    auto last = host;
    if (last.back() == '.') last.remove_suffix(1);
    last = last.substr(last.rfind('.') == std::string_view::npos ? 0 : last.rfind('.') + 1);
    if (last.empty() || is_digit(last.front()))
      return core::invalid_field(path, "has a host that is neither a name nor an IP address");
    return core::ok();
  }
  auto checked = policy.check(*literal, core::OutboundPurpose::kFetch);
  if (!checked) {
    auto error = std::move(checked).error();
    error.details["field"] = path;
    error.message = path + ": " + error.message;
    return error;
  }
  return core::ok();
}

enum class Need { kOptional, kRequired };

// The fields of one settings object as they are read: each read names its field, marks it known
// and copies it to the public part or the secrets of `out`.
class SettingsReader {
 public:
  SettingsReader(const object& settings, ChannelSettings& out, const core::OutboundPolicy& policy)
      : settings_(settings), out_(out), policy_(policy) {}

  static std::string path(std::string_view name) { return "settings." + std::string(name); }

  // The field's value, or nullptr when absent or null; marks it known.
  const value* take(std::string_view name) {
    known_.emplace(name);
    const auto* v = settings_.if_contains(name);
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  bool has(std::string_view name) const {
    const auto* v = settings_.if_contains(name);
    return v != nullptr && !v->is_null();
  }

  void keep_public(std::string_view name, const value& v) { out_.settings[name] = v; }
  void keep_secret(std::string name, std::string_view v) {
    out_.secrets[std::move(name)] = std::string(v);
  }

  core::Result<void> text(std::string_view name, Need need, Check check, bool secret = false) {
    const auto* v = take(name);
    if (v == nullptr) return missing(name, need);
    if (!v->is_string()) return core::invalid_field(path(name), "must be a string");
    const std::string_view s = v->get_string();
    if (const char* why = check(s)) return core::invalid_field(path(name), why);
    if (secret)
      keep_secret(std::string(name), s);
    else
      keep_public(name, *v);
    return core::ok();
  }

  core::Result<void> url(std::string_view name, Need need, bool secret = false) {
    const auto* v = take(name);
    if (v == nullptr) return missing(name, need);
    if (!v->is_string()) return core::invalid_field(path(name), "must be a string");
    if (auto ok = check_url(v->get_string(), path(name), policy_); !ok) return ok;
    if (secret)
      keep_secret(std::string(name), v->get_string());
    else
      keep_public(name, *v);
    return core::ok();
  }

  core::Result<void> choice(std::string_view name, Need need,
                            std::initializer_list<std::string_view> allowed) {
    const auto* v = take(name);
    if (v == nullptr) return missing(name, need);
    std::string options;
    for (auto a : allowed) options += (options.empty() ? "\"" : ", \"") + std::string(a) + "\"";
    if (v->is_string())
      for (auto a : allowed)
        if (v->get_string() == a) {
          keep_public(name, *v);
          return core::ok();
        }
    return core::invalid_field(path(name), "must be one of " + options);
  }

  // An array of 1..max_items distinct strings, each passing `check`.
  core::Result<void> text_list(std::string_view name, Need need, Check check,
                               std::size_t max_items) {
    const auto* v = take(name);
    if (v == nullptr) return missing(name, need);
    if (!v->is_array()) return core::invalid_field(path(name), "must be an array of strings");
    const auto& items = v->get_array();
    if (items.empty() && need == Need::kRequired)
      return core::invalid_field(path(name), "must not be empty");
    if (items.size() > max_items)
      return core::invalid_field(path(name),
                                 "has more than " + std::to_string(max_items) + " entries");
    std::set<std::string_view> seen;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto item_path = path(name) + "[" + std::to_string(i) + "]";
      if (!items[i].is_string()) return core::invalid_field(item_path, "must be a string");
      const std::string_view s = items[i].get_string();
      if (const char* why = check(s)) return core::invalid_field(item_path, why);
      if (!seen.insert(s).second) return core::invalid_field(item_path, "is a duplicate");
    }
    keep_public(name, *v);
    return core::ok();
  }

  // An object of header name -> value; a secret one goes to the secrets as "<name>.<header>".
  core::Result<void> headers(std::string_view name, bool secret) {
    const auto* v = take(name);
    if (v == nullptr) return core::ok();
    if (!v->is_object()) return core::invalid_field(path(name), "must be an object of headers");
    const auto& headers = v->get_object();
    if (headers.size() > kMaxHeaders)
      return core::invalid_field(path(name), "has more than 20 headers");
    for (const auto& [header, header_value] : headers) {
      const auto header_path = path(name) + "." + std::string(header);
      if (const char* why = check_header_name(header)) return core::invalid_field(header_path, why);
      if (!header_value.is_string()) return core::invalid_field(header_path, "must be a string");
      if (const char* why = check_header_value(header_value.get_string()))
        return core::invalid_field(header_path, why);
      for (const auto& seen : header_names_)
        if (iequals(seen, header))
          return core::invalid_field(header_path, "is given twice (headers and secret_headers)");
      header_names_.emplace_back(header);
      if (secret)
        keep_secret(std::string(name) + "." + std::string(header), header_value.get_string());
    }
    if (!secret) keep_public(name, *v);
    return core::ok();
  }

  // kInvalidInput naming the first field no read asked for.
  core::Result<void> no_unknown_fields() const {
    for (const auto& [k, v] : settings_)
      if (!known_.contains(std::string(k)))
        return core::invalid_field(path(k), "is not a setting of this channel kind");
    return core::ok();
  }

  const object& settings() const { return settings_; }
  ChannelSettings& out() { return out_; }

 private:
  static core::Result<void> missing(std::string_view name, Need need) {
    if (need == Need::kRequired) return core::invalid_field(path(name), "is required");
    return core::ok();
  }

  const object& settings_;
  ChannelSettings& out_;
  const core::OutboundPolicy& policy_;
  std::set<std::string, std::less<>> known_;
  std::vector<std::string> header_names_;
};

// Runs reads in order, stopping at the first refusal.
core::Result<void> first_failure(std::initializer_list<std::function<core::Result<void>()>> steps) {
  for (const auto& step : steps)
    if (auto r = step(); !r) return r;
  return core::ok();
}

core::Result<void> read_email(SettingsReader& r) {
  return first_failure({
      [&] { return r.text_list("to", Need::kRequired, check_email, kMaxRecipients); },
      [&] { return r.text_list("cc", Need::kOptional, check_email, kMaxRecipients); },
  });
}

// The request a user points a channel at: where, how, and which headers it carries.
core::Result<void> read_http_target(SettingsReader& r) {
  return first_failure({
      [&] { return r.url("url", Need::kRequired); },
      [&] {
        return r.choice("method", Need::kOptional, {"POST", "PUT"});
      },
      [&] { return r.headers("headers", false); },
      [&] { return r.headers("secret_headers", true); },
  });
}

core::Result<void> read_webhook(SettingsReader& r) {
  return first_failure({
      [&] { return read_http_target(r); },
      [&] {
        return r.choice("format", Need::kOptional, {"netpulse", "alertmanager"});
      },
      [&] { return r.text("secret", Need::kOptional, check_webhook_secret, true); },
  });
}

core::Result<void> read_responders(SettingsReader& r) {
  const auto* v = r.take("responders");
  if (v == nullptr) return core::ok();
  const auto base = SettingsReader::path("responders");
  if (!v->is_array()) return core::invalid_field(base, "must be an array of responders");
  if (v->get_array().size() > 50) return core::invalid_field(base, "has more than 50 entries");
  std::size_t i = 0;
  for (const auto& item : v->get_array()) {
    const auto item_path = base + "[" + std::to_string(i++) + "]";
    if (!item.is_object()) return core::invalid_field(item_path, "must be an object");
    const auto& o = item.get_object();
    const auto* type = o.if_contains("type");
    if (type == nullptr || !type->is_string())
      return core::invalid_field(item_path + ".type",
                                 "must be \"team\", \"user\", \"escalation\" or \"schedule\"");
    const std::string_view t = type->get_string();
    if (t != "team" && t != "user" && t != "escalation" && t != "schedule")
      return core::invalid_field(item_path + ".type",
                                 "must be \"team\", \"user\", \"escalation\" or \"schedule\"");
    const std::string_view name_key = t == "user" ? "username" : "name";
    int identifiers = 0;
    for (const auto& [k, field] : o) {
      if (k == "type") continue;
      if (k != "id" && k != name_key)
        return core::invalid_field(item_path + "." + std::string(k),
                                   "is not a field of a " + std::string(t) + " responder");
      if (!field.is_string() || check_line(field.get_string(), 200) != nullptr)
        return core::invalid_field(item_path + "." + std::string(k),
                                   "must be a non-empty string of at most 200 characters");
      ++identifiers;
    }
    if (identifiers != 1)
      return core::invalid_field(
          item_path, "must have exactly one of \"id\" and \"" + std::string(name_key) + "\"");
  }
  r.keep_public("responders", *v);
  return core::ok();
}

core::Result<void> read_telegram_chat(SettingsReader& r) {
  const auto* v = r.take("chat_id");
  const auto p = SettingsReader::path("chat_id");
  if (v == nullptr) return core::invalid_field(p, "is required");
  bool ok = v->is_int64() && v->get_int64() != 0;
  if (v->is_string()) {
    const std::string_view s = v->get_string();
    const bool numeric =
        s.size() > 1 && s.size() <= 21 && all_chars(s.front() == '-' ? s.substr(1) : s, is_digit);
    const bool username = s.size() >= 6 && s.size() <= 33 && s.front() == '@' &&
                          all_chars(s.substr(1), [](char c) { return is_alnum(c) || c == '_'; });
    ok = numeric || username;
  }
  if (!ok)
    return core::invalid_field(p,
                               "must be a chat id (an integer, -100... for a group) or "
                               "@channelusername");
  r.keep_public("chat_id", *v);
  return core::ok();
}

core::Result<void> read_in_app(SettingsReader& r) {
  if (const auto* v = r.take("user_ids")) {
    const auto p = SettingsReader::path("user_ids");
    if (!v->is_array()) return core::invalid_field(p, "must be an array of user ids");
    if (v->get_array().size() > 500) return core::invalid_field(p, "has more than 500 entries");
    std::set<std::int64_t> seen;
    std::size_t i = 0;
    for (const auto& id : v->get_array()) {
      const auto item_path = p + "[" + std::to_string(i++) + "]";
      if (!id.is_int64() || id.get_int64() <= 0)
        return core::invalid_field(item_path, "must be a positive integer");
      if (!seen.insert(id.get_int64()).second)
        return core::invalid_field(item_path, "is a duplicate");
    }
    r.keep_public("user_ids", *v);
  }
  return r.text_list(
      "roles", Need::kOptional,
      [](std::string_view s) -> const char* {
        return s == "admin" || s == "operator" || s == "viewer" || s == "api_user"
                   ? nullptr
                   : "must be \"admin\", \"operator\", \"viewer\" or \"api_user\"";
      },
      4);
}

// The "secret_<name>" fields of a generic SMS gateway: values its body template may use.
core::Result<void> read_template_secrets(SettingsReader& r) {
  for (const auto& [k, v] : r.settings()) {
    const std::string_view key = k;
    if (!key.starts_with("secret_") || key == "secret_headers") continue;
    const auto suffix = key.substr(7);
    if (suffix.empty() || suffix.size() > 32 || !all_chars(suffix, [](char c) {
          return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_';
        }))
      return core::invalid_field(SettingsReader::path(key),
                                 "a secret field is named secret_ and 1 to 32 of a-z 0-9 _");
    if (auto ok = r.text(key, Need::kRequired, check_secret_value, true); !ok) return ok;
  }
  return core::ok();
}

// The body template renders, with sample values, to a body of its format.
core::Result<void> check_template(SettingsReader& r) {
  const auto* v = r.take("body_template");
  const auto p = SettingsReader::path("body_template");
  if (v == nullptr) return core::invalid_field(p, "is required");
  if (!v->is_string()) return core::invalid_field(p, "must be a string");
  const std::string_view tmpl = v->get_string();
  if (tmpl.size() > 8192 || !core::utf8_length(tmpl))
    return core::invalid_field(p, "must be UTF-8 of at most 8192 bytes");
  const auto encoding = r.settings().at("body_format").get_string() == "json" ? BodyEncoding::kJson
                                                                              : BodyEncoding::kForm;
  const auto& secrets = r.out().secrets;
  auto rendered = render_body_template(
      tmpl, encoding,
      [&](std::string_view name) -> std::optional<std::string> {
        for (auto field : body_template_fields())
          if (field == name) return name == "alert_count" || name == "notification_id" ? "1" : "x";
        if (secrets.contains(std::string(name))) return "x";
        return std::nullopt;
      },
      p);
  if (!rendered) return std::move(rendered).error();
  if (encoding == BodyEncoding::kJson) {
    boost::system::error_code ec;
    (void)boost::json::parse(*rendered, ec);
    if (ec)
      return core::invalid_field(p, "does not render a JSON body (" + ec.message() +
                                        "): put placeholders inside JSON strings");
  }
  r.keep_public("body_template", *v);
  return core::ok();
}

core::Result<void> read_http_sms(SettingsReader& r) {
  return first_failure({
      [&] { return read_http_target(r); },
      [&] {
        return r.choice("body_format", Need::kRequired, {"form", "json"});
      },
      [&] { return r.text_list("to", Need::kRequired, check_e164, kMaxRecipients); },
      [&] { return read_template_secrets(r); },
      [&] { return check_template(r); },
  });
}

core::Result<void> read_kind(ChannelKind kind, SettingsReader& r) {
  constexpr auto kReq = Need::kRequired;
  constexpr auto kOpt = Need::kOptional;
  switch (kind) {
    case ChannelKind::kEmail:
      return read_email(r);
    case ChannelKind::kWebhook:
      return read_webhook(r);
    case ChannelKind::kPagerDuty:
      return first_failure({
          [&] { return r.text("routing_key", kReq, check_routing_key, true); },
          [&] { return r.url("url", kOpt); },
      });
    case ChannelKind::kOpsgenie:
      return first_failure({
          [&] { return r.text("api_key", kReq, check_opsgenie_key, true); },
          [&] { return r.url("url", kOpt); },
          [&] { return read_responders(r); },
          [&] { return r.text_list("tags", kOpt, check_tag, 10); },
      });
    case ChannelKind::kSlack:
      return first_failure({
          [&] { return r.url("url", kReq, true); },
          [&] { return r.text("channel", kOpt, check_slack_channel); },
      });
    case ChannelKind::kTeams:
      return r.url("url", kReq, true);
    case ChannelKind::kTelegram:
      return first_failure({
          [&] { return r.text("bot_token", kReq, check_bot_token, true); },
          [&] { return read_telegram_chat(r); },
          [&] { return r.url("api_url", kOpt); },
      });
    case ChannelKind::kTwilio:
      return first_failure({
          [&] { return r.text("account_sid", kReq, check_account_sid); },
          [&] { return r.text("auth_token", kReq, check_token, true); },
          [&] { return r.text("from", kReq, check_twilio_from); },
          [&] { return r.text_list("to", kReq, check_e164, kMaxRecipients); },
          [&] { return r.url("api_url", kOpt); },
      });
    case ChannelKind::kAfricasTalking:
      return first_failure({
          [&] { return r.text("username", kReq, check_at_username); },
          [&] { return r.text("api_key", kReq, check_token, true); },
          [&] { return r.text_list("to", kReq, check_e164, kMaxRecipients); },
          [&] { return r.text("from", kOpt, check_sender); },
          [&] { return r.url("api_url", kOpt); },
      });
    case ChannelKind::kHttpSms:
      return read_http_sms(r);
    case ChannelKind::kInApp:
      return read_in_app(r);
  }
  return core::ok();
}

bool is_keep_marker(const value& v) {
  if (!v.is_object() || v.get_object().size() != 1) return false;
  const auto* set = v.get_object().if_contains("set");
  return set != nullptr && set->is_bool() && set->get_bool();
}

}  // namespace

std::string_view channel_kind_name(ChannelKind kind) noexcept {
  for (const auto& [k, name] : kKindNames)
    if (k == kind) return name;
  return "webhook";
}

std::optional<ChannelKind> parse_channel_kind(std::string_view name) noexcept {
  for (const auto& [k, kind_name] : kKindNames)
    if (kind_name == name) return k;
  return std::nullopt;
}

bool sends_http(ChannelKind kind) noexcept {
  return kind != ChannelKind::kEmail && kind != ChannelKind::kInApp;
}

core::Result<ChannelSettings> parse_channel_settings(ChannelKind kind, const object& settings,
                                                     const core::OutboundPolicy& policy) {
  ChannelSettings out;
  out.kind = kind;
  SettingsReader reader(settings, out, policy);
  if (auto ok = read_kind(kind, reader); !ok) return std::move(ok).error();
  if (auto ok = reader.no_unknown_fields(); !ok) return std::move(ok).error();
  return out;
}

namespace {

// The public settings with each secret put back in its place as `shown(secret)`.
template <class Shown>
object with_secrets(const ChannelSettings& channel, Shown shown) {
  object out = channel.settings;
  for (const auto& [name, secret] : channel.secrets) {
    if (const auto dot = name.find('.'); dot != std::string::npos) {
      auto& group = out[name.substr(0, dot)];
      if (!group.is_object()) group = object();
      group.get_object()[name.substr(dot + 1)] = shown(secret);
    } else {
      out[name] = shown(secret);
    }
  }
  return out;
}

}  // namespace

object redacted_settings(const ChannelSettings& channel) {
  return with_secrets(channel, [](const std::string&) { return value(object{{"set", true}}); });
}

object unredacted_settings(const ChannelSettings& channel) {
  return with_secrets(channel, [](const std::string& secret) { return value(secret); });
}

core::Result<ChannelSettings> merge_channel_settings(const ChannelSettings& current,
                                                     const object& patch,
                                                     const core::OutboundPolicy& policy) {
  object merged = unredacted_settings(current);
  const auto stored = [&](const std::string& name) -> const std::string* {
    const auto it = current.secrets.find(name);
    return it == current.secrets.end() ? nullptr : &it->second;
  };
  for (const auto& [k, v] : patch) {
    const std::string key(k);
    if (v.is_null()) {
      merged.erase(k);
    } else if (is_keep_marker(v)) {
      const auto* secret = stored(key);
      if (secret == nullptr)
        return core::invalid_field(SettingsReader::path(key), "has no stored secret to keep");
      merged[k] = *secret;
    } else if (key == "secret_headers" && v.is_object()) {
      object headers;
      for (const auto& [header, header_value] : v.get_object()) {
        if (!is_keep_marker(header_value)) {
          headers[header] = header_value;
          continue;
        }
        const auto* secret = stored(key + "." + std::string(header));
        if (secret == nullptr)
          return core::invalid_field(SettingsReader::path(key) + "." + std::string(header),
                                     "has no stored secret to keep");
        headers[header] = *secret;
      }
      merged[k] = std::move(headers);
    } else {
      merged[k] = v;
    }
  }
  return parse_channel_settings(current.kind, merged, policy);
}

}  // namespace netpulse::notify::detail
