// The live feed: GET /api/v1/live upgrades to a WebSocket over which a signed-in client gets what
// changes as it changes (alerts, incidents, device and interface status, service checks, chosen
// series), each a small JSON message with a sequence number. docs/live.md has the protocol.
//
// Built by app, handed to Server::open (which hands it upgraded connections). It subscribes to
// the event bus itself; everything runs on the loop thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/tsdb/store.hpp>

namespace netpulse::api {

struct LiveOptions {
  // Messages a client's socket may have queued; past it a series update waits (the newest per
  // series wins) and any other message disconnects the client ("too slow", code 4008).
  std::size_t max_queue = 512;
  // A client still behind (series updates waiting) after this is disconnected (4008).
  std::chrono::milliseconds max_behind{10'000};
  // Messages kept for clients that reconnect with their last sequence number.
  std::size_t resume_ring = 8192;
  // The first message ({"type":"auth",...}) must arrive within this.
  std::chrono::milliseconds auth_timeout{10'000};
  // How often the feed re-checks every client's token (expired or revoked: disconnected, 4001)
  // and who stays behind.
  std::chrono::milliseconds check_interval{5'000};
  std::size_t max_clients = 4096;
  std::size_t max_series_per_client = 1000;                // series a client may follow
  std::size_t max_message_bytes = std::size_t{64} * 1024;  // one message from a client
  // The kernel's send buffer of a feed connection (SO_SNDBUF), fixed rather than left to grow
  // (to 4 MB on Linux): it bounds the memory a client that stops reading holds, and lets the
  // queue above notice it.
  int socket_send_buffer = 256 * 1024;
};

struct LiveStats {
  std::size_t clients = 0;      // connected now
  std::uint64_t sequence = 0;   // the newest message's number
  std::uint64_t sent = 0;       // messages handed to clients' sockets
  std::uint64_t coalesced = 0;  // series updates replaced by a newer one before they went out
  std::uint64_t disconnected_slow = 0;
};

class LiveFeed {
 public:
  // `store` may be null (no series topic).
  static std::unique_ptr<LiveFeed> create(const LiveOptions& options,
                                          boost::asio::any_io_executor loop, core::EventBus& bus,
                                          auth::AuthService& auth, const core::Clock& clock,
                                          core::MetricsRegistry& metrics, tsdb::Store* store);
  virtual ~LiveFeed() = default;
  virtual LiveStats stats() const = 0;
  // Disconnects every client with 1001 "going away" (shutdown).
  virtual void close_all() = 0;
};

}  // namespace netpulse::api
