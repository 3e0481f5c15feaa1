-- 0005: the series index row keeps only what start-up reads. The (org_id, key) UNIQUE index
-- stored every key a second time (about half a byte per sample on 100-sample series) for a check
-- the in-memory index already makes, and `metric` repeated the start of `key`.
CREATE TABLE tsdb_series_slim (
  id          INTEGER PRIMARY KEY,
  org_id      INTEGER NOT NULL,
  key         BLOB    NOT NULL,
  created_at  INTEGER NOT NULL
);
INSERT INTO tsdb_series_slim (id, org_id, key, created_at)
  SELECT id, org_id, key, created_at FROM tsdb_series;
DROP TABLE tsdb_series;
ALTER TABLE tsdb_series_slim RENAME TO tsdb_series;
