// A user's contact methods and quiet hours: how the notifier reaches a user named by a policy's
// `user_id` target (or put on call by a schedule). Email (the account's address unless another
// is given; through the server's SMTP relay), SMS (a phone number carried by one of the
// organization's SMS-gateway channels), Telegram (a chat id carried by one of its Telegram
// channels) and in-app (always on). Inside quiet hours only messages that override them
// (critical ones, or a policy's override_quiet_hours) go out on email, SMS and Telegram; the
// in-app inbox gets every message.
//
// Pure: no I/O, no clock; times are Unix milliseconds passed in. Whether a channel id names one
// of the organization's channels of the right kind is the notifier's to check. The JSON shape
// is in docs/notify-routing.md, "Users and contact methods".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <netpulse/core/result.hpp>

namespace netpulse::notify {

struct EmailContact {
  bool enabled = true;
  std::string address;  // "" = the account's email address
  friend bool operator==(const EmailContact&, const EmailContact&) = default;
};

struct SmsContact {
  std::string phone;            // E.164, "+254712345678"
  std::int64_t channel_id = 0;  // an SMS-gateway channel of the user's organization
  friend bool operator==(const SmsContact&, const SmsContact&) = default;
};

struct TelegramContact {
  std::string chat_id;          // a chat id ("123456", "-100...") as text
  std::int64_t channel_id = 0;  // a Telegram channel of the user's organization (its bot)
  friend bool operator==(const TelegramContact&, const TelegramContact&) = default;
};

// A quiet period starts at `from` (local time in `time_zone`) on each listed weekday (every day
// when none) and ends at the next `to`: "22:00" to "07:00" spans midnight.
struct QuietHours {
  std::string time_zone = "UTC";  // an IANA name
  std::string from;               // "HH:MM"
  std::string to;                 // "HH:MM", not equal to from
  std::vector<int> weekdays;      // 0..6, Sunday = 0 ("sun".."sat" in JSON), ascending, distinct
  friend bool operator==(const QuietHours&, const QuietHours&) = default;
};

struct UserContacts {
  EmailContact email;
  std::optional<SmsContact> sms;
  std::optional<TelegramContact> telegram;
  std::optional<QuietHours> quiet_hours;
  friend bool operator==(const UserContacts&, const UserContacts&) = default;
};

// Reads and validates a contacts body: {"email": {"enabled", "address"}, "sms": {"phone",
// "channel_id"}, "telegram": {"chat_id", "channel_id"}, "quiet_hours": {"time_zone", "from",
// "to", "weekdays"}, "in_app": {"enabled": true}}; every part optional (absent or null: email on
// with the account's address, no SMS, no Telegram, no quiet hours). kInvalidInput naming the
// field ("sms.phone", "quiet_hours.to", "email.address", ...): a wrong type, an unknown field, a
// malformed phone, address, chat id, time or zone.
core::Result<UserContacts> contacts_from_json(const boost::json::value& body);

// The contacts as contacts_from_json reads them (in_app shown as {"enabled": true}).
// contacts_from_json(to_json(c)) == c for every c it returned.
boost::json::object to_json(const UserContacts& contacts);

// Whether `at_ms` falls inside the quiet hours (false for a zone the system does not know).
bool in_quiet_hours(const QuietHours& quiet, std::int64_t at_ms);

}  // namespace netpulse::notify
