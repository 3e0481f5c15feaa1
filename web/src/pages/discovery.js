// Discovery (/devices/discovery): scan a range with ICMP and SNMP (POST /api/v1/discovery), follow
// each job's progress, and go through what it found: every host with its sysName, sysDescr and the
// device it proposes (name, type, vendor, the parents LLDP suggests). Accepting the selected hosts
// adds them in one CSV import (all or nothing, every issue by line shown), with the SNMP set that
// answered and, when asked, their proposed parent links; rejecting hides a host from the job's
// list in this browser. Jobs live in the server's memory (the last 20 per organization).
// docs/pollers.md "Discovery".
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { del, get, post, postText } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { formatCount, formatTime, sentence } from '../lib/format.js';
import { labelled } from '../components/field.js';
import { proposalsCsv } from '../lib/discovery_csv.js';
import { snmpBody } from '../lib/snmp.js';
import { useSelection } from '../lib/selection.js';
import { useApi } from '../lib/use_api.js';

const authProtocols = ['none', 'MD5', 'SHA', 'SHA-224', 'SHA-256', 'SHA-384', 'SHA-512'];
const privProtocols = ['none', 'DES', 'AES', 'AES-128', 'AES-192', 'AES-256'];

// The credential sets of the scans started in this tab, by job id: the secrets are needed again
// to add the devices, and the server never gives them back. Memory only: a reload forgets them.
const sentCredentials = new Map();

const blankSet = () => ({ version: '2c', port: '161', community: '', user: '', auth_protocol: 'SHA', auth_password: '', priv_protocol: 'AES', priv_password: '' });

function CredentialSet({ index, value, onChange, onRemove, message }) {
  const set = (k) => (e) => onChange({ ...value, [k]: e.currentTarget.value });
  const id = (k) => `disc-${index}-${k}`;
  const field = (k, label, control) => labelled(id(k), label, null, control);
  return html`<fieldset class="snmp" aria-describedby=${message ? id('error') : undefined}>
    <legend>SNMP set ${index + 1}</legend>
    ${field('version', 'Version', (a) => html`<select ...${a} value=${value.version} onChange=${set('version')}><option value="1">v1</option><option value="2c">v2c</option><option value="3">v3</option></select>`)}
    ${field('port', 'Port', (a) => html`<input ...${a} type="number" min="1" max="65535" value=${value.port} onInput=${set('port')} />`)}
    ${value.version === '3'
      ? html`${field('user', 'User', (a) => html`<input ...${a} value=${value.user} autocomplete="off" onInput=${set('user')} />`)}
          ${field('auth_protocol', 'Authentication', (a) => html`<select ...${a} value=${value.auth_protocol} onChange=${set('auth_protocol')}>${authProtocols.map((p) => html`<option value=${p}>${p}</option>`)}</select>`)}
          ${field('auth_password', 'Authentication password', (a) => html`<input ...${a} type="password" autocomplete="off" value=${value.auth_password} onInput=${set('auth_password')} />`)}
          ${field('priv_protocol', 'Privacy', (a) => html`<select ...${a} value=${value.priv_protocol} onChange=${set('priv_protocol')}>${privProtocols.map((p) => html`<option value=${p}>${p}</option>`)}</select>`)}
          ${field('priv_password', 'Privacy password', (a) => html`<input ...${a} type="password" autocomplete="off" value=${value.priv_password} onInput=${set('priv_password')} />`)}`
      : field('community', 'Community', (a) => html`<input ...${a} type="password" autocomplete="off" value=${value.community} onInput=${set('community')} />`)}
    ${onRemove && html`<div class="toolbar"><button type="button" onClick=${onRemove}>Remove SNMP set ${index + 1}</button></div>`}
    ${message && html`<span class="field-error" id=${id('error')}>${message}</span>`}
  </fieldset>`;
}

function NewScan({ onStarted }) {
  const [cidr, setCidr] = useState('');
  const [icmp, setIcmp] = useState(true);
  const [timeout, setTimeoutMs] = useState('1000');
  const [sets, setSets] = useState([blankSet()]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const place = error && error.field ? error.field.replace(/^snmp\[(\d+)\].*$/, 'snmp-$1') : null;
  const message = (f) => (place === f ? sentence(error.message) : null);

  async function submit(e) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const used = sets.map(snmpBody);
      const r = await post('/api/v1/discovery', { cidr: cidr.trim(), icmp, timeout_ms: Number(timeout), snmp: used });
      sentCredentials.set(r.data.id, used);
      onStarted(r.data);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return html`<form class="card grid-form" onSubmit=${submit} aria-labelledby="disc-new">
    <h2 id="disc-new">Scan a range</h2>
    ${labelled('disc-cidr', 'Range (CIDR: IPv4 up to /20, IPv6 up to /120)', message('cidr'), (a) => html`<input ...${a} value=${cidr} required placeholder="10.20.0.0/24" onInput=${(e) => setCidr(e.currentTarget.value)} />`)}
    ${labelled('disc-timeout', 'Timeout per address (ms)', message('timeout_ms'), (a) => html`<input ...${a} type="number" min="100" max="10000" value=${timeout} onInput=${(e) => setTimeoutMs(e.currentTarget.value)} />`)}
    <label class="check"><input type="checkbox" checked=${icmp} onChange=${(e) => setIcmp(e.currentTarget.checked)} /> Ping first (only hosts that answer are asked over SNMP)</label>
    ${sets.map(
      (s, i) => html`<${CredentialSet} index=${i} value=${s} message=${message(`snmp-${i}`)}
        onChange=${(v) => setSets(sets.map((x, j) => (j === i ? v : x)))}
        onRemove=${sets.length > 1 ? () => setSets(sets.filter((_, j) => j !== i)) : null} />`,
    )}
    <div class="toolbar">
      <button type="button" disabled=${sets.length >= 8} onClick=${() => setSets([...sets, blankSet()])}>Add an SNMP set</button>
      <button type="submit" class="primary" disabled=${busy}>Start the scan</button>
    </div>
    ${error && !['cidr', 'timeout_ms'].includes(place) && !/^snmp-/.test(place || '') && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
  </form>`;
}

function Progress({ job }) {
  const p = job.progress;
  const done = p.scanned + p.skipped;
  return html`<span class="progress-line">
    <progress max=${p.total || 1} value=${done} aria-label=${`Scan of ${job.cidr}`}></progress>
    ${formatCount(done)} of ${formatCount(p.total)} · ${formatCount(p.answered)} answered · ${formatCount(p.snmp)} over SNMP${p.skipped ? ` · ${formatCount(p.skipped)} skipped` : ''}
  </span>`;
}

export function Discovery({ me }) {
  const { data: jobs, error, reload } = useApi('/api/v1/discovery');
  const canWrite = me.permissions.includes('devices:write');
  const running = jobs && jobs.some((j) => j.state === 'running');
  useEffect(() => {
    if (!running) return undefined;
    const t = setInterval(reload, 1000);
    return () => clearInterval(t);
  }, [running]);

  async function stop(j) {
    await del(`/api/v1/discovery/${j.id}`).catch(() => {});
    reload();
  }
  return html`<section class="page">
    <p><a href="/devices">Devices</a></p>
    <h1>Discovery</h1>
    ${canWrite && html`<${NewScan} onStarted=${(j) => navigate(`/devices/discovery/${j.id}`)} />`}
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${jobs &&
    (jobs.length === 0
      ? html`<p class="empty">No scans yet.</p>`
      : html`<table class="list">
          <caption class="sr-only">Discovery jobs, newest first</caption>
          <thead><tr><th scope="col">Range</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Started</th>${canWrite && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
          <tbody>
            ${jobs.map(
              (j) => html`<tr>
                <td><a href=${`/devices/discovery/${j.id}`}>${j.cidr}</a></td>
                <td>${j.state}</td>
                <td><${Progress} job=${j} /></td>
                <td>${formatTime(j.started_at)}</td>
                ${canWrite && html`<td>${j.state === 'running' && html`<button type="button" onClick=${() => stop(j)}>Stop<span class="sr-only"> the scan of ${j.cidr}</span></button>`}</td>`}
              </tr>`,
            )}
          </tbody>
        </table>`)}
  </section>`;
}

function rejectedKey(id) {
  return `netpulse.discovery.rejected.${id}`;
}

export function DiscoveryJob({ id, me }) {
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  const [selected, setSelected, toggle] = useSelection();
  const [rejected, setRejected] = useState(() => new Set(JSON.parse(localStorage.getItem(rejectedKey(id)) || '[]')));
  const [showRejected, setShowRejected] = useState(false);
  const [withParents, setWithParents] = useState(true);
  const [added, setAdded] = useState(new Map()); // address -> device id
  const [outcome, setOutcome] = useState(null);
  const [secrets, setSecrets] = useState(null); // the credential sets, secrets filled in
  const [addressOf, setAddressOf] = useState(new Map());
  const timer = useRef(null);
  const canWrite = me.permissions.includes('devices:write');

  async function load() {
    try {
      const r = await get(`/api/v1/discovery/${id}`);
      setJob(r.data);
      setError(null);
      if (r.data.state === 'running') timer.current = setTimeout(load, 1000);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
    get('/api/v1/topology')
      .then((r) => setAddressOf(new Map(r.data.nodes.map((n) => [n.id, n.address]))))
      .catch(() => {});
    return () => clearTimeout(timer.current);
  }, [id]);
  useEffect(() => {
    localStorage.setItem(rejectedKey(id), JSON.stringify([...rejected]));
  }, [rejected]);

  if (error) return html`<section class="page"><h1>Discovery</h1><p class="error" role="alert">${error.status === 404 ? 'There is no such scan (jobs are kept in memory: the last 20).' : sentence(error.message)}</p></section>`;
  if (!job) return html`<section class="page"><h1>Discovery</h1><p class="muted">Loading…</p></section>`;

  const sets = secrets || sentCredentials.get(id) || null;
  const usedSets = [...new Set(job.hosts.map((h) => h.snmp_credential).filter((c) => c !== null))];
  const needSecrets = !sentCredentials.has(id) && usedSets.length > 0;
  const inInventory = (h) => h.existing_device_id !== null || added.has(h.address);
  const shown = job.hosts.filter((h) => showRejected || !rejected.has(h.address));
  const open = shown.filter((h) => !inInventory(h) && !rejected.has(h.address));
  const allSelected = open.length > 0 && open.every((h) => selected.has(h.address));
  const nameOf = (idOrAddress) => {
    const h = job.hosts.find((x) => x.address === idOrAddress);
    if (h) return h.proposal.name || h.address;
    return addressOf.get(idOrAddress) ? `device ${idOrAddress} (${addressOf.get(idOrAddress)})` : `device ${idOrAddress}`;
  };

  async function accept() {
    setOutcome(null);
    const hosts = job.hosts.filter((h) => selected.has(h.address));
    const addable = new Set([...job.hosts.filter((h) => selected.has(h.address) || h.existing_device_id !== null).map((h) => h.address), ...added.keys()]);
    const csv = proposalsCsv(hosts, sets, { withParents, addressOf, addable });
    try {
      const r = await postText('/api/v1/devices/import', csv, 'text/csv');
      const next = new Map(added);
      for (const d of r.data.devices) next.set(d.address, d.id);
      setAdded(next);
      setSelected(new Set());
      setOutcome({ ok: true, text: `${formatCount(r.data.created)} device${r.data.created === 1 ? '' : 's'} added.` });
    } catch (e) {
      const issues = (e.details && e.details.issues) || [];
      setOutcome({
        ok: false,
        text: sentence(e.message),
        issues: issues.map((i) => `${hosts[i.line - 2] ? hosts[i.line - 2].address : `line ${i.line}`}${i.column ? ` (${i.column})` : ''}: ${i.message}`),
      });
    }
  }
  function reject(addresses, yes) {
    const n = new Set(rejected);
    for (const a of addresses) (yes ? n.add(a) : n.delete(a));
    setRejected(n);
    setSelected((s) => new Set([...s].filter((a) => !n.has(a))));
  }

  return html`<section class="page">
    <p><a href="/devices/discovery">All scans</a></p>
    <h1>Scan of ${job.cidr}</h1>
    <p>${job.state === 'running' ? 'Running' : job.state === 'done' ? 'Done' : 'Stopped'} · <${Progress} job=${job} /></p>
    ${needSecrets && canWrite &&
    html`<details class="card" open>
      <summary>SNMP secrets for the hosts to add</summary>
      <p class="muted">This scan was started elsewhere or before a reload: the server never gives secrets back. Fill in the sets that answered to add the hosts with SNMP.</p>
      ${(() => {
        const list = secrets || Array.from({ length: Math.max(...usedSets) + 1 }, blankSet);
        return list.map((s, i) =>
          usedSets.includes(i) ? html`<${CredentialSet} index=${i} value=${s} onChange=${(v) => setSecrets(list.map((x, j) => (j === i ? v : x)))} />` : null,
        );
      })()}
    </details>`}
    ${outcome &&
    html`<div class=${outcome.ok ? 'notice' : 'error'} role="status">${outcome.text}
      ${outcome.issues && outcome.issues.length > 0 && html`<ul>${outcome.issues.map((i) => html`<li>${i}</li>`)}</ul>`}
    </div>`}
    ${canWrite && selected.size > 0 &&
    html`<div class="toolbar bulk" role="group" aria-label="Selected hosts">
      <span>${formatCount(selected.size)} selected</span>
      <label class="check"><input type="checkbox" checked=${withParents} onChange=${(e) => setWithParents(e.currentTarget.checked)} /> With the proposed parent links</label>
      <button type="button" class="primary" onClick=${accept}>Add the selected devices</button>
      <button type="button" onClick=${() => reject([...selected], true)}>Reject the selected</button>
    </div>`}
    ${job.hosts.length === 0
      ? html`<p class="empty">${job.state === 'running' ? 'Nothing found yet.' : 'Nothing answered in this range.'}</p>`
      : html`<table class="list">
          <caption class="sr-only">Hosts found</caption>
          <thead><tr>
            ${canWrite && html`<th scope="col"><input type="checkbox" aria-label="Select every host not yet added" checked=${allSelected}
              onChange=${() => setSelected(allSelected ? new Set() : new Set(open.map((h) => h.address)))} /></th>`}
            <th scope="col">Address</th><th scope="col">Found</th><th scope="col">Proposed device</th><th scope="col">Parents</th><th scope="col">State</th>
          </tr></thead>
          <tbody>
            ${shown.map((h) => {
              const p = h.proposal;
              const parents = [...p.parents.map(nameOf), ...h.proposed_parent_addresses.map(nameOf)];
              const existing = h.existing_device_id !== null ? h.existing_device_id : added.get(h.address);
              return html`<tr class=${rejected.has(h.address) ? 'rejected' : ''}>
                ${canWrite && html`<td>${!inInventory(h) && !rejected.has(h.address) && html`<input type="checkbox" aria-label=${`Select ${h.address}`} checked=${selected.has(h.address)} onChange=${() => toggle(h.address)} />`}</td>`}
                <td><code>${h.address}</code>${h.rtt_ms !== null && html`<br /><span class="muted">${h.rtt_ms.toFixed(2)} ms</span>`}</td>
                <td>${h.sys_name || html`<span class="muted">no SNMP answer</span>`}${h.sys_descr && html`<br /><span class="muted">${h.sys_descr.slice(0, 120)}</span>`}</td>
                <td>${p.name} <span class="muted">· ${p.type}${p.vendor ? ` · ${p.vendor}` : ''}${h.snmp_credential !== null ? ` · SNMP set ${h.snmp_credential + 1}` : ''}</span></td>
                <td>${parents.length ? parents.join(', ') : html`<span class="muted">—</span>`}</td>
                <td>${existing !== undefined && existing !== null
                  ? html`<a href=${`/devices/${existing}`}>in the inventory</a>`
                  : rejected.has(h.address)
                    ? html`rejected ${canWrite && html`<button type="button" class="link" onClick=${() => reject([h.address], false)}>Restore<span class="sr-only"> ${h.address}</span></button>`}`
                    : 'new'}</td>
              </tr>`;
            })}
          </tbody>
        </table>`}
    ${rejected.size > 0 && html`<p><button type="button" class="link" onClick=${() => setShowRejected(!showRejected)}>${showRejected ? 'Hide' : 'Show'} the ${formatCount(rejected.size)} rejected</button></p>`}
  </section>`;
}
