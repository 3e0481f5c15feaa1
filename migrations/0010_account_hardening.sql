-- 0010: account hardening (docs/security.md, "Accounts, sessions and API keys").
--  * users.email is unique per organization, no longer across the server: a duplicate in another
--    organization must not answer 409 (that told one tenant who the other's users are). Login
--    finds the account by email and password, or by email and organization.
--  * users.id is AUTOINCREMENT: a deleted user's id (and the audit rows under it) never passes to
--    a new user.
--  * users.tokens_valid_after (Unix seconds): access tokens issued before it are refused. Set by a
--    password change, an admin reset and a deactivation.
--  * users.login_unlocked_at (Unix milliseconds): login lock-outs older than it are lifted. Set by
--    `netpulse user unlock` (another process) and POST /api/v1/users/{id}/unlock.
--  * indexes for the background deletion of old audit rows and expired refresh tokens.
--
-- Rebuilding users with foreign keys on: DROP TABLE users would cascade into refresh_tokens
-- (deleted) and api_keys.created_by (set to NULL), so both are kept aside and put back.
CREATE TABLE users_0010 (
  id                   INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id               INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  email                TEXT    NOT NULL COLLATE NOCASE,
  name                 TEXT    NOT NULL DEFAULT '',
  role                 TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'api_user')),
  active               INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  password_hash        TEXT    NOT NULL,
  password_changed_at  INTEGER NOT NULL,
  last_login_at        INTEGER,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL,
  tokens_valid_after   INTEGER NOT NULL DEFAULT 0,
  login_unlocked_at    INTEGER,
  UNIQUE (org_id, email)
);
INSERT INTO users_0010 (id, org_id, email, name, role, active, password_hash, password_changed_at,
                        last_login_at, created_at, updated_at)
  SELECT id, org_id, email, name, role, active, password_hash, password_changed_at, last_login_at,
         created_at, updated_at
  FROM users;

CREATE TEMP TABLE kept_refresh_tokens AS SELECT * FROM refresh_tokens;
CREATE TEMP TABLE kept_key_creators AS
  SELECT id, created_by FROM api_keys WHERE created_by IS NOT NULL;
DROP TABLE users;
ALTER TABLE users_0010 RENAME TO users;
INSERT INTO refresh_tokens SELECT * FROM temp.kept_refresh_tokens;
UPDATE api_keys
  SET created_by = (SELECT k.created_by FROM temp.kept_key_creators k WHERE k.id = api_keys.id)
  WHERE id IN (SELECT id FROM temp.kept_key_creators);
DROP TABLE temp.kept_refresh_tokens;
DROP TABLE temp.kept_key_creators;
-- Ids of users deleted before this step may still be named in the audit log: start after them.
UPDATE sqlite_sequence
  SET seq = MAX(seq, (SELECT COALESCE(MAX(user_id), 0) FROM audit_log))
  WHERE name = 'users';

-- A key belongs to its creator: keys whose creator is gone (deleted before this step, or a key
-- made by another key) no longer work, and the list shows them revoked.
UPDATE api_keys SET revoked_at = CAST(strftime('%s', 'now') AS INTEGER)
  WHERE created_by IS NULL AND revoked_at IS NULL;

CREATE INDEX users_org ON users(org_id);
CREATE INDEX users_email ON users(email);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX refresh_tokens_expires ON refresh_tokens(expires_at);
