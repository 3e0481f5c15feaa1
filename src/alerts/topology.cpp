// The device topology (include/netpulse/alerts/topology.hpp): keeping the parent → child graph in
// step with the inventory (rebuild, replace_device, remove_device), the walks behind the API's
// "what is behind / above this device" (descendants, ancestors), and the Correlation lookup.
// correlate() itself is in topology_correlate.cpp.
#include <algorithm>
#include <iterator>
#include <string>

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>

#include <netpulse/alerts/topology.hpp>

#include "detail/topology_graph.hpp"

namespace netpulse::alerts {

namespace detail {

std::optional<Vertex> TopologyGraph::find(std::int64_t device_id) const {
  const auto it = vertex_of.find(device_id);
  if (it == vertex_of.end()) return std::nullopt;
  return it->second;
}

Vertex TopologyGraph::add(std::int64_t device_id, std::vector<std::int64_t> declared_parents) {
  const Vertex v = boost::add_vertex(DeviceVertex{device_id, std::move(declared_parents)}, graph);
  vertex_of.emplace(device_id, v);
  return v;
}

void TopologyGraph::link_parents(Vertex v) {
  for (const std::int64_t parent : graph[v].declared_parents) {
    if (const auto p = find(parent)) boost::add_edge(*p, v, graph);
  }
}

void TopologyGraph::link_children(Vertex v) {
  const std::int64_t id = graph[v].device_id;
  for (const Vertex child : boost::make_iterator_range(boost::vertices(graph))) {
    const auto& declared = graph[child].declared_parents;
    if (child != v && std::binary_search(declared.begin(), declared.end(), id)) {
      boost::add_edge(v, child, graph);
    }
  }
}

void TopologyGraph::remove(Vertex v) {
  vertex_of.erase(graph[v].device_id);
  boost::clear_vertex(v, graph);
  boost::remove_vertex(v, graph);
  // The vertices after v moved down by one.
  for (Vertex u = v; u < boost::num_vertices(graph); ++u) vertex_of[graph[u].device_id] = u;
}

std::vector<std::int64_t> normalized_parents(std::int64_t self, std::vector<std::int64_t> parents) {
  std::sort(parents.begin(), parents.end());
  parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  if (const auto it = std::lower_bound(parents.begin(), parents.end(), self);
      it != parents.end() && *it == self) {
    parents.erase(it);
  }
  return parents;
}

namespace {

// Records each vertex a breadth-first walk discovers.
class DiscoveredRecorder : public boost::default_bfs_visitor {
 public:
  explicit DiscoveredRecorder(std::vector<Vertex>& out) : out_(&out) {}
  template <class G>
  void discover_vertex(Vertex v, const G& /*graph*/) const {
    out_->push_back(v);
  }

 private:
  std::vector<Vertex>* out_;
};

// The device ids of every vertex a breadth-first walk from `start` over `g` reaches, sorted,
// without `start`. Each vertex is visited once, so a cycle ends the walk instead of looping.
template <class G>
std::vector<std::int64_t> reached_from(const G& g, const Graph& base, Vertex start) {
  std::vector<boost::default_color_type> colors(boost::num_vertices(base), boost::white_color);
  std::vector<Vertex> reached;
  boost::queue<Vertex> queue;
  boost::breadth_first_visit(
      g, start, queue, DiscoveredRecorder(reached),
      boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, base)));
  std::vector<std::int64_t> ids;
  ids.reserve(reached.size());
  for (const Vertex v : reached) {
    if (v != start) ids.push_back(base[v].device_id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

core::Error device_not_found(std::int64_t device_id) {
  return {core::Errc::kDeviceNotFound,
          "device " + std::to_string(device_id) + " is not in the topology"};
}

}  // namespace

}  // namespace detail

Correlation::Correlation(std::vector<RootGroup> incidents) : incidents_(std::move(incidents)) {
  for (std::size_t i = 0; i < incidents_.size(); ++i) {
    incident_by_device_.emplace_back(incidents_[i].root_device_id, i);
    for (const std::int64_t id : incidents_[i].impacted) incident_by_device_.emplace_back(id, i);
  }
  std::sort(incident_by_device_.begin(), incident_by_device_.end());
}

const RootGroup* Correlation::incident_of(std::int64_t device_id) const {
  const auto it =
      std::lower_bound(incident_by_device_.begin(), incident_by_device_.end(), device_id,
                       [](const std::pair<std::int64_t, std::size_t>& entry, std::int64_t id) {
                         return entry.first < id;
                       });
  if (it == incident_by_device_.end() || it->first != device_id) return nullptr;
  return &incidents_[it->second];
}

std::optional<std::int64_t> Correlation::root_of(std::int64_t device_id) const {
  const RootGroup* incident = incident_of(device_id);
  if (incident == nullptr) return std::nullopt;
  return incident->root_device_id;
}

Topology::Topology() : graph_(std::make_unique<detail::TopologyGraph>()) {}

Topology::Topology(std::span<const DeviceLinks> devices) : Topology() {
  rebuild(devices);
}

Topology::~Topology() = default;
Topology::Topology(Topology&&) noexcept = default;
Topology& Topology::operator=(Topology&&) noexcept = default;

void Topology::rebuild(std::span<const DeviceLinks> devices) {
  auto fresh = std::make_unique<detail::TopologyGraph>();
  fresh->vertex_of.reserve(devices.size());
  for (const DeviceLinks& device : devices) {
    auto parents = detail::normalized_parents(device.device_id, device.parents);
    if (const auto v = fresh->find(device.device_id)) {
      fresh->graph[*v].declared_parents = std::move(parents);  // listed twice: the last wins
    } else {
      fresh->add(device.device_id, std::move(parents));
    }
  }
  for (const auto v : boost::make_iterator_range(boost::vertices(fresh->graph))) {
    fresh->link_parents(v);
  }
  graph_ = std::move(fresh);
}

void Topology::replace_device(const DeviceLinks& device) {
  auto parents = detail::normalized_parents(device.device_id, device.parents);
  if (const auto v = graph_->find(device.device_id)) {
    boost::clear_in_edges(*v, graph_->graph);
    graph_->graph[*v].declared_parents = std::move(parents);
    graph_->link_parents(*v);
    return;
  }
  const detail::Vertex v = graph_->add(device.device_id, std::move(parents));
  graph_->link_parents(v);
  graph_->link_children(v);
}

bool Topology::remove_device(std::int64_t device_id) {
  const auto v = graph_->find(device_id);
  if (!v) return false;
  graph_->remove(*v);
  return true;
}

bool Topology::contains(std::int64_t device_id) const {
  return graph_->vertex_of.contains(device_id);
}

std::size_t Topology::device_count() const {
  return boost::num_vertices(graph_->graph);
}

std::size_t Topology::link_count() const {
  return boost::num_edges(graph_->graph);
}

core::Result<std::vector<std::int64_t>> Topology::descendants(std::int64_t device_id) const {
  const auto v = graph_->find(device_id);
  if (!v) return detail::device_not_found(device_id);
  return detail::reached_from(graph_->graph, graph_->graph, *v);
}

core::Result<std::vector<std::int64_t>> Topology::ancestors(std::int64_t device_id) const {
  const auto v = graph_->find(device_id);
  if (!v) return detail::device_not_found(device_id);
  return detail::reached_from(boost::make_reverse_graph(graph_->graph), graph_->graph, *v);
}

}  // namespace netpulse::alerts
