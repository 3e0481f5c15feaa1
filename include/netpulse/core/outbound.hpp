// The outbound address policy: which IP addresses NetPulse may connect to on a user's behalf.
// One policy is built by `app` from the config's [network] section and handed to every module
// that opens connections a user chose: the service checks (TCP, HTTP(S) and every redirect hop,
// DNS), discovery and the ICMP/SNMP polling of devices, and later the notifier's webhooks.
//
// Three lists of networks (CIDRs):
//   network.outbound_deny   refused for every purpose (link-local, cloud metadata, unspecified,
//                           multicast, broadcast by default);
//   network.fetch_deny      refused as well, but only for kFetch (service checks, webhooks):
//                           loopback by default, so polling the server's own host by ICMP/SNMP
//                           stays possible while reading its local HTTP services does not;
//   network.outbound_allow  allowed (empty by default).
// An address is judged by the MOST SPECIFIC rule that contains it (the longest prefix); when an
// allow and a deny rule are equally specific, allow wins. No matching rule: allowed. So
// outbound_allow = ["127.0.0.0/8"] opens loopback to service checks, while allowing
// 169.254.0.0/16 leaves 169.254.169.254 refused by its own, more specific /32 rule.
//
// Addresses are judged as the policy's canonical form: an IPv4-mapped IPv6 address
// (::ffff:169.254.169.254) is the IPv4 address it maps; an address in the NAT64 well-known
// prefix 64:ff9b::/96 is refused when either it or the IPv4 address it embeds is refused.
// docs/security.md ("Outbound requests") has the defaults and the reasons.
//
// Threads: an OutboundPolicy is immutable; copies share one rule table and may be used from any
// thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include <netpulse/core/result.hpp>

namespace netpulse::core {

// An IP network: an address whose bits past `prefix` are zero, and the prefix length
// (0..32 for IPv4, 0..128 for IPv6).
struct IpNetwork {
  boost::asio::ip::address address;
  int prefix = 0;

  // Whether `a` (taken in canonical form, see canonical_address) is in the network. An IPv4
  // address is never in an IPv6 network and the other way round.
  bool contains(const boost::asio::ip::address& a) const noexcept;
  std::string to_string() const;  // "169.254.0.0/16", "fe80::/10"
  friend bool operator==(const IpNetwork&, const IpNetwork&) = default;
};

// Parses a network strictly: "169.254.0.0/16", "fe80::/10", or a bare address for one host
// ("fd00:ec2::254" is fd00:ec2::254/128). Refused, with kInvalidInput saying why: anything but
// one address and an optional "/" with a decimal prefix (no spaces, signs, leading zeros or zone
// ids), a prefix beyond the family's width, and bits set past the prefix ("169.254.1.0/16": the
// message names 169.254.0.0/16). An IPv4-mapped IPv6 network of prefix >= 96
// ("::ffff:169.254.0.0/112") is the IPv4 network it maps (169.254.0.0/16).
Result<IpNetwork> parse_ip_network(std::string_view text);

// `a` as the policy judges it: an IPv4-mapped IPv6 address as its IPv4 address, an IPv6 zone id
// dropped; every other address as is.
boost::asio::ip::address canonical_address(const boost::asio::ip::address& a);

// What a connection is for; fetch_deny applies to kFetch only.
enum class OutboundPurpose {
  kPoll,   // ICMP echo, SNMP, discovery sweeps
  kFetch,  // service checks (TCP, HTTP(S), DNS), webhooks: connections that read a service
};

// One rule of the policy.
struct OutboundRule {
  IpNetwork network;
  bool allow = false;
  bool fetch_only = false;  // from fetch_deny
  std::string list;  // "network.outbound_deny", "network.fetch_deny", "network.outbound_allow"
};

// The policy's lists as the config writes them (CIDR strings).
struct OutboundLists {
  std::vector<std::string> deny;
  std::vector<std::string> fetch_deny;
  std::vector<std::string> allow;

  // The built-in defaults, the same as config/netpulse.toml's [network] section.
  static OutboundLists defaults();
};

class OutboundPolicy {
 public:
  // The built-in defaults (OutboundLists::defaults()).
  OutboundPolicy();

  // A policy of `lists`. kConfigError naming the list and the entry when one is not a network
  // (details.key "network.outbound_deny", details.entry the text).
  static Result<OutboundPolicy> make(const OutboundLists& lists);

  // The rule that decides for `address` used for `purpose`, or nullptr when no rule contains it
  // (then it is allowed). For a NAT64 address the refusing rule of either form, if any.
  const OutboundRule* decide(const boost::asio::ip::address& address,
                             OutboundPurpose purpose) const noexcept;

  bool allows(const boost::asio::ip::address& address, OutboundPurpose purpose) const noexcept;

  // ok, or kOutboundDenied with the message "address 169.254.169.254 is refused by
  // network.outbound_deny rule 169.254.169.254/32" and details {address, rule, list}.
  Result<void> check(const boost::asio::ip::address& address, OutboundPurpose purpose) const;

  // Every rule, in list order (deny, fetch_deny, allow).
  const std::vector<OutboundRule>& rules() const noexcept { return *rules_; }

 private:
  explicit OutboundPolicy(std::shared_ptr<const std::vector<OutboundRule>> rules);
  const OutboundRule* decide_one(const boost::asio::ip::address& canonical,
                                 OutboundPurpose purpose) const noexcept;

  std::shared_ptr<const std::vector<OutboundRule>> rules_;
};

// The host of a URL ("scheme://[userinfo@]host[:port][/...]") when it is an IP literal (an
// IPv4 dotted quad, or an IPv6 address in brackets), else nullopt (a name, or no host). For
// save-time checks of targets written as literals; names are judged after resolution.
std::optional<boost::asio::ip::address> url_host_literal(std::string_view url);

}  // namespace netpulse::core
