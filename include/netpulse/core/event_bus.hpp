// EventBus: typed publish/subscribe between modules, on the event loop thread.
// A module publishes a plain struct (e.g. `DeviceStatusChanged`); every subscriber of that type is
// called synchronously, in subscription order. Not thread-safe by design: publish and subscribe
// only from the loop thread (post to the loop first when on another thread).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <typeindex>
#include <unordered_map>
#include <vector>

namespace netpulse::core {

class EventBus {
 public:
  // Returned by subscribe(); unsubscribes when destroyed (or never, if released).
  class Subscription {
   public:
    Subscription() = default;
    Subscription(EventBus* bus, std::type_index type, std::size_t id)
        : bus_(bus), type_(type), id_(id) {}
    Subscription(Subscription&& o) noexcept { *this = std::move(o); }
    Subscription& operator=(Subscription&& o) noexcept {
      reset();
      bus_ = o.bus_;
      type_ = o.type_;
      id_ = o.id_;
      o.bus_ = nullptr;
      return *this;
    }
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription() { reset(); }
    void reset() {
      if (bus_) bus_->unsubscribe(type_, id_);
      bus_ = nullptr;
    }

   private:
    EventBus* bus_ = nullptr;
    std::type_index type_ = typeid(void);
    std::size_t id_ = 0;
  };

  template <class Event>
  [[nodiscard]] Subscription subscribe(std::function<void(const Event&)> handler) {
    auto id = ++next_id_;
    handlers_[typeid(Event)].push_back(
        {id, [h = std::move(handler)](const void* e) { h(*static_cast<const Event*>(e)); }});
    return Subscription(this, typeid(Event), id);
  }

  template <class Event>
  void publish(const Event& event) const {
    auto it = handlers_.find(typeid(Event));
    if (it == handlers_.end()) return;
    // Copy so that a handler may subscribe/unsubscribe while we iterate.
    auto snapshot = it->second;
    for (auto& entry : snapshot) entry.fn(&event);
  }

  template <class Event>
  std::size_t subscriber_count() const {
    auto it = handlers_.find(typeid(Event));
    return it == handlers_.end() ? 0 : it->second.size();
  }

 private:
  struct Entry {
    std::size_t id;
    std::function<void(const void*)> fn;
  };
  void unsubscribe(std::type_index type, std::size_t id) {
    auto it = handlers_.find(type);
    if (it == handlers_.end()) return;
    std::erase_if(it->second, [id](const Entry& e) { return e.id == id; });
  }

  std::unordered_map<std::type_index, std::vector<Entry>> handlers_;
  std::size_t next_id_ = 0;
};

}  // namespace netpulse::core
