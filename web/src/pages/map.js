// The topology map: the dependency graph (GET /api/v1/topology) as a radial tree (lib/topology.js)
// drawn in SVG, each device coloured by its status and kept live over the feed. An incident chosen
// beside the map (or /map?incident=ID) shows its root cause ringed and the devices behind it
// outlined, everything else dimmed. Pan by dragging or with the arrow keys, zoom with the wheel,
// two fingers' pinch, the buttons or + and -; the search finds a device by name or address and
// centres it; a device is a link to its page. Labels stay one size whatever the zoom: zoomed out,
// only the devices that matter (down, unreachable, the incident's root, search hits, the first
// rings) are named.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get } from '../lib/api.js';
import { useLive, useLiveReload } from '../lib/live.js';
import { formatCount, sentence } from '../lib/format.js';
import { layoutTopology, fitView, zoomAt } from '../lib/topology.js';

const STATUSES = ['up', 'down', 'unreachable', 'maintenance', 'unknown'];
const PROBLEM = new Set(['down', 'unreachable']);

function params() {
  return new URLSearchParams(location.search);
}

function setParam(name, value) {
  const p = params();
  if (value === null || value === '' || value === undefined) p.delete(name);
  else p.set(name, String(value));
  const q = p.toString();
  history.replaceState(null, '', `/map${q ? '?' + q : ''}`);
}

function useSize(ref) {
  const [size, setSize] = useState({ width: 800, height: 560 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const ro = new ResizeObserver(() => setSize({ width: el.clientWidth || 800, height: el.clientHeight || 560 }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return size;
}

export function TopologyMap() {
  const [graph, setGraph] = useState(null); // {nodes, truncated, total}
  const [layout, setLayout] = useState(() => layoutTopology([]));
  const [error, setError] = useState(null);
  const [group, setGroup] = useState(params().get('group') || '');
  const [groups, setGroups] = useState([]);
  const [incidents, setIncidents] = useState([]);
  const [incidentId, setIncidentId] = useState(params().get('incident'));
  const [incident, setIncident] = useState(null);
  const [search, setSearch] = useState('');
  const [hit, setHit] = useState(0);
  // The view drawn (devices laid out at its zoom) and, while the wheel or a drag moves it, the
  // view wanted: until it settles the drawn layer is only transformed (cheap), then redrawn.
  const [view, commitView] = useState(null);
  const wanted = useRef(null);
  const layer = useRef(null);
  const settle = useRef(null);
  const drawStart = useRef(0);
  function draw(to) {
    drawStart.current = performance.now();
    commitView(to);
  }
  function setView(next, gliding = false) {
    const to = typeof next === 'function' ? next(wanted.current) : next;
    if (!to) return;
    wanted.current = to;
    clearTimeout(settle.current);
    if (!gliding || !view || !layer.current) return draw(to);
    const s = to.k / view.k;
    layer.current.setAttribute('transform', `translate(${to.tx - s * view.tx} ${to.ty - s * view.ty}) scale(${s})`);
    settle.current = setTimeout(() => draw(wanted.current), 120);
  }
  useEffect(() => () => clearTimeout(settle.current), []);
  // Drawn at the view: the layer's interim transform goes. The redraw's time is a performance
  // measure (bench/ui.sh reads it).
  useLayoutEffect(() => {
    if (layer.current) layer.current.removeAttribute('transform');
    if (view && drawStart.current) {
      performance.measure('netpulse:map-draw', { start: drawStart.current });
      drawStart.current = 0;
    }
  }, [view]);
  const [focusId] = useState(() => Number(params().get('focus')) || null);
  const box = useRef(null);
  const size = useSize(box);
  const drag = useRef(null);
  const fingers = useRef(new Map()); // pointers down on the map: id → {x, y}
  const pinch = useRef(null); // two fingers' distance and midpoint, while they pinch

  async function loadGraph() {
    try {
      const r = await get(`/api/v1/topology${group ? '?group=' + encodeURIComponent(group) : ''}`);
      // Laid out once per answer: status changes (below) colour nodes without moving them.
      setLayout(layoutTopology(r.data.nodes));
      setGraph(r.data);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  async function loadIncidents() {
    try {
      const r = await get('/api/v1/incidents?open=true&per_page=50');
      setIncidents(r.data);
    } catch {
      // The map stands without the list.
    }
  }
  useEffect(() => {
    setParam('group', group);
    loadGraph();
  }, [group]);
  useEffect(() => {
    loadIncidents();
    get('/api/v1/device-groups?per_page=500')
      .then((r) => setGroups(r.data))
      .catch(() => {});
  }, []);
  function loadIncident() {
    if (!incidentId) return setIncident(null);
    get(`/api/v1/incidents/${incidentId}`)
      .then((r) => setIncident(r.data))
      .catch((e) => setIncident({ error: e }));
  }
  useEffect(() => {
    setParam('incident', incidentId);
    loadIncident();
  }, [incidentId]);

  // Status changes colour the node in place; a device added, changed (its parents) or removed
  // reads the graph again, at most once a second.
  const graphTimer = useRef(null);
  useEffect(() => () => clearTimeout(graphTimer.current), []);
  useLive(['devices'], (msg) => {
    if (msg.type === 'reload') return loadGraph();
    if (msg.type === 'device_status') {
      setGraph((g) =>
        g && { ...g, nodes: g.nodes.map((n) => (n.id === msg.data.device_id ? { ...n, status: msg.data.to } : n)) },
      );
    }
    if (msg.type === 'device_changed' && !graphTimer.current) {
      graphTimer.current = setTimeout(() => {
        graphTimer.current = null;
        loadGraph();
      }, 1000);
    }
  });
  useLiveReload(['incidents'], () => {
    loadIncidents();
    loadIncident();
  }, { delay: 500 });

  const nodes = graph ? graph.nodes : [];

  // The first view fits the whole graph; a chosen incident or ?focus= centres its device.
  useEffect(() => {
    if (!graph) return;
    if (!view && focusId && layout.pos.has(focusId)) return centre(focusId);
    if (!view) setView(fitView(layout.extent, size.width, size.height));
  }, [layout, size.width, size.height]);
  const rootId = incident && !incident.error ? incident.root_device_id : null;
  const rootNode = rootId ? nodes.find((n) => n.id === rootId) : null;
  useEffect(() => {
    if (rootId && layout.pos.has(rootId)) centre(rootId);
  }, [rootId, layout]);

  function centre(id, minK = 0.6) {
    const p = layout.pos.get(id);
    if (!p) return;
    setView((v) => {
      const k = Math.max(v ? v.k : minK, minK);
      return { k, tx: size.width / 2 - p.x * k, ty: size.height / 2 - p.y * k };
    });
  }

  const q = search.trim().toLowerCase();
  const hits = useMemo(
    () => (q ? nodes.filter((n) => n.name.toLowerCase().includes(q) || n.address.toLowerCase().includes(q)).map((n) => n.id) : []),
    [q, nodes],
  );
  const hitSet = new Set(hits);
  if (focusId && !q) hitSet.add(focusId);
  useEffect(() => {
    setHit(0);
    if (hits.length) centre(hits[0], 0.8);
  }, [q]);
  function nextHit(step = 1) {
    if (!hits.length) return;
    const i = (hit + step + hits.length) % hits.length;
    setHit(i);
    centre(hits[i], 0.8);
  }

  const impact = new Set(incident && !incident.error ? incident.impacted_devices : []);
  const focusing = Boolean(rootId);

  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const n of nodes) counts[n.status] = (counts[n.status] || 0) + 1;

  function zoom(factor, px = size.width / 2, py = size.height / 2, gliding = false) {
    setView((v) => v && zoomAt(v, factor, px, py), gliding);
  }
  function onWheel(e) {
    e.preventDefault();
    const rect = e.currentTarget.getBoundingClientRect();
    zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - rect.left, e.clientY - rect.top, true);
  }
  // Two fingers pinch: the map zooms about their midpoint and pans with it. A pinch is never a
  // click on a device.
  function pinchOf(rect) {
    const [a, b] = [...fingers.current.values()];
    return { d: Math.hypot(a.x - b.x, a.y - b.y), mx: (a.x + b.x) / 2 - rect.left, my: (a.y + b.y) / 2 - rect.top };
  }
  function onPointerDown(e) {
    if (e.button !== 0) return;
    fingers.current.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (fingers.current.size === 2) {
      pinch.current = pinchOf(e.currentTarget.getBoundingClientRect());
      drag.current = { moved: true, id: null };
      return;
    }
    drag.current = { x: e.clientX, y: e.clientY, moved: false, id: e.pointerId };
  }
  function onPointerMove(e) {
    if (fingers.current.has(e.pointerId)) fingers.current.set(e.pointerId, { x: e.clientX, y: e.clientY });
    const p = pinch.current;
    if (p && fingers.current.size >= 2) {
      const now = pinchOf(e.currentTarget.getBoundingClientRect());
      pinch.current = now;
      const factor = p.d > 0 && now.d > 0 ? now.d / p.d : 1;
      setView((v) => v && zoomAt({ ...v, tx: v.tx + now.mx - p.mx, ty: v.ty + now.my - p.my }, factor, now.mx, now.my), true);
      return;
    }
    const d = drag.current;
    if (!d || d.id !== e.pointerId) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (!d.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!d.moved) e.currentTarget.setPointerCapture(e.pointerId);
    d.moved = true;
    d.x = e.clientX;
    d.y = e.clientY;
    setView((v) => v && { ...v, tx: v.tx + dx, ty: v.ty + dy }, true);
  }
  function onPointerUp(e) {
    fingers.current.delete(e.pointerId);
    if (fingers.current.size < 2) pinch.current = null;
    const d = drag.current;
    if (d && d.moved) {
      // A drag that ended over a device is not a click on it.
      const stop = (ev) => {
        ev.preventDefault();
        ev.stopPropagation();
      };
      const svg = e.currentTarget;
      svg.addEventListener('click', stop, { capture: true, once: true });
      // The click, when one follows, comes in this same turn; none later may be swallowed.
      setTimeout(() => svg.removeEventListener('click', stop, { capture: true }), 0);
    }
    drag.current = null;
  }
  function onKeyDown(e) {
    const step = 60;
    const keys = {
      ArrowLeft: () => setView((v) => v && { ...v, tx: v.tx + step }),
      ArrowRight: () => setView((v) => v && { ...v, tx: v.tx - step }),
      ArrowUp: () => setView((v) => v && { ...v, ty: v.ty + step }),
      ArrowDown: () => setView((v) => v && { ...v, ty: v.ty - step }),
      '+': () => zoom(1.25),
      '=': () => zoom(1.25),
      '-': () => zoom(0.8),
      0: () => setView(fitView(layout.extent, size.width, size.height)),
    };
    if (e.target !== e.currentTarget || !keys[e.key]) return;
    e.preventDefault();
    keys[e.key]();
  }

  const v = view || { k: 1, tx: 0, ty: 0 };
  const at = (id) => {
    const p = layout.pos.get(id);
    return [p.x * v.k + v.tx, p.y * v.k + v.ty];
  };
  const segment = ([a, b]) => {
    const [x1, y1] = at(a);
    const [x2, y2] = at(b);
    return `M${x1.toFixed(1)} ${y1.toFixed(1)}L${x2.toFixed(1)} ${y2.toFixed(1)}`;
  };
  const inImpact = (id) => id === rootId || impact.has(id);
  const lit = focusing ? layout.primary.filter(([a, b]) => inImpact(a) && inImpact(b)) : [];
  const r = Math.max(3, Math.min(8, 7 * Math.sqrt(v.k)));
  const named = (n, p) =>
    v.k >= 0.9 ||
    shown.length <= 60 || PROBLEM.has(n.status) || n.id === rootId || hitSet.has(n.id) || p.depth <= 1 || (p.depth === 2 && v.k >= 0.4);
  // Only what is on screen (with a margin) is drawn.
  const visible = (x, y) => x > -60 && y > -30 && x < size.width + 60 && y < size.height + 30;

  const shown = [];
  if (view) {
    for (const n of nodes) {
      const p = layout.pos.get(n.id);
      if (!p) continue;
      const x = p.x * v.k + v.tx;
      const y = p.y * v.k + v.ty;
      if (visible(x, y)) shown.push({ n, p, x, y });
    }
  }

  const incidentCard = incident && (incident.error
    ? html`<p class="error" role="alert">${incident.error.status === 404 ? 'There is no such incident.' : sentence(incident.error.message)}</p>`
    : html`<div class="map-incident" aria-live="polite">
        <h3>${incident.title}</h3>
        <p>Root cause: ${rootNode
          ? html`<a href=${`/devices/${rootId}`}>${rootNode.name}</a> (${rootNode.status})`
          : html`<span class="muted">not on this map</span>`}</p>
        <p>${formatCount(incident.impact)} device${incident.impact === 1 ? '' : 's'} behind it · ${formatCount(incident.symptom_count)} symptom alert${incident.symptom_count === 1 ? '' : 's'} · ${incident.status}</p>
        <p><a href=${`/incidents/${incident.id}`}>Open the incident</a> · <button type="button" class="link" onClick=${() => setIncidentId(null)}>Show all devices</button></p>
      </div>`);

  return html`<section class="page map-page">
    <h1>Topology map</h1>
    <div class="toolbar" role="search">
      <label class="inline">Find a device
        <input type="search" value=${search} placeholder="name or address"
          onInput=${(e) => setSearch(e.currentTarget.value)}
          onKeyDown=${(e) => e.key === 'Enter' && (e.preventDefault(), nextHit(e.shiftKey ? -1 : 1))} /></label>
      ${q && html`<span class="muted" aria-live="polite">${hits.length ? `${hit + 1} of ${hits.length}` : 'no device matches'}</span>`}
      ${hits.length > 1 && html`<button type="button" onClick=${() => nextHit(1)}>Next match</button>`}
      <label class="inline">Group
        <select value=${group} onChange=${(e) => setGroup(e.currentTarget.value)}>
          <option value="">All devices</option>
          ${groups.map((g) => html`<option value=${g.name}>${g.name}</option>`)}
        </select></label>
      <span class="map-zoom">
        <button type="button" aria-label="Zoom in" onClick=${() => zoom(1.4)}>+</button>
        <button type="button" aria-label="Zoom out" onClick=${() => zoom(1 / 1.4)}>−</button>
        <button type="button" onClick=${() => setView(fitView(layout.extent, size.width, size.height))}>Fit</button>
      </span>
    </div>
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    <div class="map-layout">
      <div class="map-box" ref=${box}>
        ${graph && nodes.length === 0 && html`<p class="empty">No devices${group ? ' in this group' : ''} yet. Add devices and give them parents to see how they depend on each other.</p>`}
        ${!graph && !error && html`<p class="muted">Loading the map…</p>`}
        ${graph && nodes.length > 0 && html`<svg class=${'map' + (focusing ? ' focusing' : '')} width=${size.width} height=${size.height}
            role="group" aria-label=${`Topology map: ${nodes.length} devices. Arrow keys pan, + and - zoom, 0 fits.`}
            tabindex="0" onWheel=${onWheel} onPointerDown=${onPointerDown} onPointerMove=${onPointerMove}
            onPointerUp=${onPointerUp} onPointerCancel=${onPointerUp} onKeyDown=${onKeyDown}>
          <g ref=${layer}>
          <path class="edges" d=${layout.primary.map(segment).join('')} />
          <path class="edges secondary" d=${layout.secondary.map(segment).join('')} />
          ${lit.length > 0 && html`<path class="edges lit" d=${lit.map(segment).join('')} />`}
          ${shown.map(({ n, p, x, y }) => {
            const cls = ['node', 'status-' + n.status];
            if (focusing) cls.push(n.id === rootId ? 'root' : impact.has(n.id) ? 'impact' : 'dim');
            if (hitSet.has(n.id)) cls.push('hit');
            return html`<a key=${n.id} href=${`/devices/${n.id}`} class=${cls.join(' ')} data-id=${n.id}
                aria-label=${`${n.name} (${n.address}), ${n.status}${n.id === rootId ? ', root cause' : impact.has(n.id) ? ', behind the root cause' : ''}`}>
              <title>${n.name} · ${n.address} · ${n.type} · ${n.status}</title>
              ${n.id === rootId && html`<circle class="halo" cx=${x} cy=${y} r=${r + 9} />`}
              <circle cx=${x} cy=${y} r=${n.id === rootId ? r + 3 : r} />
              ${named(n, p) && html`<text x=${x + r + 4} y=${y + 4}>${n.name}</text>`}
            </a>`;
          })}
          </g>
        </svg>`}
      </div>
      <aside class="map-side" aria-label="Map legend and incidents">
        <h2 class="sr-only">Legend</h2>
        <ul class="map-legend">
          ${STATUSES.map((s) => html`<li class=${'status-' + s}><span class="dot" aria-hidden="true"></span>${s} <strong>${formatCount(counts[s] || 0)}</strong></li>`)}
        </ul>
        ${graph && graph.truncated && html`<p class="muted">Showing ${formatCount(nodes.length)} of ${formatCount(graph.total)} devices: choose a group.</p>`}
        <h2>Open incidents</h2>
        ${incidentCard}
        ${incidents.length === 0
          ? html`<p class="empty">No open incidents.</p>`
          : html`<ul class="map-incidents">
              ${incidents.map((i) => html`<li>
                <button type="button" class="link" aria-pressed=${String(incidentId) === String(i.id)} onClick=${() => setIncidentId(String(i.id))}>${i.title}</button>
                <span class="muted"> · ${formatCount(i.impact)} behind</span>
              </li>`)}
            </ul>`}
      </aside>
    </div>
  </section>`;
}
