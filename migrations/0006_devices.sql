-- 0006: the device inventory: devices, their tags, groups and parent links (the topology). Times
-- are Unix seconds. SNMP secrets (community, v3 passwords) are stored only sealed (AES-256-GCM
-- with <data_dir>/credentials.key); the columns in the clear hold what is not secret.
-- docs/devices.md describes the rows.
CREATE TABLE devices (
  id                 INTEGER PRIMARY KEY,
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

CREATE TABLE device_tags (
  device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  tag        TEXT    NOT NULL,
  PRIMARY KEY (device_id, tag)
) WITHOUT ROWID;

CREATE TABLE device_groups (
  id           INTEGER PRIMARY KEY,
  org_id       INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name         TEXT    NOT NULL,
  description  TEXT    NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (org_id, name)
);

CREATE TABLE device_group_members (
  group_id   INTEGER NOT NULL REFERENCES device_groups(id) ON DELETE CASCADE,
  device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, device_id)
) WITHOUT ROWID;
CREATE INDEX device_group_members_device ON device_group_members(device_id);

-- device_id depends on parent_id (it is reached through it). The graph is kept acyclic.
CREATE TABLE device_parents (
  device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  parent_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  PRIMARY KEY (device_id, parent_id),
  CHECK (device_id <> parent_id)
) WITHOUT ROWID;
CREATE INDEX device_parents_parent ON device_parents(parent_id);
