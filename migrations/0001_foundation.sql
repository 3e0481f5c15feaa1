-- 0001: organizations, users, refresh tokens, API keys, revoked access tokens, audit log.
-- Times are Unix seconds (INTEGER, UTC). Every org-owned row carries org_id.

CREATE TABLE organizations (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL,
  slug        TEXT    NOT NULL UNIQUE,
  is_system   INTEGER NOT NULL DEFAULT 0 CHECK (is_system IN (0, 1)),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
-- At most one system organization.
CREATE UNIQUE INDEX organizations_one_system ON organizations(is_system) WHERE is_system = 1;

CREATE TABLE users (
  id                   INTEGER PRIMARY KEY,
  org_id               INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  email                TEXT    NOT NULL UNIQUE COLLATE NOCASE,
  name                 TEXT    NOT NULL DEFAULT '',
  role                 TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'api_user')),
  active               INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  password_hash        TEXT    NOT NULL,
  password_changed_at  INTEGER NOT NULL,
  last_login_at        INTEGER,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
);
CREATE INDEX users_org ON users(org_id);

-- Refresh tokens: stored only as SHA-256 hashes. Rotation issues a new token in the same family
-- and marks the old one used; presenting a used token revokes the whole family.
CREATE TABLE refresh_tokens (
  id          INTEGER PRIMARY KEY,
  token_hash  BLOB    NOT NULL UNIQUE,
  family_id   TEXT    NOT NULL,
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  issued_at   INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  revoked_at  INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);

-- Access tokens revoked before their expiry (logout, password change), by JWT id.
CREATE TABLE revoked_access_tokens (
  jti         TEXT    PRIMARY KEY,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- API keys: "np_<prefix>_<secret>"; only the prefix and SHA-256 of the whole key are stored.
CREATE TABLE api_keys (
  id            INTEGER PRIMARY KEY,
  org_id        INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name          TEXT    NOT NULL,
  prefix        TEXT    NOT NULL UNIQUE,
  key_hash      BLOB    NOT NULL,
  role          TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'api_user')),
  created_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER,
  expires_at    INTEGER,
  revoked_at    INTEGER
);
CREATE INDEX api_keys_org ON api_keys(org_id);

-- Every mutating request: who, in which org, what, on what, from where, and how it ended.
CREATE TABLE audit_log (
  id           INTEGER PRIMARY KEY,
  at           INTEGER NOT NULL,
  org_id       INTEGER,
  user_id      INTEGER,
  api_key_id   INTEGER,
  actor        TEXT    NOT NULL,
  action       TEXT    NOT NULL,
  target       TEXT    NOT NULL DEFAULT '',
  source_ip    TEXT    NOT NULL DEFAULT '',
  request_id   TEXT    NOT NULL DEFAULT '',
  status       INTEGER NOT NULL,
  outcome      TEXT    NOT NULL CHECK (outcome IN ('success', 'failure'))
);
CREATE INDEX audit_log_org_at ON audit_log(org_id, at);
