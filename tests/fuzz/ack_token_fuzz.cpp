// Fuzz target: an acknowledgement link's token (notify::detail::verify_ack_token), as it comes
// from a URL. A token is accepted only when it is one this key signed: the claims it gives back
// sign to the very same token, and a refusal is kTokenInvalid or kTokenExpired.
#include <string>

#include <netpulse/core/error.hpp>

#include "notify/detail/ack_link.hpp"
#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(ack_token) {
  static const std::string key(notify::detail::kAckKeyBytes, 'k');
  const auto text = fuzz::as_text(data, size);
  constexpr std::int64_t kNowMs = 1'767'225'600'000;
  auto r = notify::detail::verify_ack_token(key, text, kNowMs);
  if (!r) {
    if (r.error().code != core::Errc::kTokenInvalid &&
        r.error().code != core::Errc::kTokenExpired) {
      fuzz::fail("a refusal that is neither kTokenInvalid nor kTokenExpired");
    }
    return 0;
  }
  auto again = notify::detail::sign_ack_token(key, *r);
  if (!again) fuzz::fail("the claims of an accepted token do not sign");
  if (*again != text) {
    fuzz::fail("an accepted token is not what its claims sign to");
  }
  return 0;
}
