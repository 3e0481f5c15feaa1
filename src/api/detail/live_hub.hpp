// The live feed's hub: who is connected, what each follows, and the fan-out of one serialized
// message to every client that follows it. The WebSocket sessions (detail/live_session.hpp) are
// its transport: they hand it what a client sends and write what it queues. Loop thread only.
//
// Implemented across files by concern: live_hub.cpp (clients: attach, the protocol's messages,
// checks), live_publish.cpp (bus events to messages, fan-out, the resume ring, series).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <netpulse/api/live.hpp>
#include <netpulse/tsdb/selector.hpp>

namespace netpulse::api::detail {

using LiveText = std::shared_ptr<const std::string>;

// What the hub needs of a client's connection.
class LiveTransport {
 public:
  virtual ~LiveTransport() = default;
  // Queues one text message (shared with other clients: never changed).
  virtual void send(LiveText text) = 0;
  // Messages queued and not yet written.
  virtual std::size_t queued() const = 0;
  // Closes with a WebSocket close code and reason (after what is queued).
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

// Close codes of the feed (4000-4999 are the application's).
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kCloseBadMessage = 4000;
inline constexpr std::uint16_t kCloseUnauthenticated = 4001;
inline constexpr std::uint16_t kCloseForbidden = 4003;
inline constexpr std::uint16_t kCloseTooSlow = 4008;
inline constexpr std::uint16_t kCloseTooMany = 4029;

// The topics a client may follow.
enum class Topic : std::uint8_t {
  kAlerts,
  kIncidents,
  kDevices,
  kInterfaces,
  kChecks,
  kSeries,
  kDashboards,
  kEvents,         // device events (the event log as it is written)
  kNotifications,  // the user's own in-app inbox
};
inline constexpr std::size_t kTopicCount = 9;

class LiveHub final : public LiveFeed {
 public:
  LiveHub(const LiveOptions& options, boost::asio::any_io_executor loop, core::EventBus& bus,
          auth::AuthService& auth, const core::Clock& clock, core::MetricsRegistry& metrics,
          tsdb::Store* store);
  ~LiveHub() override;

  LiveStats stats() const override;
  void close_all() override;

  // A new connection (its upgrade done). Returns its id, or nullopt when the feed is full (the
  // caller closes it with kCloseTooMany).
  std::optional<std::uint64_t> attach(std::weak_ptr<LiveTransport> transport);
  // One text message from client `id`.
  void on_message(std::uint64_t id, std::string_view text);
  // The client's queue went empty: waiting series updates may go.
  void on_drained(std::uint64_t id);
  void detach(std::uint64_t id);

  const LiveOptions& options() const noexcept { return options_; }

 private:
  struct Client {
    std::weak_ptr<LiveTransport> transport;
    std::optional<auth::Principal> principal;  // set once authenticated
    std::string token;                         // re-checked every check_interval
    core::SteadyTime connected_at;
    bool topics[kTopicCount] = {};
    std::unordered_set<std::int64_t> device_filter;  // devices/interfaces/checks; empty: all
    std::vector<tsdb::Selector> selectors;
    // Series updates waiting for room in the queue: the newest per series.
    std::unordered_map<tsdb::SeriesId, LiveText> waiting;
    std::optional<core::SteadyTime> behind_since;
  };
  // A message kept for resume.
  struct Kept {
    std::uint64_t seq = 0;
    std::int64_t org_id = 0;
    Topic topic = Topic::kAlerts;
    std::int64_t device_id = 0;  // 0: none
    std::int64_t user_id = 0;    // kNotifications: the one user it is for
    LiveText text;
  };

  // --- live_hub.cpp: the protocol ---
  void authenticate(std::uint64_t id, Client& c, const boost::json::object& msg);
  void subscribe(Client& c, const boost::json::object& msg, bool add);
  void resume(Client& c, const boost::json::object& msg);
  void reply(Client& c, boost::json::object msg);
  void drop(std::uint64_t id, Client& c, std::uint16_t code, std::string reason);
  void check();  // tokens and slow clients, every check_interval
  void arm_check();

  // --- live_publish.cpp: fan-out ---
  void subscribe_bus();
  // Serializes `data` once as {"type", "seq", "data"} and queues it for every client of
  // `org_id` following `topic` (and `device_id`, when the client filters devices; `user_id`
  // alone for kNotifications).
  void publish(Topic topic, std::string_view type, std::int64_t org_id, std::int64_t device_id,
               boost::json::value data, std::int64_t user_id = 0);
  bool follows(const Client& c, Topic topic, std::int64_t org_id, std::int64_t device_id,
               std::int64_t user_id) const;
  // Queues `text` for `c`; a client over max_queue is disconnected.
  void deliver(std::uint64_t id, Client& c, const LiveText& text);
  void on_samples(const tsdb::SamplesAppended& e);
  // The followers of `series` (computed on first sight of it since subscriptions last changed).
  struct Followers {
    std::vector<std::uint64_t> clients;
    std::string key;  // the series' canonical text, metric{label="value",...}
  };
  const Followers& followers_of(std::int64_t org_id, tsdb::SeriesId series);
  void flush_waiting(Client& c);
  // Hands `text` to a transport and counts it; counts a client dropped for being slow.
  void send(LiveTransport& t, const LiveText& text);
  void count_slow();

  LiveOptions options_;
  boost::asio::any_io_executor loop_;
  core::EventBus& bus_;
  auth::AuthService& auth_;
  const core::Clock& clock_;
  tsdb::Store* store_;
  std::string epoch_;  // this process's feed: a sequence number means nothing across restarts
  std::uint64_t seq_ = 0;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, Client> clients_;
  std::deque<Kept> ring_;
  std::uint64_t ring_floor_ = 0;  // the newest sequence number that left the ring
  std::unordered_map<tsdb::SeriesId, Followers> followers_;
  std::size_t series_followers_ = 0;  // clients following any series
  std::vector<core::EventBus::Subscription> subscriptions_;
  boost::asio::steady_timer check_timer_;
  LiveStats stats_;
  core::Gauge& clients_gauge_;
  core::Counter& sent_counter_;
  core::Counter& coalesced_counter_;
  core::Counter& slow_counter_;
};

}  // namespace netpulse::api::detail
