// The live feed: one WebSocket per tab (GET /api/v1/live), authenticated by its first message,
// re-authenticated when the access token is refreshed, reconnected with growing pauses, and
// resumed from the last sequence number (docs/live.md). Pages subscribe to topics; the shell
// shows the state: live, reconnecting or offline.
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentToken, onToken, refresh } from './api.js';

const topics = new Map(); // topic -> count of pages following it
const handlers = new Set();
const stateListeners = new Set();
let socket = null;
let state = 'offline'; // 'connecting' | 'live' | 'reconnecting' | 'offline'
let epoch = null;
let lastSeq = 0;
let attempts = 0;
let retryTimer = null;
let heartbeat = null;
let wanted = false;

function setState(s) {
  if (s === state) return;
  state = s;
  stateListeners.forEach((fn) => fn(s));
}

function send(msg) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
}

function subscribeAll() {
  if (topics.size) send({ type: 'subscribe', topics: [...topics.keys()] });
}

function connect() {
  clearTimeout(retryTimer);
  if (!wanted || socket) return;
  const token = currentToken();
  if (!token) return;
  setState(attempts ? 'reconnecting' : 'connecting');
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/live`);
  socket = ws;
  ws.onopen = () => send({ type: 'auth', token: currentToken() });
  ws.onmessage = (e) => {
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      return;
    }
    if (msg.seq && msg.seq > lastSeq) lastSeq = msg.seq;
    if (msg.type === 'ready') {
      const resumed = epoch === msg.epoch;
      subscribeAll();
      // A new connection follows no series yet.
      seriesSent = '';
      sendSeries();
      if (resumed) send({ type: 'resume', epoch, seq: lastSeq });
      else if (epoch !== null) handlers.forEach((fn) => fn({ type: 'reload', reason: 'new feed' }));
      epoch = msg.epoch;
      if (!resumed) lastSeq = msg.seq;
      attempts = 0;
      setState('live');
      clearInterval(heartbeat);
      heartbeat = setInterval(() => send({ type: 'ping' }), 25000);
      return;
    }
    handlers.forEach((fn) => fn(msg));
  };
  ws.onclose = (e) => {
    socket = null;
    clearInterval(heartbeat);
    if (!wanted) return setState('offline');
    attempts += 1;
    setState(attempts > 5 ? 'offline' : 'reconnecting');
    // 4001: the session ended or the token expired: refresh it first.
    const again = () => (e.code === 4001 ? refresh().then((ok) => ok && connect()) : connect());
    retryTimer = setTimeout(again, Math.min(30000, 500 * 2 ** Math.min(attempts, 6)));
  };
}

onToken((token) => {
  if (socket && socket.readyState === WebSocket.OPEN && state === 'live') {
    send({ type: 'auth', token });
  }
});

// Starts the feed (after sign-in) or stops it (sign-out).
export function startLive(on) {
  wanted = on;
  if (on) {
    attempts = 0;
    connect();
  } else {
    clearTimeout(retryTimer);
    if (socket) socket.close(1000, 'signed out');
    socket = null;
    epoch = null;
    setState('offline');
  }
}

// Follows `topicList` while the calling component is mounted; `onMessage` gets each message (and
// {type: 'reload'} when what was missed cannot be replayed).
export function useLive(topicList, onMessage) {
  const latest = useRef(onMessage);
  latest.current = onMessage;
  useEffect(() => {
    const handler = (msg) => latest.current(msg);
    for (const t of topicList) topics.set(t, (topics.get(t) || 0) + 1);
    handlers.add(handler);
    subscribeAll();
    return () => {
      handlers.delete(handler);
      for (const t of topicList) {
        const n = topics.get(t) - 1;
        if (n > 0) topics.set(t, n);
        else topics.delete(t);
      }
      // Topics no page follows any more stop.
      const gone = topicList.filter((t) => !topics.has(t));
      if (gone.length) send({ type: 'unsubscribe', topics: gone });
    };
  }, [topicList.join(',')]);
}

export function useLiveState() {
  const [s, set] = useState(state);
  useEffect(() => {
    stateListeners.add(set);
    set(state);
    return () => stateListeners.delete(set);
  }, []);
  return s;
}

// Calls `reload` at most once per `delay` ms after messages of `topicList` (a burst of alerts is
// one reload, not one per alert); `onMessage`, when given, sees every message first.
export function useLiveReload(topicList, reload, { delay = 300, onMessage } = {}) {
  const latest = useRef(reload);
  latest.current = reload;
  const timer = useRef(null);
  useEffect(() => () => clearTimeout(timer.current), []);
  useLive(topicList, (msg) => {
    if (onMessage) onMessage(msg);
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      latest.current();
    }, delay);
  });
}

// Series by selector: the selectors every mounted component follows (counted), sent to the
// server as one set; each `sample` message goes to `onSample`. The server adds selectors to a
// client's set, so a change is an unsubscribe of `series` and a subscribe of the new set.
const selectors = new Map(); // selector -> count
let seriesSent = '';

function sendSeries() {
  const list = [...selectors.keys()].slice(0, 100);
  const key = list.join('\n');
  if (key === seriesSent) return;
  if (seriesSent) send({ type: 'unsubscribe', topics: ['series'] });
  if (list.length) send({ type: 'subscribe', series: list });
  seriesSent = list.length ? key : '';
}

export function useLiveSeries(selectorList, onSample) {
  const latest = useRef(onSample);
  latest.current = onSample;
  useEffect(() => {
    for (const s of selectorList) selectors.set(s, (selectors.get(s) || 0) + 1);
    sendSeries();
    const handler = (msg) => {
      if (msg.type === 'sample') latest.current(msg.data);
      if (msg.type === 'reload') latest.current(null);
    };
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
      for (const s of selectorList) {
        const n = selectors.get(s) - 1;
        if (n > 0) selectors.set(s, n);
        else selectors.delete(s);
      }
      sendSeries();
    };
  }, [selectorList.join('\n')]);
}
