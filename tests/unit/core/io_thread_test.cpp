// IoThread: work runs on a thread of its own, one handler at a time, in order; run_sync waits
// and rethrows; the name and nice value are applied; stop() destroys what was never run and
// post() refuses afterwards.
#include <atomic>
#include <memory>
#include <pthread.h>
#include <stdexcept>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/core/io_thread.hpp>

using netpulse::core::IoThread;

TEST_CASE("io thread: posted work runs on its own named thread, in order", "[core][io_thread]") {
  IoThread t("np-test-io", 7);
  std::vector<int> order;
  std::thread::id ran_on;
  for (int i = 0; i < 100; ++i) {
    REQUIRE(t.post([&order, &ran_on, i] {
      order.push_back(i);
      ran_on = std::this_thread::get_id();
    }));
  }
  std::string name;
  int nice = -100;
  t.run_sync([&] {
    char buf[16] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    name = buf;
    nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  });
  // run_sync waited for everything queued before it (one thread, in order).
  REQUIRE(order.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
  CHECK(ran_on != std::this_thread::get_id());
  CHECK(name == "np-test-io");
  CHECK(nice == 7);
}

TEST_CASE("io thread: run_sync rethrows what the work threw", "[core][io_thread]") {
  IoThread t("np-test-io");
  CHECK_THROWS_WITH(t.run_sync([] { throw std::runtime_error("boom"); }), "boom");
  // The thread is still there.
  std::atomic<bool> ran{false};
  t.run_sync([&] { ran = true; });
  CHECK(ran);
}

TEST_CASE("io thread: stop destroys the work never run; post refuses after it",
          "[core][io_thread]") {
  IoThread t("np-test-io");
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  std::atomic<bool> started{false}, release{false};
  // The thread is held inside the first handler while a second one is queued behind it.
  REQUIRE(t.post([&started, &release] {
    started = true;
    while (!release) std::this_thread::yield();
  }));
  std::atomic<bool> second_ran{false};
  REQUIRE(t.post([&second_ran, keep = std::move(alive)] { second_ran = true; }));
  // Inside the first handler before stop(): stop()'s join then waits for the release, so the
  // context outlives the releaser's look at it.
  while (!started) std::this_thread::yield();
  // Released once stop() has stopped the context (stop() then waits in join for it).
  auto& context = static_cast<boost::asio::io_context&>(
      boost::asio::query(t.executor(), boost::asio::execution::context));
  std::thread releaser([&release, &context] {
    while (!context.stopped()) std::this_thread::yield();
    release = true;
  });
  t.stop();  // io_context::stop: the queued handler is not run
  releaser.join();
  CHECK_FALSE(second_ran);
  CHECK(watch.expired());  // destroyed by stop()
  CHECK_FALSE(t.running());
  CHECK_FALSE(t.post([] {}));
  bool inline_ran = false;
  t.run_sync([&] { inline_ran = true; });  // after stop: on the caller's thread
  CHECK(inline_ran);
}
