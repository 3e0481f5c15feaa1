// Logging in: throttling, finding the account, checking the password, issuing tokens, auditing.
//
// Throttling comes first and is in memory (detail/throttle.hpp): a locked source address is
// refused without touching the database; a locked (email, address) pair is refused unless an
// administrator unlocked the email since the failures (users.login_unlocked_at, written by the
// CLI or the API, read only in that case).
//
// Emails are unique per organization. A login naming the organization checks one account; one
// without checks the password against up to kLoginCandidates accounts with that email and logs
// into the one it matches (several: INVALID_INPUT asking for `org`). Either way exactly as many
// Argon2 verifications run whatever exists (the missing ones against a dummy hash), so an unknown
// email, a wrong password and an inactive account take as long and read the same.
//
// A success is audited in the account's organization; a failure is counted in /metrics by reason,
// and audited only when it locks an account for an address (at most once per kLockAuditIntervalS
// per email), so failed logins cannot flood the log.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include <netpulse/core/random.hpp>

#include "detail/auth_service_impl.hpp"
#include "detail/errors.hpp"
#include "detail/sql.hpp"
#include "detail/validation.hpp"

namespace netpulse::auth::detail {

namespace {

constexpr std::string_view kLoginAction = "POST /api/v1/auth/login";
constexpr std::size_t kMaxSlugBytes = 63;
constexpr std::size_t kLockAuditTrackedMax = 100000;

constexpr std::string_view kLoginAccountColumns =
    "u.id, u.org_id, u.email, u.role, u.active, u.password_hash, u.tokens_valid_after";

}  // namespace

core::Result<std::vector<AuthServiceImpl::LoginAccount>> AuthServiceImpl::find_login_accounts(
    const LoginRequest& request) {
  return db_.read([&](db::Connection& conn) -> core::Result<std::vector<LoginAccount>> {
    // users.email is COLLATE NOCASE, so these comparisons ignore case.
    static const std::string in_org = fmt::format(
        "SELECT {} FROM users u JOIN organizations o ON o.id = u.org_id "
        "WHERE u.email = ?1 AND o.slug = ?2",
        kLoginAccountColumns);
    static const std::string anywhere = fmt::format(
        "SELECT {} FROM users u WHERE u.email = ?1 ORDER BY u.id LIMIT ?2", kLoginAccountColumns);
    auto st = request.org ? prepare(conn, in_org, request.email, *request.org)
                          : prepare(conn, anywhere, request.email,
                                    static_cast<std::int64_t>(kLoginCandidates));
    if (!st) return st.error();
    std::vector<LoginAccount> out;
    auto rows = for_each_row(*st, [&](const db::Statement& r) {
      LoginAccount a;
      a.id = r.get_int64(0);
      a.org_id = r.get_int64(1);
      a.email = r.get_text(2);
      a.role = stored_role(r.get_text(3));
      a.active = r.get_int64(4) != 0;
      a.password_hash = r.get_text(5);
      a.tokens_valid_after = r.get_int64(6);
      out.push_back(std::move(a));
    });
    if (!rows) return std::move(rows).error();
    return out;
  });
}

void AuthServiceImpl::apply_stored_unlock(const std::string& email, const std::string& source_ip) {
  auto unlocked = db_.read([&](db::Connection& conn) {
    return query_int(conn, 0, "SELECT MAX(login_unlocked_at) FROM users WHERE email = ?", email);
  });
  if (!unlocked) {
    log_.warn("auth", "reading the unlock time of {}: {}", email, unlocked.error().message);
    return;
  }
  if (*unlocked > 0) throttle_.forgive(email, source_ip, *unlocked);
}

void AuthServiceImpl::login(LoginRequest request, Callback<TokenPair> done) {
  // A locked address is refused before any database work.
  if (auto wait = throttle_.source_remaining_s(request.source_ip); wait > 0) {
    count(logins_throttled_);
    count(failed_throttled_source_);
    return reply(std::move(done), throttled(wait));
  }
  if (throttle_.pair_remaining_s(request.email, request.source_ip) > 0) {
    apply_stored_unlock(request.email, request.source_ip);
  }
  if (auto wait = throttle_.pair_remaining_s(request.email, request.source_ip); wait > 0) {
    count(logins_throttled_);
    count(failed_throttled_account_);
    return reply(std::move(done), throttled(wait));
  }
  // Input no account could match is refused without hashing, with the answer a wrong password
  // gets; the bound on the password also caps the work an attacker can ask of Argon2.
  const bool plausible_email = !request.email.empty() && request.email.size() <= kMaxEmailBytes;
  const bool plausible = plausible_email && !request.password.empty() &&
                         request.password.size() <= policy_.max_length * 4 &&
                         (!request.org || request.org->size() <= kMaxSlugBytes);
  if (!plausible) {
    return login_failed(request, {}, plausible_email ? failed_password_ : failed_unknown_,
                        std::move(done));
  }
  auto candidates = find_login_accounts(request);
  if (!candidates) return reply(std::move(done), std::move(candidates).error());

  const std::size_t verifications = request.org ? 1 : kLoginCandidates;
  std::vector<std::string> hashes;
  hashes.reserve(verifications);
  for (const auto& c : *candidates) hashes.push_back(c.password_hash);
  while (hashes.size() < verifications) hashes.push_back(dummy_hash_);
  auto password = std::move(request.password);
  request.password.clear();
  auto queued = workers_.run<std::vector<bool>>(
      [hasher = hasher_, hashes = std::move(hashes), password = std::move(password)] {
        // Every hash is verified, matched or not: the time must not depend on which matched.
        std::vector<bool> matches;
        for (const auto& hash : hashes) matches.push_back(hasher.verify(hash, password));
        return matches;
      },
      loop_,
      [this, request, candidates = std::move(*candidates),
       done](std::vector<bool> matches) mutable {
        LoginVerdict verdict;
        for (std::size_t i = 0; i < candidates.size() && i < matches.size(); ++i) {
          if (!matches[i]) continue;
          if (candidates[i].active) {
            verdict.matched.push_back(candidates[i]);
          } else {
            verdict.matched_inactive = true;
          }
        }
        finish_login(request, std::move(candidates), std::move(verdict), std::move(done));
      });
  if (!queued) reply(std::move(done), std::move(queued).error());
}

void AuthServiceImpl::finish_login(const LoginRequest& request,
                                   std::vector<LoginAccount> candidates, LoginVerdict verdict,
                                   Callback<TokenPair> done) {
  if (verdict.matched.empty()) {
    auto* reason = candidates.empty()         ? failed_unknown_
                   : verdict.matched_inactive ? failed_inactive_
                                              : failed_password_;
    return login_failed(request, candidates, reason, std::move(done));
  }
  if (verdict.matched.size() > 1) {
    // Only someone holding the password of several of these accounts gets here: telling them the
    // email is in several organizations reveals nothing they do not know.
    count(logins_failure_);
    count(failed_ambiguous_);
    return done(core::Error(
        core::Errc::kInvalidInput,
        "this email and password match accounts in several organizations: give \"org\", the "
        "slug of the organization to log in to",
        boost::json::object{{"field", "org"}}));
  }
  throttle_.record_success(request.email, request.source_ip);
  issue_login_tokens(request, verdict.matched.front(), std::move(done));
}

void AuthServiceImpl::login_failed(const LoginRequest& request,
                                   const std::vector<LoginAccount>& candidates,
                                   core::Counter* reason, Callback<TokenPair> done) {
  const bool locked = throttle_.record_failure(request.email, request.source_ip);
  count(logins_failure_);
  count(reason);
  log_.debug("auth", "failed login for {} from {}", request.email, request.source_ip);
  if (locked && !candidates.empty()) {
    std::string key = candidates.front().email;
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto now = now_s();
    auto it = lock_audited_at_.find(key);
    if (it == lock_audited_at_.end() || now - it->second >= kLockAuditIntervalS) {
      if (lock_audited_at_.size() >= kLockAuditTrackedMax) lock_audited_at_.clear();
      lock_audited_at_[key] = now;
      // Each organization that has the email sees the attempt on its own user.
      for (const auto& account : candidates) {
        AuditEntry e;
        e.at = now;
        e.org_id = account.org_id;
        e.user_id = account.id;
        e.actor = account.email;
        e.action = std::string(kLoginAction);
        e.target = fmt::format("users/{}", account.id);
        e.source_ip = request.source_ip;
        e.request_id = request.request_id;
        e.status = 401;
        e.success = false;
        record_audit(std::move(e));
      }
      log_.warn("auth", "login for {} locked for {} after repeated failures", request.email,
                request.source_ip);
    }
  }
  done(invalid_credentials());
}

void AuthServiceImpl::issue_login_tokens(const LoginRequest& request, const LoginAccount& account,
                                         Callback<TokenPair> done) {
  const auto family_id = core::uuid_v4();
  db_.write<std::string>(
      [this, account, family_id](db::Connection& conn) -> core::Result<std::string> {
        // Still active, and no password change or deactivation since the password was checked:
        // either one wins over this login.
        auto updated = execute(conn,
                               "UPDATE users SET last_login_at = ? WHERE id = ? AND active = 1 "
                               "AND tokens_valid_after = ?",
                               now_s(), account.id, account.tokens_valid_after);
        if (!updated) return std::move(updated).error();
        if (conn.changes() == 0) return invalid_credentials();
        return insert_refresh_token(conn, account.id, account.org_id, family_id);
      },
      loop_,
      [this, account, source_ip = request.source_ip, request_id = request.request_id,
       done = std::move(done)](core::Result<std::string> refresh) {
        if (!refresh) {
          count(logins_failure_);
          return done(std::move(refresh).error());
        }
        count(logins_success_);
        AuditEntry e;
        e.org_id = account.org_id;
        e.user_id = account.id;
        e.actor = account.email;
        e.action = std::string(kLoginAction);
        e.target = fmt::format("users/{}", account.id);
        e.source_ip = source_ip;
        e.request_id = request_id;
        e.status = 200;
        e.success = true;
        record_audit(std::move(e));
        done(TokenPair{issue_access_token(account.id, account.org_id, account.role,
                                          account.tokens_valid_after),
                       std::move(*refresh), options_.access_token_ttl_s});
      });
}

}  // namespace netpulse::auth::detail
