// What route handlers open and close with, written once.
//
// Prologue: a handler's path ids, page and audit target. Each helper answers the error itself and
// returns nullopt, so a handler reads `auto id = path_id(ctx); if (!id) return;`.
// Epilogue: the callback a module answers through (after a database write, a poll), which
// answers the module's error as the JSON error envelope or the value as `data`; and reply_result
// / reply_page for a result at hand. Loop thread only, like Context.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "routes.hpp"

namespace netpulse::api::detail {

// --- prologue --------------------------------------------------------------------------------

// The positive integer path parameter `name`, or nullopt once its INVALID_INPUT is answered.
inline std::optional<std::int64_t> path_id(const ContextPtr& ctx, std::string_view name = "id") {
  auto id = ctx->id_param(name);
  if (!id) {
    ctx->reply_error(id.error());
    return std::nullopt;
  }
  return *id;
}

// path_id of a write on one resource: also names "<collection>/<id>" as its audit target.
inline std::optional<std::int64_t> target_id(const ContextPtr& ctx, std::string_view collection) {
  auto id = path_id(ctx);
  if (id) ctx->set_audit_target(fmt::format("{}/{}", collection, *id));
  return id;
}

// The page/per_page of a list, or nullopt once the error is answered.
inline std::optional<core::Page> page_param(const ContextPtr& ctx) {
  auto page = ctx->page();
  if (!page) {
    ctx->reply_error(page.error());
    return std::nullopt;
  }
  return *page;
}

// --- epilogue --------------------------------------------------------------------------------

// Calls the to_json overload of a value (the default converter of the helpers below).
struct ToJson {
  template <class T>
  boost::json::object operator()(const T& value) const {
    return to_json(value);
  }
};

// Answers `to_json(*r)` with `status`, or r's error.
template <class T, class Convert = ToJson>
void reply_result(const ContextPtr& ctx, const core::Result<T>& r,
                  http::status status = http::status::ok, Convert convert = {}) {
  if (!r) return ctx->reply_error(r.error());
  ctx->reply_data(convert(*r), status);
}

// Answers a page of items, each converted, with its pagination; or r's error.
template <class T, class Convert = ToJson>
void reply_page(const ContextPtr& ctx, const core::Result<core::PageOf<T>>& r, core::Page page,
                Convert convert = {}) {
  if (!r) return ctx->reply_error(r.error());
  boost::json::array items;
  for (auto& item : r->items) items.push_back(convert(item));
  ctx->reply_list(std::move(items), {page.page, page.per_page, r->total});
}

// A callback for a module's core::Result<void>: answers 204 No Content, or the error.
inline auto answer_no_content(ContextPtr ctx) {
  return [ctx = std::move(ctx)](const core::Result<void>& r) {
    if (!r) return ctx->reply_error(r.error());
    ctx->reply_no_content();
  };
}

// A callback for a module's core::Result<T>: answers the converted value, or the error.
template <class Convert = ToJson>
auto answer_json(ContextPtr ctx, Convert convert = {}) {
  return [ctx = std::move(ctx), convert = std::move(convert)](const auto& r) {
    reply_result(ctx, r, http::status::ok, convert);
  };
}

// The id of what a create made: its `id`, or its policy's, schedule's or rule's (a stored one).
template <class T>
std::int64_t created_id(const T& v) {
  if constexpr (requires { v.id; }) {
    return v.id;
  } else if constexpr (requires { v.policy.id; }) {
    return v.policy.id;
  } else if constexpr (requires { v.schedule.id; }) {
    return v.schedule.id;
  } else {
    return v.rule.id;
  }
}

// answer_json for a create: 201, with "<collection>/<new id>" as the audit target.
template <class Convert = ToJson>
auto answer_created(ContextPtr ctx, std::string collection, Convert convert = {}) {
  return [ctx = std::move(ctx), collection = std::move(collection),
          convert = std::move(convert)](const auto& r) {
    if (!r) return ctx->reply_error(r.error());
    ctx->set_audit_target(fmt::format("{}/{}", collection, created_id(*r)));
    ctx->reply_data(convert(*r), http::status::created);
  };
}

}  // namespace netpulse::api::detail
