// The account policies of docs/security.md on a real AuthService with a ManualClock: lock-outs per
// (account, address) and the stored unlock; audited logins and bounded audit of failures; emails
// unique per organization and logins that find the account; access tokens ended by a password
// change, a reset or a deactivation, to the second; API keys that belong to their creator; and
// the background retention of the audit log.
#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "auth_harness.hpp"

using namespace netpulse;
using auth::Role;
using core::Errc;
using std::chrono::seconds;
using test::AuthHarness;
using test::kAdminEmail;
using test::kAdminPassword;

namespace {

constexpr const char* kAttacker = "203.0.113.66";
constexpr const char* kOffice = "198.51.100.7";

double failures(AuthHarness& h, const std::string& reason) {
  return test::counter_value(h.metrics, "netpulse_auth_login_failures_total", "reason", reason);
}

// The audit rows of every organization, newest first.
std::vector<auth::AuditEntry> audit_rows(AuthHarness& h, auth::AuditFilter filter = {}) {
  h.flush();
  auto rows = h.service->list_audit_all(auth::SystemScope::trusted(), filter, core::Page{1, 500});
  REQUIRE(rows);
  return rows->items;
}

auth::AuditFilter logins_only() {
  auth::AuditFilter f;
  f.action_prefix = "POST /api/v1/auth/login";
  return f;
}

}  // namespace

// --- lock-outs ---------------------------------------------------------------------------------

TEST_CASE(
    "login throttle: an attacker failing forever at one address never locks the user out "
    "at another, and stays locked out",
    "[auth][account]") {
  AuthHarness h([](auth::Options& o) { o.throttle_max_s = 900; });
  int guesses = 0;
  for (int round = 0; round < 40; ++round) {
    // A wrong password whenever the attacker's lock allows one (every 15 minutes at the cap).
    if (h.service->throttle_remaining_s(kAdminEmail, kAttacker) == 0) {
      auto r = h.login(kAdminEmail, "guess-" + std::to_string(round), kAttacker);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == Errc::kInvalidCredentials);
      ++guesses;
      // From the third failure on, every failure locks the attacker's address out again.
      if (guesses >= 3) CHECK(h.service->throttle_remaining_s(kAdminEmail, kAttacker) > 0);
    }
    // The administrator, elsewhere, is never made to wait.
    INFO("round " << round);
    CHECK(h.service->throttle_remaining_s(kAdminEmail, kOffice) == 0);
    REQUIRE(h.login(kAdminEmail, kAdminPassword, kOffice));
    h.clock.advance(seconds(450));
  }
  CHECK(guesses > 20);
  // Even the right password does not get the attacker's address in while it is locked.
  if (h.service->throttle_remaining_s(kAdminEmail, kAttacker) == 0) {
    REQUIRE_FALSE(h.login(kAdminEmail, "one-more-guess", kAttacker));
  }
  auto blocked = h.login(kAdminEmail, kAdminPassword, kAttacker);
  REQUIRE_FALSE(blocked);
  CHECK(blocked.error().code == Errc::kRateLimitExceeded);
}

TEST_CASE(
    "login throttle: an unlock from the API or the CLI lifts a lock-out while the server "
    "runs; failures after it count again",
    "[auth][account]") {
  AuthHarness h;
  auto admin = h.admin();
  auto user = h.add_user(admin.org_id, "op@example.com", Role::kOperator, "operator-pass-1");
  auto lock = [&] {
    for (int i = 0; i < 3; ++i) REQUIRE_FALSE(h.login("op@example.com", "wrong", kAttacker));
    auto locked = h.login("op@example.com", "operator-pass-1", kAttacker);
    REQUIRE_FALSE(locked);
    REQUIRE(locked.error().code == Errc::kRateLimitExceeded);
  };

  lock();
  h.clock.advance(std::chrono::milliseconds(1));
  // The CLI is another process: it only writes the database; this service reads it at login.
  REQUIRE(h.service->unlock_user_sync("OP@example.com", std::nullopt));
  CHECK(h.login("op@example.com", "operator-pass-1", kAttacker));

  lock();
  h.clock.advance(std::chrono::milliseconds(1));
  auto unlocked = h.wait<void>(
      [&](auth::Callback<void> cb) { h.service->unlock_user(auth::scope_of(admin), user.id, cb); });
  REQUIRE(unlocked);
  CHECK(h.login("op@example.com", "operator-pass-1", kAttacker));

  // Failures after an unlock count from nothing and lock again.
  lock();

  // Another organization's user cannot be unlocked through this one.
  auto other = h.add_org("Other", "other");
  auto foreign = h.wait<void>([&](auth::Callback<void> cb) {
    h.service->unlock_user(core::OrgScope::trusted(other.id), user.id, cb);
  });
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().code == Errc::kUserNotFound);
  auto ghost = h.service->unlock_user_sync("ghost@example.com", std::nullopt);
  REQUIRE_FALSE(ghost);
  CHECK(ghost.error().code == Errc::kUserNotFound);
}

// --- audit -------------------------------------------------------------------------------------

TEST_CASE(
    "audit: logins are audited by account; failures are counted by reason and a lock-out "
    "is audited once per account per 15 minutes",
    "[auth][account][audit]") {
  AuthHarness h;
  auto admin = h.admin();
  h.add_user(admin.org_id, "op@example.com", Role::kOperator, "operator-pass-1");

  auto rows = audit_rows(h, logins_only());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].actor == kAdminEmail);
  CHECK(rows[0].user_id == admin.user_id);
  CHECK(rows[0].org_id == admin.org_id);
  CHECK(rows[0].success);
  CHECK(rows[0].source_ip == test::kDefaultIp);

  // Unknown accounts: counted, never written.
  for (int i = 0; i < 10; ++i) {
    REQUIRE_FALSE(h.login("nobody" + std::to_string(i) + "@example.com", "x-password", kAttacker));
  }
  CHECK(failures(h, "unknown_account") == 10);
  CHECK(audit_rows(h, logins_only()).size() == 1);

  // A known account locked from two addresses within 15 minutes: one row.
  for (const char* ip : {kAttacker, "203.0.113.67"}) {
    for (int i = 0; i < 3; ++i) REQUIRE_FALSE(h.login("op@example.com", "wrong-pass", ip));
  }
  CHECK(failures(h, "wrong_password") == 6);
  rows = audit_rows(h, logins_only());
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].actor == "op@example.com");
  CHECK_FALSE(rows[0].success);
  CHECK(rows[0].status == 401);
  CHECK(rows[0].source_ip == kAttacker);

  // Attempts while locked: counted only.
  REQUIRE_FALSE(h.login("op@example.com", "wrong-pass", kAttacker));
  CHECK(failures(h, "throttled_account") == 1);
  // Later, another lock-out is another row.
  h.clock.advance(seconds(900));
  for (int i = 0; i < 3; ++i) REQUIRE_FALSE(h.login("op@example.com", "wrong-pass", kOffice));
  CHECK(audit_rows(h, logins_only()).size() == 3);
}

TEST_CASE("audit: rows past the retention are deleted in bounded batches by the tick",
          "[auth][account][audit]") {
  AuthHarness h([](auth::Options& o) {
    o.audit_retention_days = 30;
    o.purge_batch_rows = 100;
  });
  auto admin = h.admin();  // one login row, now
  const auto now = h.clock.unix_seconds();
  auto record = [&](std::int64_t at) {
    auth::AuditEntry e;
    e.at = at;
    e.org_id = admin.org_id;
    e.actor = "test";
    e.action = "POST /api/v1/users";
    e.status = 201;
    e.success = true;
    h.service->record_audit(e);
  };
  for (int i = 0; i < 350; ++i) record(now - 40 * 86'400 + i);  // past the retention
  for (int i = 0; i < 5; ++i) record(now - 29 * 86'400 + i);    // within it
  h.flush();
  REQUIRE(audit_rows(h).size() == 356);

  h.service->tick();
  // The batches chain on the loop: run it until they are done.
  for (int i = 0; i < 20; ++i) h.flush();
  CHECK(audit_rows(h).size() == 6);
  CHECK(test::counter_value(h.metrics, "netpulse_auth_purged_rows_total", "table", "audit_log") ==
        350);

  // Caught up: the next sweep waits an hour.
  record(now - 40 * 86'400);
  h.flush();
  h.service->tick();
  for (int i = 0; i < 3; ++i) h.flush();
  CHECK(audit_rows(h).size() == 7);
  h.clock.advance(seconds(3600));
  h.service->tick();
  for (int i = 0; i < 3; ++i) h.flush();
  CHECK(audit_rows(h).size() == 6);
}

TEST_CASE("audit: refresh tokens long expired are deleted by the tick", "[auth][account]") {
  AuthHarness h;
  auto tokens = h.login(kAdminEmail, kAdminPassword);
  REQUIRE(tokens);
  auto count_tokens = [&] {
    h.flush();
    auto n = h.database->read([](db::Connection& conn) -> core::Result<std::int64_t> {
      auto st = conn.prepare("SELECT COUNT(*) FROM refresh_tokens");
      if (!st) return st.error();
      auto row = st->step();
      if (!row) return row.error();
      return st->get_int64(0);
    });
    REQUIRE(n);
    return *n;
  };
  REQUIRE(count_tokens() == 1);
  // Expired, but within one more lifetime: kept, so a replay is still recognised.
  h.clock.advance(seconds(h.options.refresh_token_ttl_s + 10));
  h.service->tick();
  CHECK(count_tokens() == 1);
  h.clock.advance(seconds(h.options.refresh_token_ttl_s + 3600));
  h.service->tick();
  CHECK(count_tokens() == 0);
}

// --- emails and logins -------------------------------------------------------------------------

TEST_CASE("emails: unique per organization; another organization's email is no conflict",
          "[auth][account]") {
  AuthHarness h;
  auto admin = h.admin();
  auto acme = h.add_org("Acme", "acme");
  h.add_user(admin.org_id, "shared@example.com", Role::kOperator, "system-pass-1");

  auto in_acme = h.add_user(acme.id, "SHARED@example.com", Role::kViewer, "acme-pass-1");
  CHECK(in_acme.org_id == acme.id);

  auth::NewUser dup;
  dup.email = "shared@EXAMPLE.com";
  dup.role = Role::kViewer;
  dup.password = "another-pass-1";
  auto again = h.wait<auth::User>([&](auth::Callback<auth::User> cb) {
    h.service->create_user(core::OrgScope::trusted(acme.id), dup, cb);
  });
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::kUserAlreadyExists);
  // Renaming into another organization's email is no conflict either.
  auto renamed_user = h.add_user(acme.id, "second@acme.net", Role::kViewer, "acme-pass-2");
  auth::UserPatch patch;
  patch.email = "admin@example.com";
  CHECK(h.patch_user(acme.id, renamed_user.id, patch));
  // The CLI's sync helper is the same.
  dup.email = "shared@example.com";
  auto third = h.add_org("Third", "third");
  CHECK(h.service->create_user_sync(core::OrgScope::trusted(third.id), dup));
  auto cli_dup = h.service->create_user_sync(core::OrgScope::trusted(third.id), dup);
  REQUIRE_FALSE(cli_dup);
  CHECK(cli_dup.error().code == Errc::kUserAlreadyExists);
}

TEST_CASE("emails: login finds the account the password matches, asks for org when several do",
          "[auth][account]") {
  AuthHarness h;
  auto admin = h.admin();
  auto acme = h.add_org("Acme", "acme");
  auto sys_user = h.add_user(admin.org_id, "shared@example.com", Role::kOperator, "system-pass-1");
  auto acme_user = h.add_user(acme.id, "shared@example.com", Role::kViewer, "acme-pass-1");

  auto as_acme = h.login("shared@example.com", "acme-pass-1");
  REQUIRE(as_acme);
  CHECK(h.service->authenticate(as_acme->access_token)->user_id == acme_user.id);
  auto as_sys = h.login("shared@example.com", "system-pass-1");
  REQUIRE(as_sys);
  CHECK(h.service->authenticate(as_sys->access_token)->user_id == sys_user.id);

  // Naming the organization checks only its account.
  CHECK_FALSE(h.login("shared@example.com", "system-pass-1", test::kDefaultIp, "acme"));
  CHECK(h.login("shared@example.com", "acme-pass-1", test::kDefaultIp, "acme"));
  auto no_org = h.login("shared@example.com", "acme-pass-1", test::kDefaultIp, "nowhere");
  REQUIRE_FALSE(no_org);
  CHECK(no_org.error().code == Errc::kInvalidCredentials);

  // The same password in both: ambiguous, and it says which field resolves it.
  auto reset = h.wait<void>([&](auth::Callback<void> cb) {
    h.service->set_password(core::OrgScope::trusted(acme.id), acme_user.id, "system-pass-1", cb);
  });
  REQUIRE(reset);
  auto ambiguous = h.login("shared@example.com", "system-pass-1");
  REQUIRE_FALSE(ambiguous);
  CHECK(ambiguous.error().code == Errc::kInvalidInput);
  CHECK(ambiguous.error().details.at("field").as_string() == "org");
  CHECK(failures(h, "ambiguous_account") == 1);
  auto chosen = h.login("shared@example.com", "system-pass-1", test::kDefaultIp, "acme");
  REQUIRE(chosen);
  CHECK(h.service->authenticate(chosen->access_token)->org_id == acme.id);

  // The CLI asks for --org too.
  auto cli = h.service->set_password_sync("shared@example.com", std::nullopt, "cli-pass-123");
  REQUIRE_FALSE(cli);
  CHECK(cli.error().details.at("field").as_string() == "org");
  REQUIRE(h.service->set_password_sync("shared@example.com", std::string("acme"), "cli-pass-123"));
  CHECK(h.login("shared@example.com", "cli-pass-123"));

  // A deactivated account's right password reads as any failure.
  auth::UserPatch off;
  off.active = false;
  REQUIRE(h.patch_user(acme.id, acme_user.id, off));
  auto inactive = h.login("shared@example.com", "cli-pass-123");
  REQUIRE_FALSE(inactive);
  CHECK(inactive.error().code == Errc::kInvalidCredentials);
  CHECK(inactive.error().message == "invalid email or password");
  CHECK(failures(h, "inactive_account") == 1);
}

// --- access tokens -----------------------------------------------------------------------------

TEST_CASE(
    "tokens: a password change ends the tokens issued before it, in the same second too, "
    "and the new password logs in at once",
    "[auth][account][tokens]") {
  AuthHarness h;
  auto tokens = h.login(kAdminEmail, kAdminPassword);
  REQUIRE(tokens);
  auto me = h.service->authenticate(tokens->access_token);
  REQUIRE(me);
  // The clock does not move: the change happens in the second the token was issued.
  auto changed = h.wait<void>([&](auth::Callback<void> cb) {
    h.service->change_password(*me, kAdminPassword, "brand-new-password", cb);
  });
  REQUIRE(changed);
  auto old = h.service->authenticate(tokens->access_token);
  REQUIRE_FALSE(old);
  CHECK(old.error().code == Errc::kTokenInvalid);

  auto fresh = h.login(kAdminEmail, "brand-new-password");
  REQUIRE(fresh);
  CHECK(h.service->authenticate(fresh->access_token));
  // And a second later, still.
  h.clock.advance(seconds(1));
  CHECK(h.service->authenticate(fresh->access_token));
  auto rotated = h.refresh(fresh->refresh_token);
  REQUIRE(rotated);
  CHECK(h.service->authenticate(rotated->access_token));

  // Two changes in one second: the token issued between them (stamped a second ahead) dies with
  // the second one.
  auto admin = h.service->authenticate(rotated->access_token);
  REQUIRE(admin);
  REQUIRE(h.wait<void>([&](auth::Callback<void> cb) {
    h.service->change_password(*admin, "brand-new-password", "third-password-1", cb);
  }));
  auto between = h.login(kAdminEmail, "third-password-1");
  REQUIRE(between);
  REQUIRE(h.service->authenticate(between->access_token));
  REQUIRE(h.wait<void>([&](auth::Callback<void> cb) {
    h.service->set_password(auth::scope_of(*admin), admin->user_id, "fourth-password-1", cb);
  }));
  CHECK_FALSE(h.service->authenticate(between->access_token));
  auto last = h.login(kAdminEmail, "fourth-password-1");
  REQUIRE(last);
  CHECK(h.service->authenticate(last->access_token));
}

TEST_CASE(
    "tokens: an admin reset, the CLI's reset and a deactivation end the user's tokens; a "
    "reactivation does not bring them back",
    "[auth][account][tokens]") {
  AuthHarness h;
  auto admin = h.admin();
  auto user = h.add_user(admin.org_id, "op@example.com", Role::kOperator, "operator-pass-1");

  h.clock.advance(seconds(5));
  auto t1 = h.login("op@example.com", "operator-pass-1");
  REQUIRE(t1);
  auto reset = h.wait<void>([&](auth::Callback<void> cb) {
    h.service->set_password(auth::scope_of(admin), user.id, "operator-pass-2", cb);
  });
  REQUIRE(reset);
  CHECK_FALSE(h.service->authenticate(t1->access_token));

  h.clock.advance(seconds(5));
  auto t2 = h.login("op@example.com", "operator-pass-2");
  REQUIRE(t2);
  REQUIRE(h.service->set_password_sync("op@example.com", std::nullopt, "operator-pass-3"));
  CHECK_FALSE(h.service->authenticate(t2->access_token));

  h.clock.advance(seconds(5));
  auto t3 = h.login("op@example.com", "operator-pass-3");
  REQUIRE(t3);
  auth::UserPatch off;
  off.active = false;
  REQUIRE(h.patch_user(admin.org_id, user.id, off));
  CHECK_FALSE(h.service->authenticate(t3->access_token));
  auth::UserPatch on;
  on.active = true;
  REQUIRE(h.patch_user(admin.org_id, user.id, on));
  auto revived = h.service->authenticate(t3->access_token);
  REQUIRE_FALSE(revived);
  CHECK(revived.error().code == Errc::kTokenInvalid);
  CHECK_FALSE(h.refresh(t3->refresh_token));
  // A role change alone ends nothing (the role is read on every request).
  auto t4 = h.login("op@example.com", "operator-pass-3");
  REQUIRE(t4);
  auth::UserPatch demote;
  demote.role = Role::kViewer;
  REQUIRE(h.patch_user(admin.org_id, user.id, demote));
  auto demoted = h.service->authenticate(t4->access_token);
  REQUIRE(demoted);
  CHECK(demoted->role == Role::kViewer);
}

// --- API keys ------------------------------------------------------------------------------------

TEST_CASE(
    "API keys: a key belongs to its creator: it stops with the creator and acts with the "
    "lesser role",
    "[auth][account][api-keys]") {
  AuthHarness h;
  auto admin = h.admin();
  auto second = h.add_user(admin.org_id, "second@example.com", Role::kAdmin, "second-pass-1");
  auto creator = h.principal_for("second@example.com", "second-pass-1");
  auto admin_key = h.add_key(creator, Role::kAdmin, "automation");
  REQUIRE(admin_key);
  auto ingest_key = h.add_key(creator, Role::kApiUser, "telegraf");
  REQUIRE(ingest_key);
  auto as_admin = h.service->authenticate(admin_key->secret);
  REQUIRE(as_admin);
  CHECK(as_admin->is_system_admin());

  auto set_role = [&](Role role) {
    auth::UserPatch p;
    p.role = role;
    REQUIRE(h.patch_user(admin.org_id, second.id, p));
  };
  set_role(Role::kOperator);
  auto clamped = h.service->authenticate(admin_key->secret);
  REQUIRE(clamped);
  CHECK(clamped->role == Role::kOperator);
  CHECK_FALSE(clamped->is_system_admin());
  CHECK_FALSE(clamped->can(auth::Permission::kUsersWrite));
  CHECK(h.service->authenticate(ingest_key->secret)->role == Role::kApiUser);

  // A viewer holds no role that covers an api_user key (metrics:write): the key is suspended.
  set_role(Role::kViewer);
  CHECK(h.service->authenticate(admin_key->secret)->role == Role::kViewer);
  auto suspended = h.service->authenticate(ingest_key->secret);
  REQUIRE_FALSE(suspended);
  CHECK(suspended.error().code == Errc::kTokenInvalid);
  set_role(Role::kAdmin);
  CHECK(h.service->authenticate(ingest_key->secret));

  auth::UserPatch off;
  off.active = false;
  REQUIRE(h.patch_user(admin.org_id, second.id, off));
  CHECK_FALSE(h.service->authenticate(admin_key->secret));
  auth::UserPatch on;
  on.active = true;
  REQUIRE(h.patch_user(admin.org_id, second.id, on));
  CHECK(h.service->authenticate(admin_key->secret));

  auto removed = h.wait<void>([&](auth::Callback<void> cb) {
    h.service->delete_user(auth::scope_of(admin), second.id, cb);
  });
  REQUIRE(removed);
  auto dead = h.service->authenticate(admin_key->secret);
  REQUIRE_FALSE(dead);
  CHECK(dead.error().code == Errc::kTokenInvalid);
  auto keys = h.service->list_api_keys(auth::scope_of(admin), core::Page{});
  REQUIRE(keys);
  for (const auto& k : keys->items) {
    CHECK(k.revoked_at);  // the list says they are dead
    CHECK_FALSE(k.created_by);
  }
}

TEST_CASE(
    "API keys: keys cannot create keys; the default lifetime applies; the CLI lists and "
    "revokes",
    "[auth][account][api-keys]") {
  AuthHarness h([](auth::Options& o) { o.api_key_default_ttl_days = 90; });
  auto admin = h.admin();
  auto key = h.add_key(admin, Role::kAdmin, "automation");
  REQUIRE(key);
  REQUIRE(key->key.expires_at);
  CHECK(*key->key.expires_at == h.clock.unix_seconds() + 90 * 86'400);
  auto as_key = h.service->authenticate(key->secret);
  REQUIRE(as_key);
  auto child = h.add_key(*as_key, Role::kViewer, "child");
  REQUIRE_FALSE(child);
  CHECK(child.error().code == Errc::kInsufficientPermissions);

  h.clock.advance(seconds(90 * 86'400));
  auto expired = h.service->authenticate(key->secret);
  REQUIRE_FALSE(expired);
  CHECK(expired.error().code == Errc::kTokenExpired);

  auto fresh = h.add_key(h.admin(), Role::kApiUser, "telegraf");
  REQUIRE(fresh);
  auto all = h.service->list_all_api_keys_sync();
  REQUIRE(all);
  CHECK(all->size() == 2);
  REQUIRE(h.service->revoke_api_key_sync(fresh->key.id));
  CHECK_FALSE(h.service->authenticate(fresh->secret));
  CHECK(h.service->revoke_api_key_sync(fresh->key.id));  // again: fine
  auto missing = h.service->revoke_api_key_sync(99999);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::kApiKeyNotFound);

  h.flush();
  auto cli_rows = audit_rows(h, [] {
    auth::AuditFilter f;
    f.action_prefix = "cli ";
    return f;
  }());
  REQUIRE(cli_rows.size() == 1);
  CHECK(cli_rows[0].actor == "cli");
  CHECK(cli_rows[0].target == "api-keys/" + std::to_string(fresh->key.id));

  AuthHarness never([](auth::Options& o) { o.api_key_default_ttl_days = 0; });
  auto forever = never.add_key(never.admin(), Role::kApiUser);
  REQUIRE(forever);
  CHECK_FALSE(forever->key.expires_at);
}
