// A database write whose failure is logged, not answered: what the pollers report and the event
// log, where nobody waits on the write and the next poll or event writes again. Private to the
// devices module.
#pragma once

#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/core/logger.hpp>
#include <netpulse/db/database.hpp>

namespace netpulse::devices::detail {

// Queues `fn` for the writer; a failure is logged at warn as "<what> not stored: <message>" on
// `loop`. `log` must outlive the write.
inline void write_quietly(db::Database& db, boost::asio::any_io_executor loop, core::Logger& log,
                          std::string what, db::WriteFn fn) {
  db.write(std::move(fn), std::move(loop), [&log, what = std::move(what)](core::Result<void> r) {
    if (!r) log.warn("devices", "{} not stored: {}", what, r.error().message);
  });
}

}  // namespace netpulse::devices::detail
