-- 0008: custom SNMP objects to poll, for one device or for every device of a type in an
-- organization: the OID (an instance, e.g. ending in .0), the metric it is stored as, gauge or
-- counter, a scale factor and a unit.
CREATE TABLE custom_oids (
  id           INTEGER PRIMARY KEY,
  org_id       INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id    INTEGER REFERENCES devices(id) ON DELETE CASCADE,
  device_type  TEXT CHECK (device_type IS NULL OR
                           device_type IN ('router', 'switch', 'olt', 'server', 'cpe', 'ap', 'other')),
  oid          TEXT    NOT NULL,
  metric       TEXT    NOT NULL,
  kind         TEXT    NOT NULL CHECK (kind IN ('gauge', 'counter')),
  scale        REAL    NOT NULL DEFAULT 1,
  unit         TEXT    NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  CHECK ((device_id IS NULL) <> (device_type IS NULL))
);
CREATE INDEX custom_oids_org ON custom_oids(org_id);
