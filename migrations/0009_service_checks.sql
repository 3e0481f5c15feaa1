-- 0009: TCP, HTTP(S) and DNS checks of a device's services. One row per check; the columns of
-- the other kinds keep their defaults. Names are unique per device.
CREATE TABLE service_checks (
  id                  INTEGER PRIMARY KEY,
  org_id              INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id           INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
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
CREATE INDEX service_checks_org ON service_checks(org_id);
