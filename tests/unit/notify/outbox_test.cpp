// The outbox (src/notify/outbox.cpp): delivered once and logged, retried with back-off and
// jitter (and never before a Retry-After), not retried after a permanent failure, dead after the
// last attempt and revived on request, bounded per channel, and resumed after a restart with
// the attempts that were cut short counted. A real database in a temp dir; a ManualClock moves
// the retries; the transport is the test's script.
#include "notify/detail/outbox.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/db/database.hpp>

#include "support/run_until.hpp"
#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

using namespace netpulse;
using notify::detail::DeliveryOutcome;
using notify::detail::NewNotification;
using notify::detail::Outbox;
using notify::detail::OutboxOptions;
using notify::detail::OutboxRow;
using Kind = DeliveryOutcome::Kind;

namespace {

struct OutboxHarness {
  test::TempDir dir;
  test::TestEnv env;
  core::ManualClock& clock = env.manual_clock();
  std::unique_ptr<db::Database> database;
  std::unique_ptr<Outbox> outbox;
  OutboxOptions options;

  // The transport: every attempt is recorded; its answer comes from `script` (front first) or,
  // when the script is empty, is held (the attempt stays in flight) until release().
  std::vector<std::int64_t> attempted;  // notification ids, in order
  std::deque<DeliveryOutcome> script;
  std::vector<std::function<void(DeliveryOutcome)>> held;
  std::vector<std::pair<std::int64_t, bool>> observed;  // (id, dead)

  OutboxHarness() {
    db::Options dbo;
    dbo.path = dir.file("netpulse.db");
    auto opened = db::Database::open(dbo, env.env());
    REQUIRE(opened);
    database = std::move(*opened);
    sql("INSERT INTO organizations (id, name, slug, is_system, created_at, updated_at) VALUES "
        "(1, 'One', 'one', 1, 0, 0), (2, 'Two', 'two', 0, 0, 0)");
    options.base_delay = std::chrono::milliseconds(5'000);
    options.max_delay = std::chrono::milliseconds(60'000);
    options.max_attempts = 4;
    options.poll = std::chrono::hours(1);  // the tests pump by hand
  }

  ~OutboxHarness() {
    outbox.reset();
    if (database) database->close();
  }

  void open() {
    outbox = std::make_unique<Outbox>(
        options, clock, env.log(), *database, env.loop().get_executor(),
        [this](const OutboxRow& row, std::function<void(DeliveryOutcome)> done) {
          attempted.push_back(row.id);
          if (script.empty()) {
            held.push_back(std::move(done));
            return;
          }
          auto o = script.front();
          script.pop_front();
          done(o);
        },
        [this](const OutboxRow& row, const notify::detail::AttemptRecord&, bool dead) {
          observed.emplace_back(row.id, dead);
        });
    REQUIRE(outbox->start());
  }

  void sql(const std::string& text) {
    REQUIRE(database->write_sync([&](db::Connection& c) { return c.exec(text); }));
  }

  std::int64_t scalar(const std::string& text) {
    return database->read([&](db::Connection& c) {
      auto st = c.prepare(text);
      REQUIRE(st);
      auto more = st->step();
      REQUIRE(more);
      REQUIRE(*more);
      return st->get_int64(0);
    });
  }

  std::string text(const std::string& query) {
    return database->read([&](db::Connection& c) {
      auto st = c.prepare(query);
      REQUIRE(st);
      auto more = st->step();
      REQUIRE(more);
      REQUIRE(*more);
      return st->get_text(0);
    });
  }

  static NewNotification note(std::int64_t channel = 10, std::int64_t org = 1) {
    NewNotification n;
    n.org_id = org;
    n.channel_id = channel;
    n.channel_name = "hook " + std::to_string(channel);
    n.kind = "firing";
    n.severity = "critical";
    n.group_key = "g1";
    n.title = "core-1 down";
    n.message = R"({"title":"core-1 down"})";
    n.alert_ids = {42, 43};
    return n;
  }

  std::vector<std::int64_t> enqueue(std::vector<NewNotification> batch) {
    std::optional<core::Result<std::vector<std::int64_t>>> got;
    outbox->enqueue(std::move(batch), [&](auto r, auto) { got.emplace(std::move(r)); });
    REQUIRE(test::run_until(env.loop(), [&] { return got.has_value(); }));
    REQUIRE(*got);
    return **got;
  }

  // Turns the loop until `n` attempts were made and every write so far has landed.
  void settle_attempts(std::size_t n) {
    REQUIRE(test::run_until(env.loop(), [&] { return attempted.size() >= n; }));
    flush();
  }

  // Lets queued completions (settling an attempt is a handler of its own) and then the
  // database writes they queued land.
  void flush() {
    env.loop().restart();
    env.loop().poll();
    bool done = false;
    database->write([](db::Connection&) { return core::ok(); }, env.loop().get_executor(),
                    [&](core::Result<void>) { done = true; });
    REQUIRE(test::run_until(env.loop(), [&] { return done; }));
  }

  std::string status(std::int64_t id) {
    return text("SELECT status FROM notifications WHERE id = " + std::to_string(id));
  }
};

DeliveryOutcome outcome(Kind k, std::optional<int> status = std::nullopt, std::string detail = "",
                        std::optional<std::int64_t> retry_after = std::nullopt) {
  DeliveryOutcome o;
  o.kind = k;
  o.remote_status = status;
  o.detail = std::move(detail);
  o.retry_after_ms = retry_after;
  return o;
}

}  // namespace

TEST_CASE("the outbox back-off doubles from the base up to the cap", "[notify][outbox]") {
  OutboxOptions o;
  o.base_delay = std::chrono::milliseconds(5'000);
  o.max_delay = std::chrono::milliseconds(60'000);
  CHECK(Outbox::backoff_ms(o, 1) == 5'000);
  CHECK(Outbox::backoff_ms(o, 2) == 10'000);
  CHECK(Outbox::backoff_ms(o, 3) == 20'000);
  CHECK(Outbox::backoff_ms(o, 4) == 40'000);
  CHECK(Outbox::backoff_ms(o, 5) == 60'000);
  CHECK(Outbox::backoff_ms(o, 60) == 60'000);
}

TEST_CASE("a notification is written, delivered once and its attempt logged", "[notify][outbox]") {
  OutboxHarness h;
  h.open();
  h.script.push_back(outcome(Kind::kDelivered, 200, "ok"));
  auto ids = h.enqueue({OutboxHarness::note()});
  REQUIRE(ids.size() == 1);
  h.settle_attempts(1);
  CHECK(h.attempted == ids);
  CHECK(h.status(ids[0]) == "delivered");
  CHECK(h.scalar("SELECT attempts FROM notifications WHERE id = " + std::to_string(ids[0])) == 1);
  CHECK(h.scalar("SELECT COUNT(*) FROM notification_attempts WHERE outcome = 'delivered'") == 1);
  CHECK(h.scalar("SELECT COUNT(*) FROM notification_alerts WHERE notification_id = " +
                 std::to_string(ids[0])) == 2);
  CHECK(h.outbox->stats().delivered == 1);
  CHECK(h.observed == std::vector<std::pair<std::int64_t, bool>>{{ids[0], false}});
}

TEST_CASE("a batch the database does not take comes back whole, and nothing of it is sent",
          "[notify][outbox]") {
  OutboxHarness h;
  h.open();
  std::optional<core::Result<std::vector<std::int64_t>>> got;
  std::vector<NewNotification> back;
  auto second = OutboxHarness::note();
  second.title = "core-2 down";
  // The same transaction's other write fails: the whole batch is rolled back.
  h.outbox->enqueue(
      {OutboxHarness::note(), second},
      [&](auto r, auto unwritten) {
        got.emplace(std::move(r));
        back = std::move(unwritten);
      },
      [](db::Connection&) -> core::Result<void> {
        return core::Error(core::Errc::kInternalError, "disk full");
      });
  REQUIRE(test::run_until(h.env.loop(), [&] { return got.has_value(); }));
  REQUIRE_FALSE(*got);
  REQUIRE(back.size() == 2);
  CHECK(back[0].title == "core-1 down");
  CHECK(back[1].title == "core-2 down");
  CHECK(h.scalar("SELECT COUNT(*) FROM notifications") == 0);
  h.outbox->pump();
  CHECK(h.attempted.empty());
  // Enqueued again, it goes out.
  h.script.push_back(outcome(Kind::kDelivered, 200, "ok"));
  h.script.push_back(outcome(Kind::kDelivered, 200, "ok"));
  REQUIRE(h.enqueue(std::move(back)).size() == 2);
  h.settle_attempts(2);
  CHECK(h.attempted.size() == 2);
}

TEST_CASE("a failing remote is retried with back-off until it takes the notification",
          "[notify][outbox]") {
  OutboxHarness h;
  h.open();
  h.script = {outcome(Kind::kRetry, 500, "HTTP 500"),
              outcome(Kind::kRetry, std::nullopt, "timeout"), outcome(Kind::kDelivered, 200)};
  const auto t0 = h.clock.unix_millis();
  auto ids = h.enqueue({OutboxHarness::note()});
  h.settle_attempts(1);
  CHECK(h.status(ids[0]) == "pending");
  // The first retry is due between half the base delay and the base delay after the failure.
  const auto next = h.scalar("SELECT next_attempt_at FROM notifications");
  CHECK(next >= t0 + 2'500);
  CHECK(next <= t0 + 5'000);
  CHECK(h.scalar("SELECT last_status FROM notifications") == 500);
  // Not before it is due.
  h.clock.advance(std::chrono::milliseconds(next - t0 - 1));
  h.outbox->pump();
  h.flush();
  CHECK(h.attempted.size() == 1);
  h.clock.advance(std::chrono::milliseconds(1));
  h.outbox->pump();
  h.settle_attempts(2);
  // The second retry: 5..10 s after the second failure.
  const auto now = h.clock.unix_millis();
  const auto next2 = h.scalar("SELECT next_attempt_at FROM notifications");
  CHECK(next2 >= now + 5'000);
  CHECK(next2 <= now + 10'000);
  h.clock.advance(std::chrono::milliseconds(10'000));
  h.outbox->pump();
  h.settle_attempts(3);
  CHECK(h.status(ids[0]) == "delivered");
  CHECK(h.scalar("SELECT COUNT(*) FROM notification_attempts") == 3);
  CHECK(h.scalar("SELECT COUNT(*) FROM notification_attempts WHERE outcome = 'retry'") == 2);
  CHECK(h.text("SELECT group_concat(detail, '|') FROM notification_attempts ORDER BY attempt") ==
        "HTTP 500|timeout|");
  CHECK(h.outbox->stats().retried == 2);
}

TEST_CASE("a Retry-After longer than the back-off is honoured", "[notify][outbox]") {
  OutboxHarness h;
  h.open();
  h.script = {outcome(Kind::kRetry, 429, "HTTP 429", 120'000), outcome(Kind::kDelivered, 200)};
  auto ids = h.enqueue({OutboxHarness::note()});
  h.settle_attempts(1);
  const auto failed_at = h.clock.unix_millis();
  CHECK(h.scalar("SELECT next_attempt_at FROM notifications") == failed_at + 120'000);
  h.clock.advance(std::chrono::milliseconds(119'999));
  h.outbox->pump();
  h.flush();
  CHECK(h.attempted.size() == 1);
  h.clock.advance(std::chrono::milliseconds(1));
  h.outbox->pump();
  h.settle_attempts(2);
  CHECK(h.status(ids[0]) == "delivered");
}

TEST_CASE("a permanent failure is not retried: the notification is a dead letter at once",
          "[notify][outbox]") {
  OutboxHarness h;
  h.open();
  h.script = {outcome(Kind::kFailed, 400, "HTTP 400 invalid_payload")};
  auto ids = h.enqueue({OutboxHarness::note()});
  h.settle_attempts(1);
  CHECK(h.status(ids[0]) == "dead");
  CHECK(h.text("SELECT last_error FROM notifications") == "HTTP 400 invalid_payload");
  h.clock.advance(std::chrono::hours(2));
  h.outbox->pump();
  h.flush();
  CHECK(h.attempted.size() == 1);
  CHECK(h.observed == std::vector<std::pair<std::int64_t, bool>>{{ids[0], true}});
}

TEST_CASE("after the last attempt a notification is dead, and a retry sends it again",
          "[notify][outbox]") {
  OutboxHarness h;
  h.open();
  for (int i = 0; i < h.options.max_attempts; ++i) h.script.push_back(outcome(Kind::kRetry, 503));
  auto ids = h.enqueue({OutboxHarness::note()});
  for (int i = 1; i <= h.options.max_attempts; ++i) {
    h.settle_attempts(static_cast<std::size_t>(i));
    h.clock.advance(std::chrono::minutes(2));
    h.outbox->pump();
  }
  h.flush();
  CHECK(h.attempted.size() == static_cast<std::size_t>(h.options.max_attempts));
  CHECK(h.status(ids[0]) == "dead");
  CHECK(h.outbox->stats().dead == 1);

  // Another organization cannot revive it; its own can.
  std::optional<core::Result<void>> other;
  h.outbox->retry_dead(core::OrgScope::trusted(2), ids[0], [&](auto r) { other.emplace(r); });
  REQUIRE(test::run_until(h.env.loop(), [&] { return other.has_value(); }));
  REQUIRE_FALSE(*other);
  CHECK(other->error().code == core::Errc::kNotFound);

  h.script.push_back(outcome(Kind::kDelivered, 200));
  std::optional<core::Result<void>> revived;
  h.outbox->retry_dead(core::OrgScope::trusted(1), ids[0], [&](auto r) { revived.emplace(r); });
  REQUIRE(test::run_until(h.env.loop(), [&] { return revived.has_value(); }));
  REQUIRE(*revived);
  h.settle_attempts(static_cast<std::size_t>(h.options.max_attempts) + 1);
  CHECK(h.status(ids[0]) == "delivered");
}

TEST_CASE("attempts are bounded per channel, and one busy channel does not hold up another",
          "[notify][outbox]") {
  OutboxHarness h;
  h.options.per_channel_concurrency = 3;
  h.open();
  std::vector<NewNotification> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(OutboxHarness::note(10));
  for (int i = 0; i < 2; ++i) batch.push_back(OutboxHarness::note(20));
  h.enqueue(std::move(batch));
  h.settle_attempts(5);
  CHECK(h.attempted.size() == 5);  // 3 of channel 10, 2 of channel 20
  CHECK(h.outbox->stats().in_flight == 5);
  CHECK(h.outbox->stats().queued == 7);
  // Each answer lets the next of its channel go.
  for (int round = 0; round < 4; ++round) {
    auto held = std::move(h.held);
    h.held.clear();
    for (auto& done : held) done(outcome(Kind::kDelivered, 200));
    h.flush();
  }
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.outbox->stats().delivered == 12; }));
  CHECK(h.attempted.size() == 12);
}

TEST_CASE("a restart sends again what was pending or being sent, counting the unsure ones",
          "[notify][outbox]") {
  OutboxHarness h;
  h.open();
  auto ids = h.enqueue({OutboxHarness::note(10), OutboxHarness::note(10)});
  h.settle_attempts(2);  // both in flight, never answered: the process dies here
  CHECK(h.status(ids[0]) == "sending");
  h.outbox.reset();
  h.held.clear();
  h.attempted.clear();
  // And one more written while the server was down (as by another writer).
  h.sql(
      "INSERT INTO notifications (org_id, channel_id, channel_name, kind, severity, message, "
      "status, next_attempt_at, created_at, updated_at) VALUES (1, 10, 'hook', 'firing', "
      "'critical', '{}', 'pending', 0, 0, 0)");
  h.script = {outcome(Kind::kDelivered, 200), outcome(Kind::kDelivered, 200),
              outcome(Kind::kDelivered, 200)};
  h.open();
  h.settle_attempts(3);
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.outbox->stats().delivered == 3; }));
  h.flush();
  CHECK(h.outbox->stats().resent_after_restart == 2);
  CHECK(h.scalar("SELECT COUNT(*) FROM notifications WHERE status = 'delivered'") == 3);
  CHECK(h.scalar("SELECT SUM(sends_unsure) FROM notifications") == 2);
}
