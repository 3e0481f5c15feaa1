// Raising an alert through the real server, as the notifier's integration tests need one: a
// threshold rule and an ingested sample above it, both through the HTTP API.
#pragma once

#include <cstdint>
#include <string>

#include "support/http_client.hpp"

namespace netpulse::test {

// The `id` of what a create answered; REQUIREs a 201.
std::int64_t created_id(const HttpResponse& r);

// A new API key of role api_user, for ingest (REQUIREs success).
std::string ingest_key(HttpClient& c, const std::string& admin);

// Line protocol (seconds) through POST /api/v2/write with the `ingest` key; REQUIREs a 204.
void write_lines(HttpClient& c, const std::string& ingest, const std::string& lines);

// A threshold rule "<metric> high" (value above 90, for_s 0, of `severity`, or the rule's
// default when empty), then a sample of 95 for `metric` from host core-1 written one second ago
// with the `ingest` key: one firing alert. Returns the rule's id. REQUIREs each step.
std::int64_t raise_threshold_alert(HttpClient& c, const std::string& admin,
                                   const std::string& ingest, const std::string& metric,
                                   const std::string& severity = "");

}  // namespace netpulse::test
