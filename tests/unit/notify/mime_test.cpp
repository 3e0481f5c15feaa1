// The email renderer (notify/detail/mime.hpp): headers, RFC 2047 words and folding, the MIME
// structure and its boundaries, quoted-printable and base64 bodies, RFC 2231 file names,
// dot-stuffing, and the refusals (header injection, bad addresses, sizes). Encodings are checked
// by decoding them here (a small decoder of the test's own), not by trusting the encoder.
#include "notify/detail/mime.hpp"

#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace netpulse;
using namespace netpulse::notify::detail;

namespace {

constexpr std::int64_t kJan15 = 1768473000000;  // 2026-01-15T10:30:00Z, a Thursday

Email basic_email() {
  Email e;
  e.from = "NetPulse <alerts@isp.example>";
  e.to = {"ops@isp.example"};
  e.subject = "Disk full on core-1";
  e.text = "The disk is full.\n";
  e.date_ms = kJan15;
  return e;
}

std::string build(const Email& e) {
  auto m = build_message(e);
  INFO((m ? std::string() : m.error().message));
  REQUIRE(m);
  return *m;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (;;) {
    const auto end = text.find("\r\n", start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      return lines;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 2;
  }
}

// The header block (up to the blank line) and the named header's raw value, folds kept.
std::string header_block(const std::string& message) {
  return message.substr(0, message.find("\r\n\r\n") + 2);
}
std::string raw_header(const std::string& block, const std::string& name) {
  const auto at = block.find("\r\n" + name + ":") != std::string::npos
                      ? block.find("\r\n" + name + ":") + 2
                      : (block.rfind(name + ":", 0) == 0 ? 0 : std::string::npos);
  if (at == std::string::npos) return {};
  std::size_t end = at;
  for (;;) {
    end = block.find("\r\n", end);
    if (end + 2 >= block.size() || (block[end + 2] != ' ' && block[end + 2] != '\t')) break;
    end += 2;
  }
  return block.substr(at + name.size() + 1, end - at - name.size() - 1);
}
std::string unfold(std::string value) {
  for (std::size_t at; (at = value.find("\r\n")) != std::string::npos;) value.erase(at, 2);
  if (!value.empty() && value.front() == ' ') value.erase(0, 1);
  return value;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
std::string base64_decode(const std::string& text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = base64_value(c);
    if (v < 0) continue;  // CRLF, padding
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}
int hex_value(char c) {
  return c >= 'A' ? c - 'A' + 10 : c - '0';
}
std::string qp_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '=' && text.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;
    } else if (text[i] == '=') {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}
// An unfolded header value of encoded-words (white space between them dropped, RFC 2047 6.2).
std::string decode_words(const std::string& value) {
  static const std::regex word(R"(=\?UTF-8\?([BQ])\?([^?]*)\?=)");
  std::string out;
  for (auto it = std::sregex_iterator(value.begin(), value.end(), word);
       it != std::sregex_iterator(); ++it) {
    std::string payload = (*it)[2];
    if ((*it)[1] == "B") {
      out += base64_decode(payload);
    } else {
      for (char& c : payload) {
        if (c == '_') c = ' ';
      }
      out += qp_decode(payload);
    }
  }
  return out;
}

// The body of the part whose headers contain `marker`, up to the next boundary line.
std::string part_body(const std::string& message, const std::string& marker) {
  const auto at = message.find(marker);
  REQUIRE(at != std::string::npos);
  const auto start = message.find("\r\n\r\n", at) + 4;
  const auto end = message.find("\r\n--=_np_", start);
  return message.substr(start, end - start);
}

}  // namespace

TEST_CASE("mime: the headers of a plain email, in order", "[notify][smtp]") {
  const auto m = build(basic_email());
  const auto lines = split_lines(m);
  REQUIRE(lines.size() > 8);
  CHECK(lines[0] == "Date: Thu, 15 Jan 2026 10:30:00 +0000");
  CHECK(lines[1] == "From: NetPulse <alerts@isp.example>");
  CHECK(lines[2] == "To: ops@isp.example");
  CHECK(lines[3] == "Subject: Disk full on core-1");
  CHECK(std::regex_match(lines[4], std::regex("Message-ID: <[0-9a-f]{32}@isp\\.example>")));
  CHECK(lines[5] == "MIME-Version: 1.0");
  CHECK(lines[6] == "Content-Type: text/plain; charset=utf-8");
  CHECK(lines[7] == "Content-Transfer-Encoding: quoted-printable");
  CHECK(lines[8].empty());
  CHECK(m.ends_with("\r\n\r\nThe disk is full.\r\n"));
  CHECK(m.find("Cc:") == std::string::npos);
}

TEST_CASE("mime: Message-ID takes the configured domain and is new each time", "[notify][smtp]") {
  auto e = basic_email();
  e.message_id_domain = "netpulse.isp.example";
  const auto a = raw_header(header_block(build(e)), "Message-ID");
  const auto b = raw_header(header_block(build(e)), "Message-ID");
  CHECK(a.ends_with("@netpulse.isp.example>"));
  CHECK(a != b);
  e.message_id_domain = "not a domain";
  auto refused = build_message(e);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().details.at("field") == "message_id_domain");
}

TEST_CASE("mime: address headers quote, encode and fold display names", "[notify][smtp]") {
  auto e = basic_email();
  e.to = {"\"Doe, Jane\" <jane@isp.example>", "<bob@isp.example>", "Zoë Ops <zoe@isp.example>"};
  e.cc = {"noc@isp.example"};
  for (int i = 0; i < 8; ++i) e.cc.push_back("member" + std::to_string(i) + "@isp.example");
  const auto block = header_block(build(e));
  const auto to = unfold(raw_header(block, "To"));
  CHECK(to.starts_with("\"Doe, Jane\" <jane@isp.example>, bob@isp.example, =?UTF-8?"));
  CHECK(to.ends_with("<zoe@isp.example>"));
  CHECK(decode_words(to) == "Zoë Ops");
  const auto cc = raw_header(block, "Cc");
  CHECK(cc.find("\r\n ") != std::string::npos);  // folded
  CHECK(unfold(cc).starts_with("noc@isp.example, member0@isp.example,"));
  for (const auto& line : split_lines(block)) CHECK(line.size() <= 78);
}

TEST_CASE("mime: an ASCII subject is kept and folded at spaces", "[notify][smtp]") {
  auto e = basic_email();
  std::string subject;
  for (int i = 0; i < 30; ++i)
    subject += (i ? " " : "") + std::string("interface-") + std::to_string(i);
  e.subject = subject;
  const auto block = header_block(build(e));
  const auto raw = raw_header(block, "Subject");
  CHECK(raw.find("=?") == std::string::npos);
  CHECK(raw.find("\r\n ") != std::string::npos);
  CHECK(unfold(raw) == subject);
  for (const auto& line : split_lines(block)) CHECK(line.size() <= 78);
}

TEST_CASE("mime: a UTF-8 subject becomes encoded-words of whole characters", "[notify][smtp]") {
  const std::vector<std::string> subjects{
      "Störung: Schnittstelle ge-0/0/1 ausgefallen",                 // mostly ASCII: Q
      "障害: コアルータ core-1 のインターフェースがダウンしました",  // B
      std::string(40, 'x') + "🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥",
      "a =?UTF-8?B?Zm9v?= lookalike",  // "=?" in plain text must not read as a word
      "  spaces  at both ends  ",
      "tab\there",
  };
  for (const auto& subject : subjects) {
    INFO(subject);
    auto e = basic_email();
    e.subject = subject;
    const auto block = header_block(build(e));
    const auto raw = raw_header(block, "Subject");
    CHECK(raw.find("=?UTF-8?") != std::string::npos);
    CHECK(decode_words(unfold(raw)) == subject);
    for (const auto& line : split_lines(block)) CHECK(line.size() <= 78);
    static const std::regex word(R"(=\?UTF-8\?[BQ]\?[^?]*\?=)");
    const auto value = unfold(raw);
    for (auto it = std::sregex_iterator(value.begin(), value.end(), word);
         it != std::sregex_iterator(); ++it) {
      CHECK(it->length() <= 75);
      // Each word alone decodes to whole UTF-8 characters (RFC 2047 5(3)).
      const auto alone = decode_words(it->str());
      CHECK_FALSE(alone.empty());
      CHECK((static_cast<unsigned char>(alone.front()) & 0xc0) != 0x80);
    }
  }
  auto e = basic_email();
  e.subject = "Störung";
  CHECK(raw_header(header_block(build(e)), "Subject") == " =?UTF-8?Q?St=C3=B6rung?=");
  e.subject = "障害";
  CHECK(raw_header(header_block(build(e)), "Subject") == " =?UTF-8?B?6Zqc5a6z?=");
}

TEST_CASE("encode_unstructured: a long header name leaves room for the words", "[notify][smtp]") {
  const std::string value = "ünïcödé " + std::string(100, 'z');
  const auto encoded = encode_unstructured(value, 70);
  CHECK(encoded.starts_with("\r\n "));
  CHECK(decode_words(unfold(encoded)) == value);
  for (const auto& line : split_lines(encoded)) CHECK(line.size() <= 78);
  CHECK(encode_unstructured("", 9).empty());
}

TEST_CASE("mime: text and HTML make multipart/alternative", "[notify][smtp]") {
  auto e = basic_email();
  e.text = "Plain: 5 = 5, ünïcode\nsecond line \n.dot line\n";
  e.html = "<p>HTML: <b>bold</b> ünïcode</p>\n";
  const auto m = build(e);
  const auto content_type = raw_header(header_block(m), "Content-Type");
  std::smatch match;
  REQUIRE(
      std::regex_search(content_type, match,
                        std::regex("multipart/alternative;\r\n boundary=\"(=_np_[0-9a-f]{24})\"")));
  const std::string boundary = match[1];
  CHECK(m.find("\r\n--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8") !=
        std::string::npos);
  CHECK(m.find("\r\n--" + boundary + "\r\nContent-Type: text/html; charset=utf-8") !=
        std::string::npos);
  CHECK(m.ends_with("\r\n--" + boundary + "--\r\n"));
  const auto plain = part_body(m, "text/plain");
  CHECK(plain.find("=3D") != std::string::npos);
  CHECK(plain.find("line=20\r\n") != std::string::npos);  // trailing space encoded
  CHECK(plain.find("\r\n=2Edot") != std::string::npos);   // a line's leading dot encoded
  CHECK(qp_decode(plain) == "Plain: 5 = 5, ünïcode\r\nsecond line \r\n.dot line\r\n");
  CHECK(qp_decode(part_body(m, "text/html")) == "<p>HTML: <b>bold</b> ünïcode</p>\r\n");
}

TEST_CASE("mime: HTML alone is a single text/html part", "[notify][smtp]") {
  auto e = basic_email();
  e.text.clear();
  e.html = "<p>only html</p>";
  const auto m = build(e);
  CHECK(raw_header(header_block(m), "Content-Type") == " text/html; charset=utf-8");
  CHECK(m.find("multipart") == std::string::npos);
}

TEST_CASE("mime: attachments make multipart/mixed with base64 parts", "[notify][smtp]") {
  auto e = basic_email();
  e.html = "<p>report</p>";
  std::string binary;
  for (int round = 0; round < 3; ++round) {
    for (int b = 0; b < 256; ++b) binary += static_cast<char>(b);
  }
  e.attachments = {
      {"report.csv", "text/csv", "device,availability\ncore-1,99.95\n"},
      {"blob.bin", "", binary},
      {"résumé été.pdf", "application/pdf", "%PDF-1.4"},
      {std::string(30, 'x') + "ünïcödé" + std::string(60, 'y') + ".txt", "text/plain", ""}};
  const auto m = build(e);
  const auto content_type = raw_header(header_block(m), "Content-Type");
  CHECK(content_type.starts_with(" multipart/mixed;"));
  CHECK(m.find("Content-Type: multipart/alternative;") != std::string::npos);
  // Two boundaries, different, each line a delimiter only where a part starts or ends.
  const std::regex boundary_re("boundary=\"(=_np_[0-9a-f]{24})\"");
  std::vector<std::string> boundaries;
  for (auto it = std::sregex_iterator(m.begin(), m.end(), boundary_re);
       it != std::sregex_iterator(); ++it) {
    boundaries.push_back((*it)[1]);
  }
  REQUIRE(boundaries.size() == 2);
  CHECK(boundaries[0] != boundaries[1]);

  CHECK(m.find("Content-Type: text/csv;\r\n name=\"report.csv\"\r\n"
               "Content-Transfer-Encoding: base64\r\n"
               "Content-Disposition: attachment;\r\n filename=\"report.csv\"\r\n") !=
        std::string::npos);
  CHECK(base64_decode(part_body(m, "filename=\"report.csv\"")) ==
        "device,availability\ncore-1,99.95\n");
  const auto blob = part_body(m, "filename=\"blob.bin\"");
  CHECK(m.find("Content-Type: application/octet-stream;\r\n name=\"blob.bin\"") !=
        std::string::npos);
  CHECK(base64_decode(blob) == binary);
  const auto blob_lines = split_lines(blob);
  for (std::size_t i = 0; i + 1 < blob_lines.size(); ++i) CHECK(blob_lines[i].size() == 76);
  CHECK(blob_lines.back().size() <= 76);
  // RFC 2231: UTF-8, percent-encoded; continuations for a long name.
  CHECK(m.find("filename*=utf-8''r%C3%A9sum%C3%A9%20%C3%A9t%C3%A9.pdf\r\n") != std::string::npos);
  CHECK(m.find("filename*0*=utf-8''xxxxxxxxxx") != std::string::npos);
  CHECK(m.find(";\r\n filename*1*=") != std::string::npos);
  for (const auto& line : split_lines(header_block(m))) CHECK(line.size() <= 78);
}

TEST_CASE("mime: every line is at most 998 octets, every line ends in CRLF", "[notify][smtp]") {
  auto e = basic_email();
  e.text = std::string(5000, 'a') + "\n" + std::string(3000, ' ') + "\r\nmixed\rcr\n";
  e.html = "<p>" + std::string(4000, 'h') + "</p>";
  e.attachments = {{"a.bin", "application/octet-stream", std::string(10000, '\xff')}};
  const auto m = build(e);
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') REQUIRE((i > 0 && m[i - 1] == '\r'));
    if (m[i] == '\r') REQUIRE((i + 1 < m.size() && m[i + 1] == '\n'));
  }
  for (const auto& line : split_lines(m)) CHECK(line.size() <= 998);
  for (const auto& line : split_lines(part_body(m, "text/plain"))) CHECK(line.size() <= 76);
  CHECK(qp_decode(part_body(m, "text/plain")) ==
        std::string(5000, 'a') + "\r\n" + std::string(3000, ' ') + "\r\nmixed\rcr\r\n");
}

TEST_CASE("mime: header injection and bad addresses are refused, naming the field",
          "[notify][smtp]") {
  struct Case {
    const char* what;
    void (*change)(Email&);
    const char* field;
  };
  const Case cases[] = {
      {"CRLF in the subject", [](Email& e) { e.subject = "hi\r\nBcc: victim@evil.example"; },
       "subject"},
      {"LF in the subject", [](Email& e) { e.subject = "hi\nthere"; }, "subject"},
      {"CR in a recipient", [](Email& e) { e.to = {"ops@isp.example\rBcc: x@evil.example"}; },
       "to[0]"},
      {"LF in a display name", [](Email& e) { e.cc = {"Ops\n <ops@isp.example>"}; }, "cc[0]"},
      {"CR in the from", [](Email& e) { e.from = "a@isp.example\r"; }, "from"},
      {"LF in an extra header",
       [](Email& e) {
         e.extra_headers = {{"X-A", "v\nBcc: x@e.example"}};
       },
       "extra_headers[0]"},
      {"an extra header the sender writes",
       [](Email& e) {
         e.extra_headers = {{"X-Ok", "1"}, {"bcc", "x@evil.example"}};
       },
       "extra_headers[1]"},
      {"a Content- extra header",
       [](Email& e) {
         e.extra_headers = {{"Content-Type", "text/evil"}};
       },
       "extra_headers[0]"},
      {"a colon in an extra header's name",
       [](Email& e) {
         e.extra_headers = {{"X:A", "v"}};
       },
       "extra_headers[0]"},
      {"no recipient", [](Email& e) { e.to.clear(); }, "to"},
      {"no @", [](Email& e) { e.to = {"ops.isp.example"}; }, "to[0]"},
      {"two dots", [](Email& e) { e.to = {"a..b@isp.example"}; }, "to[0]"},
      {"a quoted local part", [](Email& e) { e.to = {"\"a b\"@isp.example"}; }, "to[0]"},
      {"a domain literal", [](Email& e) { e.to = {"a@[192.0.2.1]"}; }, "to[0]"},
      {"a label ending in -", [](Email& e) { e.to = {"a@isp-.example"}; }, "to[0]"},
      {"non-ASCII address", [](Email& e) { e.to = {"zoë@isp.example"}; }, "to[0]"},
      {"two addresses in one", [](Email& e) { e.to = {"a@isp.example, b@isp.example"}; }, "to[0]"},
      {"unbalanced brackets", [](Email& e) { e.to = {"Ops ops@isp.example>"}; }, "to[0]"},
      {"empty from", [](Email& e) { e.from.clear(); }, "from"},
      {"invalid UTF-8 text", [](Email& e) { e.text = "bad \xc3\x28 byte"; }, "text"},
      {"invalid UTF-8 html", [](Email& e) { e.html = "\xff"; }, "html"},
      {"a NUL in the subject", [](Email& e) { e.subject = std::string("a\0b", 3); }, "subject"},
      {"an escape in the subject", [](Email& e) { e.subject = "a\x1b[31mred"; }, "subject"},
      {"a subject over 1000 bytes", [](Email& e) { e.subject = std::string(1001, 's'); },
       "subject"},
      {"an empty file name",
       [](Email& e) {
         e.attachments = {{"", "text/plain", "x"}};
       },
       "attachments[0].filename"},
      {"a file name with LF",
       [](Email& e) {
         e.attachments = {{"a\nb.txt", "text/plain", "x"}};
       },
       "attachments[0].filename"},
      {"a bad content type",
       [](Email& e) {
         e.attachments = {{"a.txt", "text/plain; charset=\"x\"", "x"}};
       },
       "attachments[0].content_type"},
      {"a multipart attachment",
       [](Email& e) {
         e.attachments = {{"a.eml", "multipart/mixed", "x"}};
       },
       "attachments[0].content_type"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto e = basic_email();
    c.change(e);
    auto m = build_message(e);
    REQUIRE_FALSE(m);
    CHECK(m.error().code == core::Errc::kInvalidInput);
    CHECK(m.error().details.at("field") == c.field);
  }
}

TEST_CASE("mime: recipients and sizes are bounded", "[notify][smtp]") {
  auto e = basic_email();
  e.to.clear();
  for (std::size_t i = 0; i <= kMaxRecipients; ++i) {
    e.to.push_back("r" + std::to_string(i) + "@isp.example");
  }
  auto many = build_message(e);
  REQUIRE_FALSE(many);
  CHECK(many.error().details.at("field") == "to");

  e = basic_email();
  e.attachments = {{"a.bin", "", std::string(kMaxEmailContentBytes / 2, 'a')},
                   {"b.bin", "", std::string(kMaxEmailContentBytes / 2, 'b')}};
  auto big = build_message(e);
  REQUIRE_FALSE(big);
  CHECK(big.error().details.at("field") == "attachments[1]");
  CHECK(big.error().message.find("26214400") != std::string::npos);
}

TEST_CASE("mime: envelope recipients are the addresses of to and cc, once each", "[notify][smtp]") {
  auto e = basic_email();
  e.to = {"Ops <ops@isp.example>", "noc@isp.example"};
  e.cc = {"ops@isp.example", "\"Boss\" <boss@isp.example>"};
  CHECK(envelope_recipients(e) ==
        std::vector<std::string>{"ops@isp.example", "noc@isp.example", "boss@isp.example"});
}

TEST_CASE("parse_mailbox: the forms of an address", "[notify][smtp]") {
  struct Case {
    const char* text;
    const char* name;
    const char* address;
  };
  const Case cases[] = {
      {"ops@isp.example", "", "ops@isp.example"},
      {"  <ops@isp.example> ", "", "ops@isp.example"},
      {"NOC on call <noc@isp.example>", "NOC on call", "noc@isp.example"},
      {"\"Doe, \\\"JD\\\" Jane\" <jd@isp.example>", "Doe, \"JD\" Jane", "jd@isp.example"},
      {"root@localhost", "", "root@localhost"},
      {"first.last+tag@sub.isp-1.example", "", "first.last+tag@sub.isp-1.example"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto m = parse_mailbox(c.text, "to");
    REQUIRE(m);
    CHECK(m->display_name == c.name);
    CHECK(m->address == c.address);
  }
  CHECK_FALSE(is_valid_addr_spec(std::string(65, 'a') + "@isp.example"));
  CHECK(is_valid_addr_spec(std::string(64, 'a') + "@isp.example"));
  CHECK_FALSE(is_valid_addr_spec("a@" + std::string(64, 'b') + ".example"));
  CHECK_FALSE(is_valid_addr_spec(".a@isp.example"));
  CHECK_FALSE(is_valid_addr_spec("a@isp..example"));
  CHECK_FALSE(is_valid_addr_spec("a@"));
  CHECK_FALSE(is_valid_addr_spec("@isp.example"));
}

TEST_CASE("dot_stuff: leading dots doubled, bare LF and CR become CRLF", "[notify][smtp]") {
  CHECK(dot_stuff(".hidden\n..two\r\nplain\r\n.") == "..hidden\r\n...two\r\nplain\r\n..\r\n");
  CHECK(dot_stuff("a\rb\n\nc") == "a\r\nb\r\n\r\nc\r\n");
  CHECK(dot_stuff("no dot.\r\n") == "no dot.\r\n");
  CHECK(dot_stuff(".") == "..\r\n");
  CHECK(dot_stuff("").empty());
  // A message whose own line is "." cannot end the data early.
  const auto stuffed = dot_stuff("a\r\n.\r\nb");
  CHECK(stuffed.find("\r\n.\r\n") == std::string::npos);
}

TEST_CASE("encodings: base64, quoted-printable, the date", "[notify][smtp]") {
  CHECK(base64_encode("").empty());
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\xff\xfe\x00", 3)) == "//4A");
  CHECK(base64_lines(std::string(57, 'a')) == base64_encode(std::string(57, 'a')) + "\r\n");
  CHECK(base64_lines(std::string(58, 'a')).find("\r\nYQ==\r\n") != std::string::npos);

  CHECK(quoted_printable("a=b") == "a=3Db");
  CHECK(quoted_printable("é") == "=C3=A9");
  CHECK(quoted_printable("x \ny\t") == "x=20\r\ny=09");
  CHECK(quoted_printable(".a\r\n.b") == "=2Ea\r\n=2Eb");
  const auto long_line = quoted_printable(std::string(200, 'q'));
  for (const auto& line : split_lines(long_line)) CHECK(line.size() <= 76);
  CHECK(qp_decode(long_line) == std::string(200, 'q'));

  CHECK(format_email_date(kJan15) == "Thu, 15 Jan 2026 10:30:00 +0000");
  CHECK(format_email_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
  CHECK(format_email_date(951782400999) == "Tue, 29 Feb 2000 00:00:00 +0000");
}
