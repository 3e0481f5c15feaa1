// Devices from a CSV file (docs/devices.md, "CSV import and export"): pick a file or paste the
// text, import it all or nothing, and see every issue the server found by line and column, so
// the file can be mended and sent again. The export (the same columns, no secrets) and a template
// are a download away.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { getText, postText } from '../lib/api.js';
import { formatCount, sentence } from '../lib/format.js';

const template =
  'name,address,type,location,tags,groups,parents,enabled,poll_interval_s,snmp_version,snmp_port,snmp_community\n' +
  'core-1,10.0.0.1,router,Lagos POP,core;pe,,,true,60,2c,161,public\n' +
  'cpe-1001,10.10.0.1,cpe,,,,10.0.0.1,true,300,,,\n';

function download(name, text) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 0);
}

export function DeviceImport() {
  const [text, setText] = useState('');
  const [file, setFile] = useState('');
  const [result, setResult] = useState(null); // {created} | {issues, rows, message} | {error}
  const [busy, setBusy] = useState(false);

  async function pick(e) {
    const f = e.currentTarget.files[0];
    if (!f) return;
    setFile(f.name);
    setText(await f.text());
    setResult(null);
  }

  async function send(e) {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    try {
      const r = await postText('/api/v1/devices/import', text, 'text/csv');
      setResult({ created: r.data.created, devices: r.data.devices });
    } catch (err) {
      if (err.details && err.details.issues) setResult({ issues: err.details.issues, rows: err.details.rows, message: err.message });
      else setResult({ error: err.message });
    } finally {
      setBusy(false);
    }
  }

  async function exportAll() {
    try {
      download('devices.csv', await getText('/api/v1/devices/export'));
    } catch (err) {
      setResult({ error: err.message });
    }
  }

  const lines = text ? text.split('\n').filter((l) => l.trim()).length : 0;
  return html`<section class="page">
    <p><a href="/devices">← Devices</a></p>
    <h1>Import devices</h1>
    <p>One device a row, with a header naming the columns (name and address are required; lists take <code>;</code>; parents by address). All or nothing: a file with an issue stores nothing.
      <button type="button" class="link" onClick=${() => download('devices-template.csv', template)}>Download a template</button> ·
      <button type="button" class="link" onClick=${exportAll}>Export the devices</button></p>
    <form class="card" onSubmit=${send} aria-labelledby="imp-form">
      <h2 id="imp-form">The file</h2>
      <div class="field">
        <label for="imp-file">CSV file</label>
        <input id="imp-file" type="file" accept=".csv,text/csv" onChange=${pick} />
      </div>
      <div class="field">
        <label for="imp-text">Or paste it</label>
        <textarea id="imp-text" rows="8" spellcheck="false" value=${text} onInput=${(e) => { setText(e.currentTarget.value); setFile(''); setResult(null); }}></textarea>
      </div>
      <p class="muted">${lines ? `${formatCount(lines)} lines${file ? ` from ${file}` : ''}` : 'Nothing yet.'}</p>
      <div class="toolbar"><button type="submit" class="primary" disabled=${busy || !text.trim()}>Import</button></div>
    </form>
    ${result && result.created !== undefined &&
    html`<p class="notice" role="status">${formatCount(result.created)} devices imported. <a href="/devices">See them</a></p>`}
    ${result && result.error && html`<p class="error" role="alert">${sentence(result.error)}</p>`}
    ${result && result.issues &&
    html`<section class="card" aria-labelledby="imp-issues">
      <h2 id="imp-issues">Nothing was stored: ${formatCount(result.issues.length)} issue(s) in ${formatCount(result.rows)} rows</h2>
      <p role="alert" class="error">${sentence(result.message)}</p>
      <table class="list compact">
        <caption class="sr-only">Issues by line and column</caption>
        <thead><tr><th scope="col" class="num">Line</th><th scope="col">Column</th><th scope="col">Issue</th></tr></thead>
        <tbody>
          ${result.issues.map((i) => html`<tr><td class="num">${i.line}</td><td>${i.column || '(the row)'}</td><td>${sentence(i.message)}</td></tr>`)}
        </tbody>
      </table>
    </section>`}
  </section>`;
}
