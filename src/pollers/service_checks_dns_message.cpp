// The DNS message codec of the DNS check (src/pollers/detail/dns_message.hpp): one query out, one
// reply in. A reply is untrusted input from the network, so the reader below never indexes the
// message without checking the length first, follows compression pointers only backwards and a
// bounded number of times, caps a decoded name at 255 bytes, and checks every count against what
// the message can hold. Anything wrong is a kProtocolError that says what and where.
#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "detail/dns_message.hpp"

namespace netpulse::pollers::detail {

using core::Errc;
using core::Error;

namespace {

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeCname = 5;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint16_t kClassIn = 1;
constexpr std::size_t kMaxNameBytes = 255;  // RFC 1035 §3.1, wire form

Error malformed(std::string_view what, std::size_t offset) {
  return Error(Errc::kProtocolError,
               fmt::format("malformed DNS reply: {} (at byte {})", what, offset));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// A bounds-checked cursor over the message.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> message) : msg_(message) {}

  std::size_t offset() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return msg_.size() - pos_; }

  core::Result<std::uint16_t> u16(std::string_view what) {
    if (remaining() < 2) return malformed(fmt::format("{} cut short", what), pos_);
    const auto v = static_cast<std::uint16_t>((msg_[pos_] << 8) | msg_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  core::Result<std::uint32_t> u32(std::string_view what) {
    auto hi = u16(what);
    if (!hi) return std::move(hi).error();
    auto lo = u16(what);
    if (!lo) return std::move(lo).error();
    return (std::uint32_t{*hi} << 16) | *lo;
  }
  core::Result<std::span<const std::uint8_t>> bytes(std::size_t n, std::string_view what) {
    if (remaining() < n) return malformed(fmt::format("{} cut short", what), pos_);
    auto s = msg_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

  // A possibly compressed name, lower-cased, without the trailing dot ("" for the root).
  core::Result<std::string> name() {
    std::string out;
    std::size_t wire_bytes = 0;
    std::size_t at = pos_;
    std::optional<std::size_t> resume;  // where the reader goes on after the first pointer
    int jumps = 0;
    for (;;) {
      if (at >= msg_.size()) return malformed("name runs past the end", at);
      const std::uint8_t len = msg_[at];
      if ((len & 0xC0) == 0xC0) {
        if (at + 1 >= msg_.size()) return malformed("compression pointer cut short", at);
        const std::size_t target = ((len & 0x3Fu) << 8) | msg_[at + 1];
        // Only backwards: a pointer to itself or ahead could loop or read unseen bytes.
        if (target >= at) return malformed("compression pointer does not point backwards", at);
        if (++jumps > kMaxPointerJumps) return malformed("too many compression pointers", at);
        if (!resume) resume = at + 2;
        at = target;
        continue;
      }
      if ((len & 0xC0) != 0) return malformed("reserved label type", at);
      wire_bytes += 1 + len;
      if (wire_bytes > kMaxNameBytes) return malformed("name longer than 255 bytes", at);
      if (len == 0) {
        pos_ = resume.value_or(at + 1);
        return out;
      }
      if (at + 1 + len > msg_.size()) return malformed("label runs past the end", at);
      if (!out.empty()) out.push_back('.');
      for (std::size_t i = 0; i < len; ++i) {
        out.push_back(static_cast<char>(std::tolower(msg_[at + 1 + i])));
      }
      at += 1 + len;
    }
  }

 private:
  std::span<const std::uint8_t> msg_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string rcode_name(int rcode) {
  static constexpr std::array<const char*, 6> kNames = {"NOERROR",  "FORMERR", "SERVFAIL",
                                                        "NXDOMAIN", "NOTIMP",  "REFUSED"};
  if (rcode >= 0 && rcode < static_cast<int>(kNames.size())) return kNames[rcode];
  return fmt::format("RCODE{}", rcode);
}

std::uint16_t dns_type_code(DnsRecordType type) noexcept {
  return type == DnsRecordType::kAAAA ? kTypeAaaa : kTypeA;
}

core::Result<void> validate_dns_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) {
    return core::invalid_field("name", "must be 1..253 characters");
  }
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return core::invalid_field("name", "has an empty label");
      label = 0;
      continue;
    }
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    if (!ok) return core::invalid_field("name", "may hold only letters, digits, '-', '_', '.'");
    if (++label > 63) return core::invalid_field("name", "has a label longer than 63 characters");
  }
  if (label == 0) return core::invalid_field("name", "has an empty label");
  return core::ok();
}

std::vector<std::uint8_t> encode_dns_query(std::uint16_t id, std::string_view name,
                                           DnsRecordType type) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::vector<std::uint8_t> out;
  out.reserve(kDnsHeaderBytes + name.size() + 6);
  const auto put16 = [&out](std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xFF));
  };
  put16(id);
  put16(0x0100);  // QR=0, OPCODE=QUERY, RD=1
  put16(1);       // QDCOUNT
  put16(0);       // ANCOUNT
  put16(0);       // NSCOUNT
  put16(0);       // ARCOUNT
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto dot = std::min(name.find('.', start), name.size());
    out.push_back(static_cast<std::uint8_t>(dot - start));
    out.insert(out.end(), name.begin() + start, name.begin() + dot);
    start = dot + 1;
  }
  out.push_back(0);
  put16(dns_type_code(type));
  put16(kClassIn);
  return out;
}

core::Result<std::uint16_t> dns_message_id(std::span<const std::uint8_t> message) {
  Reader reader(message);
  return reader.u16("id");
}

core::Result<DnsReply> decode_dns_reply(std::span<const std::uint8_t> message,
                                        std::string_view name, DnsRecordType type) {
  if (message.size() < kDnsHeaderBytes) return malformed("shorter than a header", 0);
  Reader r(message);
  DnsReply reply;
  reply.id = *r.u16("id");
  const std::uint16_t flags = *r.u16("flags");
  const std::uint16_t qdcount = *r.u16("qdcount");
  const std::uint16_t ancount = *r.u16("ancount");
  (void)*r.u16("nscount");
  (void)*r.u16("arcount");
  if ((flags & 0x8000) == 0) return malformed("QR bit clear (a query, not a reply)", 2);
  if (((flags >> 11) & 0xF) != 0) return malformed("opcode is not QUERY", 2);
  reply.truncated = (flags & 0x0200) != 0;
  reply.rcode = flags & 0xF;
  if (qdcount > 1) return malformed("more than one question", 4);
  // Each record needs at least 11 bytes (root name + type, class, TTL, length); a count the
  // message cannot hold is refused before any loop trusts it.
  if (std::size_t{ancount} * 11 > r.remaining()) return malformed("answer count too large", 6);

  const std::string asked = lower(name);
  const std::uint16_t asked_type = dns_type_code(type);
  if (qdcount == 1) {
    auto qname = r.name();
    if (!qname) return std::move(qname).error();
    auto qtype = r.u16("question type");
    if (!qtype) return std::move(qtype).error();
    auto qclass = r.u16("question class");
    if (!qclass) return std::move(qclass).error();
    if (*qname != asked || *qtype != asked_type || *qclass != kClassIn) {
      return Error(Errc::kProtocolError,
                   fmt::format("DNS reply answers another question ({} type {})", *qname, *qtype));
    }
  } else if (reply.rcode == kRcodeNoError) {
    return malformed("no question echoed", 4);
  }

  // Owners whose records answer the question: the name, then each CNAME target along the chain.
  std::vector<std::string> chain{asked};
  for (std::uint16_t i = 0; i < ancount; ++i) {
    const std::size_t record_at = r.offset();
    auto owner = r.name();
    if (!owner) return std::move(owner).error();
    auto rtype = r.u16("record type");
    if (!rtype) return std::move(rtype).error();
    auto rclass = r.u16("record class");
    if (!rclass) return std::move(rclass).error();
    auto ttl = r.u32("record TTL");
    if (!ttl) return std::move(ttl).error();
    auto rdlength = r.u16("record length");
    if (!rdlength) return std::move(rdlength).error();
    const std::size_t rdata_at = r.offset();
    if (r.remaining() < *rdlength) return malformed("record data runs past the end", rdata_at);
    const bool on_chain = std::find(chain.begin(), chain.end(), *owner) != chain.end();
    if (*rclass == kClassIn && on_chain && *rtype == kTypeCname) {
      auto target = r.name();
      if (!target) return std::move(target).error();
      if (r.offset() != rdata_at + *rdlength) {
        return malformed("CNAME data length does not match its name", rdata_at);
      }
      if (chain.size() < 16) chain.push_back(*target);
      continue;
    }
    auto rdata = r.bytes(*rdlength, "record data");
    if (!rdata) return std::move(rdata).error();
    if (*rclass != kClassIn || !on_chain || *rtype != asked_type) continue;
    if (*rtype == kTypeA) {
      if (rdata->size() != 4) return malformed("A record data is not 4 bytes", record_at);
      boost::asio::ip::address_v4::bytes_type b;
      std::copy(rdata->begin(), rdata->end(), b.begin());
      reply.answers.emplace_back(boost::asio::ip::address_v4(b));
    } else {
      if (rdata->size() != 16) return malformed("AAAA record data is not 16 bytes", record_at);
      boost::asio::ip::address_v6::bytes_type b;
      std::copy(rdata->begin(), rdata->end(), b.begin());
      reply.answers.emplace_back(boost::asio::ip::address_v6(b));
    }
  }
  return reply;
}

}  // namespace netpulse::pollers::detail
