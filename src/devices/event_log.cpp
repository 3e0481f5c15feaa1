// The device event log (detail/event_log.hpp): a bounded in-memory queue of events, flushed to the
// device_events table in one write per turn of the loop, and the hourly retention sweep. The SQL
// is in event_log_sql.cpp; what an event says is decided by whoever records it.
#include "detail/event_log.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

#include "detail/sql.hpp"
#include "detail/write_quietly.hpp"

namespace netpulse::devices::detail {

EventLog::EventLog(const InventoryOptions& options, const core::Clock& clock, db::Database& db,
                   boost::asio::any_io_executor loop, core::Logger& log,
                   core::MetricsRegistry* metrics)
    : queue_max_(options.event_queue_max),
      retention_days_(options.event_retention_days),
      clock_(clock),
      db_(db),
      loop_(std::move(loop)),
      log_(log) {
  if (metrics) {
    dropped_ = &metrics->counter("netpulse_device_events_dropped_total",
                                 "Device events dropped because the queue was full.");
    orphaned_ = &metrics->counter(
        "netpulse_device_events_orphaned_total",
        "Device events not stored because their organization was deleted meanwhile.");
  }
}

void EventLog::record(DeviceEvent event) {
  if (deleted_orgs_.contains(event.org_id)) return;  // a poll that was under way
  if (pending_.size() >= queue_max_) {
    if (dropped_) dropped_->inc();
    return;
  }
  pending_.push_back(std::move(event));
  if (flush_posted_) return;
  flush_posted_ = true;
  boost::asio::post(loop_, [this] {
    flush_posted_ = false;
    flush();
  });
}

core::Result<core::PageOf<DeviceEvent>> EventLog::list(std::int64_t org_id, const EventFilter& f,
                                                       core::Page page) const {
  return db_.read([&](db::Connection& c) { return query_events(c, org_id, f, page); });
}

void EventLog::expire() {
  const auto now = clock_.unix_seconds();
  if (now - last_expiry_ < 3600) return;
  last_expiry_ = now;
  const auto cutoff = now - retention_days_ * 86'400;
  write_quietly(db_, loop_, log_, "event retention",
                [cutoff](db::Connection& c) -> core::Result<void> {
                  return delete_events_before(c, cutoff);
                });
}

void EventLog::forget_org(std::int64_t org_id) {
  deleted_orgs_.insert(org_id);
  std::erase_if(pending_, [org_id](const DeviceEvent& e) { return e.org_id == org_id; });
}

void EventLog::flush() {
  if (pending_.empty()) return;
  auto batch = std::move(pending_);
  pending_.clear();
  write_quietly(
      db_, loop_, log_, "device events",
      [batch = std::move(batch), orphaned = orphaned_](db::Connection& c) -> core::Result<void> {
        // One event that can no longer be stored (its organization was deleted while it waited:
        // the foreign key fails) is skipped and counted, so it does not take the events of other
        // organizations in the batch with it.
        std::size_t skipped = 0;
        auto r = insert_events(c, batch, skipped);
        if (skipped > 0 && orphaned) orphaned->inc(static_cast<double>(skipped));
        return r;
      });
}

}  // namespace netpulse::devices::detail
