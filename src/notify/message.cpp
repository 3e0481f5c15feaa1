// The message model's names (detail/message.hpp).
#include "detail/message.hpp"

namespace netpulse::notify::detail {

std::string_view message_kind_name(MessageKind k) noexcept {
  switch (k) {
    case MessageKind::kFiring:
      return "firing";
    case MessageKind::kResolved:
      return "resolved";
    case MessageKind::kAcknowledged:
      return "acknowledged";
    case MessageKind::kEscalation:
      return "escalation";
    case MessageKind::kDigest:
      return "digest";
    case MessageKind::kTest:
      return "test";
  }
  return "firing";
}

}  // namespace netpulse::notify::detail
