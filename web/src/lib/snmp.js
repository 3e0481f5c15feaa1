// The `snmp` object of a device or a discovery scan from a form's fields {version, port,
// community, user, auth_protocol, auth_password, priv_protocol, priv_password, context}. Secrets
// left empty are left out: an edit keeps the stored ones, and where one is needed the server
// names it.
export function snmpBody(s) {
  const port = Number(s.port);
  const out = { version: s.version, port: Number.isInteger(port) ? port : s.port };
  if (s.version === '3') {
    out.user = (s.user || '').trim();
    out.auth_protocol = s.auth_protocol;
    out.priv_protocol = s.priv_protocol;
    if (s.auth_password) out.auth_password = s.auth_password;
    if (s.priv_password) out.priv_password = s.priv_password;
    if ((s.context || '').trim()) out.context = s.context.trim();
  } else if (s.community) {
    out.community = s.community;
  }
  return out;
}
