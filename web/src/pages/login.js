// Sign in: email and password (and the organization when the account exists in several).
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { login } from '../lib/api.js';
import { sentence } from '../lib/format.js';
import { Field } from '../components/field.js';

export function Login({ onDone }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [org, setOrg] = useState('');
  const [needOrg, setNeedOrg] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(email.trim(), password, needOrg ? org.trim() : undefined);
      onDone();
    } catch (err) {
      if (err.field === 'org') setNeedOrg(true);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <main class="login" id="main">
      <form class="card" onSubmit=${submit} aria-describedby=${error ? 'login-error' : undefined}>
        <h1><img src="/favicon.svg" alt="" width="32" height="32" /> NetPulse</h1>
        <p class="muted">Sign in to monitor your network.</p>
        <${Field}
          label="Email"
          name="email"
          type="email"
          autocomplete="username"
          required
          value=${email}
          onInput=${(e) => setEmail(e.currentTarget.value)}
        />
        <${Field}
          label="Password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value=${password}
          onInput=${(e) => setPassword(e.currentTarget.value)}
        />
        ${needOrg &&
        html`<${Field}
          label="Organization"
          name="org"
          required
          value=${org}
          onInput=${(e) => setOrg(e.currentTarget.value)}
        />`}
        ${error &&
        html`<p class="error" id="login-error" role="alert">
          ${sentence(error.message)}${error.details.retry_after_s
            ? ` (try again in ${error.details.retry_after_s} s)`
            : ''}
        </p>`}
        <button type="submit" class="primary" disabled=${busy}>
          ${busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  `;
}
