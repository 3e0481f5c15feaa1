// The private graph behind alerts::Topology (include/netpulse/alerts/topology.hpp): a Boost
// adjacency list with edges parent → child, bidirectional so that a device's parents are as cheap
// to read as its children, and a map from device id to vertex. Vertices live in a vector, so a
// vertex is also an index into the per-call arrays of correlate(); removing one renumbers those
// after it (Boost does the edges, TopologyGraph::remove does the id map).
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

namespace netpulse::alerts::detail {

// What a vertex knows of its device.
struct DeviceVertex {
  std::int64_t device_id = 0;
  // The parents the inventory gave, sorted and unique, known or not: an unknown one becomes a
  // link when that device is added.
  std::vector<std::int64_t> declared_parents;
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, DeviceVertex>;
using Vertex = Graph::vertex_descriptor;
using Edge = Graph::edge_descriptor;

struct TopologyGraph {
  Graph graph;
  std::unordered_map<std::int64_t, Vertex> vertex_of;  // device id → vertex

  // The vertex of a device, if known.
  std::optional<Vertex> find(std::int64_t device_id) const;

  // Adds a device (its links are not made: see link_parents). Precondition: not known.
  Vertex add(std::int64_t device_id, std::vector<std::int64_t> declared_parents);

  // Adds an edge from each known declared parent of `v` (not from `v` itself). Precondition: `v`
  // has no parent edges yet.
  void link_parents(Vertex v);

  // Adds an edge from `v` to each device that declares `v`'s device as a parent.
  void link_children(Vertex v);

  // Removes a vertex and its edges, and renumbers the id map.
  void remove(Vertex v);
};

// Sorted and unique, without `self`.
std::vector<std::int64_t> normalized_parents(std::int64_t self, std::vector<std::int64_t> parents);

}  // namespace netpulse::alerts::detail
