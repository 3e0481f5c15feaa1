// The outbound address policy (include/netpulse/core/outbound.hpp): strict CIDR parsing, the
// canonical form addresses are judged in, and the longest-prefix decision between the deny,
// fetch-only deny and allow lists. A policy is a shared, immutable rule table; a check is a
// linear scan of it (tens of rules, a few per connection).
#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>

#include <netpulse/core/outbound.hpp>

namespace netpulse::core {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kDenyList = "network.outbound_deny";
constexpr std::string_view kFetchDenyList = "network.fetch_deny";
constexpr std::string_view kAllowList = "network.outbound_allow";

template <std::size_t N>
bool prefix_equal(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b,
                  int prefix) noexcept {
  int bits = prefix;
  for (std::size_t i = 0; i < N && bits > 0; ++i, bits -= 8) {
    const unsigned mask = bits >= 8 ? 0xFFu : (0xFFu << (8 - bits)) & 0xFFu;
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

template <std::size_t N>
std::array<unsigned char, N> masked(std::array<unsigned char, N> bytes, int prefix) noexcept {
  int bits = prefix;
  for (std::size_t i = 0; i < N; ++i, bits -= 8) {
    if (bits >= 8) continue;
    bytes[i] =
        bits <= 0 ? 0 : static_cast<unsigned char>(bytes[i] & ((0xFFu << (8 - bits)) & 0xFFu));
  }
  return bytes;
}

asio::ip::address masked(const asio::ip::address& a, int prefix) {
  if (a.is_v4()) return asio::ip::address_v4(masked(a.to_v4().to_bytes(), prefix));
  return asio::ip::address_v6(masked(a.to_v6().to_bytes(), prefix));
}

// 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052): the last 32 bits are an IPv4 address.
std::optional<asio::ip::address_v4> nat64_embedded(const asio::ip::address_v6& a) {
  static constexpr std::array<unsigned char, 12> kPrefix{0x00, 0x64, 0xff, 0x9b, 0, 0,
                                                         0,    0,    0,    0,    0, 0};
  const auto bytes = a.to_bytes();
  if (!std::equal(kPrefix.begin(), kPrefix.end(), bytes.begin())) return std::nullopt;
  return asio::ip::address_v4({bytes[12], bytes[13], bytes[14], bytes[15]});
}

Error denied(const asio::ip::address& address, const asio::ip::address& canonical,
             const OutboundRule& rule) {
  auto text = address.to_string();
  if (canonical != address) text += " (" + canonical.to_string() + ")";
  return Error(
      Errc::kOutboundDenied,
      fmt::format("address {} is refused by {} rule {}", text, rule.list, rule.network.to_string()),
      {{"address", canonical.to_string()},
       {"rule", rule.network.to_string()},
       {"list", rule.list}});
}

std::shared_ptr<const std::vector<OutboundRule>> default_rules();

}  // namespace

bool IpNetwork::contains(const asio::ip::address& a) const noexcept {
  const auto c = canonical_address(a);
  if (c.is_v4() != address.is_v4()) return false;
  if (c.is_v4()) return prefix_equal(c.to_v4().to_bytes(), address.to_v4().to_bytes(), prefix);
  return prefix_equal(c.to_v6().to_bytes(), address.to_v6().to_bytes(), prefix);
}

std::string IpNetwork::to_string() const {
  return fmt::format("{}/{}", address.to_string(), prefix);
}

Result<IpNetwork> parse_ip_network(std::string_view text) {
  auto bad = [&](std::string why) {
    return Error(Errc::kInvalidInput, std::move(why), {{"entry", text}});
  };
  if (text.empty()) return bad("is empty");
  if (text.size() > 64) return bad("is too long to be a network");
  for (char c : text) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != '.' && c != ':' && c != '/') {
      return bad(
          "must be an IPv4 or IPv6 address with an optional /prefix (no spaces, names or zone "
          "ids)");
    }
  }
  const auto slash = text.find('/');
  int prefix = -1;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const bool decimal =
        !digits.empty() && digits.size() <= 3 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!decimal) return bad("needs a decimal prefix length after '/'");
    if (digits.size() > 1 && digits.front() == '0') {
      return bad("has a prefix length with a leading zero");
    }
    std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return bad("does not start with an IPv4 or IPv6 address");
  const int width = address.is_v4() ? 32 : 128;
  if (prefix < 0) prefix = width;
  if (prefix > width) {
    return bad(fmt::format("has a prefix length of {}; an {} address has {} bits", prefix,
                           address.is_v4() ? "IPv4" : "IPv6", width));
  }
  if (address.is_v6() && address.to_v6().is_v4_mapped() && prefix >= 96) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    prefix -= 96;
  }
  const auto network = masked(address, prefix);
  if (network != address) {
    return bad(fmt::format("has bits set past its /{} prefix (the network is {}/{})", prefix,
                           network.to_string(), prefix));
  }
  return IpNetwork{address, prefix};
}

asio::ip::address canonical_address(const asio::ip::address& a) {
  if (!a.is_v6()) return a;
  auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6);
  if (v6.scope_id() != 0) v6.scope_id(0);
  return v6;
}

OutboundLists OutboundLists::defaults() {
  OutboundLists l;
  l.deny = {"0.0.0.0/8",
            "169.254.0.0/16",
            "169.254.169.254/32",
            "100.100.100.200/32",
            "224.0.0.0/4",
            "255.255.255.255/32",
            "::/128",
            "fe80::/10",
            "fd00:ec2::254/128",
            "ff00::/8"};
  l.fetch_deny = {"127.0.0.0/8", "::1/128"};
  return l;
}

OutboundPolicy::OutboundPolicy() : rules_(default_rules()) {}

OutboundPolicy::OutboundPolicy(std::shared_ptr<const std::vector<OutboundRule>> rules)
    : rules_(std::move(rules)) {}

Result<OutboundPolicy> OutboundPolicy::make(const OutboundLists& lists) {
  auto rules = std::make_shared<std::vector<OutboundRule>>();
  const std::array<std::tuple<const std::vector<std::string>*, std::string_view, bool, bool>, 3>
      sources{{{&lists.deny, kDenyList, false, false},
               {&lists.fetch_deny, kFetchDenyList, false, true},
               {&lists.allow, kAllowList, true, false}}};
  for (const auto& [entries, list, allow, fetch_only] : sources) {
    for (const auto& entry : *entries) {
      auto network = parse_ip_network(entry);
      if (!network) {
        return Error(Errc::kConfigError,
                     fmt::format("{}: entry \"{}\" {}", list, entry, network.error().message),
                     {{"key", list}, {"entry", entry}});
      }
      rules->push_back(OutboundRule{*network, allow, fetch_only, std::string(list)});
    }
  }
  return OutboundPolicy(std::move(rules));
}

const OutboundRule* OutboundPolicy::decide_one(const asio::ip::address& canonical,
                                               OutboundPurpose purpose) const noexcept {
  const OutboundRule* best = nullptr;
  for (const auto& rule : *rules_) {
    if (rule.fetch_only && purpose != OutboundPurpose::kFetch) continue;
    if (!rule.network.contains(canonical)) continue;
    if (best == nullptr || rule.network.prefix > best->network.prefix ||
        (rule.network.prefix == best->network.prefix && rule.allow && !best->allow)) {
      best = &rule;
    }
  }
  return best;
}

const OutboundRule* OutboundPolicy::decide(const asio::ip::address& address,
                                           OutboundPurpose purpose) const noexcept {
  const auto canonical = canonical_address(address);
  const auto* rule = decide_one(canonical, purpose);
  if (canonical.is_v6()) {
    if (auto v4 = nat64_embedded(canonical.to_v6())) {
      const auto* embedded = decide_one(*v4, purpose);
      if (embedded && !embedded->allow && (rule == nullptr || rule->allow)) return embedded;
    }
  }
  return rule;
}

bool OutboundPolicy::allows(const asio::ip::address& address,
                            OutboundPurpose purpose) const noexcept {
  const auto* rule = decide(address, purpose);
  return rule == nullptr || rule->allow;
}

Result<void> OutboundPolicy::check(const asio::ip::address& address,
                                   OutboundPurpose purpose) const {
  const auto* rule = decide(address, purpose);
  if (rule == nullptr || rule->allow) return ok();
  return denied(address, canonical_address(address), *rule);
}

std::optional<asio::ip::address> url_host_literal(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  auto authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  boost::system::error_code ec;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const auto v6 = asio::ip::make_address_v6(std::string(authority.substr(1, close - 1)), ec);
    if (ec) return std::nullopt;
    return asio::ip::address(v6);
  }
  const auto v4 =
      asio::ip::make_address_v4(std::string(authority.substr(0, authority.find(':'))), ec);
  if (ec) return std::nullopt;
  return asio::ip::address(v4);
}

namespace {

std::shared_ptr<const std::vector<OutboundRule>> default_rules() {
  // Parsed once; the defaults are constants (a test keeps them equal to config/netpulse.toml).
  static const auto rules = [] {
    auto policy = OutboundPolicy::make(OutboundLists::defaults());
    return std::make_shared<const std::vector<OutboundRule>>(policy->rules());
  }();
  return rules;
}

}  // namespace

}  // namespace netpulse::core
