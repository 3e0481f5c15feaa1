// The real binary for the browser tests: `netpulse serve` on 127.0.0.1 with a port of its own
// choosing and a fresh data directory, an administrator, and the rate limits of a new install
// (the UI must live within them: a 429 fails a test, web/tests/support/browser.mjs). Stopped by
// its PID only.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const adminEmail = 'admin@netpulse.local';
export const adminPassword = 'browser-admin-pw-1';

export function binary() {
  const b = process.env.NETPULSE_BINARY;
  if (!b) throw new Error('NETPULSE_BINARY must name the netpulse binary to test');
  return b;
}

export class Server {
  constructor(env = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'netpulse-web-'));
    this.env = env;
    this.log = join(this.dir, 'server.log');
  }

  async start() {
    const before = this.output().length;
    const out = openSync(this.log, 'a');
    this.proc = spawn(binary(), ['serve'], {
      env: {
        PATH: process.env.PATH,
        NETPULSE_STORAGE_DATA_DIR: this.dir,
        NETPULSE_HTTP_LISTEN: this.port ? `127.0.0.1:${this.port}` : '127.0.0.1:0',
        NETPULSE_POLLERS_TRAPS_LISTEN: '127.0.0.1:0',
        NETPULSE_ADMIN_PASSWORD: adminPassword,
        NETPULSE_HTTP_SHUTDOWN_GRACE_MS: '2000',
        ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? '',
        ...this.env,
      },
      stdio: ['ignore', out, out],
    });
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      const m = /netpulse: listening on (https?:\/\/[^\s]+:(\d+))/.exec(
        this.output().slice(before),
      );
      if (m) {
        this.port = Number(m[2]);
        this.url = `http://127.0.0.1:${this.port}`;
        return this;
      }
      if (this.proc.exitCode !== null) {
        throw new Error(`netpulse exited during start-up:\n${this.output().slice(before)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`netpulse did not listen within 60 s:\n${this.output()}`);
  }

  output() {
    try {
      return readFileSync(this.log, 'utf8');
    } catch {
      return '';
    }
  }

  // SIGTERM and wait for the exit (SIGKILL after 20 s).
  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 20000);
    await exited;
    clearTimeout(timer);
  }

  async dispose() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // One API call as `token` (or none): {status, body}.
  async api(method, path, body, token) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  // A threshold rule "<metric> high" (> 90, for_s 0) and a sample of 95 from host core-1 pushed
  // with an api_user key: one firing alert.
  async raiseAlert(token, metric, severity = 'critical') {
    const rule = await this.api(
      'POST',
      '/api/v1/alert-rules',
      {
        name: `${metric} high`,
        kind: 'threshold',
        selector: metric,
        condition: { op: '>', value: 90 },
        for_s: 0,
        severity,
      },
      token,
    );
    if (rule.status !== 201) throw new Error(`rule: ${JSON.stringify(rule.body)}`);
    if (!this.ingestKey) {
      const key = await this.api('POST', '/api/v1/api-keys', { name: 'ingest', role: 'api_user' }, token);
      if (key.status !== 201) throw new Error(`key: ${JSON.stringify(key.body)}`);
      this.ingestKey = key.body.data.key;
    }
    const now = Math.floor(Date.now() / 1000);
    const res = await fetch(`${this.url}/api/v2/write?precision=s`, {
      method: 'POST',
      headers: { Authorization: `Token ${this.ingestKey}`, 'Content-Type': 'text/plain' },
      body: `${metric},host=core-1 value=95 ${now - 1}\n`,
    });
    if (res.status !== 204) throw new Error(`write: ${res.status} ${await res.text()}`);
  }

  async token(email = adminEmail, password = adminPassword) {
    const r = await this.api('POST', '/api/v1/auth/login', { email, password });
    if (r.status !== 200) throw new Error(`login as ${email}: ${JSON.stringify(r.body)}`);
    return r.body.data.access_token;
  }
}
