// The scripted HTTP receiver of the notifier's integration tests (peers/webhook_receiver.py,
// Debian's python3 only) as a test object: started on 127.0.0.1 with its answers, its port read
// back, its requests read from the JSON lines it logs, stopped by PID.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace netpulse::test {

class WebhookReceiver {
 public:
  // `answers` as the script takes them: "200", "500", "429:5", "sleep:3", "redirect:URL",
  // "body:STATUS:TEXT" (the last repeats). FAILs the test when it does not come up in 15 s.
  WebhookReceiver(const TempDir& dir, const std::string& name, std::vector<std::string> answers);
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;
  // Every request received so far: {"n", "at", "method", "path", "headers", "body", "answer"}.
  std::vector<boost::json::object> requests() const;

 private:
  std::string dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace netpulse::test
