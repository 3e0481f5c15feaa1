-- 0015: acknowledgement links acknowledge the alerts of a message (up to 20) as a user or as a
-- channel, not one alert as one user, so the record of a used link changes shape. 0013's table
-- never held a row (no link was ever sent before this step), so it is replaced, not migrated.
-- A used link's nonce stays until the link expires: a second use is refused by its primary key;
-- the notifier deletes rows past expires_at. Times are Unix milliseconds.

DROP TABLE ack_link_uses;

CREATE TABLE ack_link_uses (
  nonce       TEXT    PRIMARY KEY,  -- 16 hex digits, from the token
  org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  alert_ids   TEXT    NOT NULL,     -- JSON array of the alert ids the link acknowledged
  user_id     INTEGER,              -- the recipient: a user...
  channel_id  INTEGER,              -- ...or a channel (exactly one is set)
  used_at     INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  CHECK ((user_id IS NULL) <> (channel_id IS NULL))
) WITHOUT ROWID;
CREATE INDEX ack_link_uses_expiry ON ack_link_uses (expires_at);
