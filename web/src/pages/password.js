// Change one's own password. The server ends every session of the user, so sign in again.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { request } from '../lib/api.js';
import { sentence } from '../lib/format.js';
import { Field } from '../components/field.js';

export function ChangePassword({ onChanged }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(e) {
    e.preventDefault();
    if (next !== again) {
      setError({ message: 'the two new passwords differ', field: 'again' });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await request('PUT', '/api/v1/auth/password', {
        current_password: current,
        new_password: next,
      });
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return html`
    <section class="page narrow">
      <h1>Change password</h1>
      <form class="card" onSubmit=${submit}>
        <${Field}
          label="Current password"
          name="current_password"
          type="password"
          autocomplete="current-password"
          required
          value=${current}
          error=${error}
          onInput=${(e) => setCurrent(e.currentTarget.value)}
        />
        <${Field}
          label="New password"
          name="new_password"
          type="password"
          autocomplete="new-password"
          required
          value=${next}
          error=${error}
          onInput=${(e) => setNext(e.currentTarget.value)}
        />
        <${Field}
          label="New password again"
          name="again"
          type="password"
          autocomplete="new-password"
          required
          value=${again}
          error=${error}
          onInput=${(e) => setAgain(e.currentTarget.value)}
        />
        ${error && !['current_password', 'new_password', 'again'].includes(error.field) &&
        html`<p class="error" role="alert">${sentence(error.message)}</p>`}
        <p class="muted">Every session of yours ends: you sign in again with the new password.</p>
        <button type="submit" class="primary" disabled=${busy}>Change password</button>
      </form>
    </section>
  `;
}
