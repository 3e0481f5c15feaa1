// The device event log: status changes, reboots, interface changes and traps that the inventory
// and the pollers record. Events wait in memory (at most InventoryOptions::event_queue_max; past
// it they are dropped and counted) and are written in one batch per turn of the loop; events past
// their retention are deleted at most once an hour. The inventory owns one and delegates its
// record_event and list_events to it. Private to the devices module.
//
// Threading: every method runs on the event loop; the batch runs on the db writer thread and
// touches only what it was given. The object must outlive every write it queued.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/devices/types.hpp>

namespace netpulse::devices::detail {

class EventLog {
 public:
  // Registers netpulse_device_events_dropped_total and netpulse_device_events_orphaned_total in
  // `metrics` (may be null). Uses options.event_queue_max and options.event_retention_days.
  EventLog(const InventoryOptions& options, const core::Clock& clock, db::Database& db,
           boost::asio::any_io_executor loop, core::Logger& log, core::MetricsRegistry* metrics);

  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Queues `event` for the next batch: dropped (and counted) when the queue is full, dropped
  // silently when its organization was deleted (a poll under way when it went).
  void record(DeviceEvent event);

  // The organization's stored events that pass `filter`, newest first. A blocking indexed read.
  core::Result<core::PageOf<DeviceEvent>> list(std::int64_t org_id, const EventFilter& filter,
                                               core::Page page) const;

  // Deletes the events past their retention, at most once an hour (call it from a periodic tick).
  void expire();

  // core::OrgDeleted: the organization's waiting events go, and its later ones are not queued.
  void forget_org(std::int64_t org_id);

 private:
  // Writes the waiting events in one batch (posted once per turn of the loop by record()).
  void flush();

  std::size_t queue_max_;              // events waiting beyond this are dropped
  std::int64_t retention_days_;        // events older than this are deleted
  const core::Clock& clock_;           // when expire() last ran, and the cutoff
  db::Database& db_;                   // where the log is stored
  boost::asio::any_io_executor loop_;  // the thread every method runs on
  core::Logger& log_;                  // where a failed write is reported
  core::Counter* dropped_ = nullptr;   // events dropped because the queue was full
  core::Counter* orphaned_ = nullptr;  // events whose organization went while they waited
  std::unordered_set<std::int64_t> deleted_orgs_;  // organizations deleted since start
  std::vector<DeviceEvent> pending_;               // events waiting for the next batch
  bool flush_posted_ = false;                      // a flush() is posted and has not run yet
  std::int64_t last_expiry_ = 0;                   // when expire() last deleted (Unix seconds)
};

}  // namespace netpulse::devices::detail
