// One dashboard: its panels on a 12-column grid, kept live (samples of the panels' metrics, the
// devices' status, the dashboard saved by someone else), in the range of the URL (?range=24h, so
// a link shows what its sender saw). Operators edit it in place: add, edit and remove panels,
// move and resize them by dragging (or with the arrow keys on a panel's handles), and save; a save
// over someone else's newer one is refused and says by whom.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { del, get, put } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { useLive, useLiveSeries } from '../lib/live.js';
import { formatTime, sentence } from '../lib/format.js';
import { fetchDevices, fetchPanels, metricOf, rangeNames, ranges } from '../lib/panel_data.js';
import { bottom, clamp, COLUMNS, MAX_HEIGHT, settle } from '../lib/grid.js';
import { PanelBody, kindNames } from '../components/panels.js';
import { PanelEditor } from '../components/panel_editor.js';

const ROW_PX = 40;
const GAP_PX = 8;
const MIN_REFRESH_MS = 5000;

function rangeFromUrl() {
  const r = new URLSearchParams(location.search).get('range');
  return r && ranges[r] ? r : null;
}

// "panels[3].query.selector" -> {index: 3, field: 'query.selector'}.
function panelError(err) {
  const m = err && err.field ? /^panels\[(\d+)\](?:\.(.*))?$/.exec(err.field) : null;
  return m ? { index: Number(m[1]), field: m[2] || '', message: err.message.replace(/^panels\[\d+\](\.[^:]*)?: /, '') } : null;
}

function newPanelId(panels) {
  let n = panels.length + 1;
  while (panels.some((p) => p.id === `p${n}`)) n += 1;
  return `p${n}`;
}

export function Dashboard({ id, me }) {
  const [board, setBoard] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [range, setRange] = useState(rangeFromUrl());
  const [data, setData] = useState({});
  const [draft, setDraft] = useState(null); // {name, description, time_range, panels} while editing
  const [editing, setEditing] = useState(null); // the panel being edited (a copy) or null
  const [saveError, setSaveError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const grid = useRef(null);
  const canWrite = me.permissions.includes('dashboards:write');
  const panels = draft ? draft.panels : board ? board.panels : [];
  const shownRange = range || (draft ? draft.time_range : board && board.time_range) || '6h';

  async function load() {
    try {
      const r = await get(`/api/v1/dashboards/${id}`);
      setBoard(r.data);
      setLoadError(null);
      return r.data;
    } catch (e) {
      setLoadError(e);
      return null;
    }
  }

  // Panel data: every query panel in one batch, status panels from the device list.
  const lastFetch = useRef(0);
  const dirty = useRef(new Set());
  const timer = useRef(null);
  const current = useRef({ panels, shownRange });
  current.current = { panels, shownRange };

  async function fetchData(only) {
    const { panels: all, shownRange: r } = current.current;
    const list = only ? all.filter((p) => only.has(p.id)) : all;
    if (!list.length) return;
    lastFetch.current = Date.now();
    const next = {};
    try {
      Object.assign(next, await fetchPanels(list, r));
    } catch (e) {
      for (const p of list) if (p.kind !== 'status') next[p.id] = { error: e.message };
    }
    await Promise.all(
      list
        .filter((p) => p.kind === 'status')
        .map((p) =>
          fetchDevices(p)
            .then((d) => (next[p.id] = d))
            .catch((e) => (next[p.id] = { error: e.message })),
        ),
    );
    setData((d) => ({ ...d, ...next }));
  }

  // Refreshes the panels marked dirty, at most once per MIN_REFRESH_MS.
  function schedule(ids) {
    for (const i of ids) dirty.current.add(i);
    if (timer.current) return;
    const wait = Math.max(500, lastFetch.current + MIN_REFRESH_MS - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      const only = new Set(dirty.current);
      dirty.current.clear();
      fetchData(only);
    }, wait);
  }

  useEffect(() => {
    setBoard(null);
    setDraft(null);
    setData({});
    load();
    return () => clearTimeout(timer.current);
  }, [id]);

  // The whole dashboard again when its panels or range change, and every minute (the range
  // slides even when nothing is pushed).
  const layoutKey = JSON.stringify(panels.map((p) => [p.id, p.kind, p.query, p.devices]));
  useEffect(() => {
    if (!panels.length) return undefined;
    fetchData();
    const every = setInterval(() => fetchData(), 60000);
    return () => clearInterval(every);
  }, [layoutKey, shownRange]);

  // Live: a sample of a panel's metric refreshes that panel; a device's status, the status grids.
  const selectors = useMemo(
    () => [...new Set(panels.filter((p) => p.query && p.query.selector).map((p) => p.query.selector))],
    [layoutKey],
  );
  useLiveSeries(selectors, (sample) => {
    const { panels: all } = current.current;
    if (!sample) return schedule(all.map((p) => p.id));
    schedule(all.filter((p) => p.query && metricOf(p.query.selector) === sample.metric).map((p) => p.id));
  });
  useLive(['devices', 'dashboards'], (msg) => {
    const { panels: all } = current.current;
    if (msg.type === 'reload') return schedule(all.map((p) => p.id));
    if (msg.type === 'device_status') schedule(all.filter((p) => p.kind === 'status').map((p) => p.id));
    if (msg.type === 'dashboard' && String(msg.data.id) === String(id)) {
      if (msg.data.deleted) {
        setNotice(`${msg.data.by || 'Someone'} deleted this dashboard.`);
      } else if (board && msg.data.version > board.version) {
        if (draft) setNotice(`${msg.data.by || 'Someone'} saved this dashboard while you were editing it: saving will be refused; reload to see their change.`);
        else load();
      }
    }
  });

  function pickRange(r) {
    setRange(r);
    const url = new URL(location.href);
    url.searchParams.set('range', r);
    history.replaceState(null, '', url.pathname + url.search);
  }

  function startEdit() {
    setDraft({
      name: board.name,
      description: board.description,
      time_range: board.time_range,
      is_default: board.is_default,
      panels: board.panels.map((p) => ({ ...p })),
    });
    setSaveError(null);
    setNotice(null);
  }

  function updatePanels(next, fixedId) {
    setDraft((d) => ({ ...d, panels: fixedId ? settle(next, fixedId) : next }));
  }

  function placePanel(p, changes) {
    const moved = { ...p, ...changes };
    moved.w = clamp(moved.w, 1, COLUMNS);
    moved.x = clamp(moved.x, 0, COLUMNS - moved.w);
    moved.h = clamp(moved.h, 1, MAX_HEIGHT);
    moved.y = Math.max(0, moved.y);
    updatePanels(
      current.current.panels.map((q) => (q.id === p.id ? moved : q)),
      p.id,
    );
  }

  // Dragging a panel's move or resize handle: the pointer's offset in grid cells.
  function startDrag(e, p, mode) {
    if (e.button !== 0) return;
    e.preventDefault();
    const box = grid.current.getBoundingClientRect();
    const col = (box.width + GAP_PX) / COLUMNS;
    const row = ROW_PX + GAP_PX;
    const start = { x: e.clientX, y: e.clientY };
    const handle = e.currentTarget;
    handle.setPointerCapture(e.pointerId);
    const move = (ev) => {
      const dx = Math.round((ev.clientX - start.x) / col);
      const dy = Math.round((ev.clientY - start.y) / row);
      if (mode === 'move') placePanel(p, { x: p.x + dx, y: p.y + dy });
      else placePanel(p, { w: p.w + dx, h: p.h + dy });
    };
    const up = () => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
      handle.removeEventListener('pointercancel', up);
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
    handle.addEventListener('pointercancel', up);
  }

  function keyDrag(e, p, mode) {
    const d = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
    if (!d) return;
    e.preventDefault();
    if (mode === 'move') placePanel(p, { x: p.x + d[0], y: p.y + d[1] });
    else placePanel(p, { w: p.w + d[0], h: p.h + d[1] });
  }

  function addPanel() {
    const y = bottom(draft.panels);
    setEditing({
      id: newPanelId(draft.panels),
      title: '',
      kind: 'timeseries',
      x: 0,
      y,
      w: 6,
      h: 6,
      query: { selector: '', fn: null, agg: null, group: null, by: [], topk: null, scale: 1 },
      devices: null,
      unit: '',
      min: null,
      max: null,
      thresholds: [],
      isNew: true,
    });
  }

  function applyPanel(p) {
    const { isNew, ...panel } = p;
    const next = isNew ? [...draft.panels, panel] : draft.panels.map((q) => (q.id === panel.id ? panel : q));
    updatePanels(next, panel.id);
    setEditing(null);
    setSaveError(null);
    // Shown at once, before the save.
    fetchDataFor(panel);
  }

  async function fetchDataFor(panel) {
    try {
      const next = panel.kind === 'status' ? { [panel.id]: await fetchDevices(panel) } : await fetchPanels([panel], shownRange);
      setData((d) => ({ ...d, ...next }));
    } catch (e) {
      setData((d) => ({ ...d, [panel.id]: { error: e.message } }));
    }
  }

  async function save() {
    setBusy(true);
    setSaveError(null);
    try {
      const r = await put(`/api/v1/dashboards/${id}`, { ...draft, version: board.version });
      setBoard(r.data);
      setDraft(null);
      setNotice(null);
    } catch (e) {
      setSaveError(e);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!window.confirm(`Delete the dashboard “${board.name}”? This cannot be undone.`)) return;
    try {
      await del(`/api/v1/dashboards/${id}`);
      navigate('/dashboards');
    } catch (e) {
      setSaveError(e);
    }
  }

  if (loadError) {
    return html`<section class="page"><h1>Dashboard</h1>
      <p class="error" role="alert">${loadError.status === 404 ? 'There is no such dashboard (it may have been deleted).' : sentence(loadError.message)}</p>
      <p><a href="/dashboards">All dashboards</a></p></section>`;
  }
  if (!board) return html`<section class="page"><h1>Dashboard</h1><p class="muted">Loading…</p></section>`;

  const perr = panelError(saveError);
  const errPanel = perr ? draft && draft.panels[perr.index] : null;
  const field = saveError && saveError.field;

  return html`<section class=${'page dashboard' + (draft ? ' editing' : '')}>
    <div class="dash-head">
      ${draft
        ? html`<div class="field dash-name">
            <label for="dash-name">Dashboard name</label>
            <input id="dash-name" value=${draft.name} onInput=${(e) => setDraft({ ...draft, name: e.currentTarget.value })}
              aria-invalid=${field === 'name' ? 'true' : undefined} aria-describedby=${field === 'name' ? 'dash-name-error' : undefined} />
            ${field === 'name' && html`<span class="field-error" id="dash-name-error">${sentence(saveError.message.replace(/^name: /, ''))}</span>`}
          </div>`
        : html`<h1>${board.name}${board.is_default ? html` <span class="badge">default</span>` : ''}</h1>`}
      <div class="toolbar">
        <label class="inline" for="dash-range">Range</label>
        <select id="dash-range" value=${shownRange} onChange=${(e) => pickRange(e.currentTarget.value)}>
          ${Object.entries(rangeNames).map(([v, n]) => html`<option value=${v}>${n}</option>`)}
        </select>
        ${!draft && html`<button type="button" onClick=${() => fetchData()}>Refresh</button>`}
        ${!draft && canWrite && html`<button type="button" class="primary" onClick=${startEdit}>Edit</button>`}
        ${draft &&
        html`<button type="button" onClick=${addPanel}>Add panel</button>
          <button type="button" class="primary" disabled=${busy} onClick=${save}>Save</button>
          <button type="button" onClick=${() => { setDraft(null); setEditing(null); setSaveError(null); }}>Cancel</button>
          <button type="button" class="danger" onClick=${remove}>Delete dashboard</button>`}
      </div>
    </div>
    ${draft
      ? html`<div class="dash-meta grid-form">
          <div class="field">
            <label for="dash-desc">Description</label>
            <input id="dash-desc" value=${draft.description} onInput=${(e) => setDraft({ ...draft, description: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label for="dash-default-range">Range it opens with</label>
            <select id="dash-default-range" value=${draft.time_range} onChange=${(e) => setDraft({ ...draft, time_range: e.currentTarget.value })}>
              ${Object.entries(rangeNames).map(([v, n]) => html`<option value=${v}>${n}</option>`)}
            </select>
          </div>
          <label class="check"><input type="checkbox" checked=${draft.is_default} onChange=${(e) => setDraft({ ...draft, is_default: e.currentTarget.checked })} /> The organization's default dashboard</label>
          <p class="muted">Drag a panel by its ✥ handle, resize it by its ◢ handle, or focus a handle and use the arrow keys.</p>
        </div>`
      : board.description && html`<p class="muted">${board.description}</p>`}
    ${notice && html`<p class="notice" role="status">${notice} <button type="button" class="link" onClick=${() => { setDraft(null); setNotice(null); load(); }}>Reload</button></p>`}
    ${saveError && !perr && field !== 'name' &&
    html`<p class="error" role="alert">${sentence(saveError.message)}${saveError.status === 409 && html` <button type="button" class="link" onClick=${() => { setDraft(null); setSaveError(null); load(); }}>Reload</button>`}</p>`}
    ${perr && html`<p class="error" role="alert">Panel “${(errPanel && errPanel.title) || `#${perr.index + 1}`}”: ${sentence(perr.message)}
      ${errPanel && html` <button type="button" class="link" onClick=${() => setEditing({ ...errPanel })}>Edit it</button>`}</p>`}
    ${editing &&
    html`<${PanelEditor}
      key=${editing.id}
      panel=${editing}
      error=${perr && errPanel && errPanel.id === editing.id ? { field: perr.field, message: perr.message } : null}
      onApply=${applyPanel}
      onCancel=${() => setEditing(null)}
    />`}
    ${panels.length === 0
      ? html`<p class="empty">This dashboard has no panels yet.${canWrite && !draft ? ' Edit it to add some.' : ''}</p>`
      : html`<div class="dash-grid" ref=${grid}>
          ${panels.map(
            (p) => html`<section
              key=${p.id}
              class=${'panel panel-' + p.kind}
              aria-labelledby=${`panel-${p.id}-title`}
              style=${{ gridColumn: `${p.x + 1} / span ${p.w}`, gridRow: `${p.y + 1} / span ${p.h}` }}
            >
              <header class="panel-head">
                <h2 id=${`panel-${p.id}-title`}>${p.title || kindNames[p.kind]}</h2>
                ${draft &&
                html`<div class="panel-tools">
                  <button type="button" class="handle" aria-label=${`Move “${p.title || p.id}” (column ${p.x + 1}, row ${p.y + 1}): drag, or arrow keys`}
                    onPointerDown=${(e) => startDrag(e, p, 'move')} onKeyDown=${(e) => keyDrag(e, p, 'move')}>✥</button>
                  <button type="button" onClick=${() => setEditing({ ...p })}>Edit</button>
                  <button type="button" onClick=${() => updatePanels(draft.panels.filter((q) => q.id !== p.id))}>Remove</button>
                </div>`}
              </header>
              <div class="panel-body"><${PanelBody} panel=${p} result=${data[p.id]} /></div>
              ${draft &&
              html`<button type="button" class="handle resize" aria-label=${`Resize “${p.title || p.id}” (${p.w} columns by ${p.h} rows): drag, or arrow keys`}
                onPointerDown=${(e) => startDrag(e, p, 'resize')} onKeyDown=${(e) => keyDrag(e, p, 'resize')}>◢</button>`}
            </section>`,
          )}
        </div>`}
    <p class="muted dash-foot">Saved by ${board.updated_by || 'NetPulse'} · ${formatTime(board.updated_at)} · version ${board.version}</p>
  </section>`;
}

