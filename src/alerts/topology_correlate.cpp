// Topology::correlate (include/netpulse/alerts/topology.hpp): from the set F of failed devices
// to roots, symptoms and incidents, in three passes over the part of the graph F can reach:
//   1. a breadth-first walk from all of F at once finds R, the devices reachable from F: only
//      they can be behind F (a device with a parent outside R has a parent that is up);
//   2. Kahn's topological order over R decides "behind" parents-first. Kahn's rather than
//      boost::topological_sort because Boost's throws on a cycle and then orders nothing, where
//      Kahn's simply never reaches the devices on or below a cycle — they stay "not behind";
//   3. one breadth-first walk per root, earliest root first, over edges into behind devices only
//      (a boost::filtered_graph), sharing one colour map: a device the walk of an earlier root
//      discovered is not discovered again, which is exactly "the earliest root that reaches it".
// The walks give each behind device its root, and so the partition into incidents, directly; a
// union-find over the same devices would only compute that partition a second time (and one over
// "connected" devices would fold two independent roots sharing a child into one incident).
#include <algorithm>
#include <map>
#include <tuple>

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/filtered_graph.hpp>

#include <netpulse/alerts/topology.hpp>

#include "detail/topology_graph.hpp"

namespace netpulse::alerts {

namespace {

using detail::Edge;
using detail::Graph;
using detail::Vertex;

// Per-vertex state of one correlate() call.
struct FailureState {
  std::vector<char> failed;            // the vertex is in F
  std::vector<std::int64_t> since_ms;  // when it failed (when failed)
  std::vector<char> behind;            // the vertex is behind F
  std::vector<std::uint32_t> waiting;  // Kahn: parents in R not decided yet
};

// Calls `on_discover` for each vertex a walk discovers.
template <class OnDiscover>
class DiscoverVisitor : public boost::default_bfs_visitor {
 public:
  explicit DiscoverVisitor(OnDiscover& on_discover) : on_discover_(&on_discover) {}
  template <class G>
  void discover_vertex(Vertex v, const G& /*graph*/) const {
    (*on_discover_)(v);
  }

 private:
  OnDiscover* on_discover_;
};

// Keeps the edges whose child is behind F: the walk from a root goes no further than its impact.
struct IntoBehind {
  const Graph* graph = nullptr;
  const std::vector<char>* behind = nullptr;
  bool operator()(const Edge& e) const { return (*behind)[boost::target(e, *graph)] != 0; }
};

// Pass 2: decides `behind` for every vertex of `reached`, parents first.
void decide_behind(const Graph& g, const std::vector<Vertex>& reached,
                   const std::vector<boost::default_color_type>& colors, FailureState& s) {
  const auto in_reach = [&](Vertex v) { return colors[v] != boost::white_color; };
  std::vector<Vertex> ready;
  for (const Vertex v : reached) {
    for (const Edge& e : boost::make_iterator_range(boost::in_edges(v, g))) {
      if (in_reach(boost::source(e, g))) ++s.waiting[v];
    }
    if (s.waiting[v] == 0) ready.push_back(v);
  }
  while (!ready.empty()) {
    const Vertex v = ready.back();
    ready.pop_back();
    bool behind = boost::in_degree(v, g) > 0;
    for (const Edge& e : boost::make_iterator_range(boost::in_edges(v, g))) {
      const Vertex parent = boost::source(e, g);
      if (!behind) break;
      behind = s.failed[parent] != 0 || s.behind[parent] != 0;
    }
    s.behind[v] = behind ? 1 : 0;
    for (const Edge& e : boost::make_iterator_range(boost::out_edges(v, g))) {
      const Vertex child = boost::target(e, g);
      if (in_reach(child) && --s.waiting[child] == 0) ready.push_back(child);
    }
  }
}

// A root: a known vertex, or a failed device the topology does not know.
struct Root {
  std::int64_t since_ms = 0;
  std::int64_t device_id = 0;
  std::optional<Vertex> vertex;
};

}  // namespace

Correlation Topology::correlate(std::span<const FailedDevice> failed) const {
  const Graph& g = graph_->graph;
  const std::size_t n = boost::num_vertices(g);
  FailureState s{std::vector<char>(n, 0), std::vector<std::int64_t>(n, 0), std::vector<char>(n, 0),
                 std::vector<std::uint32_t>(n, 0)};
  std::vector<Vertex> sources;
  std::map<std::int64_t, std::int64_t> unknown_since;  // failed devices not in the topology
  for (const FailedDevice& f : failed) {
    if (const auto v = graph_->find(f.device_id)) {
      if (s.failed[*v] == 0) sources.push_back(*v);
      s.since_ms[*v] = s.failed[*v] != 0 ? std::min(s.since_ms[*v], f.since_ms) : f.since_ms;
      s.failed[*v] = 1;
    } else {
      auto [it, added] = unknown_since.try_emplace(f.device_id, f.since_ms);
      if (!added) it->second = std::min(it->second, f.since_ms);
    }
  }

  // Pass 1: R, the vertices reachable from F (coloured black by the walk).
  std::vector<boost::default_color_type> colors(n, boost::white_color);
  const auto color_map =
      boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, g));
  std::vector<Vertex> reached;
  auto record = [&](Vertex v) { reached.push_back(v); };
  boost::queue<Vertex> queue;
  boost::breadth_first_visit(g, sources.begin(), sources.end(), queue,
                             DiscoverVisitor<decltype(record)>(record), color_map);

  decide_behind(g, reached, colors, s);

  std::vector<Root> roots;
  for (const Vertex v : sources) {
    if (s.behind[v] == 0) roots.push_back({s.since_ms[v], g[v].device_id, v});
  }
  for (const auto& [id, since] : unknown_since) roots.push_back({since, id, std::nullopt});
  std::sort(roots.begin(), roots.end(), [](const Root& a, const Root& b) {
    return std::tie(a.since_ms, a.device_id) < std::tie(b.since_ms, b.device_id);
  });

  // Pass 3: each root, earliest first, claims the behind devices no earlier root reached.
  for (const Vertex v : reached) colors[v] = boost::white_color;
  const boost::filtered_graph<Graph, IntoBehind> into_behind(g, IntoBehind{&g, &s.behind});
  std::vector<RootGroup> incidents;
  incidents.reserve(roots.size());
  for (const Root& root : roots) {
    RootGroup& incident = incidents.emplace_back();
    incident.root_device_id = root.device_id;
    incident.since_ms = root.since_ms;
    if (!root.vertex) continue;
    auto claim = [&](Vertex v) {
      if (v == *root.vertex) return;
      incident.impacted.push_back(g[v].device_id);
      if (s.failed[v] != 0) incident.members.push_back(g[v].device_id);
    };
    boost::breadth_first_visit(into_behind, *root.vertex, queue,
                               DiscoverVisitor<decltype(claim)>(claim), color_map);
    std::sort(incident.impacted.begin(), incident.impacted.end());
    std::sort(incident.members.begin(), incident.members.end());
    incident.impact = incident.impacted.size();
  }
  return Correlation(std::move(incidents));
}

}  // namespace netpulse::alerts
