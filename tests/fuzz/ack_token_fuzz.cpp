// Fuzz target: an acknowledgement link's token (notify::detail::verify_ack_token), as it comes
// from a URL. A token is accepted only when it is one this key signed: the claims it gives back
// sign to the very same token, and a refusal is kTokenInvalid or kTokenExpired.
//
// A fuzzer cannot forge the MAC, so the input is also read as claims bytes and signed here
// with the key before it is checked: that drives the claims' reader (varints, ids, recipient)
// and holds it to the same rule — whatever it accepts has exactly one encoding, the one read.
#include <string>

#include <netpulse/core/error.hpp>
#include <netpulse/core/random.hpp>

#include "notify/detail/ack_link.hpp"
#include "support/fuzz_target.hpp"

using namespace netpulse;

namespace {

void check(const std::string& key, const std::string& token) {
  constexpr std::int64_t kNowMs = 1'767'225'600'000;
  auto r = notify::detail::verify_ack_token(key, token, kNowMs);
  if (!r) {
    if (r.error().code != core::Errc::kTokenInvalid &&
        r.error().code != core::Errc::kTokenExpired) {
      fuzz::fail("a refusal that is neither kTokenInvalid nor kTokenExpired");
    }
    return;
  }
  auto again = notify::detail::sign_ack_token(key, *r);
  if (!again) fuzz::fail("the claims of an accepted token do not sign");
  if (*again != token) fuzz::fail("an accepted token is not what its claims sign to");
}

}  // namespace

NETPULSE_FUZZ_TARGET(ack_token) {
  static const std::string key(notify::detail::kAckKeyBytes, 'k');
  const std::string text(fuzz::as_text(data, size));
  check(key, text);
  const auto mac = core::hmac_sha256(key, text).substr(0, notify::detail::kAckMacBytes);
  check(key, core::base64url_encode(text + mac));
  return 0;
}
