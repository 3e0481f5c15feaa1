// Add or edit a device: its facts, where it sits (tags, groups, parents), how it is polled, and
// its SNMP v1 / v2c / v3 credentials, which "Test SNMP" tries before saving (a one-address
// discovery job with these credentials: the agent's sysName and sysDescr, or why it did not
// answer). The server checks every field and its message comes back beside the field it names.
// On an edit, secrets are never shown; one left empty keeps the stored one.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get, patch, post } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { sentence } from '../lib/format.js';
import { labelled } from '../components/field.js';
import { snmpBody } from '../lib/snmp.js';

const types = { router: 'Router', switch: 'Switch', olt: 'OLT', server: 'Server', cpe: 'CPE', ap: 'Access point', other: 'Other' };
const auths = ['none', 'MD5', 'SHA', 'SHA-224', 'SHA-256', 'SHA-384', 'SHA-512'];
const privs = ['none', 'DES', 'AES', 'AES-192', 'AES-256'];

const blank = {
  name: '',
  address: '',
  type: 'router',
  vendor: '',
  model: '',
  location: '',
  tags: '',
  groups: '',
  parents: [],
  enabled: true,
  poll_interval_s: '60',
  snmp_version: '',
  snmp_port: '161',
  community: '',
  user: '',
  auth_protocol: 'SHA',
  auth_password: '',
  priv_protocol: 'AES',
  priv_password: '',
  context: '',
};

function fromDevice(d) {
  const s = d.snmp || {};
  return {
    ...blank,
    name: d.name,
    address: d.address,
    type: d.type,
    vendor: d.vendor || '',
    model: d.model || '',
    location: d.location || '',
    tags: d.tags.join(', '),
    groups: d.groups.join(', '),
    parents: d.parents,
    enabled: d.enabled,
    poll_interval_s: String(d.poll_interval_s),
    snmp_version: s.version || '',
    snmp_port: String(s.port || 161),
    user: s.user || '',
    auth_protocol: s.auth_protocol || 'SHA',
    priv_protocol: s.priv_protocol || 'AES',
    context: s.context || '',
  };
}

// The snmp object of a body, or null (none). Secrets left empty are left out (kept on an edit).
function snmpOf(f) {
  if (!f.snmp_version) return null;
  return snmpBody({ ...f, version: f.snmp_version, port: f.snmp_port });
}

const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);

// "Test SNMP": a discovery job of this one address with these credentials, followed until done.
async function testSnmp(address, snmp) {
  const v6 = address.includes(':');
  if (!/^[0-9.]+$/.test(address) && !v6) throw new Error('the test needs the device’s IP address');
  const job = await post('/api/v1/discovery', { cidr: `${address}/${v6 ? 128 : 32}`, icmp: false, snmp: [snmp], timeout_ms: 2000 });
  const deadline = Date.now() + 20000;
  let j = job.data;
  while (j.state === 'running' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 400));
    j = (await get(`/api/v1/discovery/${job.data.id}`)).data;
  }
  const host = (j.hosts || []).find((h) => h.snmp_credential === 0);
  return host ? { ok: true, sys_name: host.sys_name, sys_descr: host.sys_descr, vendor: host.proposal.vendor, os: host.proposal.os } : { ok: false };
}

export function DeviceForm({ id }) {
  const editing = Boolean(id);
  const [f, setF] = useState(editing ? null : blank);
  const [devices, setDevices] = useState([]);
  const [error, setError] = useState(null);
  const [test, setTest] = useState(null); // {busy} | {ok, ...} | {error}
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (editing) {
      get(`/api/v1/devices/${id}`)
        .then((r) => setF(fromDevice(r.data)))
        .catch(setError);
    }
    get('/api/v1/devices?per_page=500&sort=name')
      .then((r) => setDevices(r.data.filter((d) => String(d.id) !== String(id))))
      .catch(() => {});
  }, [id]);

  if (!f) {
    return html`<section class="page"><h1>Edit device</h1>${error ? html`<p class="error" role="alert">${sentence(error.message)}</p>` : html`<p class="muted">Loading…</p>`}</section>`;
  }

  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value });
  const at = error && error.field ? error.field.replace(/\[\d+\]$/, '') : null;
  const msg = (k) => (at === k ? sentence(error.message.replace(/^[^:]*: /, '')) : null);
  const input = (label, k, field = k, extra = {}) =>
    labelled(`dv-${k}`, label, msg(field), (a) => html`<input ...${a} value=${f[k]} onInput=${set(k)} ...${extra} />`);
  const select = (label, k, options, field = k) =>
    labelled(`dv-${k}`, label, msg(field), (a) => html`<select ...${a} value=${f[k]} onChange=${set(k)}>
      ${Object.entries(options).map(([v, n]) => html`<option value=${v}>${n}</option>`)}
    </select>`);

  async function save(e) {
    e.preventDefault();
    setError(null);
    const interval = Number(f.poll_interval_s);
    const body = {
      name: f.name.trim(),
      address: f.address.trim(),
      type: f.type,
      vendor: f.vendor.trim(),
      model: f.model.trim(),
      location: f.location.trim(),
      tags: list(f.tags),
      groups: list(f.groups),
      parents: f.parents.map(Number),
      enabled: f.enabled,
      poll_interval_s: Number.isInteger(interval) ? interval : f.poll_interval_s,
      snmp: snmpOf(f),
    };
    setBusy(true);
    try {
      const r = editing ? await patch(`/api/v1/devices/${id}`, body) : await post('/api/v1/devices', body);
      navigate(`/devices/${r.data.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function runTest() {
    const snmp = snmpOf(f);
    if (!snmp) return setTest({ error: 'choose an SNMP version first' });
    setTest({ busy: true });
    try {
      setTest(await testSnmp(f.address.trim(), snmp));
    } catch (err) {
      // The server's message for the credentials ("snmp.community: ...") goes beside the field.
      if (err.field && err.field.startsWith('snmp')) setError(err);
      setTest({ error: err.message });
    }
  }

  const v3 = f.snmp_version === '3';
  const known = ['name', 'address', 'type', 'vendor', 'model', 'location', 'tags', 'groups', 'parents', 'poll_interval_s', 'snmp.version', 'snmp.port', 'snmp.community', 'snmp.user', 'snmp.auth_protocol', 'snmp.auth_password', 'snmp.priv_protocol', 'snmp.priv_password', 'snmp.context'];
  return html`<section class="page">
    <p><a href=${editing ? `/devices/${id}` : '/devices'}>${editing ? '← The device' : '← Devices'}</a></p>
    <h1>${editing ? `Edit ${f.name}` : 'Add a device'}</h1>
    <form class="card grid-form" onSubmit=${save} aria-labelledby="dv-facts">
      <h2 id="dv-facts">The device</h2>
      ${input('Name', 'name', 'name', { required: true })}
      ${input('Address (IP or host name)', 'address', 'address', { required: true, spellcheck: false })}
      ${select('Type', 'type', types)}
      ${input('Vendor', 'vendor')}
      ${input('Model', 'model')}
      ${input('Location', 'location')}
      ${input('Tags (comma-separated)', 'tags')}
      ${input('Groups (comma-separated)', 'groups')}
      ${labelled('dv-parents', 'Reached through (parents; Ctrl-click for several)', msg('parents'), (a) => html`<select ...${a} multiple size="4"
        onChange=${(e) => setF({ ...f, parents: [...e.currentTarget.selectedOptions].map((o) => Number(o.value)) })}>
        ${devices.map((d) => html`<option value=${d.id} selected=${f.parents.includes(d.id)}>${d.name} (${d.address})</option>`)}
      </select>`)}
      ${input('Poll every (seconds)', 'poll_interval_s', 'poll_interval_s', { inputmode: 'numeric' })}
      <label class="check"><input type="checkbox" checked=${f.enabled} onChange=${set('enabled')} /> Polled (enabled)</label>
      <fieldset class="snmp">
        <legend>SNMP</legend>
        ${select('Version', 'snmp_version', { '': 'No SNMP', 1: 'v1', '2c': 'v2c', 3: 'v3' }, 'snmp.version')}
        ${f.snmp_version && input('Port', 'snmp_port', 'snmp.port', { inputmode: 'numeric' })}
        ${(f.snmp_version === '1' || f.snmp_version === '2c') &&
        input(editing ? 'Community (empty: keep the stored one)' : 'Community', 'community', 'snmp.community', { type: 'password', autocomplete: 'off' })}
        ${v3 &&
        html`${input('User', 'user', 'snmp.user', { autocomplete: 'off' })}
          ${select('Authentication', 'auth_protocol', Object.fromEntries(auths.map((x) => [x, x])), 'snmp.auth_protocol')}
          ${f.auth_protocol !== 'none' && input(editing ? 'Authentication password (empty: keep)' : 'Authentication password', 'auth_password', 'snmp.auth_password', { type: 'password', autocomplete: 'off' })}
          ${select('Privacy', 'priv_protocol', Object.fromEntries(privs.map((x) => [x, x])), 'snmp.priv_protocol')}
          ${f.priv_protocol !== 'none' && input(editing ? 'Privacy password (empty: keep)' : 'Privacy password', 'priv_password', 'snmp.priv_password', { type: 'password', autocomplete: 'off' })}
          ${input('Context (optional)', 'context', 'snmp.context')}`}
        ${f.snmp_version &&
        html`<div class="toolbar">
          <button type="button" onClick=${runTest} disabled=${test && test.busy}>Test SNMP</button>
          <span role="status">
            ${test && test.busy && 'Asking the agent…'}
            ${test && test.ok === true && html`<span class="ok">The agent answers: ${test.sys_name || 'no sysName'}</span> <span class="muted">${test.sys_descr}</span>
              ${(test.vendor || test.os) && html` <button type="button" class="link" onClick=${() => setF({ ...f, vendor: test.vendor || f.vendor, model: f.model, name: f.name || test.sys_name })}>Use its vendor</button>`}`}
            ${test && test.ok === false && html`<span class="error">No answer with these credentials (wrong community, user or password, or nothing listening).</span>`}
            ${test && test.error && html`<span class="error">${sentence(test.error)}</span>`}
          </span>
        </div>`}
      </fieldset>
      ${error && !known.includes(at) && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
      <div class="toolbar"><button type="submit" class="primary" disabled=${busy}>${editing ? 'Save' : 'Add device'}</button></div>
    </form>
  </section>`;
}
