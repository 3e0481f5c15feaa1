// SMTP replies (RFC 5321 4.2), parsed strictly: the bytes a relay sends are outside input, so
// anything but "XYZ[- ]text CRLF" lines of one code is refused, and the parser stops at fixed
// line and line-count bounds instead of buffering whatever arrives. A partial line is checked
// as far as it goes, so a peer that is not speaking SMTP fails at once instead of at the step's
// timeout. Fuzzed by tests/fuzz/smtp_reply_fuzz.cpp.
#include <fmt/format.h>

#include "detail/smtp_client.hpp"

namespace netpulse::notify::detail {

namespace {

core::Error malformed(std::string_view what) {
  return core::Error(core::Errc::kProtocolError, fmt::format("malformed SMTP reply: {}", what),
                     {{"reason", "malformed_reply"}, {"transient", false}});
}

bool is_reply_text_char(char c) noexcept {
  return c == '\t' || (c >= 0x20 && c <= 0x7e);
}

// Checks the bytes of one line that are there (all of it when `complete`, without its CRLF):
// the first problem, or "" when they can start (or are) a valid reply line.
std::string_view line_problem(std::string_view line, bool complete) {
  static constexpr std::string_view kDigitRanges[3] = {"25", "05", "09"};
  for (std::size_t i = 0; i < 3; ++i) {
    if (i >= line.size()) return complete ? "a line shorter than its three-digit code" : "";
    if (line[i] < kDigitRanges[i][0] || line[i] > kDigitRanges[i][1]) {
      return "a line that does not start with a reply code (2xx to 5xx)";
    }
  }
  if (line.size() > 3 && line[3] != '-' && line[3] != ' ') {
    return "a reply code not followed by '-', ' ' or the end of the line";
  }
  for (std::size_t i = 4; i < line.size(); ++i) {
    if (!is_reply_text_char(line[i])) return "a control or non-ASCII character in the text";
  }
  return "";
}

}  // namespace

core::Result<std::optional<Reply>> parse_reply(std::string_view buffer) {
  Reply reply;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t eol = buffer.find('\n', pos);
    if (eol == std::string_view::npos) {
      const std::string_view partial = buffer.substr(pos);
      if (partial.size() >= kMaxReplyLineBytes) {
        return malformed(fmt::format("a line longer than {} bytes", kMaxReplyLineBytes));
      }
      // A lone CR may still be followed by its LF; a CR before the end is a bare CR.
      const std::size_t cr = partial.find('\r');
      if (cr != std::string_view::npos && cr + 1 < partial.size()) {
        return malformed("a line not ended by CRLF");
      }
      const std::string_view so_far =
          cr == std::string_view::npos ? partial : partial.substr(0, cr);
      if (auto problem = line_problem(so_far, false); !problem.empty()) return malformed(problem);
      if (reply.code != 0 && so_far.size() >= 3 &&
          (so_far[0] - '0') * 100 + (so_far[1] - '0') * 10 + (so_far[2] - '0') != reply.code) {
        return malformed("lines of one reply with different codes");
      }
      return std::optional<Reply>();
    }
    if (eol + 1 - pos > kMaxReplyLineBytes) {
      return malformed(fmt::format("a line longer than {} bytes", kMaxReplyLineBytes));
    }
    if (eol == pos || buffer[eol - 1] != '\r') return malformed("a line not ended by CRLF");
    const std::string_view line = buffer.substr(pos, eol - 1 - pos);
    if (line.find('\r') != std::string_view::npos) return malformed("a line not ended by CRLF");
    if (auto problem = line_problem(line, true); !problem.empty()) return malformed(problem);
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (reply.code == 0) {
      reply.code = code;
    } else if (code != reply.code) {
      return malformed("lines of one reply with different codes");
    }
    reply.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
    pos = eol + 1;
    if (line.size() == 3 || line[3] == ' ') {
      reply.consumed = pos;
      return std::optional<Reply>(std::move(reply));
    }
    if (reply.lines.size() >= kMaxReplyLines) {
      return malformed(fmt::format("more than {} lines", kMaxReplyLines));
    }
  }
}

std::string reply_text(const Reply& reply) {
  std::string out;
  for (std::size_t i = 0; i < reply.lines.size(); ++i) {
    if (i > 0) out += '\n';
    out +=
        fmt::format("{}{}{}", reply.code, i + 1 < reply.lines.size() ? '-' : ' ', reply.lines[i]);
  }
  return out;
}

}  // namespace netpulse::notify::detail
