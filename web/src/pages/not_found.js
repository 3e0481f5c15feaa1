import { html } from '../lib/html.js';

export function NotFound({ path }) {
  return html`<section class="page">
    <h1>Not found</h1>
    <p>There is no page at <code>${path}</code>. <a href="/">Back to the overview</a>.</p>
  </section>`;
}

// A section whose page is not built yet says so plainly.
export function NotYet({ title }) {
  return html`<section class="page">
    <h1>${title}</h1>
    <p class="empty">This page is not built yet. The API has it: <a href="/api/v1/openapi.json">the
      OpenAPI document</a>.</p>
  </section>`;
}
