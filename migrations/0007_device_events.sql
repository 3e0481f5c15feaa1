-- 0007: the device event log: status changes, reboots, interface up/down, SNMP traps. Times are
-- Unix seconds; `details` is a JSON object. Old events are deleted after the configured retention.
CREATE TABLE device_events (
  id         INTEGER PRIMARY KEY,
  org_id     INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id  INTEGER REFERENCES devices(id) ON DELETE CASCADE,
  at         INTEGER NOT NULL,
  kind       TEXT    NOT NULL,
  severity   TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  message    TEXT    NOT NULL,
  details    TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX device_events_org_at ON device_events(org_id, at);
CREATE INDEX device_events_device_at ON device_events(device_id, at);
