// The OpenAPI 3.1 document, generated from the route table so it cannot drift from the routes.
#include <map>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <netpulse/api/router.hpp>

namespace netpulse::api {

namespace {

std::string lower_method(http::verb v) {
  std::string m(http::to_string(v));
  for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return m;
}

boost::json::object ref(std::string_view name) {
  return {{"$ref", std::string("#/components/schemas/") + std::string(name)}};
}

boost::json::object error_response(std::string_view description) {
  return {{"description", description},
          {"content", {{"application/json", {{"schema", ref("ErrorEnvelope")}}}}}};
}

boost::json::object components() {
  return boost::json::parse(R"({
    "securitySchemes": {
      "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT or API key",
                     "description": "An access token from /api/v1/auth/login, or an API key (np_...)."}
    },
    "schemas": {
      "Meta": {"type": "object", "required": ["timestamp", "request_id", "version"],
               "properties": {"timestamp": {"type": "string", "format": "date-time"},
                              "request_id": {"type": "string"}, "version": {"type": "string"}}},
      "Pagination": {"type": "object",
                     "properties": {"page": {"type": "integer"}, "per_page": {"type": "integer"},
                                    "total": {"type": "integer"}, "total_pages": {"type": "integer"},
                                    "has_next": {"type": "boolean"}, "has_prev": {"type": "boolean"}}},
      "Error": {"type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string", "examples": ["INVALID_INPUT"]},
                               "message": {"type": "string"}, "details": {"type": "object"}}},
      "ErrorEnvelope": {"type": "object", "required": ["success", "error", "meta"],
                        "properties": {"success": {"const": false},
                                       "error": {"$ref": "#/components/schemas/Error"},
                                       "meta": {"$ref": "#/components/schemas/Meta"}}}
    }
  })")
      .as_object();
}

}  // namespace

boost::json::object openapi_document(const Router& router, std::string_view version) {
  boost::json::object doc;
  doc["openapi"] = "3.1.0";
  doc["info"] = {{"title", "NetPulse API"},
                 {"version", version},
                 {"description",
                  "Network monitoring for small ISPs. Every answer is an envelope: "
                  "{success, data | error, meta}; lists add pagination."}};
  doc["servers"] = boost::json::array{boost::json::object{{"url", "/"}}};
  boost::json::object paths;
  std::map<std::string, bool> tags;
  for (auto& r : router.routes()) {
    // OpenAPI path templates use the same {name} syntax as our patterns.
    auto& item = paths[r.pattern];
    if (!item.is_object()) item = boost::json::object();
    boost::json::object op;
    op["summary"] = r.doc.summary;
    op["operationId"] = lower_method(r.method) + r.pattern;
    if (!r.doc.tag.empty()) {
      op["tags"] = boost::json::array{boost::json::string(r.doc.tag)};
      tags[r.doc.tag] = true;
    }
    boost::json::array params;
    std::string_view pat = r.pattern;
    for (std::size_t i = pat.find('{'); i != std::string_view::npos; i = pat.find('{', i + 1)) {
      auto close = pat.find('}', i);
      params.push_back(boost::json::object{{"name", pat.substr(i + 1, close - i - 1)},
                                           {"in", "path"},
                                           {"required", true},
                                           {"schema", {{"type", "string"}}}});
    }
    for (auto& q : r.doc.query) {
      params.push_back(boost::json::object{{"name", q.name},
                                           {"in", "query"},
                                           {"required", false},
                                           {"description", q.description},
                                           {"schema", {{"type", q.type}}}});
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (r.json_body) {
      boost::json::object schema = r.doc.request_schema.empty()
                                       ? boost::json::object{{"type", "object"}}
                                       : r.doc.request_schema;
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
    }
    boost::json::object responses;
    boost::json::object data_schema =
        r.doc.response_schema.empty() ? boost::json::object{} : r.doc.response_schema;
    responses[std::to_string(r.doc.success_status)] = {{"description", "Success"},
                                                       {"content",
                                                        {{"application/json",
                                                          {{"schema",
                                                            {{"type", "object"},
                                                             {"properties",
                                                              {{"success", {{"const", true}}},
                                                               {"data", data_schema},
                                                               {"meta", ref("Meta")}}}}}}}}}};
    responses["400"] = error_response("Invalid input");
    if (r.permission) {
      responses["401"] = error_response("Not authenticated");
      responses["403"] = error_response("Insufficient permissions");
      op["security"] = boost::json::array{{{"bearerAuth", boost::json::array{}}}};
      op["x-permission"] = auth::permission_name(*r.permission);
    } else {
      op["security"] = boost::json::array{};
    }
    if (r.rate_limited) responses["429"] = error_response("Rate limit exceeded");
    op["responses"] = std::move(responses);
    item.as_object()[lower_method(r.method)] = std::move(op);
  }
  doc["paths"] = std::move(paths);
  boost::json::array tag_list;
  for (auto& [t, _] : tags) tag_list.push_back(boost::json::object{{"name", t}});
  doc["tags"] = std::move(tag_list);
  doc["components"] = components();
  return doc;
}

}  // namespace netpulse::api
