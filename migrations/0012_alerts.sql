-- 0012: alerts. Rules (the rule itself is kept as its JSON body, which rule_from_json reads
-- back; name, kind and enabled are columns for listing), alerts with their history and comments,
-- incidents, silences, maintenance windows, the per-series state worth keeping across a restart
-- (anomaly baselines, trends), and which organizations already got the default rules (so a
-- default rule an operator deleted does not come back). Times are Unix milliseconds except the
-- rules' created_at / updated_at (seconds, as every other table's). Ids are never given twice.

CREATE TABLE alert_rules (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name        TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  body        TEXT    NOT NULL,
  builtin     TEXT    NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (org_id, name)
);

CREATE TABLE alert_rule_defaults (
  org_id      INTEGER PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
  applied_at  INTEGER NOT NULL
);

CREATE TABLE alerts (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id           INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  rule_id          INTEGER NOT NULL,  -- not a foreign key: an alert outlives its rule
  rule_name        TEXT    NOT NULL,
  kind             TEXT    NOT NULL,
  subject          TEXT    NOT NULL,
  status           TEXT    NOT NULL
                   CHECK (status IN ('pending', 'firing', 'acknowledged', 'resolved')),
  severity         TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  device_id        INTEGER,
  device_name      TEXT    NOT NULL DEFAULT '',
  labels           TEXT    NOT NULL DEFAULT '{}',
  annotations      TEXT    NOT NULL DEFAULT '{}',
  value            REAL    NOT NULL DEFAULT 0,
  threshold        REAL,
  started_at       INTEGER NOT NULL,
  fired_at         INTEGER,
  acknowledged_by  INTEGER,
  acknowledged_by_name TEXT NOT NULL DEFAULT '',
  acknowledged_at  INTEGER,
  ack_note         TEXT    NOT NULL DEFAULT '',
  resolved_at      INTEGER,
  resolved_by      INTEGER,
  resolve_reason   TEXT    NOT NULL DEFAULT '',
  incident_id      INTEGER,
  symptom_of       INTEGER,
  impact           INTEGER NOT NULL DEFAULT 0,
  silenced         INTEGER NOT NULL DEFAULT 0,
  flapping         INTEGER NOT NULL DEFAULT 0,
  updated_at       INTEGER NOT NULL
);
-- One open alert per rule × subject: the engine's invariant, kept by the database too.
CREATE UNIQUE INDEX alerts_open_subject ON alerts(org_id, rule_id, subject)
  WHERE status <> 'resolved';
CREATE INDEX alerts_org_started ON alerts(org_id, started_at);
CREATE INDEX alerts_org_device ON alerts(org_id, device_id);
CREATE INDEX alerts_resolved ON alerts(resolved_at) WHERE resolved_at IS NOT NULL;

CREATE TABLE alert_history (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id  INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  at        INTEGER NOT NULL,
  from_status TEXT  NOT NULL,
  to_status TEXT    NOT NULL,
  actor_id  INTEGER,
  actor     TEXT    NOT NULL,
  note      TEXT    NOT NULL DEFAULT '',
  value     REAL    NOT NULL DEFAULT 0
);
CREATE INDEX alert_history_alert ON alert_history(alert_id, id);

CREATE TABLE alert_comments (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id  INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  at        INTEGER NOT NULL,
  author_id INTEGER,
  author    TEXT    NOT NULL,
  text      TEXT    NOT NULL
);
CREATE INDEX alert_comments_alert ON alert_comments(alert_id, id);

CREATE TABLE incidents (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id          INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  root_alert_id   INTEGER NOT NULL,
  root_device_id  INTEGER,
  title           TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('open', 'resolved')),
  symptom_count   INTEGER NOT NULL DEFAULT 0,
  symptom_alerts  INTEGER NOT NULL DEFAULT 0,
  impact          INTEGER NOT NULL DEFAULT 0,
  impacted        TEXT    NOT NULL DEFAULT '[]',
  opened_at       INTEGER NOT NULL,
  resolved_at     INTEGER,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX incidents_org_opened ON incidents(org_id, opened_at);

CREATE TABLE silences (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  body        TEXT    NOT NULL,
  starts_at   INTEGER NOT NULL,
  ends_at     INTEGER NOT NULL,
  created_by  INTEGER,
  created_at  INTEGER NOT NULL
);
CREATE INDEX silences_org ON silences(org_id, ends_at);

CREATE TABLE maintenance_windows (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name        TEXT    NOT NULL,
  body        TEXT    NOT NULL,
  created_by  INTEGER,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX maintenance_windows_org ON maintenance_windows(org_id);

-- Per-series state worth a restart: a rule's anomaly baseline or trend for one series, as a
-- versioned little-endian blob (docs/alerts.md). Deleted with the rule.
CREATE TABLE alert_series_state (
  rule_id   INTEGER NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
  subject   TEXT    NOT NULL,
  state     BLOB    NOT NULL,
  saved_at  INTEGER NOT NULL,
  PRIMARY KEY (rule_id, subject)
) WITHOUT ROWID;
