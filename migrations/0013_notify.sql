-- 0013: notifications. Channels (public settings as JSON, secrets sealed with the credentials
-- key), policies and on-call schedules (kept as their JSON body, which the notifier reads back;
-- name and position are columns for listing and ordering), per-user contact methods, the
-- outbox (every notification is a row before its first attempt, and its rendered message is
-- kept so a restart can send it), the attempts of each, which alerts a notification was about,
-- the per-alert notification state (what was sent where, escalation), the in-app inbox, and the
-- used acknowledgement-link nonces. Times are Unix milliseconds except created_at / updated_at
-- of the configuration tables (seconds, as every other table's). Ids are never given twice.

CREATE TABLE notification_channels (
  id                    INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id                INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name                  TEXT    NOT NULL,
  kind                  TEXT    NOT NULL,
  enabled               INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  settings              TEXT    NOT NULL DEFAULT '{}',  -- public settings (JSON object)
  secrets               BLOB,                           -- sealed JSON object, or NULL
  consecutive_failures  INTEGER NOT NULL DEFAULT 0,
  last_error            TEXT    NOT NULL DEFAULT '',
  last_success_at       INTEGER,
  last_failure_at       INTEGER,
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  UNIQUE (org_id, name)
);

CREATE TABLE notification_policies (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name        TEXT    NOT NULL,
  position    INTEGER NOT NULL DEFAULT 0,
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  body        TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (org_id, name)
);

CREATE TABLE oncall_schedules (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name        TEXT    NOT NULL,
  body        TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (org_id, name)
);

-- A user's contact methods and quiet hours (JSON: email, phone, telegram_chat_id, quiet).
CREATE TABLE user_contacts (
  user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  body        TEXT    NOT NULL DEFAULT '{}',
  updated_at  INTEGER NOT NULL
);

-- The outbox and the delivery log in one: a row per (message, channel, recipient).
CREATE TABLE notifications (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id           INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  channel_id       INTEGER NOT NULL,  -- not a foreign key: the log outlives a deleted channel
  channel_name     TEXT    NOT NULL,
  policy_id        INTEGER,
  recipient_user   INTEGER,           -- the user paged through this channel, if any
  kind             TEXT    NOT NULL,  -- firing, resolved, acknowledged, escalation, digest, test
  severity         TEXT    NOT NULL,
  group_key        TEXT    NOT NULL DEFAULT '',
  title            TEXT    NOT NULL DEFAULT '',
  message          TEXT    NOT NULL,  -- the rendered message (JSON), sent again after a restart
  status           TEXT    NOT NULL
                   CHECK (status IN ('pending', 'sending', 'delivered', 'dead', 'cancelled')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  sends_unsure     INTEGER NOT NULL DEFAULT 0,  -- attempts cut short by a restart (maybe sent)
  next_attempt_at  INTEGER NOT NULL,
  last_status      INTEGER,           -- the remote's last HTTP status / SMTP code
  last_error       TEXT    NOT NULL DEFAULT '',
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  delivered_at     INTEGER
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_org ON notifications (org_id, id);
CREATE INDEX notifications_channel ON notifications (org_id, channel_id, id);

CREATE TABLE notification_alerts (
  notification_id  INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
  alert_id         INTEGER NOT NULL,
  PRIMARY KEY (notification_id, alert_id)
) WITHOUT ROWID;
CREATE INDEX notification_alerts_alert ON notification_alerts (alert_id, notification_id);

CREATE TABLE notification_attempts (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  notification_id  INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
  attempt          INTEGER NOT NULL,
  started_at       INTEGER NOT NULL,
  latency_ms       INTEGER NOT NULL,
  outcome          TEXT    NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
  remote_status    INTEGER,
  detail           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX notification_attempts_of ON notification_attempts (notification_id, attempt);

-- What the notifier did about an open alert under a policy: the channels and users it notified
-- (so the resolution goes to the same), its escalation step and when the next one is due.
CREATE TABLE notify_alert_state (
  alert_id            INTEGER NOT NULL,
  policy_id           INTEGER NOT NULL,
  org_id              INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  body                TEXT    NOT NULL,  -- JSON: targets notified, step, next_at, last_sent_at
  updated_at          INTEGER NOT NULL,
  PRIMARY KEY (alert_id, policy_id)
) WITHOUT ROWID;

CREATE TABLE inapp_notifications (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id           INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  notification_id  INTEGER,
  kind             TEXT    NOT NULL,
  severity         TEXT    NOT NULL,
  title            TEXT    NOT NULL,
  text             TEXT    NOT NULL DEFAULT '',
  alert_id         INTEGER,
  created_at       INTEGER NOT NULL,
  read_at          INTEGER
);
CREATE INDEX inapp_unread ON inapp_notifications (user_id, read_at, id);

-- Acknowledgement links are single-use: a used link's nonce stays here until it expires.
CREATE TABLE ack_link_uses (
  nonce       TEXT    PRIMARY KEY,
  alert_id    INTEGER NOT NULL,
  user_id     INTEGER NOT NULL,
  used_at     INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
