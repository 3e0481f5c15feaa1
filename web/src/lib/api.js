// The API client: the access token lives in memory only; the refresh token is an HttpOnly
// cookie the browser sends to /api/v1/auth/refresh and that no script can read (docs/web.md).
// Every call goes through request(), which refreshes once on a 401 and retries.

let accessToken = null;
let refreshTimer = null;
let refreshing = null;
const listeners = new Set();

// An API error: the server's message and, when it named one, the field it refers to.
export class ApiError extends Error {
  constructor(status, body) {
    const err = body && body.error ? body.error : {};
    super(err.message || `the server answered ${status}`);
    this.status = status;
    this.code = err.code || 'HTTP_' + status;
    this.details = err.details || {};
    this.field = this.details.field || null;
  }
}

// Called with true when a session starts, false when it ends (expired, signed out).
export function onSession(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// Whether this browser may hold a session cookie: a hint (not a secret) kept beside it, so a
// signed-out page does not ask the server for a session it cannot have.
const hint = 'netpulse.session';

function setSession(token, expiresIn) {
  const had = accessToken !== null;
  accessToken = token;
  if (token) localStorage.setItem(hint, '1');
  else localStorage.removeItem(hint);
  clearTimeout(refreshTimer);
  if (token) {
    // Refresh a minute before the access token expires (at most every 10 s).
    const ms = Math.max(10, (expiresIn || 900) - 60) * 1000;
    refreshTimer = setTimeout(() => refresh().catch(() => {}), ms);
  }
  if (had !== (token !== null)) listeners.forEach((fn) => fn(token !== null));
  if (token) tokenListeners.forEach((fn) => fn(token));
}

export function signedIn() {
  return accessToken !== null;
}

// The current access token (the live feed authenticates with it), and a listener for each new
// one (after a refresh), so the feed re-authenticates without reconnecting.
export function currentToken() {
  return accessToken;
}
const tokenListeners = new Set();
export function onToken(fn) {
  tokenListeners.add(fn);
  return () => tokenListeners.delete(fn);
}

// `body`: a value sent as JSON, or {text, type} sent as it is (a CSV import).
async function send(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const init = { method, headers, credentials: 'same-origin' };
  if (body instanceof RawBody) {
    headers['Content-Type'] = body.type;
    init.body = body.text;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    // The network, not the server: no answer at all.
    throw new ApiError(0, { error: { code: 'UNREACHABLE', message: 'the server did not answer' } });
  }
  const text = res.status === 204 ? '' : await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

// Exchanges the refresh cookie for a new access token. Resolves to whether a session exists.
export function refresh() {
  if (!localStorage.getItem(hint)) return Promise.resolve(false);
  if (!refreshing) {
    refreshing = send('POST', '/api/v1/auth/refresh', {})
      .then((r) => {
        setSession(r.data.access_token, r.data.expires_in);
        return true;
      })
      .catch((e) => {
        if (e.status === 401 || e.status === 400) setSession(null);
        else throw e;
        return false;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

export async function login(email, password, org) {
  const body = { email, password, session: 'cookie' };
  if (org) body.org = org;
  const r = await send('POST', '/api/v1/auth/login', body);
  setSession(r.data.access_token, r.data.expires_in);
}

export async function logout() {
  try {
    if (accessToken) await send('POST', '/api/v1/auth/logout', {}, accessToken);
  } finally {
    setSession(null);
  }
}

// One API call with the session's token: {data, pagination, meta} as the server sent it.
export async function request(method, path, body) {
  if (!accessToken && !(await refresh())) throw new ApiError(401, null);
  try {
    return await send(method, path, body, accessToken);
  } catch (e) {
    if (e.status !== 401 || !(await refresh())) throw e;
    return send(method, path, body, accessToken);
  }
}

// A body sent as it is, with its own Content-Type.
class RawBody {
  constructor(text, type) {
    this.text = text;
    this.type = type;
  }
}

export const get = (path) => request('GET', path);
export const postText = (path, text, type) => request('POST', path, new RawBody(text, type));

// A GET whose answer is not JSON (a CSV export): its text.
export async function getText(path) {
  if (!accessToken && !(await refresh())) throw new ApiError(401, null);
  const res = await fetch(path, { headers: { Authorization: 'Bearer ' + accessToken }, credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return res.text();
}
export const post = (path, body) => request('POST', path, body ?? {});
export const put = (path, body) => request('PUT', path, body);
export const patch = (path, body) => request('PATCH', path, body);
export const del = (path) => request('DELETE', path);
