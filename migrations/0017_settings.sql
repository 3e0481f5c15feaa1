-- 0017: the server's settings saved from the web UI (Admin → Settings, docs/settings.md). One
-- row per dotted config key; the value is JSON of the key's type. They win over the config file
-- and the environment for the keys the catalog lets an administrator change (core/config.hpp);
-- a row deleted returns the key to the file's value. updated_by is who saved it (an email).

CREATE TABLE server_settings (
  key         TEXT    PRIMARY KEY,
  value       TEXT    NOT NULL,
  updated_by  TEXT    NOT NULL DEFAULT '',
  updated_at  INTEGER NOT NULL  -- Unix seconds
);
