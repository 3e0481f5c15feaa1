// A network of devices that can really fail, for the map's browser test (as root: it makes a
// network namespace). The same design as tests/support/netns_topology.hpp, smaller: a core with
// `dists` distribution devices and `cpe` customer devices behind each. One veth pair leads from
// our namespace into the test's, the core's address on its far end; each distribution device's
// interface inside the namespace holds its address and its CPE's, and our side routes the /24
// through the core's link. Setting the far end of that link down makes every address stop
// answering: the core is down, everything behind it unreachable.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function ip(...args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

// Why this machine cannot make a namespace, or null when it can (the probe's is removed again).
// NETPULSE_TEST_WITHOUT=netns makes the answer "excluded by NETPULSE_TEST_WITHOUT", as the C++
// suites' probes do (tests/support/catch_main.cpp).
export function netnsUnavailable() {
  if ((process.env.NETPULSE_TEST_WITHOUT || '').split(',').includes('netns')) {
    return 'excluded by NETPULSE_TEST_WITHOUT';
  }
  if (!existsSync('/usr/bin/ip') && !existsSync('/sbin/ip')) return 'iproute2 is not installed';
  const probe = `np-probe-${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return null;
  } catch (e) {
    return `ip netns add: ${String(e.stderr || e.message).trim()}`;
  }
}

// Namespaces "np-web-<pid>" whose test process is gone (killed before it cleaned up).
function removeStale() {
  let list = '';
  try {
    list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const m = /^np-web-(\d+)/.exec(line);
    if (!m || existsSync(`/proc/${m[1]}`)) continue;
    try {
      ip('link', 'del', `npw${m[1]}`);
    } catch {
      // already gone with its namespace
    }
    try {
      ip('netns', 'del', `np-web-${m[1]}`);
    } catch {
      // already gone
    }
  }
}

export class NetnsTopology {
  constructor({ dists = 3, cpe = 4 } = {}) {
    removeStale();
    const tag = String(process.pid);
    this.ns = `np-web-${tag}`;
    this.hostIf = `npw${tag}`;
    this.coreIf = `npx${tag}`;
    const octet = String((process.pid % 200) + 20);
    this.hostIp = `10.236.${octet}.1`;
    this.coreLinkIp = `10.236.${octet}.2`;
    this.net = `10.237.${octet}.`;
    this.subnet = `${this.net}0/24`;
    this.coreIp = `${this.net}1`;
    this.distIps = [];
    this.cpeIps = [];
    for (let d = 0; d < dists; d++) {
      const base = 20 * (d + 1);
      this.distIps.push(`${this.net}${base}`);
      this.cpeIps.push(Array.from({ length: cpe }, (_, c) => `${this.net}${base + c + 1}`));
    }
  }

  create() {
    const inNs = (...args) => ip('netns', 'exec', this.ns, 'ip', ...args);
    ip('netns', 'add', this.ns);
    ip('link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.coreIf);
    ip('link', 'set', this.coreIf, 'netns', this.ns);
    ip('addr', 'add', `${this.hostIp}/30`, 'dev', this.hostIf);
    ip('link', 'set', this.hostIf, 'up');
    inNs('link', 'set', 'lo', 'up');
    inNs('addr', 'add', `${this.coreLinkIp}/30`, 'dev', this.coreIf);
    inNs('addr', 'add', `${this.coreIp}/32`, 'dev', this.coreIf);
    inNs('link', 'set', this.coreIf, 'up');
    ip('route', 'add', this.subnet, 'via', this.coreLinkIp);
    this.distIps.forEach((addr, d) => {
      const dev = `npd${d}`;
      inNs('link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`);
      inNs('addr', 'add', `${addr}/32`, 'dev', dev);
      for (const c of this.cpeIps[d]) inNs('addr', 'add', `${c}/32`, 'dev', dev);
      inNs('link', 'set', `${dev}p`, 'up');
      inNs('link', 'set', dev, 'up');
    });
    return this;
  }

  // The core's link down (nothing answers) or up again.
  setCoreLink(up) {
    ip('netns', 'exec', this.ns, 'ip', 'link', 'set', this.coreIf, up ? 'up' : 'down');
  }

  dispose() {
    for (const args of [
      ['link', 'del', this.hostIf],
      ['netns', 'del', this.ns],
    ]) {
      try {
        ip(...args);
      } catch {
        // not made, or already gone
      }
    }
  }
}
