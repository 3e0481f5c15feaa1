// A page loaded on demand: its module (and what only it needs, uPlot for the charts) is a chunk of
// its own, fetched the first time the page is shown, so the first load carries the shell and the
// overview only. A chunk that cannot be fetched (the server was upgraded under the tab) says so.
import { useEffect, useState } from 'preact/hooks';
import { h } from 'preact';
import { html } from './html.js';

export function lazyPage(load, name) {
  let Page = null;
  let loading = null;
  return function LazyPage(props) {
    const [, setReady] = useState(Boolean(Page));
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (Page) return undefined;
      let gone = false;
      loading = loading || load().then((m) => (Page = m[name]));
      loading.then(
        () => !gone && setReady(true),
        () => {
          loading = null;
          if (!gone) setFailed(true);
        },
      );
      return () => {
        gone = true;
      };
    }, []);
    if (Page) return h(Page, props);
    if (failed) {
      return html`<section class="page"><p class="error" role="alert">This page could not be loaded (NetPulse may have been upgraded). <a href=${location.href}>Reload</a></p></section>`;
    }
    return html`<section class="page" aria-busy="true"><p class="muted">Loading…</p></section>`;
  };
}
