// Fuzz target: what an SMTP relay sends, through notify::detail::parse_reply (the SMTP client's
// reply parser), reply after reply as the client reads them. A refusal is kProtocolError; a
// reply has a code 200..559, between one and kMaxReplyLines lines of tab or printable ASCII,
// consumes what it parsed and no more; its own bytes parse to the same reply; every shorter
// prefix of them is "need more bytes", never another reply or a refusal; and reply_text written
// back as CRLF lines parses to the same code and lines.
#include <string>

#include "notify/detail/smtp_client.hpp"
#include "support/fuzz_target.hpp"

using namespace netpulse;
using netpulse::notify::detail::parse_reply;
using netpulse::notify::detail::Reply;

namespace {

void check_reply(std::string_view bytes, const Reply& reply) {
  if (reply.consumed == 0 || reply.consumed > bytes.size()) fuzz::fail("consumed out of range");
  if (reply.code < 200 || reply.code > 559) fuzz::fail("a code outside 200..559");
  if (reply.lines.empty() || reply.lines.size() > notify::detail::kMaxReplyLines) {
    fuzz::fail("a line count outside 1..kMaxReplyLines");
  }
  for (const auto& line : reply.lines) {
    for (char c : line) {
      if (c != '\t' && (c < 0x20 || c > 0x7e)) fuzz::fail("a control character in a line");
    }
  }
  const auto own = bytes.substr(0, reply.consumed);
  auto again = parse_reply(own);
  if (!again || !*again || (*again)->code != reply.code || (*again)->lines != reply.lines ||
      (*again)->consumed != reply.consumed) {
    fuzz::fail("a reply's own bytes parse differently");
  }
  for (std::size_t cut = 0; cut < own.size(); ++cut) {
    auto partial = parse_reply(own.substr(0, cut));
    if (!partial || partial->has_value()) fuzz::fail("a prefix of a reply is not 'need more'");
  }
  std::string written;
  for (char c : notify::detail::reply_text(reply)) {
    if (c == '\n') written += '\r';
    written += c;
  }
  written += "\r\n";
  auto rewritten = parse_reply(written);
  if (!rewritten || !*rewritten || (*rewritten)->code != reply.code) {
    fuzz::fail("reply_text does not parse back");
  }
}

}  // namespace

NETPULSE_FUZZ_TARGET(smtp_reply) {
  std::string_view rest = fuzz::as_text(data, size);
  for (int replies = 0; replies < 64; ++replies) {
    auto parsed = parse_reply(rest);
    if (!parsed) {
      if (parsed.error().code != core::Errc::kProtocolError)
        fuzz::fail("a refusal that is not kProtocolError");
      return 0;
    }
    if (!*parsed) return 0;
    check_reply(rest, **parsed);
    rest.remove_prefix((*parsed)->consumed);
  }
  return 0;
}
