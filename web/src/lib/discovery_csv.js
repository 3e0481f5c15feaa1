// The CSV that adds a discovery scan's hosts through POST /api/v1/devices/import (one request,
// all or nothing): each host's proposal, the SNMP set that answered it (with its secrets, which
// the page kept: the server never gives them back) and its parents by address.

// RFC 4180 cells.
const cell = (v) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

const columns = ['name', 'address', 'type', 'vendor', 'os', 'location', 'parents', 'snmp_version', 'snmp_port', 'snmp_community', 'snmp_user', 'snmp_auth_protocol', 'snmp_auth_password', 'snmp_priv_protocol', 'snmp_priv_password'];

// The CSV that adds `hosts`: their proposals, the SNMP set that answered (secrets from `sets`),
// and parents by address (existing devices by their address, other hosts of the scan when they
// are added too or already in the inventory).
export function proposalsCsv(hosts, sets, { withParents, addressOf, addable }) {
  const lines = [columns.join(',')];
  for (const h of hosts) {
    const p = h.proposal;
    const parents = withParents
      ? [...p.parents.map((id) => addressOf.get(id)).filter(Boolean), ...h.proposed_parent_addresses.filter((a) => addable.has(a))]
      : [];
    const cred = h.snmp_credential !== null && sets ? sets[h.snmp_credential] : null;
    const snmp = cred
      ? [cred.version, cred.port, cred.community || '', cred.user || '', cred.auth_protocol || '', cred.auth_password || '', cred.priv_protocol || '', cred.priv_password || '']
      : ['', '', '', '', '', '', '', ''];
    if (cred && cred.version !== '3') snmp.splice(3, 5, '', '', '', '', '');
    lines.push([p.name, h.address, p.type, p.vendor, p.os, p.location, [...new Set(parents)].join(';'), ...snmp].map(cell).join(','));
  }
  return lines.join('\n') + '\n';
}

