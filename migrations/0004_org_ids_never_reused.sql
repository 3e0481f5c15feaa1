-- 0004: organization ids are never reused. SQLite gives a new row max(id) + 1, so deleting the
-- newest organization would hand its id, and every record still keyed by it (audit entries,
-- metrics in tsdb), to the next organization created. The watermark remembers the highest id
-- ever given; new organizations are numbered after it (src/auth).
CREATE TABLE id_watermarks (
  name   TEXT PRIMARY KEY,
  value  INTEGER NOT NULL
);
INSERT INTO id_watermarks (name, value)
  SELECT 'organizations', COALESCE(MAX(id), 0) FROM organizations;
CREATE TRIGGER organizations_id_watermark AFTER INSERT ON organizations
BEGIN
  UPDATE id_watermarks SET value = MAX(value, NEW.id) WHERE name = 'organizations';
END;
