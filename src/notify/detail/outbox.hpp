// The outbox: at-least-once delivery of notifications. A notification is a row of the
// `notifications` table (status 'pending') before its first attempt; the outbox then sends it
// through the transport its channel kind has, records every attempt (`notification_attempts`)
// and settles the row:
//
//   delivered  the remote took it (2xx, SMTP 250): status 'delivered'.
//   retry      a timeout, a connection error, 408, 429 or 5xx, an SMTP 4xx: attempt again after
//              base * 2^(attempts-1), capped at max_delay, with equal jitter (half the delay
//              fixed, half random), and never before a Retry-After the remote gave.
//   failed     any other 4xx, an SMTP 5xx, a channel that cannot work (deleted, misconfigured):
//              no retry.
//   After max_attempts, or on a failure, the row is 'dead': a dead letter, listed by the API
//   and sent again (as a fresh pending row's worth of attempts) when someone asks.
//
// A restart finds rows 'sending' (an attempt was under way when the process died: it may have
// reached the remote) and sends them again, counting each in `sends_unsure` — a duplicate is
// acceptable and counted, a loss is not. 'pending' rows simply go out.
//
// Concurrency: at most per_channel_concurrency attempts per channel and total_concurrency in
// all at once; the rest wait in memory, due first. The in-memory queue holds at most
// max_in_memory rows; more stay in the database and are read in as the queue drains.
//
// Threads: everything runs on the loop; the transport may do its I/O anywhere but calls back on
// the loop. Database writes go through the writer thread (group commit) and are not waited for
// before the next attempt, except the insert of a new row: the marks and attempt records of one
// turn of the loop go to the writer as one job, in the order they were made.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/db/database.hpp>

namespace netpulse::notify::detail {

// A notification to write: one message for one channel (and the user it pages, if any).
struct NewNotification {
  std::int64_t org_id = 0;
  std::int64_t channel_id = 0;
  std::string channel_name;
  std::optional<std::int64_t> policy_id;
  std::optional<std::int64_t> recipient_user;
  std::string kind;      // message_kind_name()
  std::string severity;  // "info", "warning", "critical"
  std::string group_key;
  std::string title;
  std::string message;  // the rendered message, JSON (message_to_json)
  std::vector<std::int64_t> alert_ids;
};

enum class NotificationStatus { kPending, kSending, kDelivered, kDead, kCancelled };
std::string_view notification_status_name(NotificationStatus s) noexcept;
std::optional<NotificationStatus> parse_notification_status(std::string_view s) noexcept;

// A row of the outbox / delivery log.
struct OutboxRow {
  std::int64_t id = 0;
  NewNotification n;
  NotificationStatus status = NotificationStatus::kPending;
  int attempts = 0;
  int sends_unsure = 0;
  std::int64_t next_attempt_at = 0;
  std::optional<int> last_status;
  std::string last_error;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> delivered_at;
};

// One attempt's result, as the transport reports it.
struct DeliveryOutcome {
  enum class Kind { kDelivered, kRetry, kFailed };
  Kind kind = Kind::kDelivered;
  std::optional<int> remote_status;            // HTTP status or SMTP reply code
  std::string detail;                          // the remote's answer or the error, short
  std::optional<std::int64_t> retry_after_ms;  // the remote's Retry-After, as a delay
};

struct AttemptRecord {
  std::int64_t notification_id = 0;
  int attempt = 0;
  std::int64_t started_at = 0;
  std::int64_t latency_ms = 0;
  DeliveryOutcome outcome;
};

struct OutboxOptions {
  int max_attempts = 8;
  std::chrono::milliseconds base_delay{5'000};
  std::chrono::milliseconds max_delay{3'600'000};
  int per_channel_concurrency = 4;
  int total_concurrency = 64;
  std::size_t max_in_memory = 100'000;
  std::chrono::milliseconds poll{250};  // the timer that wakes due retries
};

// Sends one row; calls `done` exactly once, on the loop.
using Transport = std::function<void(const OutboxRow&, std::function<void(DeliveryOutcome)>)>;
// Told of every attempt's outcome (channel health, metrics, admin notices) after it is recorded.
using AttemptObserver = std::function<void(const OutboxRow&, const AttemptRecord&, bool dead)>;

struct OutboxStats {
  std::uint64_t enqueued = 0, attempts = 0, delivered = 0, retried = 0, dead = 0;
  std::uint64_t resent_after_restart = 0;  // rows found 'sending' at start (maybe duplicates)
  std::size_t queued = 0, in_flight = 0;
};

class Outbox {
 public:
  Outbox(OutboxOptions options, const core::Clock& clock, core::Logger& log, db::Database& db,
         boost::asio::any_io_executor loop, Transport transport, AttemptObserver observer);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Reads what is waiting (rows 'sending' become 'pending' again, counted in sends_unsure) and
  // starts sending. Blocking reads: call at start-up, before the loop runs.
  core::Result<void> start();

  // More writes to make in the same transaction as a batch (the in-app rows of its messages);
  // runs on the writer thread. A failure rolls the whole batch back.
  using SameTransaction = std::function<core::Result<void>(db::Connection&)>;

  // Writes the notifications (one transaction, with `also`), then sends them. `done` gets their
  // ids, or the error and the batch back (nothing of it written), to be enqueued again.
  using Enqueued =
      std::function<void(core::Result<std::vector<std::int64_t>>, std::vector<NewNotification>)>;
  void enqueue(std::vector<NewNotification> batch, Enqueued done, SameTransaction also = {});

  // A dead letter goes out again with a fresh count of attempts.
  void retry_dead(core::OrgScope scope, std::int64_t id,
                  std::function<void(core::Result<void>)> done);

  // Sends what is due now (the timer calls it; tests call it after moving a ManualClock).
  void pump();

  // Stops the timer; attempts in flight finish but start nothing new.
  void close();

  OutboxStats stats() const;

  // The delay before attempt `attempts + 1` after `attempts` failed ones, before jitter.
  static std::int64_t backoff_ms(const OutboxOptions& o, int attempts) noexcept;

 private:
  struct Queued {
    std::int64_t due = 0;
    std::int64_t id = 0;
    friend bool operator<(const Queued& a, const Queued& b) {
      return a.due != b.due ? a.due < b.due : a.id < b.id;
    }
  };

  void add(OutboxRow row);
  void attempt(std::int64_t id);
  void settle(std::int64_t id, std::int64_t started_at, std::chrono::steady_clock::time_point t0,
              DeliveryOutcome outcome);
  void refill();
  void arm_timer();
  // Queues a mark or an attempt record for the turn's one write job.
  void queue_write(std::function<core::Result<void>(db::Connection&)> fn);
  void flush_writes();
  std::int64_t jittered(std::int64_t delay_ms);

  OutboxOptions o_;
  const core::Clock& clock_;
  core::Logger& log_;
  db::Database& db_;
  boost::asio::any_io_executor loop_;
  Transport transport_;
  AttemptObserver observer_;
  boost::asio::steady_timer timer_;
  std::mt19937_64 rng_;

  std::unordered_map<std::int64_t, OutboxRow> rows_;  // queued or in flight, by id
  // Queued rows by channel, each channel's by due time: pump() looks at the head of each
  // channel's queue only, so a long queue behind a busy channel costs nothing per attempt.
  std::map<std::int64_t, std::set<Queued>> due_;
  std::size_t queued_ = 0;
  std::unordered_map<std::int64_t, int> in_flight_by_channel_;
  std::size_t in_flight_ = 0;
  bool more_in_db_ = false;  // rows left in the database when the queue was full
  std::vector<std::function<core::Result<void>(db::Connection&)>> writes_;  // this turn's
  bool writes_posted_ = false;
  bool closed_ = false;
  OutboxStats stats_;
  std::shared_ptr<const int> life_ = std::make_shared<const int>(0);
};

// The SQL of the outbox (outbox_sql.cpp).
core::Result<std::vector<std::int64_t>> insert_notifications(
    db::Connection& c, const std::vector<NewNotification>& batch, std::int64_t now_ms);
// The alerts a notification was about, ascending.
core::Result<std::vector<std::int64_t>> alert_ids_of(db::Connection& c,
                                                     std::int64_t notification_id);
// Rows 'sending' become 'pending' with sends_unsure + 1; returns how many.
core::Result<std::int64_t> recover_sending(db::Connection& c, std::int64_t now_ms);
// Up to `limit` pending rows, due first, with ids above `after_id` when due times tie.
core::Result<std::vector<OutboxRow>> load_pending(db::Connection& c, std::size_t limit);
core::Result<void> mark_sending(db::Connection& c, std::int64_t id, int attempts,
                                std::int64_t now_ms);
core::Result<void> record_attempt(db::Connection& c, const AttemptRecord& a,
                                  NotificationStatus status, std::int64_t next_attempt_at,
                                  std::int64_t now_ms);
core::Result<OutboxRow> revive_dead(db::Connection& c, std::int64_t org_id, std::int64_t id,
                                    std::int64_t now_ms);

}  // namespace netpulse::notify::detail
