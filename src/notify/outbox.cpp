// The outbox's sending (detail/outbox.hpp): the in-memory queue of due rows, the concurrency
// limits, the attempts and how each settles.
#include "detail/outbox.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <netpulse/core/random.hpp>

namespace netpulse::notify::detail {

namespace {

std::uint64_t seed() {
  const auto bytes = core::random_bytes(8);
  std::uint64_t s = 0;
  for (unsigned char b : bytes) s = (s << 8) | b;
  return s;
}

}  // namespace

Outbox::Outbox(OutboxOptions options, const core::Clock& clock, core::Logger& log, db::Database& db,
               boost::asio::any_io_executor loop, Transport transport, AttemptObserver observer)
    : o_(options),
      clock_(clock),
      log_(log),
      db_(db),
      loop_(loop),
      transport_(std::move(transport)),
      observer_(std::move(observer)),
      timer_(loop),
      rng_(seed()) {}

Outbox::~Outbox() {
  close();
}

std::int64_t Outbox::backoff_ms(const OutboxOptions& o, int attempts) noexcept {
  const std::int64_t base = std::max<std::int64_t>(1, o.base_delay.count());
  const std::int64_t cap = std::max<std::int64_t>(base, o.max_delay.count());
  std::int64_t d = base;
  for (int i = 1; i < attempts && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

std::int64_t Outbox::jittered(std::int64_t delay_ms) {
  // Equal jitter: half fixed, half uniform, so a burst of failures spreads out but no retry
  // comes sooner than half its delay.
  const std::int64_t half = delay_ms / 2;
  std::uniform_int_distribution<std::int64_t> d(0, std::max<std::int64_t>(0, delay_ms - half));
  return half + d(rng_);
}

core::Result<void> Outbox::start() {
  const auto now = clock_.unix_millis();
  auto recovered =
      db_.write_sync<std::int64_t>([now](db::Connection& c) { return recover_sending(c, now); });
  if (!recovered) return recovered.error();
  stats_.resent_after_restart += static_cast<std::uint64_t>(*recovered);
  if (*recovered > 0) {
    log_.warn("notify",
              "{} notification(s) were being sent when NetPulse stopped: sending them again "
              "(the remote may see them twice)",
              *recovered);
  }
  auto rows = db_.read([&](db::Connection& c) { return load_pending(c, o_.max_in_memory); });
  if (!rows) return rows.error();
  more_in_db_ = rows->size() >= o_.max_in_memory;
  for (auto& r : *rows) add(std::move(r));
  arm_timer();
  boost::asio::post(loop_, [this, alive = std::weak_ptr<const int>(life_)] {
    if (!alive.expired()) pump();
  });
  return core::ok();
}

void Outbox::add(OutboxRow row) {
  const auto id = row.id;
  due_[row.n.channel_id].insert({row.next_attempt_at, id});
  ++queued_;
  rows_.insert_or_assign(id, std::move(row));
}

void Outbox::enqueue(std::vector<NewNotification> batch, Enqueued done, SameTransaction also) {
  if (closed_) {
    return boost::asio::post(loop_, [done = std::move(done), batch = std::move(batch)]() mutable {
      done(core::Error(core::Errc::kServiceUnavailable, "the notifier is closed"),
           std::move(batch));
    });
  }
  const auto now = clock_.unix_millis();
  auto shared = std::make_shared<std::vector<NewNotification>>(std::move(batch));
  db_.write<std::vector<std::int64_t>>(
      [shared, now,
       also = std::move(also)](db::Connection& c) -> core::Result<std::vector<std::int64_t>> {
        auto ids = insert_notifications(c, *shared, now);
        if (!ids || !also) return ids;
        if (auto r = also(c); !r) return std::move(r).error();
        return ids;
      },
      loop_,
      [this, alive = std::weak_ptr<const int>(life_), shared, now,
       done = std::move(done)](core::Result<std::vector<std::int64_t>> ids) {
        if (alive.expired()) return done(std::move(ids), {});
        if (ids) {
          stats_.enqueued += ids->size();
          for (std::size_t i = 0; i < ids->size(); ++i) {
            if (rows_.size() >= o_.max_in_memory) {
              more_in_db_ = true;  // read in later, when the queue drains
              continue;
            }
            OutboxRow row;
            row.id = (*ids)[i];
            row.n = std::move((*shared)[i]);
            row.next_attempt_at = now;
            row.created_at = row.updated_at = now;
            add(std::move(row));
          }
          pump();
        } else {
          log_.error("notify", "could not write {} notification(s) to the outbox: {}",
                     shared->size(), ids.error().message);
          return done(std::move(ids), std::move(*shared));
        }
        done(std::move(ids), {});
      });
}

void Outbox::pump() {
  if (closed_) return;
  const auto now = clock_.unix_millis();
  // Each channel's due rows, oldest first, up to its limit; a channel at its limit keeps its
  // rows queued and the others go on.
  for (auto ch = due_.begin(); ch != due_.end();) {
    auto& queue = ch->second;
    while (!queue.empty() && queue.begin()->due <= now &&
           static_cast<int>(in_flight_) < o_.total_concurrency) {
      auto busy = in_flight_by_channel_.find(ch->first);
      if (busy != in_flight_by_channel_.end() && busy->second >= o_.per_channel_concurrency) break;
      const auto id = queue.begin()->id;
      queue.erase(queue.begin());
      --queued_;
      ++in_flight_by_channel_[ch->first];
      ++in_flight_;
      attempt(id);
    }
    ch = queue.empty() ? due_.erase(ch) : std::next(ch);
  }
  if (queued_ == 0 && more_in_db_) refill();
}

void Outbox::attempt(std::int64_t id) {
  auto& row = rows_.at(id);
  row.status = NotificationStatus::kSending;
  ++row.attempts;
  ++stats_.attempts;
  const auto started_at = clock_.unix_millis();
  const auto t0 = clock_.steady_now();
  // Not waited for: the writer commits it before the attempt's own record (one queue), and a
  // crash before that commit only means the resend after the restart is not counted as unsure.
  queue_write([id, attempts = row.attempts, started_at](db::Connection& c) {
    return mark_sending(c, id, attempts, started_at);
  });
  // Settled once only, even if a transport calls twice by mistake, and always from a handler of
  // its own (never inside pump()'s walk over the queue, even if a transport answers inline).
  auto once = std::make_shared<bool>(false);
  transport_(row, [this, loop = loop_, alive = std::weak_ptr<const int>(life_), id, started_at, t0,
                   once](DeliveryOutcome outcome) {
    boost::asio::post(
        loop, [this, alive, id, started_at, t0, once, outcome = std::move(outcome)]() mutable {
          if (alive.expired() || *once) return;
          *once = true;
          settle(id, started_at, t0, std::move(outcome));
        });
  });
}

void Outbox::settle(std::int64_t id, std::int64_t started_at,
                    std::chrono::steady_clock::time_point t0, DeliveryOutcome outcome) {
  auto it = rows_.find(id);
  if (it == rows_.end()) return;
  OutboxRow row = std::move(it->second);
  rows_.erase(it);
  --in_flight_;
  if (auto busy = in_flight_by_channel_.find(row.n.channel_id);
      busy != in_flight_by_channel_.end() && --busy->second <= 0) {
    in_flight_by_channel_.erase(busy);
  }
  const auto now = clock_.unix_millis();
  AttemptRecord rec;
  rec.notification_id = id;
  rec.attempt = row.attempts;
  rec.started_at = started_at;
  rec.latency_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - t0).count();
  rec.outcome = outcome;
  NotificationStatus status = NotificationStatus::kDelivered;
  std::int64_t next = now;
  switch (outcome.kind) {
    case DeliveryOutcome::Kind::kDelivered:
      ++stats_.delivered;
      row.delivered_at = now;
      break;
    case DeliveryOutcome::Kind::kRetry:
      if (row.attempts >= o_.max_attempts) {
        status = NotificationStatus::kDead;
        ++stats_.dead;
        break;
      }
      status = NotificationStatus::kPending;
      ++stats_.retried;
      next = now +
             std::max(jittered(backoff_ms(o_, row.attempts)), outcome.retry_after_ms.value_or(0));
      break;
    case DeliveryOutcome::Kind::kFailed:
      status = NotificationStatus::kDead;
      ++stats_.dead;
      break;
  }
  row.status = status;
  row.next_attempt_at = next;
  row.last_status = outcome.remote_status;
  row.last_error = status == NotificationStatus::kDelivered ? std::string() : outcome.detail;
  row.updated_at = now;
  queue_write([rec, status, next, now](db::Connection& c) {
    return record_attempt(c, rec, status, next, now);
  });
  if (status == NotificationStatus::kDead) {
    log_.warn("notify",
              "notification {} to channel {} ({}) is a dead letter after {} attempt(s): {}", id,
              row.n.channel_id, row.n.channel_name, row.attempts, outcome.detail);
  }
  if (observer_) observer_(row, rec, status == NotificationStatus::kDead);
  if (status == NotificationStatus::kPending) add(std::move(row));
  pump();
}

void Outbox::refill() {
  more_in_db_ = false;
  const auto limit = o_.max_in_memory - std::min(o_.max_in_memory, rows_.size());
  if (limit == 0) {
    more_in_db_ = true;
    return;
  }
  // A read of pending rows; those already in memory (in flight or queued) are skipped.
  auto rows = db_.read([&](db::Connection& c) { return load_pending(c, limit + rows_.size()); });
  if (!rows) {
    log_.error("notify", "could not read the outbox: {}", rows.error().message);
    more_in_db_ = true;
    return;
  }
  std::size_t added = 0;
  for (auto& r : *rows) {
    if (rows_.contains(r.id)) continue;
    if (added == limit) {
      more_in_db_ = true;
      break;
    }
    add(std::move(r));
    ++added;
  }
}

void Outbox::arm_timer() {
  if (closed_) return;
  timer_.expires_after(o_.poll);
  timer_.async_wait([this, alive = std::weak_ptr<const int>(life_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    pump();
    arm_timer();
  });
}

void Outbox::retry_dead(core::OrgScope scope, std::int64_t id,
                        std::function<void(core::Result<void>)> done) {
  const auto now = clock_.unix_millis();
  db_.write<OutboxRow>(
      [org = scope.org_id(), id, now](db::Connection& c) { return revive_dead(c, org, id, now); },
      loop_,
      [this, alive = std::weak_ptr<const int>(life_),
       done = std::move(done)](core::Result<OutboxRow> row) {
        if (!row) return done(std::move(row).error());
        if (!alive.expired() && !closed_) {
          add(std::move(*row));
          pump();
        }
        done(core::ok());
      });
}

void Outbox::queue_write(std::function<core::Result<void>(db::Connection&)> fn) {
  writes_.push_back(std::move(fn));
  if (writes_posted_) return;
  writes_posted_ = true;
  boost::asio::post(loop_, [this, alive = std::weak_ptr<const int>(life_)] {
    if (!alive.expired()) flush_writes();
  });
}

void Outbox::flush_writes() {
  writes_posted_ = false;
  if (writes_.empty()) return;
  // One job for the turn's writes. A write that fails is logged and the others still commit:
  // each runs on its own, and the job itself never fails for one of them.
  struct Failed {
    std::size_t count = 0;
    std::string first;
  };
  auto failed = std::make_shared<Failed>();
  db_.write(
      [writes = std::exchange(writes_, {}), failed](db::Connection& c) -> core::Result<void> {
        for (const auto& w : writes) {
          if (auto r = w(c); !r && failed->count++ == 0) failed->first = r.error().message;
        }
        return core::ok();
      },
      loop_,
      [this, failed, alive = std::weak_ptr<const int>(life_)](core::Result<void> r) {
        if (alive.expired()) return;
        if (!r) {
          log_.error("notify", "could not record the outbox's attempts: {}", r.error().message);
        } else if (failed->count > 0) {
          log_.error("notify", "{} outbox record(s) not written: {}", failed->count, failed->first);
        }
      });
}

void Outbox::close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  flush_writes();
}

OutboxStats Outbox::stats() const {
  auto s = stats_;
  s.in_flight = in_flight_;
  s.queued = queued_;
  return s;
}

}  // namespace netpulse::notify::detail
