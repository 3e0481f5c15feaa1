// Errors that cross a module's public face. Every failure carries one stable `Errc`, whose
// name (e.g. "DEVICE_NOT_FOUND") is what the HTTP API prints as `error.code`; the `api` module maps
// each code to an HTTP status. Exceptions never cross a face: modules return `Result<T>`.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace netpulse::core {

// Stable error codes. Append new codes; never rename or reuse one (clients match on the names).
enum class Errc {
  kInvalidInput,             // a field of the request is missing, mistyped or out of range
  kMalformedJson,            // the body is not well-formed JSON (or not valid UTF-8)
  kUnsupportedMediaType,     // wrong Content-Type / Content-Encoding
  kPayloadTooLarge,          // body or header over the configured limit
  kAuthenticationRequired,   // no credentials on a route that needs them
  kInvalidCredentials,       // wrong email/password (same error for an unknown user)
  kTokenExpired,             // access token past `exp`
  kTokenInvalid,             // bad signature, alg, iss, aud, revoked, malformed
  kInsufficientPermissions,  // authenticated, but the role lacks the permission
  kRateLimitExceeded,        // too many requests; Retry-After says when to come back
  kNotFound,                 // generic: no such route or resource
  kMethodNotAllowed,         // the path exists, the method does not
  kUserNotFound,
  kUserAlreadyExists,
  kOrganizationNotFound,
  kOrganizationAlreadyExists,
  kApiKeyNotFound,
  kConflict,  // the change contradicts the current state
  kDatabaseError,
  kServiceUnavailable,  // overloaded (a full queue) or shutting down
  kSchemaTooNew,        // the database was written by a newer NetPulse
  kConfigError,
  kInternalError,
  kTimeout,
  kDeviceNotFound,       // reserved for the devices module
  kDeviceAlreadyExists,  // reserved for the devices module
  kHeadersTooLarge,      // request line + headers over the configured limit
  kProtocolError,        // a network peer answered against its protocol (malformed, out of order)
  kOutboundDenied,       // the target address is refused by the outbound address policy
  kRemoteRefused,        // a remote server refused the request (an SMTP 4xx/5xx reply); details
                         // keep its answer and say whether a retry may succeed (transient)
};

// The stable upper-snake name of a code, e.g. "INVALID_INPUT".
std::string_view errc_name(Errc code) noexcept;

// A failure: a code, a message for people, and optional structured details (e.g. {"field": ...}).
struct Error {
  Errc code = Errc::kInternalError;
  std::string message;
  boost::json::object details;

  Error() = default;
  Error(Errc c, std::string msg, boost::json::object d = {})
      : code(c), message(std::move(msg)), details(std::move(d)) {}
};

// Convenience for the most common validation failure: names the offending field.
Error invalid_field(std::string_view field, std::string_view reason);

}  // namespace netpulse::core
