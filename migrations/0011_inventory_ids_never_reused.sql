-- 0011: ids of devices, device groups, device events, custom OIDs and service checks are never
-- given twice (AUTOINCREMENT). SQLite gives a new row max(id) + 1, so deleting the newest device
-- (or a whole organization) handed its id to the next one created — with everything still keyed
-- by it outside these tables: the pollers' state, the series labelled device_id="N" in tsdb, a
-- client's links. AUTOINCREMENT keeps the highest id ever given in sqlite_sequence.
--
-- SQLite cannot add AUTOINCREMENT to a table: each is rebuilt (new table, copy with the ids,
-- drop, rename), and its indexes made again. Foreign keys stay on during a migration (one
-- transaction, where PRAGMA foreign_keys cannot change), and dropping a table deletes its rows
-- first, with their ON DELETE CASCADE: so every table that references `devices` or
-- `device_groups` is rebuilt too, referencing the new tables, and the old ones are dropped
-- children first. Renaming the new `devices_new` to `devices` rewrites the references to it.
-- The runner's foreign_key_check afterwards proves every reference intact.

CREATE TABLE devices_new (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id             INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name               TEXT    NOT NULL,
  address            TEXT    NOT NULL,
  type               TEXT    NOT NULL
                     CHECK (type IN ('router', 'switch', 'olt', 'server', 'cpe', 'ap', 'other')),
  vendor             TEXT    NOT NULL DEFAULT '',
  model              TEXT    NOT NULL DEFAULT '',
  os                 TEXT    NOT NULL DEFAULT '',
  serial             TEXT    NOT NULL DEFAULT '',
  sys_descr          TEXT    NOT NULL DEFAULT '',
  sys_object_id      TEXT    NOT NULL DEFAULT '',
  location           TEXT    NOT NULL DEFAULT '',
  notes              TEXT    NOT NULL DEFAULT '',
  enabled            INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  maintenance        INTEGER NOT NULL DEFAULT 0 CHECK (maintenance IN (0, 1)),
  poll_interval_s    INTEGER NOT NULL DEFAULT 60,
  status             TEXT    NOT NULL DEFAULT 'unknown'
                     CHECK (status IN ('unknown', 'up', 'down', 'unreachable')),
  status_changed_at  INTEGER,
  last_seen          INTEGER,
  uptime_s           INTEGER,
  snmp_version       TEXT    NOT NULL DEFAULT '' CHECK (snmp_version IN ('', '1', '2c', '3')),
  snmp_port          INTEGER NOT NULL DEFAULT 161,
  snmp_user          TEXT    NOT NULL DEFAULT '',
  snmp_auth_protocol TEXT    NOT NULL DEFAULT '',
  snmp_priv_protocol TEXT    NOT NULL DEFAULT '',
  snmp_context       TEXT    NOT NULL DEFAULT '',
  snmp_secrets       BLOB,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  UNIQUE (org_id, address)
);
INSERT INTO devices_new (id, org_id, name, address, type, vendor, model, os, serial, sys_descr,
                         sys_object_id, location, notes, enabled, maintenance, poll_interval_s,
                         status, status_changed_at, last_seen, uptime_s, snmp_version, snmp_port,
                         snmp_user, snmp_auth_protocol, snmp_priv_protocol, snmp_context,
                         snmp_secrets, created_at, updated_at)
  SELECT id, org_id, name, address, type, vendor, model, os, serial, sys_descr, sys_object_id,
         location, notes, enabled, maintenance, poll_interval_s, status, status_changed_at,
         last_seen, uptime_s, snmp_version, snmp_port, snmp_user, snmp_auth_protocol,
         snmp_priv_protocol, snmp_context, snmp_secrets, created_at, updated_at
  FROM devices;

CREATE TABLE device_groups_new (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id       INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name         TEXT    NOT NULL,
  description  TEXT    NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (org_id, name)
);
INSERT INTO device_groups_new (id, org_id, name, description, created_at, updated_at)
  SELECT id, org_id, name, description, created_at, updated_at FROM device_groups;

CREATE TABLE device_tags_new (
  device_id  INTEGER NOT NULL REFERENCES devices_new(id) ON DELETE CASCADE,
  tag        TEXT    NOT NULL,
  PRIMARY KEY (device_id, tag)
) WITHOUT ROWID;
INSERT INTO device_tags_new (device_id, tag) SELECT device_id, tag FROM device_tags;

CREATE TABLE device_group_members_new (
  group_id   INTEGER NOT NULL REFERENCES device_groups_new(id) ON DELETE CASCADE,
  device_id  INTEGER NOT NULL REFERENCES devices_new(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, device_id)
) WITHOUT ROWID;
INSERT INTO device_group_members_new (group_id, device_id)
  SELECT group_id, device_id FROM device_group_members;

CREATE TABLE device_parents_new (
  device_id  INTEGER NOT NULL REFERENCES devices_new(id) ON DELETE CASCADE,
  parent_id  INTEGER NOT NULL REFERENCES devices_new(id) ON DELETE CASCADE,
  PRIMARY KEY (device_id, parent_id),
  CHECK (device_id <> parent_id)
) WITHOUT ROWID;
INSERT INTO device_parents_new (device_id, parent_id)
  SELECT device_id, parent_id FROM device_parents;

CREATE TABLE device_events_new (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id     INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id  INTEGER REFERENCES devices_new(id) ON DELETE CASCADE,
  at         INTEGER NOT NULL,
  kind       TEXT    NOT NULL,
  severity   TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  message    TEXT    NOT NULL,
  details    TEXT    NOT NULL DEFAULT '{}'
);
INSERT INTO device_events_new (id, org_id, device_id, at, kind, severity, message, details)
  SELECT id, org_id, device_id, at, kind, severity, message, details FROM device_events;

CREATE TABLE custom_oids_new (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id       INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id    INTEGER REFERENCES devices_new(id) ON DELETE CASCADE,
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
INSERT INTO custom_oids_new (id, org_id, device_id, device_type, oid, metric, kind, scale, unit,
                             created_at)
  SELECT id, org_id, device_id, device_type, oid, metric, kind, scale, unit, created_at
  FROM custom_oids;

CREATE TABLE service_checks_new (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id              INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id           INTEGER NOT NULL REFERENCES devices_new(id) ON DELETE CASCADE,
  name                TEXT    NOT NULL,
  kind                TEXT    NOT NULL CHECK (kind IN ('tcp', 'http', 'dns')),
  enabled             INTEGER NOT NULL DEFAULT 1,
  interval_s          INTEGER,
  timeout_ms          INTEGER NOT NULL,
  retries             INTEGER NOT NULL,
  port                INTEGER NOT NULL DEFAULT 0,
  url                 TEXT    NOT NULL DEFAULT '',
  use_device_address  INTEGER NOT NULL DEFAULT 1,
  method              TEXT    NOT NULL DEFAULT 'GET',
  status_min          INTEGER NOT NULL DEFAULT 200,
  status_max          INTEGER NOT NULL DEFAULT 399,
  keyword             TEXT    NOT NULL DEFAULT '',
  verify_tls          INTEGER NOT NULL DEFAULT 1,
  max_redirects       INTEGER NOT NULL DEFAULT 0,
  query               TEXT    NOT NULL DEFAULT '',
  record_type         TEXT    NOT NULL DEFAULT 'A',
  server              TEXT    NOT NULL DEFAULT '',
  expected            TEXT    NOT NULL DEFAULT '',
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  UNIQUE (device_id, name)
);
INSERT INTO service_checks_new (id, org_id, device_id, name, kind, enabled, interval_s,
                                timeout_ms, retries, port, url, use_device_address, method,
                                status_min, status_max, keyword, verify_tls, max_redirects, query,
                                record_type, server, expected, created_at, updated_at)
  SELECT id, org_id, device_id, name, kind, enabled, interval_s, timeout_ms, retries, port, url,
         use_device_address, method, status_min, status_max, keyword, verify_tls, max_redirects,
         query, record_type, server, expected, created_at, updated_at
  FROM service_checks;

-- Children first: nothing references them, so their implicit DELETE cascades nowhere; then the
-- parents, which nothing references any more.
DROP TABLE device_tags;
DROP TABLE device_group_members;
DROP TABLE device_parents;
DROP TABLE device_events;
DROP TABLE custom_oids;
DROP TABLE service_checks;
DROP TABLE device_groups;
DROP TABLE devices;

ALTER TABLE devices_new RENAME TO devices;
ALTER TABLE device_groups_new RENAME TO device_groups;
ALTER TABLE device_tags_new RENAME TO device_tags;
ALTER TABLE device_group_members_new RENAME TO device_group_members;
ALTER TABLE device_parents_new RENAME TO device_parents;
ALTER TABLE device_events_new RENAME TO device_events;
ALTER TABLE custom_oids_new RENAME TO custom_oids;
ALTER TABLE service_checks_new RENAME TO service_checks;

CREATE INDEX device_group_members_device ON device_group_members(device_id);
CREATE INDEX device_parents_parent ON device_parents(parent_id);
CREATE INDEX device_events_org_at ON device_events(org_id, at);
CREATE INDEX device_events_device_at ON device_events(device_id, at);
CREATE INDEX custom_oids_org ON custom_oids(org_id);
CREATE INDEX service_checks_org ON service_checks(org_id);

-- tsdb: series ids of a deleted organization whose chunks and rollup blocks are still being
-- deleted, in bounded batches (docs/tsdb.md, "Dropping an organization"). Until a series is
-- gone from here its id is not given again (nor after: tsdb_state 'next_series_id').
CREATE TABLE tsdb_purge (
  series_id  INTEGER PRIMARY KEY
);
