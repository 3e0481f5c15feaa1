// The SMTP client's session (private to notify): one per SmtpClient::send, a chain of
// do_x/on_x steps on the client's executor. Implemented across smtp_session.cpp (connecting,
// TLS, commands and replies, the step timer, failures) and smtp_dialogue.cpp (the protocol's
// steps from the greeting to the message's 250).
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netpulse/core/result.hpp>

#include "smtp_client.hpp"

namespace netpulse::notify::detail {

// One send: the connection, the timer and where the dialogue is. Owned by the shared_ptrs its
// pending handlers hold; `done` is called once, then a courtesy QUIT may still run.
class SmtpSession final : public std::enable_shared_from_this<SmtpSession> {
 public:
  SmtpSession(boost::asio::any_io_executor executor, SmtpSettings settings, std::string message,
              std::string mail_from, std::vector<std::string> recipients, SmtpClient::Done done);
  void start();

 private:
  using Next = void (SmtpSession::*)(Reply);

  // --- connecting ------------------------------------------------------------------------

  void on_resolve(boost::system::error_code ec,
                  const boost::asio::ip::tcp::resolver::results_type& results);
  void on_connect(boost::system::error_code ec);
  void do_handshake(std::string_view step);

  // Moves the TCP socket under a TLS stream set up to verify the relay.
  core::Result<void> start_tls();
  void on_handshake(boost::system::error_code ec);

  // --- the dialogue --------------------------------------------------------------------

  void on_greeting(Reply reply);
  void do_ehlo();
  void on_ehlo(Reply reply);
  void on_helo(Reply reply);
  void after_hello();
  void on_starttls(Reply reply);
  void do_auth();
  void on_auth_login_user(Reply reply);
  void on_auth_login_password(Reply reply);
  void on_auth(Reply reply);
  void do_mail_from();
  void on_mail_from(Reply reply);
  void do_rcpt();
  void on_rcpt(Reply reply);
  void on_data(Reply reply);
  void on_message(Reply reply);

  // --- commands and replies --------------------------------------------------------------

  // Writes `line` and CRLF as step `step`, then reads the reply for `next`.
  void command(std::string line, std::string_view step, Next next);

  // Reads one reply (the buffer may already hold it) and hands it to `next`.
  void expect(Next next);
  std::optional<std::string> extension(std::string_view keyword) const;

  // Starts the step's timer anew.
  void arm(std::string_view step);

  // --- failures ----------------------------------------------------------------------------

  void fail_read(boost::system::error_code ec);
  void fail_io(boost::system::error_code ec);
  void finish(core::Result<SmtpResult> result);

  // A courtesy QUIT after the outcome is known, bounded by the step timeout, its answer unread
  // beyond what it takes to see it arrive.
  void do_quit();
  void close();

  // --- the stream --------------------------------------------------------------------------

  boost::asio::ip::tcp::socket& lowest_layer() { return tls_ ? tls_->next_layer() : *plain_; }

  template <class F>
  void with_stream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*plain_);
    }
  }

  void stop_io();
  SmtpSettings settings_;
  std::string message_;  // dot-stuffed
  std::string mail_from_;
  std::vector<std::string> recipients_;
  SmtpClient::Done done_;
  std::string peer_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<boost::asio::ssl::context> tls_context_;
  std::optional<boost::asio::ip::tcp::socket> plain_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
  std::string verify_error_;
  std::array<char, 4096> chunk_{};  // one read
  std::string in_;
  std::string out_;
  std::string step_;
  std::string helo_;
  std::vector<std::string> extensions_;  // the EHLO reply's lines after the first
  std::size_t rcpt_index_ = 0;
  std::size_t accepted_ = 0;
  std::vector<std::string> refused_;
  Reply last_refusal_;
  bool any_transient_refusal_ = false;
  unsigned timer_generation_ = 0;
  bool timed_out_ = false;
  bool finished_ = false;
  bool quit_after_finish_ = false;
};

}  // namespace netpulse::notify::detail
