// Fuzz target: the device CSV import (devices::detail::import_devices) against a real database:
// organization 1 with the group "Core" and a device at 192.0.2.100 (a parent the file may name),
// made once per process. Each input is imported inside a savepoint that is rolled back, so every
// input sees the same database. An import either lists issues and creates nothing, or creates
// one device per row.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/outbound.hpp>
#include <netpulse/core/secret_box.hpp>
#include <netpulse/db/database.hpp>

#include "devices/detail/csv_import.hpp"
#include "support/fuzz_target.hpp"
#include "support/temp_dir.hpp"

using namespace netpulse;

namespace {

struct DeviceDb {
  test::TempDir dir;
  core::ManualClock clock;
  core::Logger log{clock, [](std::string_view) {}};
  core::MetricsRegistry metrics;
  core::EventBus bus;
  boost::asio::io_context io;
  core::WorkerPool workers{1, 8};
  std::unique_ptr<db::Connection> conn;
  core::SecretBox box{std::string(core::kSecretKeyBytes, 'k')};
  core::OutboundPolicy outbound;  // the defaults

  DeviceDb() {
    {
      db::Options o;
      o.path = dir.file("netpulse.db");
      auto opened = db::Database::open(
          o, {clock, log, metrics, bus, io.get_executor(), workers});  // applies the migrations
      if (!opened) fuzz::fail("database: " + opened.error().message);
    }
    auto c = db::Connection::open(dir.file("netpulse.db"), db::Connection::Mode::kReadWrite,
                                  std::chrono::milliseconds(5000));
    if (!c) fuzz::fail("connection: " + c.error().message);
    conn = std::move(*c);
    auto setup = conn->exec(
        "INSERT INTO organizations (id, name, slug, is_system, created_at, updated_at) "
        "VALUES (1, 'Fuzz', 'fuzz', 0, 0, 0);"
        "INSERT INTO device_groups (org_id, name, created_at, updated_at) "
        "VALUES (1, 'Core', 0, 0);");
    if (!setup) fuzz::fail("set-up: " + setup.error().message);
    auto seeded = devices::detail::import_devices(
        *conn, box, 1, "name,address\nexisting,192.0.2.100\n", 0, 10, 1000, outbound);
    if (!seeded || !seeded->issues.empty()) fuzz::fail("could not seed the existing device");
  }
};

DeviceDb& device_db() {
  static DeviceDb* db = [] {
    auto* d = new DeviceDb;  // kept for the process's life; the directory goes at exit
    static std::string path = d->dir.path();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    });
    return d;
  }();
  return *db;
}

}  // namespace

NETPULSE_FUZZ_TARGET(device_csv) {
  auto& d = device_db();
  if (!d.conn->exec("SAVEPOINT fuzz")) fuzz::fail("savepoint");
  auto r = devices::detail::import_devices(*d.conn, d.box, 1, fuzz::as_text(data, size), 1000, 200,
                                           1000, d.outbound);
  if (r) {
    if (!r->issues.empty() && !r->created.empty()) fuzz::fail("issues, yet devices were created");
    if (r->issues.empty() && r->created.size() != r->rows) {
      fuzz::fail("a clean import did not create one device per row");
    }
    if (r->issues.size() > devices::detail::kMaxImportIssues + 1) fuzz::fail("too many issues");
  }
  if (!d.conn->exec("ROLLBACK TO fuzz; RELEASE fuzz")) fuzz::fail("rollback");
  return 0;
}
