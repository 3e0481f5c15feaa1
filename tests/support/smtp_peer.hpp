// The real SMTP server of the notifier's email tests: Debian's aiosmtpd (python3-aiosmtpd) run
// by tests/support/smtp_peer.py on a free 127.0.0.1 port, stopped by PID when the SmtpPeer goes
// away. It writes each message it accepts to its directory with a JSON summary made by Python's
// `email` package (see the script for the fields). A hard requirement (scripts/bootstrap
// installs it): a missing one fails the test, naming scripts/bootstrap.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/json/object.hpp>

#include "support/child_process.hpp"
#include "support/peers.hpp"
#include "support/temp_dir.hpp"

namespace netpulse::test {

struct SmtpPeerOptions {
  std::string tls = "none";      // none, starttls (with the PKI's leaf), implicit
  std::string auth = "off";      // off, on (PLAIN and LOGIN), login-only
  std::string refuse = "none";   // none, rcpt (550 to "nobody*"), data (554), data-transient (451)
  std::string stall = "none";    // none, greeting (never speaks), data (never answers the message)
  const TestPki* pki = nullptr;  // needed unless tls is none
};

// The credentials the peer accepts with auth on.
inline constexpr const char* kSmtpUser = "netpulse";
inline constexpr const char* kSmtpPassword = "s3cret pass";

class SmtpPeer {
 public:
  // Starts the peer in `dir` (messages go to dir/mail). FAILs when it does not come up.
  SmtpPeer(const TempDir& dir, const SmtpPeerOptions& options);
  std::uint16_t port() const { return port_; }
  // The summary of the n-th accepted message (from 1). FAILs when there is none.
  boost::json::object message(int n) const;
  // The n-th accepted message's bytes as received.
  std::string raw_message(int n) const;
  // How many messages the peer has accepted.
  int message_count() const;

 private:
  std::string mail_dir_;
  std::uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace netpulse::test
