// The body template of the generic SMS gateway (sms_http): text with {{name}} placeholders from a
// fixed list, each replaced by its value encoded for the body's format, so a value can never
// break out of its place (a form field, or the inside of a JSON string). Checked when a channel
// is saved (unknown names, an unclosed "{{", a JSON body that does not parse) and rendered per
// recipient when a message is sent.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <netpulse/core/result.hpp>

namespace netpulse::notify::detail {

enum class BodyEncoding {
  kForm,  // application/x-www-form-urlencoded: values percent-encoded ("a b&c" -> "a+b%26c")
  kJson,  // application/json: values escaped for the inside of a JSON string, without quotes
};

// The names a template may use besides "secret_<name>" (a secret field of the same channel):
// to, text, title, severity, kind, receiver, group_key, ack_url, alert_count, notification_id,
// external_url.
std::span<const std::string_view> body_template_fields() noexcept;

// The raw value of a placeholder, or nullopt when the name is not known.
using TemplateValues = std::function<std::optional<std::string>(std::string_view name)>;

// `tmpl` with every "{{ name }}" (spaces inside the braces allowed) replaced by values(name)
// encoded as `encoding` says. kInvalidInput naming `field` for an unclosed "{{", an empty or
// malformed name, or a name values() does not know.
core::Result<std::string> render_body_template(std::string_view tmpl, BodyEncoding encoding,
                                               const TemplateValues& values,
                                               std::string_view field);

}  // namespace netpulse::notify::detail
