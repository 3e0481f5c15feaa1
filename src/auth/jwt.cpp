// HS256 JSON Web Tokens. Signing is base64url(header) "." base64url(payload) "." base64url(HMAC).
// Verification is deliberately narrow: the header must be exactly {"alg":"HS256","typ":"JWT"}, so
// "none", HS512, RS256 and any key-confusion trick are refused; the signature is checked in
// constant time before the payload is even parsed; then every claim must be present with the
// right JSON type. The signing key is 32 random bytes in <data_dir>/jwt.key, created once with
// O_CREAT|O_EXCL and mode 0600 so a restart keeps sessions valid.
#include "detail/jwt.hpp"

#include <exception>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <netpulse/core/json.hpp>
#include <netpulse/core/key_file.hpp>
#include <netpulse/core/random.hpp>

namespace netpulse::auth::detail {

namespace {

core::Error invalid_token(std::string message = "invalid access token") {
  return core::Error(core::Errc::kTokenInvalid, std::move(message));
}

// The header every token we accept carries, parsed once for comparison.
bool header_is_hs256(std::string_view header_json) {
  boost::json::value header;
  try {
    header = boost::json::parse(header_json);
  } catch (const std::exception&) {
    return false;
  }
  const auto* obj = header.if_object();
  if (!obj || obj->size() != 2) return false;
  const auto* alg = obj->if_contains("alg");
  const auto* typ = obj->if_contains("typ");
  return alg && typ && alg->is_string() && typ->is_string() && alg->get_string() == "HS256" &&
         typ->get_string() == "JWT";
}

bool get_string(const boost::json::object& obj, std::string_view name, std::string& out) {
  const auto* v = obj.if_contains(name);
  if (!v || !v->is_string()) return false;
  out.assign(v->get_string().data(), v->get_string().size());
  return true;
}

bool get_int(const boost::json::object& obj, std::string_view name, std::int64_t& out) {
  const auto* v = obj.if_contains(name);
  if (!v) return false;
  if (v->is_int64()) {
    out = v->get_int64();
    return true;
  }
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(v->get_uint64());
    return true;
  }
  return false;
}

}  // namespace

JwtCodec::JwtCodec(std::string key, std::string issuer, std::string audience)
    : key_(std::move(key)), issuer_(std::move(issuer)), audience_(std::move(audience)) {}

std::string JwtCodec::sign_raw(std::string_view header_json, std::string_view payload_json) const {
  std::string signing_input = core::base64url_encode(header_json);
  signing_input += '.';
  signing_input += core::base64url_encode(payload_json);
  const auto mac = core::hmac_sha256(key_, signing_input);
  signing_input += '.';
  signing_input += core::base64url_encode(mac);
  return signing_input;
}

std::string JwtCodec::sign(const JwtClaims& claims) const {
  boost::json::object payload;
  payload["sub"] = claims.sub;
  payload["org"] = claims.org;
  payload["role"] = claims.role;
  payload["jti"] = claims.jti;
  payload["iat"] = claims.iat;
  payload["exp"] = claims.exp;
  payload["iss"] = claims.iss;
  payload["aud"] = claims.aud;
  return sign_raw(R"({"alg":"HS256","typ":"JWT"})", core::to_json_text(payload));
}

core::Result<JwtClaims> JwtCodec::verify(std::string_view token, std::int64_t now) const {
  if (token.empty() || token.size() > kMaxTokenBytes) return invalid_token();
  const auto dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return invalid_token();
  const auto dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return invalid_token();
  if (token.find('.', dot2 + 1) != std::string_view::npos) return invalid_token();

  const auto header_b64 = token.substr(0, dot1);
  const auto payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const auto signature_b64 = token.substr(dot2 + 1);

  std::string header_json;
  if (!core::base64url_decode(header_b64, header_json) || !header_is_hs256(header_json)) {
    return invalid_token();
  }
  std::string signature;
  if (!core::base64url_decode(signature_b64, signature)) return invalid_token();
  const auto expected = core::hmac_sha256(key_, token.substr(0, dot2));
  if (!core::constant_time_equal(signature, expected)) return invalid_token();

  // Only now, with the signature verified, is the payload worth reading.
  std::string payload_json;
  if (!core::base64url_decode(payload_b64, payload_json)) return invalid_token();
  boost::json::value payload;
  try {
    payload = boost::json::parse(payload_json);
  } catch (const std::exception&) {
    return invalid_token();
  }
  const auto* obj = payload.if_object();
  if (!obj) return invalid_token();

  JwtClaims claims;
  if (!get_string(*obj, "sub", claims.sub) || !get_int(*obj, "org", claims.org) ||
      !get_string(*obj, "role", claims.role) || !get_string(*obj, "jti", claims.jti) ||
      !get_int(*obj, "iat", claims.iat) || !get_int(*obj, "exp", claims.exp) ||
      !get_string(*obj, "iss", claims.iss) || !get_string(*obj, "aud", claims.aud)) {
    return invalid_token();
  }
  if (claims.sub.empty() || claims.jti.empty()) return invalid_token();
  if (claims.iss != issuer_ || claims.aud != audience_) return invalid_token();
  if (claims.iat > now + kMaxIssuedAtSkewS) return invalid_token();
  if (claims.exp <= now) {
    return core::Error(core::Errc::kTokenExpired, "access token expired");
  }
  return claims;
}

core::Result<std::string> load_or_create_jwt_key(const std::string& data_dir) {
  return core::load_or_create_key_file(data_dir + "/jwt.key", kJwtKeyBytes);
}

}  // namespace netpulse::auth::detail
