// API keys for machines: "np_<prefix>_<secret>", 12 and 48 lower-case hex digits. Only the prefix
// (to find the row and to tell keys apart) and SHA-256 of the whole key are stored; the plaintext
// is handed out once at creation. A presented key is looked up by prefix and its hash compared in
// constant time.
//
// A key belongs to the user who created it (keys cannot create keys): it never holds a permission
// its creator lacks, at creation and at every use. authenticate reads the creator's row with the
// key's: a deleted creator (created_by NULL) or an inactive one stops the key, and the key acts
// with the lesser of its role and the creator's current role, so a demoted administrator's key is
// no longer an administrator's. A key made without an expiry gets the configured default
// lifetime. last_used_at is written at most once a minute per key, fire and forget, so busy
// ingest clients do not load the writer.
#include <algorithm>

#include <fmt/format.h>

#include <netpulse/core/random.hpp>

#include "detail/auth_service_impl.hpp"
#include "detail/sql.hpp"
#include "detail/validation.hpp"

namespace netpulse::auth::detail {

namespace {

constexpr std::size_t kPrefixBytes = 6;   // 12 hex digits
constexpr std::size_t kSecretBytes = 24;  // 48 hex digits
constexpr std::size_t kKeyLength = 3 + kPrefixBytes * 2 + 1 + kSecretBytes * 2;
constexpr std::int64_t kLastUsedResolutionS = 60;
constexpr std::size_t kLastUsedTrackedMax = 100000;

bool is_lower_hex(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

core::Error invalid_api_key() {
  return core::Error(core::Errc::kTokenInvalid, "invalid API key");
}

core::Error api_key_not_found() {
  return core::Error(core::Errc::kApiKeyNotFound, "API key not found");
}

// Whether every permission of `wanted` is also held by `holder`.
bool role_within(Role wanted, Role holder) noexcept {
  for (int i = 0; i < kPermissionCount; ++i) {
    const auto p = static_cast<Permission>(i);
    if (role_has(wanted, p) && !role_has(holder, p)) return false;
  }
  return true;
}

// The most privileged role whose permissions both `a` and `b` hold, if any (viewer and api_user
// share only reads and no role is below both).
std::optional<Role> lesser_role(Role a, Role b) noexcept {
  for (Role r : {Role::kAdmin, Role::kOperator, Role::kViewer, Role::kApiUser}) {
    if (role_within(r, a) && role_within(r, b)) return r;
  }
  return std::nullopt;
}

}  // namespace

core::Result<Principal> AuthServiceImpl::authenticate_api_key(std::string_view key) {
  if (key.size() != kKeyLength || !key.starts_with("np_")) return invalid_api_key();
  const auto prefix = key.substr(3, kPrefixBytes * 2);
  if (key[3 + kPrefixBytes * 2] != '_' || !is_lower_hex(prefix) ||
      !is_lower_hex(key.substr(3 + kPrefixBytes * 2 + 1))) {
    return invalid_api_key();
  }

  struct KeyRow {
    ApiKey key;
    std::string key_hash;
    bool org_is_system = false;
    std::optional<Role> creator_role;  // none: the creator is gone
    bool creator_active = false;
  };
  auto found = db_.read([&](db::Connection& conn) -> core::Result<std::optional<KeyRow>> {
    static const std::string sql = fmt::format(
        "SELECT {}, key_hash, (SELECT is_system FROM organizations o WHERE o.id = "
        "api_keys.org_id), "
        "(SELECT role FROM users u WHERE u.id = api_keys.created_by AND "
        "u.org_id = api_keys.org_id), "
        "(SELECT active FROM users u WHERE u.id = api_keys.created_by AND "
        "u.org_id = api_keys.org_id) "
        "FROM api_keys WHERE prefix = ?",
        kApiKeyColumns);
    auto st = prepare(conn, sql, prefix);
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<KeyRow>{};
    KeyRow r;
    r.key = read_api_key(*st);
    r.key_hash = st->get_blob(10);
    r.org_is_system = !st->is_null(11) && st->get_int64(11) != 0;
    if (!st->is_null(12)) r.creator_role = stored_role(st->get_text(12));
    r.creator_active = !st->is_null(13) && st->get_int64(13) != 0;
    return std::optional<KeyRow>(std::move(r));
  });
  if (!found) return std::move(found).error();
  if (!*found || !core::constant_time_equal(core::sha256(key), (*found)->key_hash)) {
    return invalid_api_key();
  }
  const ApiKey& row = (*found)->key;
  const auto now = now_s();
  if (row.revoked_at) return core::Error(core::Errc::kTokenInvalid, "API key revoked");
  if (row.expires_at && *row.expires_at <= now) {
    return core::Error(core::Errc::kTokenExpired, "API key expired");
  }
  const auto& creator_role = (*found)->creator_role;
  if (!creator_role) {
    return core::Error(core::Errc::kTokenInvalid,
                       "API key no longer valid: the user who created it was deleted");
  }
  if (!(*found)->creator_active) {
    return core::Error(core::Errc::kTokenInvalid,
                       "API key suspended: the user who created it is deactivated");
  }
  const auto effective = lesser_role(row.role, *creator_role);
  if (!effective) {
    return core::Error(
        core::Errc::kTokenInvalid,
        fmt::format("API key suspended: its creator's role ({}) no longer covers its role ({})",
                    role_name(*creator_role), role_name(row.role)));
  }

  auto& written = api_key_used_written_[row.id];
  const auto last_used = std::max(written, row.last_used_at.value_or(0));
  if (now - last_used >= kLastUsedResolutionS) {
    if (api_key_used_written_.size() > kLastUsedTrackedMax) {
      api_key_used_written_.clear();
    } else {
      written = now;
    }
    const auto key_id = row.id;
    const auto org_id = row.org_id;
    db_.write(
        [key_id, org_id, now](db::Connection& conn) {
          return execute(conn, "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND org_id = ?",
                         now, key_id, org_id);
        },
        loop_, [](core::Result<void>) {});
  }

  Principal p;
  p.api_key_id = row.id;
  p.org_id = row.org_id;
  p.org_is_system = (*found)->org_is_system;
  p.role = *effective;
  p.actor = "apikey:" + row.name;
  p.token_expires_at = row.expires_at.value_or(0);
  return p;
}

void AuthServiceImpl::create_api_key(OrgScope scope, const Principal& creator, NewApiKey key,
                                     Callback<CreatedApiKey> done) {
  if (creator.org_id != scope.org_id() || !creator.can(Permission::kApiKeysWrite)) {
    return reply(std::move(done), core::Error(core::Errc::kInsufficientPermissions,
                                              "your role cannot create API keys"));
  }
  if (creator.user_id == 0) {
    // A key minting keys could outlive its own revocation or expiry through its children.
    return reply(std::move(done), core::Error(core::Errc::kInsufficientPermissions,
                                              "API keys are created by users, not by API keys"));
  }
  if (!role_within(key.role, creator.role)) {
    return reply(std::move(done),
                 core::Error(core::Errc::kInsufficientPermissions,
                             fmt::format("a {} cannot create an API key with role {}",
                                         role_name(creator.role), role_name(key.role)),
                             boost::json::object{{"field", "role"}}));
  }
  if (auto r = check_name(key.name, "name", true); !r) {
    return reply(std::move(done), std::move(r).error());
  }
  if (key.expires_at && *key.expires_at <= now_s()) {
    return reply(std::move(done), core::invalid_field("expires_at", "must be in the future"));
  }
  if (!key.expires_at && options_.api_key_default_ttl_days > 0) {
    key.expires_at = now_s() + options_.api_key_default_ttl_days * 86'400;
  }

  const auto prefix = core::random_hex(kPrefixBytes);
  const auto secret = "np_" + prefix + "_" + core::random_hex(kSecretBytes);
  ApiKey record;
  record.org_id = scope.org_id();
  record.name = std::move(key.name);
  record.prefix = prefix;
  record.role = key.role;
  record.created_by = creator.user_id;
  record.expires_at = key.expires_at;
  db_.write<ApiKey>(
      [this, record,
       key_hash = core::sha256(secret)](db::Connection& conn) mutable -> core::Result<ApiKey> {
        record.created_at = now_s();
        auto inserted = execute(
            conn,
            "INSERT INTO api_keys (org_id, name, prefix, key_hash, role, "
            "created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            record.org_id, record.name, record.prefix, Blob{key_hash}, role_name(record.role),
            record.created_by, record.created_at, record.expires_at);
        if (!inserted) return std::move(inserted).error();
        record.id = conn.last_insert_rowid();
        return record;
      },
      loop_,
      [secret, done = std::move(done)](core::Result<ApiKey> stored) {
        if (!stored) return done(std::move(stored).error());
        done(CreatedApiKey{std::move(*stored), secret});
      });
}

core::Result<PageOf<ApiKey>> AuthServiceImpl::list_api_keys(OrgScope scope, Page page) {
  const auto window = page_window(page);
  return db_.read([&](db::Connection& conn) -> core::Result<PageOf<ApiKey>> {
    PageOf<ApiKey> out;
    auto total =
        query_int(conn, 0, "SELECT COUNT(*) FROM api_keys WHERE org_id = ?", scope.org_id());
    if (!total) return std::move(total).error();
    out.total = *total;
    static const std::string sql = fmt::format(
        "SELECT {} FROM api_keys WHERE org_id = ? ORDER BY id LIMIT ? OFFSET ?", kApiKeyColumns);
    auto st = prepare(conn, sql, scope.org_id(), window.limit, window.offset);
    if (!st) return st.error();
    auto rows =
        for_each_row(*st, [&](const db::Statement& r) { out.items.push_back(read_api_key(r)); });
    if (!rows) return std::move(rows).error();
    return out;
  });
}

void AuthServiceImpl::revoke_api_key(OrgScope scope, std::int64_t key_id, Callback<void> done) {
  const auto org_id = scope.org_id();
  db_.write(
      [this, org_id, key_id](db::Connection& conn) -> core::Result<void> {
        auto revoked = execute(conn,
                               "UPDATE api_keys SET revoked_at = ? "
                               "WHERE id = ? AND org_id = ? AND revoked_at IS NULL",
                               now_s(), key_id, org_id);
        if (!revoked) return revoked;
        if (conn.changes() > 0) return core::ok();
        // Nothing changed: either already revoked (fine) or not this organization's key.
        auto exists = query_int(
            conn, 0, "SELECT COUNT(*) FROM api_keys WHERE id = ? AND org_id = ?", key_id, org_id);
        if (!exists) return std::move(exists).error();
        if (*exists == 0) return api_key_not_found();
        return core::ok();
      },
      loop_, std::move(done));
}

}  // namespace netpulse::auth::detail
