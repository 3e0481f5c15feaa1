// A message as the outbox keeps it (`notifications.message`): JSON, so a notification written
// before a crash is sent after the restart exactly as it was rendered. Every field of Message
// round-trips; a stored message this version cannot read is refused naming the field (the
// outbox then makes the row a dead letter rather than send something else).
#pragma once

#include <string>
#include <string_view>

#include <netpulse/core/result.hpp>

#include "message.hpp"

namespace netpulse::notify::detail {

std::string message_to_json(const Message& m);
core::Result<Message> message_from_json(std::string_view text);

}  // namespace netpulse::notify::detail
