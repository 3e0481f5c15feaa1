// htm bound to Preact: html`<div class=${c}>…</div>` without a JSX build step.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
