// The aiosmtpd peer of the email tests; see smtp_peer.hpp.
#include "support/smtp_peer.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

namespace netpulse::test {

namespace {

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

SmtpPeer::SmtpPeer(const TempDir& dir, const SmtpPeerOptions& options)
    : mail_dir_(dir.file("mail")), port_(free_tcp_port()) {
  require_installed("/usr/bin/python3", "python3");
  if (!std::filesystem::exists("/usr/lib/python3/dist-packages/aiosmtpd")) {
    FAIL("aiosmtpd is not installed (Debian package python3-aiosmtpd): run scripts/bootstrap");
  }
  ::mkdir(mail_dir_.c_str(), 0700);
  std::vector<std::string> args{"/usr/bin/python3",
                                std::string(NETPULSE_SOURCE_DIR) + "/tests/support/smtp_peer.py",
                                "--port",
                                std::to_string(port_),
                                "--out",
                                mail_dir_,
                                "--tls",
                                options.tls,
                                "--auth",
                                options.auth,
                                "--refuse",
                                options.refuse,
                                "--stall",
                                options.stall};
  if (options.tls != "none") {
    REQUIRE(options.pki != nullptr);
    args.insert(args.end(), {"--cert", options.pki->leaf, "--key", options.pki->key});
  }
  const std::string log = dir.file("smtp_peer.log");
  process_ = std::make_unique<ChildProcess>(args, ChildProcess::Env{}, log);
  if (!wait_tcp(port_, *process_)) {
    process_->kill();
    FAIL("the aiosmtpd peer did not start: " << read_whole_file(log));
  }
}

boost::json::object SmtpPeer::message(int n) const {
  const std::string path = mail_dir_ + "/" + std::to_string(n) + ".json";
  if (!std::filesystem::exists(path)) FAIL("the SMTP peer has no message " << n);
  return boost::json::parse(read_whole_file(path)).as_object();
}

std::string SmtpPeer::raw_message(int n) const {
  return read_whole_file(mail_dir_ + "/" + std::to_string(n) + ".eml");
}

int SmtpPeer::message_count() const {
  int n = 0;
  while (std::filesystem::exists(mail_dir_ + "/" + std::to_string(n + 1) + ".json")) ++n;
  return n;
}

}  // namespace netpulse::test
