-- 0002: the time-series store (tsdb). Samples are not rows: they live in compressed chunks
-- (docs/format/chunk.md). Times are milliseconds since the Unix epoch. See docs/tsdb.md.

-- The series index. `key` is the series' canonical key: metric, then label name/value pairs
-- sorted by name, separated by NUL bytes (names and values never contain NUL).
CREATE TABLE tsdb_series (
  id          INTEGER PRIMARY KEY,
  org_id      INTEGER NOT NULL,
  metric      TEXT    NOT NULL,
  key         BLOB    NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (org_id, key)
);

-- Sealed chunks. kind 0: in-order samples; kind 1: out-of-order samples (their own chunks, which
-- may overlap kind-0 chunks in time; a query merges them). A chunk is identified by
-- (series, first sample time, kind), so writing it again (after a crash replay) replaces it.
CREATE TABLE tsdb_chunks (
  series_id  INTEGER NOT NULL,
  first_t    INTEGER NOT NULL,
  kind       INTEGER NOT NULL CHECK (kind IN (0, 1)),
  last_t     INTEGER NOT NULL,
  data       BLOB    NOT NULL,
  PRIMARY KEY (series_id, first_t, kind)
) WITHOUT ROWID;

-- Rollup blocks: one row per (tier, series, block) of consecutive buckets, compressed
-- (docs/tsdb.md, "Rollups"). tier 1: 5 minutes, 2: 1 hour.
CREATE TABLE tsdb_rollups (
  tier       INTEGER NOT NULL,
  series_id  INTEGER NOT NULL,
  block_t    INTEGER NOT NULL,
  last_t     INTEGER NOT NULL,
  data       BLOB    NOT NULL,
  PRIMARY KEY (tier, series_id, block_t)
) WITHOUT ROWID;

-- The head at the last checkpoint: each series' open chunks and rollup state. Replaced whole at
-- every checkpoint; restart loads it and replays the append log written since.
CREATE TABLE tsdb_head (
  series_id  INTEGER PRIMARY KEY,
  state      BLOB NOT NULL
);

-- Small facts: the log segment the last checkpoint covers ('checkpoint_segment').
CREATE TABLE tsdb_state (
  name   TEXT PRIMARY KEY,
  value  INTEGER NOT NULL
);

-- Metric metadata per org.
CREATE TABLE tsdb_metadata (
  org_id  INTEGER NOT NULL,
  metric  TEXT    NOT NULL,
  type    TEXT    NOT NULL CHECK (type IN ('unknown', 'gauge', 'counter')),
  unit    TEXT    NOT NULL DEFAULT '',
  help    TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (org_id, metric)
);
