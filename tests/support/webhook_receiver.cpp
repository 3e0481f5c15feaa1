#include "support/webhook_receiver.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

namespace netpulse::test {

namespace {

std::string script_path() {
  return std::string(NETPULSE_SOURCE_DIR) + "/tests/support/peers/webhook_receiver.py";
}

}  // namespace

WebhookReceiver::WebhookReceiver(const TempDir& dir, const std::string& name,
                                 std::vector<std::string> answers)
    : dir_(dir.file(name)) {
  require_installed("/usr/bin/python3", "python3");
  std::filesystem::create_directories(dir_);
  std::vector<std::string> args{"/usr/bin/python3", script_path(), dir_};
  args.insert(args.end(), answers.begin(), answers.end());
  process_ = std::make_unique<ChildProcess>(args, ChildProcess::Env{}, dir_ + "/receiver.out");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline && !process_->poll()) {
    std::ifstream in(dir_ + "/port");
    int port = 0;
    if (in >> port && port > 0) {
      port_ = static_cast<std::uint16_t>(port);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a child process starting
  }
  std::ifstream out(dir_ + "/receiver.out");
  std::stringstream text;
  text << out.rdbuf();
  FAIL("the webhook receiver did not start: " << text.str());
}

std::string WebhookReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<boost::json::object> WebhookReceiver::requests() const {
  std::vector<boost::json::object> out;
  std::ifstream in(dir_ + "/requests.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    if (!ec && v.is_object()) out.push_back(v.as_object());  // a line being written is skipped
  }
  return out;
}

}  // namespace netpulse::test
