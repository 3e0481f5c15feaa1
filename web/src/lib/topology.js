// The topology map's layout, without a browser: the dependency graph (GET /api/v1/topology) laid
// out as a radial tree with d3-hierarchy — the devices nothing depends on at the centre, each ring
// one hop further out, every subtree in its own sector, so a failed device and everything behind
// it are one wedge of the circle. A device with several parents hangs under its first (lowest
// id); its other links are drawn as secondary edges. Devices with no links at all are set out in
// a grid below the circle rather than crowding the first ring.
import { hierarchy, tree } from 'd3-hierarchy';

// Layout units: about the distance between two neighbours on the outer ring, and between rings.
const LEAF_GAP = 18;
const RING_GAP = 150;
const GRID_GAP_X = 150;
const GRID_GAP_Y = 44;

// nodes: [{id, parents: [id...]}]. Returns {pos: Map(id -> {x, y, depth}), primary: [[from, to]],
// secondary: [[from, to]], roots: [id], isolated: [id], extent: {x0, y0, x1, y1}}.
export function layoutTopology(nodes) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const children = new Map();
  const primaryParent = new Map();
  for (const n of nodes) {
    const parents = (n.parents || []).filter((p) => byId.has(p) && p !== n.id).sort((a, b) => a - b);
    if (parents.length) primaryParent.set(n.id, parents[0]);
  }
  // The server keeps the graph acyclic; a cycle here (a stale answer) would loop for ever, so
  // the first device found on one is made a root.
  for (const n of nodes) {
    const seen = new Set([n.id]);
    let at = n.id;
    while (primaryParent.has(at)) {
      at = primaryParent.get(at);
      if (seen.has(at)) {
        primaryParent.delete(at);
        break;
      }
      seen.add(at);
    }
  }
  for (const [child, parent] of primaryParent) {
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(child);
  }
  for (const list of children.values()) list.sort((a, b) => a - b);

  const roots = [];
  const isolated = [];
  for (const n of nodes) {
    if (primaryParent.has(n.id)) continue;
    if (children.has(n.id)) roots.push(n.id);
    else isolated.push(n.id);
  }
  roots.sort((a, b) => a - b);
  isolated.sort((a, b) => a - b);

  const pos = new Map();
  const primary = [];
  const secondary = [];
  let radius = 0;
  if (roots.length) {
    // One root sits at the centre; several hang from an invisible centre.
    const build = (id) => ({ id, children: (children.get(id) || []).map(build) });
    const data = roots.length === 1 ? build(roots[0]) : { id: null, children: roots.map(build) };
    const root = hierarchy(data);
    const leaves = root.leaves().length;
    const depth = root.height;
    radius = Math.max(depth * RING_GAP, (leaves * LEAF_GAP) / (2 * Math.PI));
    tree()
      .size([2 * Math.PI, radius])
      .separation((a, b) => (a.parent === b.parent ? 1 : 2) / Math.max(1, a.depth))(root);
    root.each((d) => {
      if (d.data.id === null) return;
      const angle = d.x - Math.PI / 2;
      pos.set(d.data.id, { x: d.y * Math.cos(angle), y: d.y * Math.sin(angle), depth: d.depth });
      if (d.parent && d.parent.data.id !== null) primary.push([d.parent.data.id, d.data.id]);
    });
  }
  // Devices with no link: rows under the circle.
  const columns = Math.max(1, Math.ceil(Math.sqrt(isolated.length * 3)));
  const gridTop = roots.length ? radius + RING_GAP : 0;
  const gridLeft = (-(Math.min(columns, isolated.length) - 1) * GRID_GAP_X) / 2;
  isolated.forEach((id, i) => {
    pos.set(id, {
      x: gridLeft + (i % columns) * GRID_GAP_X,
      y: gridTop + Math.floor(i / columns) * GRID_GAP_Y,
      depth: 0,
    });
  });
  for (const n of nodes) {
    for (const p of n.parents || []) {
      if (byId.has(p) && p !== primaryParent.get(n.id) && p !== n.id) secondary.push([p, n.id]);
    }
  }
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const { x, y } of pos.values()) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  if (!pos.size) x0 = y0 = x1 = y1 = 0;
  return { pos, primary, secondary, roots, isolated, extent: { x0, y0, x1, y1 } };
}

// The view {k, tx, ty} that fits `extent` into a width × height box with a margin.
export function fitView(extent, width, height, margin = 40) {
  const w = Math.max(1, extent.x1 - extent.x0);
  const h = Math.max(1, extent.y1 - extent.y0);
  const k = Math.min(2, Math.max(0.02, Math.min((width - 2 * margin) / w, (height - 2 * margin) / h)));
  return { k, tx: width / 2 - ((extent.x0 + extent.x1) / 2) * k, ty: height / 2 - ((extent.y0 + extent.y1) / 2) * k };
}

// Zooms `view` by `factor` about the screen point (px, py), within [minK, maxK].
export function zoomAt(view, factor, px, py, minK = 0.02, maxK = 4) {
  const k = Math.min(maxK, Math.max(minK, view.k * factor));
  const f = k / view.k;
  return { k, tx: px - (px - view.tx) * f, ty: py - (py - view.ty) * f };
}
