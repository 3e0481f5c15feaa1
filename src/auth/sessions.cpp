// Sessions: verifying bearer tokens, rotating refresh tokens, logging out and changing passwords
// (logging in is login.cpp).
//
// Refresh tokens are 32 random bytes, stored only as SHA-256, and single-use: rotation marks the
// presented token used and issues the next one in the same family, all inside one db write, so
// two concurrent refreshes cannot both succeed. Presenting a used or revoked token means it was
// copied: the whole family is revoked. Access tokens carry a role, but authenticate() reads the
// user's current role and state from the database, so demotion and deactivation apply at once.
// A password change, an admin reset and a deactivation set the user's tokens_valid_after to the
// next second (or one past its previous value, if that is later): tokens with an earlier `iat`
// are refused, and tokens issued from then on are stamped no earlier than it (iat has whole
// seconds; a token issued in the same second as the change, before it, must die, and one issued
// after it must live). Only more than one change a second, sustained, moves the stamp ahead of
// the clock; past kMaxIssuedAtSkewS the user's new tokens would be refused until it catches up.
// A wrong current password in change_password is a 400 naming the field (kInvalidInput), not a
// 401, so clients do not take it for a lost session; it still counts against the account's
// throttle.
#include <algorithm>

#include <fmt/format.h>

#include <netpulse/core/random.hpp>

#include "detail/auth_service_impl.hpp"
#include "detail/errors.hpp"
#include "detail/sql.hpp"
#include "detail/validation.hpp"

namespace netpulse::auth::detail {

namespace {

constexpr std::size_t kRefreshTokenBytes = 32;
constexpr std::int64_t kRevokedSweepIntervalS = 60;

core::Error invalid_refresh_token() {
  return core::Error(core::Errc::kTokenInvalid, "invalid or expired refresh token");
}

// What a refresh write found and did.
struct RefreshOutcome {
  enum class Kind { kRotated, kInvalid, kReused };
  Kind kind = Kind::kInvalid;
  std::int64_t user_id = 0;
  std::int64_t org_id = 0;
  Role role = Role::kViewer;
  std::int64_t tokens_valid_after = 0;
  std::string token;  // the new refresh token when rotated
};

// The refresh-token row a presented token hashes to, with its user's state.
struct RefreshRow {
  std::int64_t id = 0;
  std::string family_id;
  std::int64_t user_id = 0;
  std::int64_t org_id = 0;
  std::int64_t expires_at = 0;
  bool spent = false;  // used or revoked
  bool user_active = false;
  Role role = Role::kViewer;
  std::int64_t tokens_valid_after = 0;
};

core::Result<std::optional<RefreshRow>> find_refresh_row(db::Connection& conn,
                                                         const std::string& token_hash) {
  auto st = prepare(conn,
                    "SELECT rt.id, rt.family_id, rt.user_id, rt.org_id, rt.expires_at, "
                    "rt.used_at IS NOT NULL OR rt.revoked_at IS NOT NULL, u.active, u.role, "
                    "u.tokens_valid_after FROM refresh_tokens rt JOIN users u ON u.id = rt.user_id "
                    "WHERE rt.token_hash = ? AND u.org_id = rt.org_id",
                    Blob{token_hash});
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<RefreshRow>{};
  RefreshRow r;
  r.id = st->get_int64(0);
  r.family_id = st->get_text(1);
  r.user_id = st->get_int64(2);
  r.org_id = st->get_int64(3);
  r.expires_at = st->get_int64(4);
  r.spent = st->get_int64(5) != 0;
  r.user_active = st->get_int64(6) != 0;
  r.role = stored_role(st->get_text(7));
  r.tokens_valid_after = st->get_int64(8);
  return std::optional<RefreshRow>(std::move(r));
}

}  // namespace

core::Result<Principal> AuthServiceImpl::authenticate(std::string_view bearer_token) {
  if (bearer_token.empty()) {
    return core::Error(core::Errc::kAuthenticationRequired, "authentication required");
  }
  if (bearer_token.size() > kMaxTokenBytes) {
    return core::Error(core::Errc::kTokenInvalid, "invalid access token");
  }
  if (bearer_token.starts_with("np_")) return authenticate_api_key(bearer_token);
  return authenticate_jwt(bearer_token);
}

core::Result<Principal> AuthServiceImpl::authenticate_jwt(std::string_view token) {
  auto claims = jwt_.verify(token, now_s());
  if (!claims) return std::move(claims).error();
  if (revoked_jtis_.contains(claims->jti)) {
    return core::Error(core::Errc::kTokenInvalid, "access token revoked");
  }
  std::int64_t user_id = 0;
  if (!parse_id(claims->sub, user_id)) {
    return core::Error(core::Errc::kTokenInvalid, "invalid access token");
  }

  struct UserState {
    std::int64_t org_id = 0;
    std::string email;
    Role role = Role::kViewer;
    bool active = false;
    bool org_is_system = false;
    std::int64_t created_at = 0;
    std::int64_t tokens_valid_after = 0;
  };
  auto state = db_.read([&](db::Connection& conn) -> core::Result<std::optional<UserState>> {
    auto st = prepare(
        conn,
        "SELECT u.org_id, u.email, u.role, u.active, o.is_system, u.created_at, "
        "u.tokens_valid_after FROM users u JOIN organizations o ON o.id = u.org_id WHERE u.id = ?",
        user_id);
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<UserState>{};
    UserState s;
    s.org_id = st->get_int64(0);
    s.email = st->get_text(1);
    s.role = stored_role(st->get_text(2));
    s.active = st->get_int64(3) != 0;
    s.org_is_system = st->get_int64(4) != 0;
    s.created_at = st->get_int64(5);
    s.tokens_valid_after = st->get_int64(6);
    return std::optional<UserState>(std::move(s));
  });
  if (!state) return std::move(state).error();
  // A token older than the account was issued to an earlier user with the same id; one older
  // than tokens_valid_after was issued before a password change, reset or deactivation.
  if (!*state || !(*state)->active || (*state)->org_id != claims->org ||
      claims->iat < (*state)->created_at || claims->iat < (*state)->tokens_valid_after) {
    return core::Error(core::Errc::kTokenInvalid, "access token no longer valid");
  }

  Principal p;
  p.user_id = user_id;
  p.org_id = (*state)->org_id;
  p.org_is_system = (*state)->org_is_system;
  p.role = (*state)->role;
  p.actor = std::move((*state)->email);
  p.jti = std::move(claims->jti);
  p.token_expires_at = claims->exp;
  return p;
}

std::int64_t AuthServiceImpl::throttle_remaining_s(std::string_view email,
                                                   std::string_view ip) const {
  return throttle_.remaining_s(email, ip);
}

std::string AuthServiceImpl::issue_access_token(std::int64_t user_id, std::int64_t org_id,
                                                Role role, std::int64_t not_before) const {
  const auto now = now_s();
  JwtClaims claims;
  claims.sub = std::to_string(user_id);
  claims.org = org_id;
  claims.role = std::string(role_name(role));
  claims.jti = core::uuid_v4();
  // Ahead of the clock only when tokens_valid_after is (see the top of this file).
  claims.iat = std::max(now, not_before);
  claims.exp = now + options_.access_token_ttl_s;
  claims.iss = options_.issuer;
  claims.aud = options_.audience;
  return jwt_.sign(claims);
}

core::Result<std::string> AuthServiceImpl::insert_refresh_token(
    db::Connection& conn, std::int64_t user_id, std::int64_t org_id,
    const std::string& family_id) const {
  auto token = core::base64url_encode(core::random_bytes(kRefreshTokenBytes));
  const auto token_hash = core::sha256(token);
  const auto now = now_s();
  auto inserted = execute(conn,
                          "INSERT INTO refresh_tokens (token_hash, family_id, user_id, org_id, "
                          "issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                          Blob{token_hash}, family_id, user_id, org_id, now,
                          now + options_.refresh_token_ttl_s);
  if (!inserted) return std::move(inserted).error();
  return token;
}

void AuthServiceImpl::refresh(std::string refresh_token, Callback<TokenPair> done) {
  if (refresh_token.empty() || refresh_token.size() > kMaxTokenBytes) {
    count(refresh_invalid_);
    return reply(std::move(done), invalid_refresh_token());
  }
  const auto token_hash = core::sha256(refresh_token);
  db_.write<RefreshOutcome>(
      [this, token_hash](db::Connection& conn) -> core::Result<RefreshOutcome> {
        const auto now = now_s();
        RefreshOutcome out;
        auto found = find_refresh_row(conn, token_hash);
        if (!found) return std::move(found).error();
        if (!*found) return out;
        const RefreshRow& row = **found;
        out.user_id = row.user_id;
        out.org_id = row.org_id;
        out.role = row.role;
        out.tokens_valid_after = row.tokens_valid_after;
        if (row.spent) {
          // Returned as a value, not an error, so that the revocation commits.
          auto revoked = execute(conn,
                                 "UPDATE refresh_tokens SET revoked_at = ? "
                                 "WHERE family_id = ? AND revoked_at IS NULL",
                                 now, row.family_id);
          if (!revoked) return std::move(revoked).error();
          out.kind = RefreshOutcome::Kind::kReused;
          return out;
        }
        if (row.expires_at <= now || !row.user_active) return out;
        auto used =
            execute(conn, "UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL",
                    now, row.id);
        if (!used) return std::move(used).error();
        if (conn.changes() != 1) return out;
        auto next = insert_refresh_token(conn, row.user_id, row.org_id, row.family_id);
        if (!next) return std::move(next).error();
        out.kind = RefreshOutcome::Kind::kRotated;
        out.token = std::move(*next);
        return out;
      },
      loop_,
      [this, done = std::move(done)](core::Result<RefreshOutcome> outcome) {
        if (!outcome) return done(std::move(outcome).error());
        switch (outcome->kind) {
          case RefreshOutcome::Kind::kRotated:
            count(refresh_success_);
            return done(TokenPair{issue_access_token(outcome->user_id, outcome->org_id,
                                                     outcome->role, outcome->tokens_valid_after),
                                  std::move(outcome->token), options_.access_token_ttl_s});
          case RefreshOutcome::Kind::kReused:
            count(refresh_reuse_);
            log_.warn("auth", "refresh token reuse for user {}; session revoked", outcome->user_id);
            return done(core::Error(core::Errc::kTokenInvalid,
                                    "refresh token reuse detected; session revoked"));
          case RefreshOutcome::Kind::kInvalid:
            break;
        }
        count(refresh_invalid_);
        done(invalid_refresh_token());
      });
}

void AuthServiceImpl::remember_revoked_jti(const std::string& jti, std::int64_t expires_at) {
  const auto now = now_s();
  if (now - revoked_swept_at_ >= kRevokedSweepIntervalS) {
    std::erase_if(revoked_jtis_, [now](const auto& entry) { return entry.second <= now; });
    revoked_swept_at_ = now;
  }
  revoked_jtis_[jti] = expires_at;
}

void AuthServiceImpl::logout(const Principal& who, std::optional<std::string> refresh_token,
                             Callback<void> done) {
  const auto now = now_s();
  const std::string jti = who.jti;
  const auto expires_at =
      who.token_expires_at > 0 ? who.token_expires_at : now + options_.access_token_ttl_s;
  if (!jti.empty()) remember_revoked_jti(jti, expires_at);

  std::optional<std::string> refresh_hash;
  if (refresh_token && !refresh_token->empty() && refresh_token->size() <= kMaxTokenBytes &&
      who.user_id != 0) {
    refresh_hash = core::sha256(*refresh_token);
  }
  if (jti.empty() && !refresh_hash) return reply(std::move(done), core::ok());

  const auto user_id = who.user_id;
  db_.write(
      [this, jti, expires_at, user_id, refresh_hash](db::Connection& conn) -> core::Result<void> {
        const auto now = now_s();
        if (!jti.empty()) {
          auto r = execute(conn,
                           "INSERT OR IGNORE INTO revoked_access_tokens (jti, expires_at) "
                           "VALUES (?, ?)",
                           jti, expires_at);
          if (!r) return r;
          r = execute(conn, "DELETE FROM revoked_access_tokens WHERE expires_at <= ?", now);
          if (!r) return r;
        }
        if (refresh_hash) {
          // Only a family that belongs to the caller is revoked; another user's token is ignored.
          return execute(conn,
                         "UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND "
                         "family_id = (SELECT family_id FROM refresh_tokens "
                         "WHERE token_hash = ? AND user_id = ?)",
                         now, Blob{*refresh_hash}, user_id);
        }
        return core::ok();
      },
      loop_, std::move(done));
}

core::Result<void> AuthServiceImpl::store_password(db::Connection& conn, std::int64_t user_id,
                                                   std::optional<std::int64_t> org_id,
                                                   const std::string& password_hash) const {
  const auto now = now_s();
  auto updated = org_id ? execute(conn,
                                  "UPDATE users SET password_hash = ?, password_changed_at = ?, "
                                  "updated_at = ? WHERE id = ? AND org_id = ?",
                                  password_hash, now, now, user_id, *org_id)
                        : execute(conn,
                                  "UPDATE users SET password_hash = ?, password_changed_at = ?, "
                                  "updated_at = ? WHERE id = ?",
                                  password_hash, now, now, user_id);
  if (!updated) return updated;
  if (conn.changes() == 0) return user_not_found();
  return end_sessions(conn, user_id);
}

core::Result<void> AuthServiceImpl::end_sessions(db::Connection& conn, std::int64_t user_id) const {
  const auto now = now_s();
  // Past every token issued so far, including those stamped with the previous value (a second
  // ahead): two changes in one second must both end the tokens issued before each.
  auto r = execute(
      conn, "UPDATE users SET tokens_valid_after = MAX(tokens_valid_after + 1, ?) WHERE id = ?",
      now + 1, user_id);
  if (!r) return r;
  return execute(
      conn, "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
      now, user_id);
}

void AuthServiceImpl::change_password(const Principal& who, std::string current_password,
                                      std::string new_password, Callback<void> done) {
  if (who.user_id == 0) {
    return reply(std::move(done), core::Error(core::Errc::kInsufficientPermissions,
                                              "only users have a password to change"));
  }
  if (auto wait = throttle_.pair_remaining_s(who.actor, ""); wait > 0) {
    return reply(std::move(done), throttled(wait));
  }
  if (auto r = check_password(new_password, policy_, "new_password"); !r) {
    return reply(std::move(done), std::move(r).error());
  }
  if (current_password.size() > policy_.max_length * 4) {
    return reply(std::move(done), core::invalid_field("current_password", "is incorrect"));
  }
  const auto user_id = who.user_id;
  const auto org_id = who.org_id;
  auto stored = db_.read([&](db::Connection& conn) -> core::Result<std::optional<std::string>> {
    auto st =
        prepare(conn, "SELECT password_hash FROM users WHERE id = ? AND org_id = ? AND active = 1",
                user_id, org_id);
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<std::string>{};
    return std::optional<std::string>(st->get_text(0));
  });
  if (!stored) return reply(std::move(done), std::move(stored).error());
  if (!*stored) {
    return reply(std::move(done), user_not_found());
  }

  auto queued = workers_.run<core::Result<std::string>>(
      [hasher = hasher_, stored_hash = std::move(**stored), current = std::move(current_password),
       next = std::move(new_password)]() -> core::Result<std::string> {
        if (!hasher.verify(stored_hash, current)) {
          return core::invalid_field("current_password", "is incorrect");
        }
        return hasher.hash(next);
      },
      loop_,
      [this, user_id, org_id, actor = who.actor, done](core::Result<std::string> hash) {
        if (!hash) {
          if (hash.error().code == core::Errc::kInvalidInput) {
            throttle_.record_failure(actor, "");
          }
          return done(std::move(hash).error());
        }
        throttle_.record_success(actor, "");
        db_.write([this, user_id, org_id, hash = std::move(*hash)](
                      db::Connection& conn) { return store_password(conn, user_id, org_id, hash); },
                  loop_, done);
      });
  if (!queued) reply(std::move(done), std::move(queued).error());
}

}  // namespace netpulse::auth::detail
