// Addresses for the email renderer (detail/mime.hpp): the conservative addr-spec check, the
// forms of a mailbox ("addr", "<addr>", "Name <addr>"), the envelope's recipients, and the check
// every header value passes (no CR/LF: header injection).
#include <algorithm>

#include <fmt/format.h>

#include <netpulse/core/text.hpp>

#include "detail/mime.hpp"
#include "detail/mime_text.hpp"

namespace netpulse::notify::detail {

namespace {

constexpr std::size_t kMaxDisplayName = 200;

}  // namespace

bool is_ldh_domain(std::string_view domain) noexcept {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t start = 0;
  while (start <= domain.size()) {
    const std::size_t dot = std::min(domain.find('.', start), domain.size());
    const std::string_view label = domain.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      const bool ldh =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ldh) return false;
    }
    start = dot + 1;
  }
  return true;
}

// One line of UTF-8 text for a header: no CR/LF (injection), no other control character but
// tab, valid UTF-8, at most `max_bytes`.
core::Result<void> check_header_text(std::string_view text, std::string_view field,
                                     std::size_t max_bytes) {
  if (has_line_break(text)) {
    return core::invalid_field(field, "must not contain CR or LF (header injection)");
  }
  if (text.size() > max_bytes) {
    return core::invalid_field(field, fmt::format("longer than {} bytes", max_bytes));
  }
  if (!core::utf8_length(text)) return core::invalid_field(field, "not valid UTF-8");
  const bool control = std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t') || byte == 0x7f;
  });
  if (control) return core::invalid_field(field, "contains a control character");
  return core::ok();
}

bool is_valid_addr_spec(std::string_view address) noexcept {
  if (address.size() > 254) return false;
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return false;
  const std::string_view local = address.substr(0, at);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return false;
  }
  if (!std::all_of(local.begin(), local.end(), [](char c) { return is_atext(c) || c == '.'; })) {
    return false;
  }
  return is_ldh_domain(address.substr(at + 1));
}

core::Result<Mailbox> parse_mailbox(std::string_view text, std::string_view field) {
  if (has_line_break(text)) {
    return core::invalid_field(field, "must not contain CR or LF (header injection)");
  }
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  Mailbox mailbox;
  std::string_view address = text;
  if (!text.empty() && text.back() == '>') {
    const auto open = text.rfind('<');
    if (open == std::string_view::npos) return core::invalid_field(field, "unbalanced '<' '>'");
    address = text.substr(open + 1, text.size() - open - 2);
    std::string_view name = trim(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
      for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '\\' && i + 1 < name.size()) ++i;
        mailbox.display_name += name[i];
      }
    } else {
      mailbox.display_name = std::string(name);
    }
    if (auto ok = check_header_text(mailbox.display_name, field, kMaxDisplayName); !ok) {
      return std::move(ok).error();
    }
  }
  if (!is_valid_addr_spec(address)) {
    return core::invalid_field(field,
                               fmt::format("\"{}\" is not an email address NetPulse sends to",
                                           is_printable_ascii(address) ? address : "?"));
  }
  mailbox.address = std::string(address);
  return mailbox;
}

std::vector<std::string> envelope_recipients(const Email& email) {
  std::vector<std::string> out;
  for (const auto* list : {&email.to, &email.cc}) {
    for (const auto& text : *list) {
      auto mailbox = parse_mailbox(text, "to");
      if (!mailbox) continue;
      if (std::find(out.begin(), out.end(), mailbox->address) == out.end()) {
        out.push_back(std::move(mailbox->address));
      }
    }
  }
  return out;
}

}  // namespace netpulse::notify::detail
