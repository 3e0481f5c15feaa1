// A labelled input with the API's message for it beside it (aria-describedby, aria-invalid),
// so a screen reader reads the message with the field.
import { useRef } from 'preact/hooks';
import { html } from '../lib/html.js';
import { sentence } from '../lib/format.js';

let next = 0;

// The API's message for `name`, without its "name: " prefix, or null.
export function fieldMessage(error, name) {
  if (!error || error.field !== name) return null;
  const m = String(error.message || '');
  return sentence(m.startsWith(name + ': ') ? m.slice(name.length + 2) : m);
}

export function Field({ label, name, error, id, ...input }) {
  // One id for the life of the field: the label, the input and the message refer to it.
  const own = useRef(null);
  if (!own.current) own.current = `f-${name}-${(next += 1)}`;
  const fieldId = id || own.current;
  const message = fieldMessage(error, name);
  return html`<div class="field">
    <label for=${fieldId}>${label}</label>
    <input
      id=${fieldId}
      name=${name}
      aria-invalid=${message ? 'true' : undefined}
      aria-describedby=${message ? fieldId + '-error' : undefined}
      ...${input}
    />
    ${message && html`<span class="field-error" id=${fieldId + '-error'}>${message}</span>`}
  </div>`;
}

// A label, the control `control` makes (it gets the id and the aria attributes) and `message`
// beside it: for selects, text areas and inputs a page lays out itself.
export function labelled(id, label, message, control) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${control({ id, 'aria-invalid': message ? 'true' : undefined, 'aria-describedby': message ? id + '-error' : undefined })}
    ${message && html`<span class="field-error" id=${id + '-error'}>${message}</span>`}
  </div>`;
}
