// A real SNMP agent for the browser tests: Debian's snmpd on a free UDP port of a loopback
// address (127.0.0.5 unless told: the tests' devices need addresses of their own) with its
// config, state and log in a temporary directory (community "public", the v3 user "shaaes" with
// SHA / AES), stopped by its PID. As tests/support/snmpd.cpp does for the C++ tests.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function freeUdpPort(address) {
  const s = createSocket('udp4');
  await new Promise((r) => s.bind(0, address, r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

export class Snmpd {
  constructor(address = '127.0.0.5') {
    this.address = address;
  }

  async start() {
    for (const tool of ['/usr/sbin/snmpd', '/usr/bin/snmpget']) {
      if (!existsSync(tool)) throw new Error(`${tool} is not installed: run scripts/bootstrap`);
    }
    this.dir = mkdtempSync(join(tmpdir(), 'netpulse-web-snmpd-'));
    this.port = await freeUdpPort(this.address);
    const conf = join(this.dir, 'snmpd.conf');
    writeFileSync(
      conf,
      [
        `agentAddress udp:${this.address}:${this.port}`,
        // Any source: the agent listens on a loopback address only.
        'rocommunity public',
        'sysName web-test-agent',
        'sysLocation rack 7, Lagos POP',
        'createUser shaaes SHA "shaaes-auth-pw" AES "shaaes-priv-pw"',
        'rouser shaaes priv',
        '',
      ].join('\n'),
    );
    this.log = join(this.dir, 'snmpd.log');
    this.proc = spawn(
      '/usr/sbin/snmpd',
      ['-f', '-C', '-c', conf, '-p', join(this.dir, 'snmpd.pid'), '-Lf', this.log, '-M', '/nonexistent', '-m', '', '-I', '-smux'],
      { env: { SNMP_PERSISTENT_DIR: join(this.dir, 'persist'), MIBS: '' }, stdio: 'ignore' },
    );
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`snmpd exited at start:\n${this.output()}`);
      const r = spawnSync('/usr/bin/snmpget', ['-v2c', '-c', 'public', '-t', '0.3', '-r', '0', '-On', `udp:${this.address}:${this.port}`, '1.3.6.1.2.1.1.3.0'], {
        env: { MIBS: '' },
        encoding: 'utf8',
      });
      if (r.status === 0) return this;
      await new Promise((res) => setTimeout(res, 100));
    }
    this.stop();
    throw new Error(`snmpd did not answer within 15 s:\n${this.output()}`);
  }

  output() {
    try {
      return readFileSync(this.log, 'utf8');
    } catch {
      return '';
    }
  }

  stop() {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGKILL');
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
