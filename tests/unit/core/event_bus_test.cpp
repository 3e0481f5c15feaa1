// EventBus: typed delivery in subscription order, unsubscribe by dropping the Subscription, and
// changes to subscriptions made from inside a handler.
#include <catch2/catch.hpp>

#include <netpulse/core/event_bus.hpp>

using netpulse::core::EventBus;

namespace {
struct DeviceDown {
  int id;
};
struct DeviceUp {
  int id;
};
}  // namespace

TEST_CASE("event bus: subscribers of a type get its events in subscription order",
          "[core][event_bus]") {
  EventBus bus;
  std::vector<std::string> calls;
  auto a = bus.subscribe<DeviceDown>(
      [&](const DeviceDown& e) { calls.push_back("a" + std::to_string(e.id)); });
  auto b = bus.subscribe<DeviceDown>(
      [&](const DeviceDown& e) { calls.push_back("b" + std::to_string(e.id)); });
  auto up = bus.subscribe<DeviceUp>([&](const DeviceUp&) { calls.push_back("up"); });
  CHECK(bus.subscriber_count<DeviceDown>() == 2);

  bus.publish(DeviceDown{7});
  CHECK(calls == std::vector<std::string>{"a7", "b7"});
  bus.publish(DeviceUp{1});
  CHECK(calls.back() == "up");
}

TEST_CASE("event bus: a dropped or reset subscription gets nothing more", "[core][event_bus]") {
  EventBus bus;
  int a_calls = 0, b_calls = 0;
  auto a = bus.subscribe<DeviceDown>([&](const DeviceDown&) { ++a_calls; });
  {
    auto b = bus.subscribe<DeviceDown>([&](const DeviceDown&) { ++b_calls; });
    bus.publish(DeviceDown{1});
  }
  bus.publish(DeviceDown{2});
  CHECK(a_calls == 2);
  CHECK(b_calls == 1);

  EventBus::Subscription moved = std::move(a);
  bus.publish(DeviceDown{3});
  CHECK(a_calls == 3);
  moved.reset();
  bus.publish(DeviceDown{4});
  CHECK(a_calls == 3);
  CHECK(bus.subscriber_count<DeviceDown>() == 0);
  bus.publish(DeviceUp{1});  // nobody listening: nothing happens
}

TEST_CASE("event bus: a handler may unsubscribe itself while being called", "[core][event_bus]") {
  EventBus bus;
  int calls = 0;
  EventBus::Subscription self;
  self = bus.subscribe<DeviceDown>([&](const DeviceDown&) {
    ++calls;
    self.reset();
  });
  int other_calls = 0;
  auto other = bus.subscribe<DeviceDown>([&](const DeviceDown&) { ++other_calls; });
  bus.publish(DeviceDown{1});
  bus.publish(DeviceDown{2});
  CHECK(calls == 1);
  CHECK(other_calls == 2);
}
