// Text helpers of the channel payloads: making text from alerts (label values, annotations,
// anything a device or a user wrote) safe for each destination's markup, cutting it to a
// destination's limit without breaking a UTF-8 sequence, and the encodings the remote APIs
// want (form bodies, Basic auth, RFC 3339 times, the SMS text).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <netpulse/core/random.hpp>

namespace netpulse::notify::detail {

struct Message;

// `text` as valid UTF-8: each byte that is not part of a valid sequence becomes U+FFFD. JSON
// bodies must be UTF-8; a device's label can hold anything.
std::string valid_utf8(std::string_view text);

// `text` for people to read in a chat or an SMS: valid UTF-8 (as valid_utf8), C0 controls but
// line feed and tab, DEL, C1 controls and the bidirectional overrides dropped, carriage returns
// dropped. With `one_line`, line feeds and tabs become spaces and runs of spaces one space.
std::string display_text(std::string_view text, bool one_line = false);

// At most `max_code_points` code points of valid UTF-8 `text`; when cut, the last kept code point
// is replaced by "…" (U+2026) so the reader sees that something is missing.
std::string truncate_utf8(std::string_view text, std::size_t max_code_points);

// Slack mrkdwn: &, < and > as &amp; &lt; &gt; (Slack's own escaping), so text cannot make a link,
// a mention (<!channel>) or a user reference. Emphasis characters stay; text objects are sent
// with "verbatim": true so URLs and names are not linked either.
std::string slack_escape(std::string_view text);
// Telegram's HTML parse mode (and HTML attributes): & < > " as entities.
std::string html_escape(std::string_view text);
// Adaptive Card TextBlock markdown (Teams): the characters markdown gives a meaning to
// (\ ` * _ ~ [ ] ( ) < > # | ! and a leading - + or digit-dot) backslash-escaped.
std::string markdown_escape(std::string_view text);

// application/x-www-form-urlencoded: unreserved characters kept, space as "+", the rest %XX.
std::string form_encode(std::string_view text);
// One URL path segment: unreserved characters kept, the rest %XX.
std::string path_segment_encode(std::string_view text);
// Standard base64 with padding (RFC 4648 §4), as HTTP Basic auth wants it: core's.
using core::base64_encode;

// RFC 3339 UTC with milliseconds from Unix milliseconds: "2026-01-15T10:30:00.123Z".
std::string rfc3339_ms(std::int64_t unix_ms);

// Whether every code point of `text` is in the GSM 03.38 alphabet (basic or extension table).
bool is_gsm7(std::string_view text);

// The text of one SMS for `message`: its title (or, if empty, the first line of its text) on one
// line, and the acknowledgement link when there is one, fitted into one segment: 160 GSM-7
// septets (an extension character counts two), or 70 UTF-16 units when the text needs UCS-2. The
// link is kept whole when at least 20 characters of the title fit beside it, else dropped; a cut
// title ends in "..." (GSM-7) or "…" (UCS-2).
std::string sms_text(const Message& message);

}  // namespace netpulse::notify::detail
