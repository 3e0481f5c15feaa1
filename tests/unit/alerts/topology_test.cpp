// The device topology and failure correlation (src/alerts/topology*.cpp): roots, symptoms and
// incidents on the issue's core / distribution / CPE tree, redundant parents, competing roots,
// inventory updates, a cycle, and a 10,000-device random DAG against a plain reference.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/alerts/topology.hpp>

using namespace netpulse::alerts;
using Ids = std::vector<std::int64_t>;

namespace {

// The issue's network: core 1; distribution 10..14 behind it; CPE 100 + 10 * d + k (k = 0..9)
// behind distribution 10 + d.
constexpr std::int64_t kCore = 1;
constexpr std::int64_t kDist3 = 12;  // the third distribution device

std::int64_t cpe(std::int64_t dist, std::int64_t k) {
  return 100 + (10 * (dist - 10)) + k;
}

std::vector<DeviceLinks> issue_tree() {
  std::vector<DeviceLinks> devices{{kCore, {}}};
  for (std::int64_t d = 10; d < 15; ++d) {
    devices.push_back({d, {kCore}});
    for (std::int64_t k = 0; k < 10; ++k) devices.push_back({cpe(d, k), {d}});
  }
  return devices;
}

Ids cpes_of(std::int64_t dist) {
  Ids out;
  for (std::int64_t k = 0; k < 10; ++k) out.push_back(cpe(dist, k));
  return out;
}

Ids everything_behind_core() {
  Ids out;
  for (std::int64_t d = 10; d < 15; ++d) {
    out.push_back(d);
    for (std::int64_t k = 0; k < 10; ++k) out.push_back(cpe(d, k));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Failed devices that all began at the same time, except as listed in `since`.
std::vector<FailedDevice> failing(const Ids& ids, std::int64_t since_ms = 1000) {
  std::vector<FailedDevice> out;
  for (const auto id : ids) out.push_back({id, since_ms});
  return out;
}

struct Expected {
  std::int64_t root;
  Ids members;
  std::size_t impact;
};

void check_incidents(const Correlation& c, const std::vector<Expected>& expected) {
  REQUIRE(c.incidents().size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const RootGroup& got = c.incidents()[i];
    INFO("incident " << i << ", root " << got.root_device_id);
    CHECK(got.root_device_id == expected[i].root);
    CHECK(got.members == expected[i].members);
    CHECK(got.impact == expected[i].impact);
    CHECK(got.impacted.size() == got.impact);
    CHECK(c.root_of(got.root_device_id) == got.root_device_id);
    for (const auto id : got.impacted) CHECK(c.root_of(id) == got.root_device_id);
  }
}

}  // namespace

TEST_CASE("topology: the issue's core, 5 distribution and 50 CPE devices", "[alerts][topology]") {
  const Topology t(issue_tree());
  REQUIRE(t.device_count() == 56);
  REQUIRE(t.link_count() == 55);
  const Ids dist3_two_cpe{cpe(kDist3, 3), cpe(kDist3, 7)};
  struct Case {
    const char* name;
    Ids failed;
    std::vector<Expected> incidents;
  };
  Ids all = everything_behind_core();
  Ids core_and_all = all;
  core_and_all.push_back(kCore);
  const std::vector<Case> cases{
      {"core alone", {kCore}, {{kCore, {}, 55}}},
      {"core and everything behind it", core_and_all, {{kCore, all, 55}}},
      {"core and dist-3", {kCore, kDist3}, {{kCore, {kDist3}, 55}}},
      {"dist-3 alone", {kDist3}, {{kDist3, {}, 10}}},
      {"dist-3 and two of its CPE",
       {kDist3, cpe(kDist3, 7), cpe(kDist3, 3)},
       {{kDist3, dist3_two_cpe, 10}}},
      {"two distribution devices: two incidents", {13, 11}, {{11, {}, 10}, {13, {}, 10}}},
      {"a CPE alone", {cpe(14, 5)}, {{cpe(14, 5), {}, 0}}},
      {"nothing failed", {}, {}},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      const Correlation result = t.correlate(failing(c.failed));
      check_incidents(result, c.incidents);
      CHECK_FALSE(result.root_of(999'999).has_value());
    }
  }
}

TEST_CASE("topology: the impact of a root is exactly the devices behind it", "[alerts][topology]") {
  const Topology t(issue_tree());
  const auto dist3 = t.correlate(failing({kDist3}));
  REQUIRE(dist3.incidents().size() == 1);
  CHECK(dist3.incidents()[0].impacted == cpes_of(kDist3));
  CHECK(dist3.root_of(cpe(kDist3, 0)) == kDist3);
  CHECK_FALSE(dist3.root_of(cpe(11, 0)).has_value());  // another distribution's CPE
  CHECK_FALSE(dist3.root_of(kCore).has_value());
  const auto core = t.correlate(failing({kCore}));
  CHECK(core.incidents()[0].impacted == everything_behind_core());
  CHECK(core.incident_of(cpe(13, 2)) == &core.incidents()[0]);
  CHECK(core.incident_of(2) == nullptr);
}

TEST_CASE("topology: when the root resolves, symptoms still failing become roots of their own",
          "[alerts][topology]") {
  const Topology t(issue_tree());
  const Ids still_failing{kDist3, cpe(kDist3, 1), cpe(11, 4)};
  Ids with_core = still_failing;
  with_core.push_back(kCore);
  check_incidents(t.correlate(failing(with_core)),
                  {{kCore, {kDist3, cpe(11, 4), cpe(kDist3, 1)}, 55}});
  // The core is back; the others are re-evaluated on the next call.
  check_incidents(t.correlate(failing(still_failing)),
                  {{kDist3, {cpe(kDist3, 1)}, 10}, {cpe(11, 4), {}, 0}});
}

TEST_CASE("topology: a device with a redundant parent that is up is not behind",
          "[alerts][topology]") {
  // 1 → {2, 3}; 4 is reached through both 2 and 3; 5 only through 2.
  const std::vector<DeviceLinks> devices{{1, {}}, {2, {1}}, {3, {1}}, {4, {3, 2}}, {5, {2}}};
  const Topology t(devices);
  const auto one_down = t.correlate(failing({2, 4}));
  check_incidents(one_down, {{2, {}, 1}, {4, {}, 0}});  // 4 is a failure of its own
  CHECK(one_down.incidents()[0].impacted == Ids{5});
  // Both parents down: 4 is behind; both roots reach it, the earlier one claims it.
  check_incidents(t.correlate(std::vector<FailedDevice>{{2, 2000}, {3, 1000}, {4, 3000}}),
                  {{3, {4}, 1}, {2, {}, 1}});
}

TEST_CASE("topology: a child of two independent roots goes to the root that failed first",
          "[alerts][topology]") {
  // Roots 1 and 2 (no parents) share child 3, which has child 4.
  const std::vector<DeviceLinks> devices{{1, {}}, {2, {}}, {3, {1, 2}}, {4, {3}}};
  const Topology t(devices);
  struct Case {
    const char* name;
    std::int64_t since_1, since_2;
    std::int64_t claimant, other;
  };
  const std::vector<Case> cases{
      {"1 first", 100, 200, 1, 2},
      {"2 first", 200, 100, 2, 1},
      {"same time: the smaller id", 100, 100, 1, 2},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      const auto r =
          t.correlate(std::vector<FailedDevice>{{2, c.since_2}, {1, c.since_1}, {3, 50}});
      check_incidents(r, {{c.claimant, {3}, 2}, {c.other, {}, 0}});
      CHECK(r.root_of(4) == c.claimant);
    }
  }
}

TEST_CASE("topology: a child behind an unreachable parent belongs to the grandparent's incident",
          "[alerts][topology]") {
  const std::vector<DeviceLinks> devices{{1, {}}, {2, {1}}, {3, {2}}, {4, {3}}};
  const Topology t(devices);
  // 2 is unreachable too, or merely cut off without an alert: 3 goes to 1 either way.
  check_incidents(t.correlate(failing({1, 2, 3})), {{1, {2, 3}, 3}});
  check_incidents(t.correlate(failing({3, 1})), {{1, {3}, 3}});
  // A device listed twice counts once, with its earliest time.
  const auto twice = t.correlate(std::vector<FailedDevice>{{2, 500}, {2, 300}});
  check_incidents(twice, {{2, {}, 2}});
  CHECK(twice.incidents()[0].since_ms == 300);
}

TEST_CASE("topology: parent ids that are not known devices are ignored until they are added",
          "[alerts][topology]") {
  // 3 names 2 (known) and 99 (not known); 4 names only 99.
  Topology t(std::vector<DeviceLinks>{{1, {}}, {2, {1}}, {3, {2, 99}}, {4, {99}}});
  CHECK(t.link_count() == 2);
  check_incidents(t.correlate(failing({2})), {{2, {}, 1}});
  check_incidents(t.correlate(failing({4})), {{4, {}, 0}});
  // A failed device the topology does not know is a root with nothing behind it.
  check_incidents(t.correlate(failing({77, 2})), {{2, {}, 1}, {77, {}, 0}});
  // 99 arrives: 3 now has a redundant parent that is up, 4 is behind 99.
  t.replace_device({99, {}});
  CHECK(t.link_count() == 4);
  check_incidents(t.correlate(failing({2})), {{2, {}, 0}});
  check_incidents(t.correlate(failing({99})), {{99, {}, 1}});
  CHECK(*t.descendants(99) == Ids{3, 4});
}

TEST_CASE("topology: replace_device and remove_device keep the graph in step",
          "[alerts][topology]") {
  Topology t(issue_tree());
  SECTION("removing a distribution device leaves its CPE with no known parent") {
    REQUIRE(t.remove_device(kDist3));
    CHECK_FALSE(t.remove_device(kDist3));
    CHECK_FALSE(t.contains(kDist3));
    CHECK(t.device_count() == 55);
    CHECK(t.link_count() == 44);
    check_incidents(t.correlate(failing({kCore})), {{kCore, {}, 44}});  // 4 + 40
    CHECK_FALSE(t.correlate(failing({kCore})).root_of(cpe(kDist3, 0)).has_value());
    CHECK(t.descendants(kDist3).error().code == netpulse::core::Errc::kDeviceNotFound);
    // Devices after the removed one were renumbered inside: they still answer by id.
    CHECK(*t.ancestors(cpe(14, 9)) == Ids{kCore, 14});
    // Added again, it takes its CPE back (they still name it as their parent).
    t.replace_device({kDist3, {kCore}});
    CHECK(t.link_count() == 55);
    check_incidents(t.correlate(failing({kDist3})), {{kDist3, {}, 10}});
  }
  SECTION("moving a CPE to another distribution device") {
    t.replace_device({cpe(kDist3, 0), {11}});
    CHECK(t.link_count() == 55);
    check_incidents(t.correlate(failing({kDist3})), {{kDist3, {}, 9}});
    check_incidents(t.correlate(failing({11})), {{11, {}, 11}});
  }
  SECTION("rebuild replaces everything") {
    t.rebuild(std::vector<DeviceLinks>{{5, {}}, {6, {5}}});
    CHECK(t.device_count() == 2);
    CHECK_FALSE(t.contains(kCore));
    check_incidents(t.correlate(failing({5})), {{5, {}, 1}});
  }
}

TEST_CASE("topology: descendants and ancestors", "[alerts][topology]") {
  // A diamond under 1 with a tail: 1 → 2, 1 → 3, {2, 3} → 4 → 5; 6 stands alone.
  const Topology t(
      std::vector<DeviceLinks>{{1, {}}, {2, {1}}, {3, {1}}, {4, {2, 3}}, {5, {4}}, {6, {}}});
  struct Case {
    std::int64_t device;
    Ids descendants, ancestors;
  };
  const std::vector<Case> cases{{1, {2, 3, 4, 5}, {}},
                                {2, {4, 5}, {1}},
                                {4, {5}, {1, 2, 3}},
                                {5, {}, {1, 2, 3, 4}},
                                {6, {}, {}}};
  for (const auto& c : cases) {
    INFO("device " << c.device);
    CHECK(*t.descendants(c.device) == c.descendants);
    CHECK(*t.ancestors(c.device) == c.ancestors);
  }
  CHECK(t.ancestors(42).error().code == netpulse::core::Errc::kDeviceNotFound);
}

TEST_CASE("topology: an accidental cycle ends every walk", "[alerts][topology]") {
  // 1 → 2 → 3 → 2 (a cycle 2 ⇄ 3), 3 → 4; a device naming itself is not a link.
  const Topology t(std::vector<DeviceLinks>{{1, {}}, {2, {1, 3}}, {3, {2}}, {4, {3, 4}}});
  CHECK(t.link_count() == 4);
  CHECK(*t.descendants(2) == Ids{3, 4});
  CHECK(*t.ancestors(4) == Ids{1, 2, 3});
  // On and below the cycle nothing is behind: each failed device there is its own root.
  check_incidents(t.correlate(failing({1, 2, 3, 4})),
                  {{1, {}, 0}, {2, {}, 0}, {3, {}, 0}, {4, {}, 0}});
}

namespace {

// The reference: correlate()'s documented semantics written plainly — "behind" as a fixed point
// iterated until nothing changes, attribution by walking up from each device behind F.
struct Reference {
  std::map<std::int64_t, Ids> parents;         // known parents only
  std::map<std::int64_t, std::int64_t> since;  // F

  std::vector<RootGroup> incidents() const {
    std::set<std::int64_t> behind;
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& [id, ps] : parents) {
        const bool now = !ps.empty() && std::all_of(ps.begin(), ps.end(), [&](std::int64_t p) {
          return since.contains(p) || behind.contains(p);
        });
        if (now && behind.insert(id).second) changed = true;
      }
    }
    const auto is_root = [&](std::int64_t id) {
      return since.contains(id) && !behind.contains(id);
    };
    const auto earlier = [&](std::int64_t a, std::int64_t b) {
      return std::pair(since.at(a), a) < std::pair(since.at(b), b);
    };
    std::map<std::int64_t, RootGroup> by_root;
    for (const auto& [id, s] : since) {
      if (is_root(id)) by_root[id] = RootGroup{id, s, {}, {}, 0};
    }
    for (const auto id : behind) {
      std::optional<std::int64_t> claimant;
      std::set<std::int64_t> seen;
      std::vector<std::int64_t> up{id};
      while (!up.empty()) {
        const auto at = up.back();
        up.pop_back();
        for (const auto p : parents.at(at)) {
          if (is_root(p) && (!claimant || earlier(p, *claimant))) claimant = p;
          if (behind.contains(p) && seen.insert(p).second) up.push_back(p);
        }
      }
      REQUIRE(claimant.has_value());
      RootGroup& incident = by_root[*claimant];
      incident.impacted.push_back(id);  // `behind` is ordered: impacted comes out sorted
      if (since.contains(id)) incident.members.push_back(id);
      ++incident.impact;
    }
    std::vector<RootGroup> out;
    for (auto& [root, incident] : by_root) out.push_back(std::move(incident));
    std::sort(out.begin(), out.end(), [&](const RootGroup& a, const RootGroup& b) {
      return earlier(a.root_device_id, b.root_device_id);
    });
    return out;
  }
};

}  // namespace

TEST_CASE("topology: a 10,000-device random DAG agrees with a plain reference",
          "[alerts][topology]") {
  constexpr int kDevices = 10'000;
  std::mt19937_64 rng(20261206);
  std::vector<std::int64_t> ids(kDevices);  // index order is a topological order; ids are not
  for (int i = 0; i < kDevices; ++i) ids[i] = 5 + (3 * static_cast<std::int64_t>(i));
  std::shuffle(ids.begin(), ids.end(), rng);
  std::uniform_real_distribution<double> unit(0, 1);
  const auto random_parents = [&](int i) {
    Ids ps;
    const double r = unit(rng);
    const int count = i == 0 || r < 0.01 ? 0 : r < 0.81 ? 1 : r < 0.96 ? 2 : 3;
    for (int k = 0; k < count; ++k) ps.push_back(ids[rng() % static_cast<std::uint64_t>(i)]);
    if (unit(rng) < 0.02) ps.push_back(-1 - i);  // never a device
    return ps;
  };
  std::map<std::int64_t, Ids> declared;
  std::vector<DeviceLinks> devices;
  for (int i = 0; i < kDevices; ++i) {
    devices.push_back({ids[i], random_parents(i)});
    declared[ids[i]] = devices.back().parents;
  }
  Topology t(devices);
  // Inventory changes: 100 devices get new parents (still earlier ones), 100 are removed.
  for (int n = 0; n < 100; ++n) {
    const int i = 1 + static_cast<int>(rng() % (kDevices - 1));
    declared[ids[i]] = random_parents(i);
    t.replace_device({ids[i], declared[ids[i]]});
  }
  for (int n = 0; n < 100; ++n) {
    const auto id = ids[rng() % kDevices];
    CHECK(t.remove_device(id) == declared.contains(id));
    declared.erase(id);
  }
  REQUIRE(t.device_count() == declared.size());

  Reference ref;
  for (const auto& [id, ps] : declared) {
    Ids& known = ref.parents[id];
    for (const auto p : ps) {
      if (declared.contains(p) && p != id) known.push_back(p);
    }
    std::sort(known.begin(), known.end());
    known.erase(std::unique(known.begin(), known.end()), known.end());
  }
  for (const double share : {0.002, 0.03, 0.3}) {
    INFO("share failed " << share);
    std::vector<FailedDevice> failed{{-7, 3}, {-8, 40}};  // not in the topology
    ref.since = {{-7, 3}, {-8, 40}};
    for (const auto& [id, ps] : declared) {
      if (unit(rng) >= share) continue;
      const auto since = static_cast<std::int64_t>(rng() % 50);  // ties on purpose
      failed.push_back({id, since});
      ref.since[id] = since;
    }
    std::shuffle(failed.begin(), failed.end(), rng);
    const Correlation got = t.correlate(failed);
    const std::vector<RootGroup> want = ref.incidents();
    REQUIRE(got.incidents().size() == want.size());
    std::size_t impacted = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const RootGroup& g = got.incidents()[i];
      INFO("incident " << i << ": root " << want[i].root_device_id);
      REQUIRE(g.root_device_id == want[i].root_device_id);
      CHECK(g.since_ms == want[i].since_ms);
      CHECK(g.members == want[i].members);
      CHECK(g.impacted == want[i].impacted);
      CHECK(g.impact == want[i].impact);
      impacted += g.impact;
    }
    // The walk is not trivial: some roots cut devices off.
    CHECK(impacted > 0);
    for (const auto& [id, ps] : declared) {
      const RootGroup* incident = got.incident_of(id);
      const bool in_some = std::any_of(want.begin(), want.end(), [&](const RootGroup& w) {
        return w.root_device_id == id ||
               std::binary_search(w.impacted.begin(), w.impacted.end(), id);
      });
      CHECK((incident != nullptr) == in_some);
    }
  }
}
