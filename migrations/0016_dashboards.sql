-- 0016: dashboards, the operators' grids of panels (src/dashboards/, docs/dashboards.md). The
-- panels are one JSON array checked by the server before it is stored (parse_dashboard); the
-- version counts saves, so a save made over a newer one is refused. Times are Unix milliseconds.
-- dashboard_orgs_seeded records that an organization was given its default dashboard, so one
-- whose dashboards were all deleted is not given it again.

CREATE TABLE dashboards (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id       INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name         TEXT    NOT NULL COLLATE NOCASE,
  description  TEXT    NOT NULL DEFAULT '',
  time_range   TEXT    NOT NULL,
  panels       TEXT    NOT NULL,  -- JSON array
  is_default   INTEGER NOT NULL DEFAULT 0,
  version      INTEGER NOT NULL DEFAULT 1,
  created_by   TEXT    NOT NULL DEFAULT '',
  updated_by   TEXT    NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (org_id, name)
);
CREATE UNIQUE INDEX dashboards_one_default ON dashboards (org_id) WHERE is_default = 1;

CREATE TABLE dashboard_orgs_seeded (
  org_id INTEGER PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE
);
