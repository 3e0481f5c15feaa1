// Text for the channel payloads (detail/payload_text.hpp): UTF-8 repair and cutting, the escaping
// of each destination's markup (Slack mrkdwn, Telegram HTML, Adaptive Card markdown), the
// encodings of remote APIs, and the one-segment SMS text.
#include "detail/payload_text.hpp"

#include <chrono>
#include <functional>
#include <initializer_list>

#include <openssl/evp.h>

#include <netpulse/core/clock.hpp>

#include "detail/message.hpp"

namespace netpulse::notify::detail {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026
// The non-ASCII characters of the GSM 03.38 basic table.
constexpr std::string_view kGsmBasicNonAscii = "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà";
// The ASCII characters of the GSM 03.38 extension table (two septets each); € is the other one.
constexpr std::string_view kGsmExtensionAscii = "^{}\\[]~|";

// The length of the valid UTF-8 sequence at `s[i]` and its code point, or 0 when invalid.
std::size_t decode(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Calls `each(code point, its bytes)` over valid UTF-8 `text`.
void for_each_code_point(std::string_view text,
                         const std::function<void(char32_t, std::string_view)>& each) {
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t cp = 0;
    const auto len = decode(text, i, cp);
    if (len == 0) {
      each(0xFFFD, kReplacement);
      ++i;
    } else {
      each(cp, text.substr(i, len));
      i += len;
    }
  }
}

// 1 or 2 septets for a character of GSM 03.38, 0 for one outside it.
int gsm_septets(char32_t cp) {
  if (cp == '\n' || cp == '\r') return 1;
  if (cp < 0x80) {
    if (cp < 0x20 || cp == 0x7F || cp == '`') return 0;
    return kGsmExtensionAscii.find(static_cast<char>(cp)) == std::string_view::npos ? 1 : 2;
  }
  if (cp == 0x20AC) return 2;  // €
  int found = 0;
  for_each_code_point(kGsmBasicNonAscii, [&](char32_t basic, std::string_view) {
    if (basic == cp) found = 1;
  });
  return found;
}

// What `text` costs in one SMS segment: septets for GSM-7, UTF-16 units for UCS-2.
std::size_t sms_cost(std::string_view text, bool gsm) {
  std::size_t cost = 0;
  for_each_code_point(text, [&](char32_t cp, std::string_view) {
    cost += gsm ? static_cast<std::size_t>(gsm_septets(cp)) : (cp > 0xFFFF ? 2 : 1);
  });
  return cost;
}

// `text` cut to `budget` (sms_cost), ending in `ellipsis` when cut.
std::string sms_fit(std::string_view text, std::size_t budget, bool gsm) {
  if (sms_cost(text, gsm) <= budget) return std::string(text);
  const std::string_view ellipsis = gsm ? "..." : kEllipsis;
  const auto room = budget - std::min(budget, sms_cost(ellipsis, gsm));
  std::string out;
  std::size_t cost = 0;
  bool full = false;
  for_each_code_point(text, [&](char32_t cp, std::string_view bytes) {
    const std::size_t c = gsm ? static_cast<std::size_t>(gsm_septets(cp)) : (cp > 0xFFFF ? 2 : 1);
    if (full || cost + c > room) {
      full = true;
      return;
    }
    cost += c;
    out.append(bytes);
  });
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + std::string(ellipsis);
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for_each_code_point(text, [&](char32_t, std::string_view bytes) { out.append(bytes); });
  return out;
}

std::string display_text(std::string_view text, bool one_line) {
  std::string out;
  out.reserve(text.size());
  for_each_code_point(text, [&](char32_t cp, std::string_view bytes) {
    const bool dropped = (cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7F && cp <= 0x9F) ||
                         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
    if (dropped) return;
    if (one_line && (cp == '\n' || cp == '\t' || cp == ' ')) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      return;
    }
    out.append(bytes);
  });
  if (one_line && !out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string truncate_utf8(std::string_view text, std::size_t max_code_points) {
  auto valid = valid_utf8(text);
  std::size_t count = 0;
  std::size_t cut = 0;  // the byte offset of the code point the ellipsis replaces
  std::size_t offset = 0;
  for_each_code_point(valid, [&](char32_t, std::string_view bytes) {
    ++count;
    if (count == max_code_points) cut = offset;
    offset += bytes.size();
  });
  if (count <= max_code_points) return valid;
  if (max_code_points == 0) return "";
  valid.resize(cut);
  return valid + std::string(kEllipsis);
}

namespace {

struct Entity {
  char c;
  std::string_view replacement;
};

// `text` with each character of `entities` replaced.
std::string replace_entities(std::string_view text, std::initializer_list<Entity> entities) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const Entity* hit = nullptr;
    for (const auto& e : entities)
      if (e.c == c) hit = &e;
    if (hit != nullptr)
      out += hit->replacement;
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string slack_escape(std::string_view text) {
  return replace_entities(text, {{'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}});
}

std::string html_escape(std::string_view text) {
  return replace_entities(text, {{'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}});
}

std::string markdown_escape(std::string_view text) {
  constexpr std::string_view kSpecial = "\\`*_~[]()<>#|!";
  std::string out;
  out.reserve(text.size() + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (kSpecial.find(c) != std::string_view::npos || (line_start && (c == '-' || c == '+'))) {
      out += '\\';
    } else if (line_start && c >= '0' && c <= '9') {
      // "1. item" would start an ordered list: escape the dot after the leading digits.
      std::size_t j = i;
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
      out.append(text.substr(i, j - i));
      if (j < text.size() && text[j] == '.') {
        out += "\\.";
        ++j;
      }
      i = j - 1;
      line_start = false;
      continue;
    }
    out += c;
    line_start = c == '\n' || (line_start && c == ' ');
  }
  return out;
}

namespace {

std::string percent_encode(std::string_view text, bool space_as_plus) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3 / 2);
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0F];
    }
  }
  return out;
}

}  // namespace

std::string form_encode(std::string_view text) {
  return percent_encode(text, true);
}

std::string path_segment_encode(std::string_view text) {
  return percent_encode(text, false);
}

std::string rfc3339_ms(std::int64_t unix_ms) {
  return core::format_rfc3339(core::SystemTime(std::chrono::milliseconds(unix_ms)));
}

bool is_gsm7(std::string_view text) {
  bool gsm = true;
  for_each_code_point(text,
                      [&](char32_t cp, std::string_view) { gsm = gsm && gsm_septets(cp) > 0; });
  return gsm;
}

std::string sms_text(const Message& message) {
  std::string_view source = message.title;
  if (source.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    source = message.text;
    source = source.substr(0, source.find('\n'));
  }
  auto title = display_text(source, true);
  const auto link = display_text(message.ack_url, true);
  // A template that placed the link itself ("... Ack: <link>"): the link is taken out and put
  // back whole after whatever of the text fits, so it is neither cut nor sent twice.
  if (const auto at = link.empty() ? std::string::npos : title.rfind(link);
      at != std::string::npos) {
    title.erase(at, link.size());
    while (!title.empty() && (title.back() == ' ' || title.back() == '.')) title.pop_back();
  }
  const bool gsm = is_gsm7(title) && is_gsm7(link);
  const std::size_t limit = gsm ? 160 : 70;
  constexpr std::size_t kMinTitleBesideLink = 20;
  if (link.empty()) return sms_fit(title, limit, gsm);
  if (title.empty()) return sms_cost(link, gsm) <= limit ? link : "";
  const auto link_cost = sms_cost(link, gsm) + 1;  // and the space before it
  if (sms_cost(title, gsm) + link_cost <= limit) return title + " " + link;
  if (link_cost + kMinTitleBesideLink <= limit)
    return sms_fit(title, limit - link_cost, gsm) + " " + link;
  return sms_fit(title, limit, gsm);
}

}  // namespace netpulse::notify::detail
