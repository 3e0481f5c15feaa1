-- 0003: tsdb_rollups becomes a rowid table. A rollup block is 0.3-3 KB; in a WITHOUT ROWID table
-- anything over about 1 KB (on 4 KiB pages) spills into overflow pages that stay mostly empty,
-- which more than doubled the file. A rowid table keeps rows up to about 4 KB inside the page;
-- the unique index serves the lookups by (tier, series, block).
CREATE TABLE tsdb_rollups_rowid (
  id         INTEGER PRIMARY KEY,
  tier       INTEGER NOT NULL,
  series_id  INTEGER NOT NULL,
  block_t    INTEGER NOT NULL,
  last_t     INTEGER NOT NULL,
  data       BLOB    NOT NULL,
  UNIQUE (tier, series_id, block_t)
);
INSERT INTO tsdb_rollups_rowid (tier, series_id, block_t, last_t, data)
  SELECT tier, series_id, block_t, last_t, data FROM tsdb_rollups;
DROP TABLE tsdb_rollups;
ALTER TABLE tsdb_rollups_rowid RENAME TO tsdb_rollups;
