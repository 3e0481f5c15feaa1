// The device inventory on a real Database in a temporary directory, with the event loop run by
// the test: CRUD and the field rules, tenancy, address uniqueness, the parent DAG (cycles refused
// with their path), groups, filters and sorting, sealed credentials across a restart, status
// events, and the all-or-nothing CSV import with its export.
#include <chrono>
#include <fstream>
#include <functional>
#include <optional>
#include <sys/stat.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/secret_box.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/devices/inventory.hpp>

#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

using namespace netpulse;
using core::Errc;
using devices::Device;
using devices::DeviceStatus;

namespace {

core::OrgScope org(std::int64_t id) {
  return core::OrgScope::trusted(id);
}

struct Harness {
  test::TempDir dir;
  test::TestEnv test_env;  // clock, logger, metrics, bus, loop and workers
  core::ManualClock& clock = test_env.manual_clock();
  core::MetricsRegistry& metrics = test_env.metrics();
  core::EventBus& bus = test_env.bus();
  boost::asio::io_context& io = test_env.loop();

  core::Env env() { return test_env.env(); }
  std::unique_ptr<db::Database> database;
  std::unique_ptr<devices::Inventory> inv;
  std::vector<devices::DeviceChanged> changes;
  std::vector<devices::DeviceStatusChanged> statuses;
  core::EventBus::Subscription s1, s2;

  std::size_t max_devices = 50;
  std::size_t import_max_rows = 40;

  Harness() : Harness(50, 40) {}
  Harness(std::size_t devices, std::size_t rows) : max_devices(devices), import_max_rows(rows) {
    db::Options dbo;
    dbo.path = dir.file("netpulse.db");
    auto opened = db::Database::open(dbo, env());
    REQUIRE(opened);
    database = std::move(*opened);
    REQUIRE(database->write_sync([](db::Connection& c) {
      return c.exec(
          "INSERT INTO organizations (id, name, slug, is_system, created_at, updated_at) VALUES "
          "(1, 'One', 'one', 1, 0, 0), (2, 'Two', 'two', 0, 0, 0)");
    }));
    s1 = bus.subscribe<devices::DeviceChanged>(
        [this](const devices::DeviceChanged& e) { changes.push_back(e); });
    s2 = bus.subscribe<devices::DeviceStatusChanged>(
        [this](const devices::DeviceStatusChanged& e) { statuses.push_back(e); });
    reopen();
  }

  core::Result<std::unique_ptr<devices::Inventory>> open() {
    devices::InventoryOptions o;
    o.data_dir = dir.path();
    o.max_devices_per_org = max_devices;
    o.import_max_rows = import_max_rows;
    return devices::Inventory::open(o, env(), *database);
  }

  void reopen() {
    inv.reset();
    auto opened = open();
    REQUIRE(opened);
    inv = std::move(*opened);
  }

  template <class T>
  core::Result<T> wait(const std::function<void(devices::Callback<T>)>& start) {
    std::optional<core::Result<T>> out;
    start([&](core::Result<T> r) { out.emplace(std::move(r)); });
    io.restart();
    auto guard = boost::asio::make_work_guard(io);
    while (!out) {
      if (io.run_one_for(std::chrono::seconds(30)) == 0) break;
    }
    REQUIRE(out.has_value());
    return std::move(*out);
  }

  core::Result<Device> create(devices::NewDevice d, std::int64_t org_id = 1) {
    return wait<Device>([&](auto done) { inv->create(org(org_id), d, done); });
  }
  Device must_create(std::string name, std::string address, std::int64_t org_id = 1) {
    devices::NewDevice d;
    d.name = std::move(name);
    d.address = std::move(address);
    auto r = create(d, org_id);
    REQUIRE(r);
    return *r;
  }
  core::Result<Device> update(std::int64_t id, devices::DevicePatch p, std::int64_t org_id = 1) {
    return wait<Device>([&](auto done) { inv->update(org(org_id), id, p, done); });
  }
  core::Result<void> remove(std::int64_t id, std::int64_t org_id = 1) {
    return wait<void>([&](auto done) { inv->remove(org(org_id), id, done); });
  }
  core::Result<devices::Group> group(std::string name, std::int64_t org_id = 1) {
    return wait<devices::Group>([&](auto done) { inv->create_group(org(org_id), name, "", done); });
  }
  core::Result<devices::ImportResult> import(std::string csv, std::int64_t org_id = 1) {
    return wait<devices::ImportResult>([&](auto done) { inv->import_csv(org(org_id), csv, done); });
  }
  std::vector<Device> list(devices::DeviceFilter f = {}, devices::DeviceSort s = {},
                           std::int64_t org_id = 1) {
    auto r = inv->list(org(org_id), f, s, {1, 500});
    REQUIRE(r);
    return r->items;
  }
};

std::vector<std::string> names(const std::vector<Device>& ds) {
  std::vector<std::string> out;
  for (auto& d : ds) out.push_back(d.name);
  return out;
}

devices::SnmpCredentials v2c(std::string community) {
  devices::SnmpCredentials c;
  c.settings.version = devices::SnmpVersion::kV2c;
  c.secrets.community = std::move(community);
  return c;
}

devices::SnmpCredentials v3(std::string user) {
  devices::SnmpCredentials c;
  c.settings.version = devices::SnmpVersion::kV3;
  c.settings.user = std::move(user);
  c.settings.auth = devices::SnmpAuth::kSha256;
  c.settings.priv = devices::SnmpPriv::kAes128;
  c.secrets.auth_password = "auth-pass-1";
  c.secrets.priv_password = "priv-pass-1";
  return c;
}

std::string field_of(const core::Error& e) {
  auto* f = e.details.if_contains("field");
  return f && f->is_string() ? std::string(f->as_string()) : "";
}

}  // namespace

TEST_CASE("inventory: a created device reads back normalized, with no secrets in it", "[devices]") {
  Harness h;
  devices::NewDevice d;
  d.name = "core-1";
  d.address = "2001:DB8:0:0::1";
  d.type = devices::DeviceType::kRouter;
  d.tags = {"pop-a", "core", "core"};
  d.snmp = v2c("s3cret-community");
  auto r = h.create(d);
  REQUIRE(r);
  CHECK(r->id > 0);
  CHECK(r->address == "2001:db8::1");
  CHECK(r->tags == std::vector<std::string>{"core", "pop-a"});
  CHECK(r->status() == DeviceStatus::kUnknown);
  REQUIRE(r->snmp);
  CHECK(r->snmp->version == devices::SnmpVersion::kV2c);
  CHECK(r->snmp->port == 161);
  auto creds = h.inv->snmp_credentials(r->id);
  REQUIRE(creds);
  CHECK(creds->secrets.community == "s3cret-community");
  REQUIRE(h.changes.size() == 1);
  CHECK(h.changes[0].kind == devices::DeviceChanged::Kind::kCreated);

  auto got = h.inv->get(org(1), r->id);
  REQUIRE(got);
  CHECK(got->name == "core-1");
  // Host names are lower-cased; a trailing dot is dropped.
  CHECK(h.must_create("edge", "Edge-1.POP.example.NET.").address == "edge-1.pop.example.net");
}

TEST_CASE("inventory: fields are checked and the error names the field", "[devices]") {
  Harness h;
  struct Case {
    std::string what;
    std::function<void(devices::NewDevice&)> mutate;
    std::string field;
  };
  std::vector<Case> cases{
      {"empty name", [](auto& d) { d.name = ""; }, "name"},
      {"control char in name", [](auto& d) { d.name = "a\x01"; }, "name"},
      {"name too long", [](auto& d) { d.name = std::string(129, 'x'); }, "name"},
      {"bad address", [](auto& d) { d.address = "10.0.0.1/24"; }, "address"},
      {"numeric host", [](auto& d) { d.address = "300.1.1.1"; }, "address"},
      {"label starting with -", [](auto& d) { d.address = "-bad.example"; }, "address"},
      {"multicast", [](auto& d) { d.address = "239.1.1.1"; }, "address"},
      {"unspecified", [](auto& d) { d.address = "::"; }, "address"},
      {"bad tag", [](auto& d) { d.tags = {"has space"}; }, "tags"},
      {"too many tags",
       [](auto& d) {
         for (int i = 0; i < 40; ++i) d.tags.push_back("t" + std::to_string(i));
       },
       "tags"},
      {"interval 0", [](auto& d) { d.poll_interval_s = 0; }, "poll_interval_s"},
      {"interval too long", [](auto& d) { d.poll_interval_s = 86'401; }, "poll_interval_s"},
      {"v2c without community", [](auto& d) { d.snmp = v2c(""); }, "snmp.community"},
      {"community with newline", [](auto& d) { d.snmp = v2c("a\nb"); }, "snmp.community"},
      {"v3 without user", [](auto& d) { d.snmp = v3(""); }, "snmp.user"},
      {"v3 short auth password",
       [](auto& d) {
         d.snmp = v3("u");
         d.snmp->secrets.auth_password = "short";
       },
       "snmp.auth_password"},
      {"v3 priv without auth",
       [](auto& d) {
         d.snmp = v3("u");
         d.snmp->settings.auth = devices::SnmpAuth::kNone;
       },
       "snmp.priv_protocol"},
      {"port 0",
       [](auto& d) {
         d.snmp = v2c("public");
         d.snmp->settings.port = 0;
       },
       "snmp.port"},
      {"notes not UTF-8", [](auto& d) { d.notes = "\xff"; }, "notes"},
      {"parent id 0", [](auto& d) { d.parents = {0}; }, "parents"},
  };
  for (auto& c : cases) {
    SECTION(c.what) {
      devices::NewDevice d;
      d.name = "x";
      d.address = "192.0.2.1";
      c.mutate(d);
      auto r = h.create(d);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == Errc::kInvalidInput);
      CHECK(field_of(r.error()) == c.field);
      CHECK(h.inv->device_count() == 0);
    }
  }
}

TEST_CASE("inventory: an address is unique per organization, and tenancy holds", "[devices]") {
  Harness h;
  auto a = h.must_create("a", "192.0.2.10");
  devices::NewDevice dup;
  dup.name = "again";
  dup.address = "192.0.2.10";
  auto r = h.create(dup);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kDeviceAlreadyExists);
  CHECK(r.error().message.find("192.0.2.10") != std::string::npos);

  // The other organization may use the same address, and cannot see, change or delete ours.
  auto b = h.create(dup, 2);
  REQUIRE(b);
  CHECK(h.inv->get(org(2), a.id).error().code == Errc::kDeviceNotFound);
  devices::DevicePatch p;
  p.name = "stolen";
  CHECK(h.update(a.id, p, 2).error().code == Errc::kDeviceNotFound);
  CHECK(h.remove(a.id, 2).error().code == Errc::kDeviceNotFound);
  CHECK(names(h.list({}, {}, 2)) == std::vector<std::string>{"again"});
  CHECK(h.inv->get(org(1), a.id)->name == "a");

  // Changing an address onto another device's is refused too.
  auto c = h.must_create("c", "192.0.2.11");
  devices::DevicePatch move;
  move.address = "192.0.2.10";
  CHECK(h.update(c.id, move).error().code == Errc::kDeviceAlreadyExists);
}

TEST_CASE("inventory: parents form a DAG; a cycle is refused with the path that closes it",
          "[devices]") {
  Harness h;
  auto core = h.must_create("core", "192.0.2.1");
  auto agg = h.must_create("agg", "192.0.2.2");
  auto cpe = h.must_create("cpe", "192.0.2.3");
  devices::DevicePatch p;
  p.parents = std::vector<std::int64_t>{core.id};
  REQUIRE(h.update(agg.id, p));
  p.parents = std::vector<std::int64_t>{agg.id};
  REQUIRE(h.update(cpe.id, p));

  p.parents = std::vector<std::int64_t>{cpe.id};
  auto r = h.update(core.id, p);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kConflict);
  CHECK(r.error().message.find("core -> cpe -> agg -> core") != std::string::npos);
  auto& path = r.error().details.at("path").as_array();
  REQUIRE(path.size() == 4);
  CHECK(path[0].as_int64() == core.id);
  CHECK(path[1].as_int64() == cpe.id);
  CHECK(path[3].as_int64() == core.id);
  CHECK(h.inv->get(org(1), core.id)->parents.empty());

  p.parents = std::vector<std::int64_t>{core.id};
  CHECK(field_of(h.update(core.id, p).error()) == "parents");  // itself
  p.parents = std::vector<std::int64_t>{9999};
  CHECK(field_of(h.update(core.id, p).error()) == "parents");  // unknown
  auto other = h.must_create("other-org", "192.0.2.50", 2);
  p.parents = std::vector<std::int64_t>{other.id};
  CHECK(field_of(h.update(core.id, p).error()) == "parents");  // another org's device

  // A diamond is fine: cpe below agg and core.
  p.parents = std::vector<std::int64_t>{agg.id, core.id};
  REQUIRE(h.update(cpe.id, p));
  devices::DeviceFilter children;
  children.parent = core.id;
  CHECK(names(h.list(children)) == std::vector<std::string>{"agg", "cpe"});

  // Deleting a parent removes the links of its children.
  REQUIRE(h.remove(agg.id));
  CHECK(h.inv->get(org(1), cpe.id)->parents == std::vector<std::int64_t>{core.id});
  h.reopen();
  CHECK(h.inv->get(org(1), cpe.id)->parents == std::vector<std::int64_t>{core.id});
}

TEST_CASE("inventory: groups by name, unique, renamed and deleted", "[devices]") {
  Harness h;
  auto pop = h.group("POP North");
  REQUIRE(pop);
  CHECK(h.group("POP North").error().code == Errc::kConflict);
  REQUIRE(h.group("POP North", 2));  // another org
  auto core = h.group("Core");
  REQUIRE(core);

  devices::NewDevice d;
  d.name = "r1";
  d.address = "192.0.2.1";
  d.groups = {"POP North", "Core"};
  auto r1 = h.create(d);
  REQUIRE(r1);
  CHECK(r1->groups == std::vector<std::string>{"Core", "POP North"});
  d.address = "192.0.2.2";
  d.groups = {"Nope"};
  auto bad = h.create(d);
  REQUIRE_FALSE(bad);
  CHECK(field_of(bad.error()) == "groups");
  CHECK(bad.error().message.find("Nope") != std::string::npos);
  CHECK(h.inv->get_group(org(1), pop->id)->device_count == 1);

  devices::GroupPatch rename;
  rename.name = "POP South";
  REQUIRE(h.wait<devices::Group>(
      [&](auto done) { h.inv->update_group(org(1), pop->id, rename, done); }));
  CHECK(h.inv->get(org(1), r1->id)->groups == std::vector<std::string>{"Core", "POP South"});
  devices::DeviceFilter in_group;
  in_group.group = "POP South";
  CHECK(names(h.list(in_group)) == std::vector<std::string>{"r1"});

  REQUIRE(h.wait<void>([&](auto done) { h.inv->remove_group(org(1), core->id, done); }));
  CHECK(h.inv->get(org(1), r1->id)->groups == std::vector<std::string>{"POP South"});
  h.reopen();
  CHECK(h.inv->get(org(1), r1->id)->groups == std::vector<std::string>{"POP South"});
  CHECK(h.inv->get_group(org(1), pop->id)->device_count == 1);
  CHECK(h.inv->get_group(org(2), pop->id).error().code == Errc::kNotFound);
}

TEST_CASE("inventory: search, filters, sort and pages", "[devices]") {
  Harness h;
  auto mk = [&](std::string name, std::string address, devices::DeviceType type, std::string vendor,
                std::vector<std::string> tags) {
    devices::NewDevice d;
    d.name = std::move(name);
    d.address = std::move(address);
    d.type = type;
    d.vendor = std::move(vendor);
    d.tags = std::move(tags);
    auto r = h.create(d);
    REQUIRE(r);
    return *r;
  };
  auto b = mk("bravo", "192.0.2.2", devices::DeviceType::kSwitch, "Cisco", {"pop-a"});
  auto a = mk("Alpha", "192.0.2.1", devices::DeviceType::kRouter, "MikroTik", {"core"});
  auto c = mk("charlie", "192.0.2.3", devices::DeviceType::kSwitch, "cisco", {"pop-a", "core"});
  CHECK(names(h.list()) == std::vector<std::string>{"Alpha", "bravo", "charlie"});
  CHECK(names(h.list({}, {devices::DeviceSortKey::kName, true})) ==
        std::vector<std::string>{"charlie", "bravo", "Alpha"});

  devices::DeviceFilter f;
  f.type = devices::DeviceType::kSwitch;
  CHECK(names(h.list(f)) == std::vector<std::string>{"bravo", "charlie"});
  f = {};
  f.vendor = "CISCO";
  CHECK(names(h.list(f)) == std::vector<std::string>{"bravo", "charlie"});
  f = {};
  f.tag = "core";
  CHECK(names(h.list(f)) == std::vector<std::string>{"Alpha", "charlie"});
  f = {};
  f.search = "192.0.2.3";
  CHECK(names(h.list(f)) == std::vector<std::string>{"charlie"});
  f = {};
  f.search = "mikro";
  CHECK(names(h.list(f)) == std::vector<std::string>{"Alpha"});

  h.inv->record_status(b.id, DeviceStatus::kDown, 100);
  h.inv->record_status(a.id, DeviceStatus::kUp, 100);
  f = {};
  f.status = DeviceStatus::kDown;
  CHECK(names(h.list(f)) == std::vector<std::string>{"bravo"});
  // Status sorts worst first.
  CHECK(names(h.list({}, {devices::DeviceSortKey::kStatus, false})) ==
        std::vector<std::string>{"bravo", "charlie", "Alpha"});

  auto page = h.inv->list(org(1), {}, {}, {2, 2});
  REQUIRE(page);
  CHECK(page->total == 3);
  CHECK(names(page->items) == std::vector<std::string>{"charlie"});
  auto past = h.inv->list(org(1), {}, {}, {5, 2});
  CHECK(past->items.empty());
  (void)c;
}

TEST_CASE("inventory: credentials are sealed at rest and survive a restart", "[devices]") {
  Harness h;
  devices::NewDevice d;
  d.name = "olt-1";
  d.address = "192.0.2.7";
  d.snmp = v3("monitor");
  auto r = h.create(d);
  REQUIRE(r);

  // Not in the database files in the clear, where the user name (not a secret) is.
  std::string stored;
  for (auto file : {"netpulse.db", "netpulse.db-wal"}) {
    std::ifstream in(h.dir.file(file), std::ios::binary);
    stored.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  CHECK(stored.find("monitor") != std::string::npos);
  CHECK(stored.find("auth-pass-1") == std::string::npos);
  CHECK(stored.find("priv-pass-1") == std::string::npos);
  struct stat st {};
  REQUIRE(::stat(h.dir.file("credentials.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  h.reopen();
  auto creds = h.inv->snmp_credentials(r->id);
  REQUIRE(creds);
  CHECK(creds->settings.user == "monitor");
  CHECK(creds->settings.auth == devices::SnmpAuth::kSha256);
  CHECK(creds->secrets.auth_password == "auth-pass-1");
  CHECK(creds->secrets.priv_password == "priv-pass-1");

  // A patch without secrets keeps them while version and user stay; a new user needs new ones.
  devices::DevicePatch p;
  auto same = v3("monitor");
  same.secrets = {};
  same.settings.port = 1161;
  p.snmp = std::optional<devices::SnmpCredentials>(same);
  auto patched = h.update(r->id, p);
  REQUIRE(patched);
  CHECK(patched->snmp->port == 1161);
  CHECK(h.inv->snmp_credentials(r->id)->secrets.priv_password == "priv-pass-1");
  auto other_user = same;
  other_user.settings.user = "someone-else";
  p.snmp = std::optional<devices::SnmpCredentials>(other_user);
  auto refused = h.update(r->id, p);
  REQUIRE_FALSE(refused);
  CHECK(field_of(refused.error()) == "snmp.auth_password");
  p.snmp = std::optional<devices::SnmpCredentials>();  // remove SNMP
  REQUIRE(h.update(r->id, p));
  CHECK_FALSE(h.inv->snmp_credentials(r->id));

  // With another key the sealed rows do not open, and start-up says why.
  p.snmp = std::optional<devices::SnmpCredentials>(v2c("public"));
  REQUIRE(h.update(r->id, p));
  h.inv.reset();
  {
    std::ofstream key(h.dir.file("credentials.key"), std::ios::binary | std::ios::trunc);
    key << std::string(32, 'k');
  }
  auto reopened = h.open();
  REQUIRE_FALSE(reopened);
  CHECK(reopened.error().message.find("credentials.key") != std::string::npos);
}

TEST_CASE("secret box: tampering, another binding or a truncated value do not open", "[devices]") {
  core::SecretBox box(std::string(32, 'a'));
  auto sealed = box.seal("community", "org/1");
  CHECK(*box.open(sealed, "org/1") == "community");
  CHECK(box.seal("community", "org/1") != sealed);  // fresh nonce each time
  CHECK_FALSE(box.open(sealed, "org/2"));
  auto flipped = sealed;
  flipped[flipped.size() / 2] ^= 1;
  CHECK_FALSE(box.open(flipped, "org/1"));
  CHECK_FALSE(box.open(sealed.substr(0, 10), "org/1"));
  auto version = sealed;
  version[0] = 2;
  CHECK_FALSE(box.open(version, "org/1"));
  core::SecretBox other(std::string(32, 'b'));
  CHECK_FALSE(other.open(sealed, "org/1"));
}

TEST_CASE("inventory: status from polls, maintenance, events and persistence", "[devices]") {
  Harness h;
  auto d = h.must_create("sw", "192.0.2.9");
  h.inv->record_status(d.id, DeviceStatus::kUp, 1000);
  h.inv->record_status(d.id, DeviceStatus::kUp, 1060);  // no change: no event
  h.inv->record_status(d.id, DeviceStatus::kDown, 1120);
  REQUIRE(h.statuses.size() == 2);
  CHECK(h.statuses[0].from == DeviceStatus::kUnknown);
  CHECK(h.statuses[0].to == DeviceStatus::kUp);
  CHECK(h.statuses[1].to == DeviceStatus::kDown);
  CHECK(h.statuses[1].at == 1120);
  auto now = h.inv->get(org(1), d.id);
  CHECK(now->status() == DeviceStatus::kDown);
  CHECK(now->last_seen == 1060);

  devices::DevicePatch p;
  p.maintenance = true;
  auto m = h.update(d.id, p);
  REQUIRE(m);
  CHECK(m->status() == DeviceStatus::kMaintenance);
  REQUIRE(h.statuses.size() == 3);
  CHECK(h.statuses[2].to == DeviceStatus::kMaintenance);

  // The written status survives a restart (status writes are queued before reopen's read).
  REQUIRE(h.database->write_sync([](db::Connection&) { return core::ok(); }));
  h.reopen();
  auto back = h.inv->get(org(1), d.id);
  CHECK(back->polled_status == DeviceStatus::kDown);
  CHECK(back->status() == DeviceStatus::kMaintenance);
  CHECK(back->status_changed_at == 1120);
}

TEST_CASE("inventory: CSV import is all or nothing and lists every issue", "[devices][csv]") {
  Harness h;
  REQUIRE(h.group("Core"));
  h.must_create("existing", "192.0.2.100");

  SECTION("a good file, parents in the file and in the database, in any order") {
    auto r = h.import(
        "name,address,type,tags,groups,parents,snmp_version,snmp_community,poll_interval_s\r\n"
        "cpe-1,192.0.2.21,cpe,\"b;a\",,192.0.2.20,2c,public,30\r\n"
        "\r\n"
        "agg-1,192.0.2.20,switch,,Core,192.0.2.100,,,\r\n");
    REQUIRE(r);
    CHECK(r->issues.empty());
    REQUIRE(r->created.size() == 2);
    CHECK(r->rows == 2);
    auto all = h.list();
    CHECK(names(all) == std::vector<std::string>{"agg-1", "cpe-1", "existing"});
    auto cpe = all[1];
    CHECK(cpe.tags == std::vector<std::string>{"a", "b"});
    CHECK(cpe.poll_interval_s == 30);
    CHECK(cpe.parents == std::vector<std::int64_t>{all[0].id});
    CHECK(all[0].groups == std::vector<std::string>{"Core"});
    CHECK(h.inv->snmp_credentials(cpe.id)->secrets.community == "public");
  }

  SECTION("any issue stores nothing; every issue is listed by line and column") {
    auto r = h.import(
        "name,address,type,parents,groups,snmp_version,snmp_community\n"
        "ok,192.0.2.30,router,,,,\n"
        "bad-type,192.0.2.31,toaster,,,,\n"
        ",192.0.2.32,router,,,,\n"
        "dup,192.0.2.30,router,,,,\n"
        "taken,192.0.2.100,router,,,,\n"
        "orphan,192.0.2.33,router,192.0.2.99,,,\n"
        "nogroup,192.0.2.34,router,,Edge,,\n"
        "nocommunity,192.0.2.35,router,,,2c,\n"
        "short,192.0.2.36\n");
    REQUIRE(r);
    CHECK(r->created.empty());
    std::vector<std::pair<std::size_t, std::string>> got;
    for (auto& i : r->issues) got.emplace_back(i.line, i.column);
    std::vector<std::pair<std::size_t, std::string>> want{
        {3, "type"},    {4, "name"},   {5, "address"},        {6, "address"},
        {7, "parents"}, {8, "groups"}, {9, "snmp_community"}, {10, ""}};
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    CHECK(got == want);
    CHECK(h.list().size() == 1);
  }

  SECTION("a cycle among the file's rows") {
    auto r = h.import(
        "name,address,parents\n"
        "a,192.0.2.40,192.0.2.41\n"
        "b,192.0.2.41,192.0.2.40\n");
    REQUIRE(r);
    REQUIRE(r->issues.size() == 1);
    CHECK(r->issues[0].column == "parents");
    CHECK(r->issues[0].message.find("cycle") != std::string::npos);
    CHECK(h.list().size() == 1);
  }

  SECTION("header problems") {
    auto r = h.import("name,adress\nx,192.0.2.1\n");
    REQUIRE(r);
    REQUIRE(r->issues.size() == 2);
    CHECK(r->issues[0].column == "adress");
    CHECK(r->issues[0].message == "unknown column");
    CHECK(r->issues[1].column == "address");
    auto twice = h.import("name,address,name\n");
    CHECK(twice->issues.at(0).message == "the column appears twice");
    auto empty = h.import("");
    CHECK(empty->issues.at(0).message.find("empty") != std::string::npos);
  }

  SECTION("hostile input: too many rows, a huge record, an unterminated quote") {
    std::string many = "name,address\n";
    for (int i = 0; i < 45; ++i)
      many += "d" + std::to_string(i) + ",10.9.0." + std::to_string(i) + "\n";
    auto r = h.import(many);
    REQUIRE(r);
    CHECK(r->created.empty());
    CHECK(r->issues.back().message.find("more than 40 rows") != std::string::npos);

    std::string wide = "name,address\nx," + std::string(100000, ',') + "\n";
    auto w = h.import(wide);
    CHECK(w->issues.at(0).message.find("cells") != std::string::npos);

    auto q = h.import("name,address\n\"x,192.0.2.1\n");
    CHECK(q->issues.at(0).message == "unterminated quoted cell");
    CHECK(h.list().size() == 1);
  }
}

TEST_CASE("inventory: CSV export reads back into another organization", "[devices][csv]") {
  Harness h;
  REQUIRE(h.group("Core"));
  REQUIRE(h.group("Core", 2));
  devices::NewDevice d;
  d.name = "=cmd|' /C calc'!A0";  // a formula: defused in the export, restored by the import
  d.address = "192.0.2.1";
  d.groups = {"Core"};
  d.notes = "line one\nline \"two\", with comma";
  auto a = h.create(d);
  REQUIRE(a);
  devices::NewDevice child;
  child.name = "child";
  child.address = "192.0.2.2";
  child.parents = {a->id};
  child.tags = {"x", "y"};
  REQUIRE(h.create(child));

  const auto csv = h.inv->export_csv(org(1), {});
  CHECK(csv.find("\"'=cmd") != std::string::npos);
  auto r = h.import(csv, 2);
  REQUIRE(r);
  INFO(csv);
  REQUIRE(r->issues.empty());
  auto theirs = h.list({}, {}, 2);
  REQUIRE(theirs.size() == 2);
  CHECK(theirs[0].name == "=cmd|' /C calc'!A0");
  CHECK(theirs[0].notes == d.notes);
  CHECK(theirs[0].groups == std::vector<std::string>{"Core"});
  CHECK(theirs[1].parents == std::vector<std::int64_t>{theirs[0].id});
  CHECK(theirs[1].tags == std::vector<std::string>{"x", "y"});
}

TEST_CASE("inventory: the event log records status changes and pollers' events, per org",
          "[devices][events]") {
  Harness h;
  auto d = h.must_create("r1", "192.0.2.1");
  auto other = h.must_create("r2", "192.0.2.1", 2);
  h.inv->record_status(d.id, DeviceStatus::kUp, 1000);
  h.inv->record_status(d.id, DeviceStatus::kDown, 1100);
  devices::DeviceEvent trap;
  trap.org_id = 1;
  trap.device_id = d.id;
  trap.at = 1200;
  trap.kind = "trap";
  trap.severity = devices::EventSeverity::kWarning;
  trap.message = "linkDown ifIndex 3";
  trap.details_json = R"({"if_index":3})";
  h.inv->record_event(trap);
  devices::DeviceEvent theirs = trap;
  theirs.org_id = 2;
  theirs.device_id = other.id;
  h.inv->record_event(theirs);
  REQUIRE(h.wait<void>([&](auto done) {
    // Events are written on the next turn of the loop: wait for a write queued after them.
    boost::asio::post(h.io, [&, done] {
      h.database->write([](db::Connection&) { return core::ok(); }, h.io.get_executor(),
                        [done](core::Result<void> r) { done(std::move(r)); });
    });
  }));

  auto all = h.inv->list_events(org(1), {}, {1, 50});
  REQUIRE(all);
  REQUIRE(all->total == 3);
  CHECK(all->items[0].kind == "trap");  // newest first
  CHECK(all->items[0].details_json == R"({"if_index":3})");
  CHECK(all->items[1].kind == "status");
  CHECK(all->items[1].severity == devices::EventSeverity::kCritical);
  CHECK(all->items[1].message == "r1 is down (was up)");
  CHECK(all->items[2].message == "r1 is up (was unknown)");
  devices::EventFilter f;
  f.kind = "status";
  f.since = 1050;
  auto some = h.inv->list_events(org(1), f, {1, 50});
  REQUIRE(some->total == 1);
  CHECK(some->items[0].at == 1100);
  auto two = h.inv->list_events(org(2), {}, {1, 50});
  REQUIRE(two->total == 1);
  CHECK(two->items[0].device_id == other.id);

  // Traps are matched by address, across organizations.
  auto matches = h.inv->find_by_address("192.0.2.1");
  CHECK(matches.size() == 2);
  CHECK(h.inv->find_by_address("192.0.2.99").empty());
}

namespace {

devices::ServiceCheck tcp_check(std::int64_t device_id, std::string name, int port) {
  devices::ServiceCheck c;
  c.device_id = device_id;
  c.name = std::move(name);
  c.kind = devices::ServiceKind::kTcp;
  c.port = port;
  return c;
}

}  // namespace

TEST_CASE("inventory: service checks are checked, unique per device, scoped and persisted",
          "[devices][checks]") {
  Harness h;
  auto a = h.must_create("a", "192.0.2.20");
  auto b = h.must_create("b", "192.0.2.21");
  auto add = [&](devices::ServiceCheck c, std::int64_t org_id = 1) {
    return h.wait<devices::ServiceCheck>(
        [&](auto done) { h.inv->create_service_check(org(org_id), c, done); });
  };
  auto update = [&](devices::ServiceCheck c, std::int64_t org_id = 1) {
    return h.wait<devices::ServiceCheck>(
        [&](auto done) { h.inv->update_service_check(org(org_id), c, done); });
  };
  const auto changes_before = h.changes.size();
  auto ssh = add(tcp_check(a.id, "ssh", 22));
  REQUIRE(ssh);
  CHECK(ssh->id > 0);
  CHECK(ssh->org_id == 1);
  CHECK(h.changes.size() == changes_before + 1);  // the pollers re-plan

  devices::ServiceCheck web;
  web.device_id = a.id;
  web.name = "portal";
  web.kind = devices::ServiceKind::kHttp;
  web.url = "https://portal.example.net/login";
  web.keyword = "Welcome";
  web.status_min = 200;
  web.status_max = 299;
  web.interval_s = 30;
  REQUIRE(add(web));

  devices::ServiceCheck dns;
  dns.device_id = b.id;
  dns.name = "resolver";
  dns.kind = devices::ServiceKind::kDns;
  dns.query = "WWW.Example.NET.";
  dns.record_type = "AAAA";
  dns.expected = "2001:DB8:0:0::1";
  auto stored_dns = add(dns);
  REQUIRE(stored_dns);
  CHECK(stored_dns->query == "www.example.net");  // lower-cased, trailing dot dropped
  CHECK(stored_dns->expected == "2001:db8::1");   // canonical
  CHECK(stored_dns->port == 53);

  // The same name on the same device is a conflict; on another device it is fine.
  auto dup = add(tcp_check(a.id, "ssh", 2222));
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == Errc::kConflict);
  CHECK(field_of(dup.error()) == "name");
  REQUIRE(add(tcp_check(b.id, "ssh", 22)));

  // Every rule names its field.
  struct Bad {
    std::function<void(devices::ServiceCheck&)> change;
    std::string field;
  };
  const std::vector<Bad> bad = {
      {[](auto& c) { c.name = ""; }, "name"},
      {[](auto& c) { c.name = std::string(65, 'x'); }, "name"},
      {[](auto& c) { c.port = 0; }, "tcp.port"},
      {[](auto& c) { c.port = 65536; }, "tcp.port"},
      {[](auto& c) { c.interval_s = 5; }, "interval_s"},
      {[](auto& c) { c.timeout_ms = 50; }, "timeout_ms"},
      {[](auto& c) { c.retries = 9; }, "retries"},
      {[](auto& c) {
         c.kind = devices::ServiceKind::kHttp;
         c.url = "ftp://x/";
       },
       "http.url"},
      {[](auto& c) {
         c.kind = devices::ServiceKind::kHttp;
         c.url = "http:///nohost";
       },
       "http.url"},
      {[](auto& c) {
         c.kind = devices::ServiceKind::kHttp;
         c.url = "http://a b/";
       },
       "http.url"},
      {[](auto& c) {
         c.kind = devices::ServiceKind::kHttp;
         c.url = "http://x/";
         c.method = "POST";
       },
       "http.method"},
      {[](auto& c) {
         c.kind = devices::ServiceKind::kHttp;
         c.url = "http://x/";
         c.status_min = 400;
         c.status_max = 200;
       },
       "http.expected_status"},
      {[](auto& c) {
         c.kind = devices::ServiceKind::kHttp;
         c.url = "http://x/";
         c.max_redirects = 11;
       },
       "http.max_redirects"},
      {[](auto& c) {
         c.kind = devices::ServiceKind::kDns;
         c.query = "bad..name";
       },
       "dns.query"},
      {[](auto& c) {
         c.kind = devices::ServiceKind::kDns;
         c.query = "x.test";
         c.record_type = "MX";
       },
       "dns.type"},
      {[](auto& c) {
         c.kind = devices::ServiceKind::kDns;
         c.query = "x.test";
         c.server = "dns.example";
       },
       "dns.server"},
      {[](auto& c) {
         c.kind = devices::ServiceKind::kDns;
         c.query = "x.test";
         c.expected = "2001:db8::1";  // an IPv6 answer to an A query
       },
       "dns.expected"},
  };
  for (auto& b2 : bad) {
    auto c = tcp_check(a.id, "bad", 80);
    b2.change(c);
    auto r = add(c);
    INFO(b2.field);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kInvalidInput);
    CHECK(field_of(r.error()) == b2.field);
  }

  // Another organization sees nothing and changes nothing.
  CHECK(h.inv->list_service_checks(org(2), a.id).error().code == Errc::kDeviceNotFound);
  CHECK(add(tcp_check(a.id, "theirs", 80), 2).error().code == Errc::kDeviceNotFound);
  auto stolen = *ssh;
  stolen.port = 2222;
  CHECK(update(stolen, 2).error().code == Errc::kDeviceNotFound);
  // A check id of another device is not found through this one.
  auto wrong = *stored_dns;
  wrong.device_id = a.id;
  CHECK(update(wrong).error().code == Errc::kNotFound);

  // Update keeps created_at and the id.
  h.clock.advance(std::chrono::seconds(10));
  auto moved = *ssh;
  moved.port = 2222;
  moved.enabled = false;
  auto updated = update(moved);
  REQUIRE(updated);
  CHECK(updated->port == 2222);
  CHECK_FALSE(updated->enabled);
  CHECK(updated->created_at == ssh->created_at);
  CHECK(updated->updated_at == ssh->created_at + 10);

  // The limit per device.
  for (std::size_t i = h.inv->service_checks_for(b.id).size(); i < 32; ++i) {
    REQUIRE(add(tcp_check(b.id, "port-" + std::to_string(i), 1000 + static_cast<int>(i))));
  }
  auto over = add(tcp_check(b.id, "one-too-many", 9));
  REQUIRE_FALSE(over);
  CHECK(over.error().code == Errc::kConflict);

  // Everything survives a restart; removing a device removes its checks.
  h.reopen();
  auto listed = h.inv->list_service_checks(org(1), a.id);
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  CHECK(listed->at(0).name == "ssh");
  CHECK(listed->at(0).port == 2222);
  CHECK(listed->at(1).url == "https://portal.example.net/login");
  CHECK(listed->at(1).keyword == "Welcome");
  CHECK(listed->at(1).interval_s == 30);
  CHECK(listed->at(1).status_max == 299);
  CHECK(h.inv->service_checks_for(b.id).size() == 32);
  REQUIRE(
      h.wait<void>([&](auto done) { h.inv->remove_service_check(org(1), a.id, ssh->id, done); }));
  CHECK(h.inv->service_checks_for(a.id).size() == 1);
  CHECK(h.inv->get_service_check(org(1), a.id, ssh->id).error().code == Errc::kNotFound);
  REQUIRE(h.remove(b.id));
  CHECK(h.inv->service_checks_for(b.id).empty());
  h.reopen();
  CHECK(h.inv->service_checks_for(b.id).empty());
  CHECK(h.inv->service_checks_for(a.id).size() == 1);
}

TEST_CASE("inventory: addresses the outbound policy refuses are refused when saved",
          "[devices][checks][outbound]") {
  Harness h;  // the default policy
  const auto refused = [](const core::Error& e, const std::string& field, const std::string& rule) {
    INFO(e.message);
    CHECK(e.code == Errc::kOutboundDenied);
    CHECK(field_of(e) == field);
    CHECK(e.details.at("rule").as_string() == rule);
    CHECK(e.message.find("is refused by") != std::string::npos);
    CHECK(e.message.find(rule) != std::string::npos);
  };
  // Devices: ICMP/SNMP targets, judged without fetch_deny (loopback may be polled).
  for (auto [address, rule] : {std::pair{"169.254.169.254", "169.254.169.254/32"},
                               {"::ffff:169.254.169.254", "169.254.169.254/32"},
                               {"fd00:ec2::254", "fd00:ec2::254/128"},
                               {"fe80::1", "fe80::/10"}}) {
    devices::NewDevice d;
    d.name = "x";
    d.address = address;
    auto r = h.create(d);
    REQUIRE_FALSE(r);
    refused(r.error(), "address", rule);
  }
  auto self = h.must_create("self", "127.0.0.1");
  auto far = h.must_create("far", "192.0.2.30");
  devices::DevicePatch move;
  move.address = "169.254.169.254";
  auto moved = h.update(far.id, move);
  REQUIRE_FALSE(moved);
  refused(moved.error(), "address", "169.254.169.254/32");
  auto imported = h.import("name,address\nok,192.0.2.31\nmeta,169.254.169.254\n");
  REQUIRE(imported);
  REQUIRE(imported->issues.size() == 1);
  CHECK(imported->issues[0].line == 3);
  CHECK(imported->issues[0].column == "address");
  CHECK(imported->issues[0].message.find("169.254.169.254/32") != std::string::npos);

  // Service checks: the literal each one connects to, judged for fetching (loopback refused).
  auto add = [&](devices::ServiceCheck c) {
    return h.wait<devices::ServiceCheck>(
        [&](auto done) { h.inv->create_service_check(org(1), c, done); });
  };
  const auto check = [](std::int64_t device, devices::ServiceKind kind) {
    devices::ServiceCheck c;
    c.device_id = device;
    c.name = "c";
    c.kind = kind;
    c.port = 80;
    c.url = "http://portal.example.net/";
    c.query = "a.test";
    return c;
  };
  auto tcp_self = add(check(self.id, devices::ServiceKind::kTcp));
  REQUIRE_FALSE(tcp_self);
  refused(tcp_self.error(), "device.address", "127.0.0.0/8");
  auto http_self = check(self.id, devices::ServiceKind::kHttp);
  http_self.use_device_address = true;
  auto r = add(http_self);
  REQUIRE_FALSE(r);
  refused(r.error(), "device.address", "127.0.0.0/8");
  r = add(check(self.id, devices::ServiceKind::kDns));  // the device is the DNS server
  REQUIRE_FALSE(r);
  refused(r.error(), "device.address", "127.0.0.0/8");

  auto metadata_url = check(far.id, devices::ServiceKind::kHttp);
  metadata_url.use_device_address = false;  // else the device's address is what it connects to
  metadata_url.url = "http://169.254.169.254/latest/meta-data/";
  r = add(metadata_url);
  REQUIRE_FALSE(r);
  refused(r.error(), "http.url", "169.254.169.254/32");
  auto v6_loopback_url = check(far.id, devices::ServiceKind::kHttp);
  v6_loopback_url.use_device_address = false;
  v6_loopback_url.url = "https://[::1]:8443/";
  r = add(v6_loopback_url);
  REQUIRE_FALSE(r);
  refused(r.error(), "http.url", "::1/128");
  auto metadata_server = check(far.id, devices::ServiceKind::kDns);
  metadata_server.server = "169.254.169.254";
  r = add(metadata_server);
  REQUIRE_FALSE(r);
  refused(r.error(), "dns.server", "169.254.169.254/32");
  CHECK(h.inv->list_service_checks(org(1), self.id)->empty());
  CHECK(h.inv->list_service_checks(org(1), far.id)->empty());

  // What is allowed, or only known once resolved, is saved.
  REQUIRE(add(check(far.id, devices::ServiceKind::kTcp)));
  auto by_name = check(far.id, devices::ServiceKind::kHttp);
  by_name.name = "by-name";
  by_name.use_device_address = false;
  by_name.url = "http://2852039166/";  // 169.254.169.254 once resolved: refused when run
  REQUIRE(add(by_name));
  auto elsewhere = check(self.id, devices::ServiceKind::kHttp);  // the URL's host, not the device
  elsewhere.use_device_address = false;
  REQUIRE(add(elsewhere));
  // With the device's address, the URL's host is only the Host header: not judged.
  auto host_header = check(far.id, devices::ServiceKind::kHttp);
  host_header.name = "host-header";
  host_header.url = "http://127.0.0.1/";
  REQUIRE(add(host_header));
}

namespace {

// The documented bound on a parent chain (docs/devices.md), in links.
constexpr std::size_t kDepth = 64;

// A chain of `n` devices by address, each the parent of the next: 10.<a>.<b>.<c> for i.
std::string chain_csv(std::size_t n, std::size_t first = 0) {
  auto address = [](std::size_t i) {
    return "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
           std::to_string(i & 255);
  };
  std::string csv = "name,address,parents\n";
  for (std::size_t i = first; i < first + n; ++i) {
    csv +=
        "d" + std::to_string(i) + "," + address(i) + "," + (i > first ? address(i - 1) : "") + "\n";
  }
  return csv;
}

}  // namespace

TEST_CASE("inventory: a CSV import of a 50,000-row parent chain is refused, not a crash",
          "[devices][csv]") {
  // Before the fix the cycle check recursed once per row and overflowed the writer's stack.
  Harness h(60'000, 60'000);
  auto r = h.import(chain_csv(50'000));
  REQUIRE(r);
  CHECK(r->created.empty());
  REQUIRE_FALSE(r->issues.empty());
  CHECK(r->issues[0].column == "parents");
  CHECK(r->issues[0].line == 2 + kDepth + 1);
  CHECK(r->issues[0].message.find("64") != std::string::npos);
  CHECK(h.list().empty());
}

TEST_CASE("inventory: a parent chain may be 64 links deep, in the import and the API",
          "[devices][csv]") {
  Harness h(200, 200);
  // 65 devices: 64 links from the last up to the first.
  auto ok = h.import(chain_csv(kDepth + 1));
  REQUIRE(ok);
  CHECK(ok->issues.empty());
  REQUIRE(ok->created.size() == kDepth + 1);
  std::int64_t top = 0;
  std::int64_t bottom = 0;
  for (auto& d : ok->created) {
    if (d.name == "d0") top = d.id;
    if (d.name == "d" + std::to_string(kDepth)) bottom = d.id;
  }
  REQUIRE(top != 0);
  REQUIRE(bottom != 0);

  SECTION("the import refuses a row one level deeper, naming its line and column") {
    auto r = h.import("name,address,parents\nx,10.1.0.1,10.0.0." + std::to_string(kDepth) + "\n");
    REQUIRE(r);
    REQUIRE(r->issues.size() == 1);
    CHECK(r->issues[0].line == 2);
    CHECK(r->issues[0].column == "parents");
    CHECK(r->created.empty());
  }

  SECTION("the API refuses a parent that makes the chain deeper than the limit") {
    auto x = h.must_create("x", "10.1.0.1");
    devices::DevicePatch p;
    p.parents = std::vector<std::int64_t>{bottom};
    auto r = h.update(x.id, p);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kInvalidInput);
    CHECK(field_of(r.error()) == "parents");
    CHECK(r.error().message.find("64") != std::string::npos);

    devices::NewDevice d;
    d.name = "y";
    d.address = "10.1.0.2";
    d.parents = {bottom};
    auto created = h.create(d);
    REQUIRE_FALSE(created);
    CHECK(field_of(created.error()) == "parents");
  }

  SECTION("the API counts the levels below the device too") {
    // Hanging the top of the chain under another device adds a level at the bottom.
    auto x = h.must_create("x", "10.1.0.1");
    devices::DevicePatch p;
    p.parents = std::vector<std::int64_t>{x.id};
    auto r = h.update(top, p);
    REQUIRE_FALSE(r);
    CHECK(field_of(r.error()) == "parents");
  }
}

TEST_CASE("inventory: the import holds a row to 16 parents, as the API does", "[devices][csv]") {
  Harness h(100, 100);
  std::string csv = "name,address,parents\n";
  std::string parents;
  for (int i = 1; i <= 17; ++i) {
    csv += "p" + std::to_string(i) + ",10.0.0." + std::to_string(i) + ",\n";
    if (!parents.empty()) parents += ';';
    parents += "10.0.0." + std::to_string(i);
  }
  auto r = h.import(csv + "child,10.0.1.1,\"" + parents + "\"\n");
  REQUIRE(r);
  REQUIRE(r->issues.size() == 1);
  CHECK(r->issues[0].line == 19);
  CHECK(r->issues[0].column == "parents");
  CHECK(r->issues[0].message.find("16") != std::string::npos);
  CHECK(r->created.empty());
}

TEST_CASE(
    "inventory: tags and groups added or removed in the write's own transaction keep an edit "
    "queued before them",
    "[devices]") {
  Harness h;
  REQUIRE(h.group("pop-east"));
  REQUIRE(h.group("pop-west"));
  auto d = h.must_create("edge-1", "192.0.2.10");
  // Three changes queued for the writer before any commits: a PATCH of the whole tag and group
  // lists, then additions and removals. Each addition reads the record its write sees.
  std::vector<core::Result<Device>> out;
  auto record = [&](core::Result<Device> r) { out.push_back(std::move(r)); };
  devices::DevicePatch set;
  set.tags = std::vector<std::string>{"core", "old"};
  set.groups = std::vector<std::string>{"pop-west"};
  h.inv->update(org(1), d.id, set, record);
  devices::DevicePatch add;
  add.add_tags = {"fiber", "core"};
  add.add_groups = {"pop-east"};
  h.inv->update(org(1), d.id, add, record);
  devices::DevicePatch remove;
  remove.remove_tags = {"old", "never-there"};
  remove.remove_groups = {"pop-west"};
  h.inv->update(org(1), d.id, remove, record);
  h.io.restart();
  auto guard = boost::asio::make_work_guard(h.io);
  while (out.size() < 3) {
    if (h.io.run_one_for(std::chrono::seconds(30)) == 0) break;
  }
  REQUIRE(out.size() == 3);
  for (auto& r : out) REQUIRE(r);
  CHECK(out[1]->tags == std::vector<std::string>{"core", "fiber", "old"});
  CHECK(out[1]->groups == std::vector<std::string>{"pop-east", "pop-west"});
  CHECK(out[2]->tags == std::vector<std::string>{"core", "fiber"});
  CHECK(out[2]->groups == std::vector<std::string>{"pop-east"});
  // An unknown group to add is refused by name; nothing changes.
  devices::DevicePatch unknown;
  unknown.add_groups = {"nowhere"};
  auto r = h.update(d.id, unknown);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("nowhere") != std::string::npos);
  CHECK(h.inv->get(org(1), d.id)->groups == std::vector<std::string>{"pop-east"});
}
