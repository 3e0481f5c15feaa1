// Context: the envelope every API answer uses, and the mapping of error codes to HTTP status.
#include <charconv>

#include <netpulse/api/context.hpp>
#include <netpulse/core/json.hpp>

#include "detail/url.hpp"

namespace netpulse::api {

http::status status_for(core::Errc code) noexcept {
  using core::Errc;
  switch (code) {
    case Errc::kInvalidInput:
    case Errc::kMalformedJson:
    case Errc::kOutboundDenied:  // a target the operator may change, like a refused field
      return http::status::bad_request;
    case Errc::kUnsupportedMediaType:
      return http::status::unsupported_media_type;
    case Errc::kHeadersTooLarge:
      return http::status::request_header_fields_too_large;
    case Errc::kPayloadTooLarge:
      return http::status::payload_too_large;
    case Errc::kAuthenticationRequired:
    case Errc::kInvalidCredentials:
    case Errc::kTokenExpired:
    case Errc::kTokenInvalid:
      return http::status::unauthorized;
    case Errc::kInsufficientPermissions:
      return http::status::forbidden;
    case Errc::kRateLimitExceeded:
      return http::status::too_many_requests;
    case Errc::kNotFound:
    case Errc::kUserNotFound:
    case Errc::kOrganizationNotFound:
    case Errc::kApiKeyNotFound:
    case Errc::kDeviceNotFound:
      return http::status::not_found;
    case Errc::kMethodNotAllowed:
      return http::status::method_not_allowed;
    case Errc::kUserAlreadyExists:
    case Errc::kOrganizationAlreadyExists:
    case Errc::kDeviceAlreadyExists:
    case Errc::kConflict:
      return http::status::conflict;
    case Errc::kServiceUnavailable:
      return http::status::service_unavailable;
    case Errc::kTimeout:
      return http::status::gateway_timeout;
    case Errc::kProtocolError:
    case Errc::kRemoteRefused:  // the upstream said no: the gateway's failure, not the caller's
      return http::status::bad_gateway;
    case Errc::kDatabaseError:
    case Errc::kSchemaTooNew:
    case Errc::kConfigError:
    case Errc::kInternalError:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

Context::Context(Request request, std::string request_id, std::string client_ip,
                 core::SystemTime received_at, Sink sink)
    : request_(std::move(request)),
      request_id_(std::move(request_id)),
      client_ip_(std::move(client_ip)),
      received_at_(received_at),
      sink_(std::move(sink)) {}

Context::~Context() {
  if (!replied_) {
    reply_error(core::Error(core::Errc::kInternalError, "the request was not answered"));
  }
}

std::string_view Context::param(std::string_view name) const {
  for (auto& [k, v] : params_) {
    if (k == name) return v;
  }
  return {};
}

core::Result<std::int64_t> Context::id_param(std::string_view name) const {
  auto text = param(name);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v <= 0) {
    return core::invalid_field(name, "must be a positive integer id");
  }
  return v;
}

std::optional<std::string> Context::query(std::string_view name) const {
  auto target = std::string_view(request_.target());
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  return detail::query_param(target.substr(q + 1), name);
}

core::Result<core::Page> Context::page() const {
  core::Page p;
  auto parse = [&](std::string_view field, int& out, int lo, int hi) -> core::Result<void> {
    auto v = query(field);
    if (!v) return core::ok();
    int n = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (v->empty() || ec != std::errc() || ptr != v->data() + v->size() || n < lo || n > hi) {
      return core::invalid_field(field, fmt_range(lo, hi));
    }
    out = n;
    return core::ok();
  };
  if (auto r = parse("page", p.page, 1, 1'000'000); !r) return std::move(r).error();
  if (auto r = parse("per_page", p.per_page, 1, 500); !r) return std::move(r).error();
  return p;
}

std::string Context::fmt_range(int lo, int hi) {
  return "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
}

boost::json::object Context::meta() const {
  boost::json::object m;
  m["timestamp"] = core::format_rfc3339(received_at_);
  m["request_id"] = request_id_;
  m["version"] = "v1";
  return m;
}

void Context::reply_data(boost::json::value data, http::status status) {
  boost::json::object env;
  env["success"] = true;
  env["data"] = std::move(data);
  env["meta"] = meta();
  reply({status, core::to_json_text(env)});
}

void Context::reply_list(boost::json::array items, Pagination pg) {
  boost::json::object env;
  env["success"] = true;
  env["data"] = std::move(items);
  boost::json::object p;
  p["page"] = pg.page;
  p["per_page"] = pg.per_page;
  p["total"] = pg.total;
  auto pages = pg.per_page > 0 ? (pg.total + pg.per_page - 1) / pg.per_page : 0;
  p["total_pages"] = pages;
  p["has_next"] = pg.page < pages;
  p["has_prev"] = pg.page > 1;
  env["pagination"] = std::move(p);
  env["meta"] = meta();
  reply({http::status::ok, core::to_json_text(env)});
}

void Context::reply_error(const core::Error& error) {
  boost::json::object err;
  err["code"] = core::errc_name(error.code);
  err["message"] = error.message;
  err["details"] = error.details;
  boost::json::object env;
  env["success"] = false;
  env["error"] = std::move(err);
  env["meta"] = meta();
  Response r{status_for(error.code), core::to_json_text(env)};
  if (error.code == core::Errc::kRateLimitExceeded) {
    if (auto it = error.details.find("retry_after_s"); it != error.details.end()) {
      if (it->value().is_int64()) {
        r.headers.emplace_back("Retry-After", std::to_string(it->value().as_int64()));
      }
    }
  }
  if (r.status == http::status::unauthorized) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"netpulse\"");
  }
  reply(std::move(r));
}

void Context::reply_no_content() {
  reply({http::status::no_content, {}, {}});
}

void Context::reply(Response response) {
  if (replied_) return;
  replied_ = true;
  for (auto& h : extra_headers_) response.headers.push_back(std::move(h));
  if (sink_) sink_(*this, std::move(response));
}

}  // namespace netpulse::api
