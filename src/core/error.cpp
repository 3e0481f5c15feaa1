// Stable names of error codes (what the API prints) and small Error helpers.
#include <netpulse/core/error.hpp>

namespace netpulse::core {

std::string_view errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::kInvalidInput:
      return "INVALID_INPUT";
    case Errc::kMalformedJson:
      return "MALFORMED_JSON";
    case Errc::kUnsupportedMediaType:
      return "UNSUPPORTED_MEDIA_TYPE";
    case Errc::kPayloadTooLarge:
      return "PAYLOAD_TOO_LARGE";
    case Errc::kAuthenticationRequired:
      return "AUTHENTICATION_REQUIRED";
    case Errc::kInvalidCredentials:
      return "INVALID_CREDENTIALS";
    case Errc::kTokenExpired:
      return "TOKEN_EXPIRED";
    case Errc::kTokenInvalid:
      return "TOKEN_INVALID";
    case Errc::kInsufficientPermissions:
      return "INSUFFICIENT_PERMISSIONS";
    case Errc::kRateLimitExceeded:
      return "RATE_LIMIT_EXCEEDED";
    case Errc::kNotFound:
      return "NOT_FOUND";
    case Errc::kMethodNotAllowed:
      return "METHOD_NOT_ALLOWED";
    case Errc::kUserNotFound:
      return "USER_NOT_FOUND";
    case Errc::kUserAlreadyExists:
      return "USER_ALREADY_EXISTS";
    case Errc::kOrganizationNotFound:
      return "ORGANIZATION_NOT_FOUND";
    case Errc::kOrganizationAlreadyExists:
      return "ORGANIZATION_ALREADY_EXISTS";
    case Errc::kApiKeyNotFound:
      return "API_KEY_NOT_FOUND";
    case Errc::kConflict:
      return "CONFLICT";
    case Errc::kDatabaseError:
      return "DATABASE_ERROR";
    case Errc::kServiceUnavailable:
      return "SERVICE_UNAVAILABLE";
    case Errc::kSchemaTooNew:
      return "SCHEMA_TOO_NEW";
    case Errc::kConfigError:
      return "CONFIG_ERROR";
    case Errc::kInternalError:
      return "INTERNAL_ERROR";
    case Errc::kTimeout:
      return "TIMEOUT";
    case Errc::kDeviceNotFound:
      return "DEVICE_NOT_FOUND";
    case Errc::kDeviceAlreadyExists:
      return "DEVICE_ALREADY_EXISTS";
    case Errc::kHeadersTooLarge:
      return "HEADERS_TOO_LARGE";
    case Errc::kProtocolError:
      return "PROTOCOL_ERROR";
    case Errc::kOutboundDenied:
      return "OUTBOUND_DENIED";
    case Errc::kRemoteRefused:
      return "REMOTE_REFUSED";
  }
  return "INTERNAL_ERROR";
}

Error invalid_field(std::string_view field, std::string_view reason) {
  boost::json::object details;
  details["field"] = field;
  details["reason"] = reason;
  return Error(Errc::kInvalidInput, std::string(field) + ": " + std::string(reason),
               std::move(details));
}

}  // namespace netpulse::core
