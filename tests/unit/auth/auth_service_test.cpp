// AuthService end to end on a real Database in a temporary directory, with the event loop run by
// the test and a ManualClock for time: bootstrap, login and its uniform failures, throttling,
// refresh rotation and replay, logout, expiry, API keys, tenancy and the last-admin rule.
#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include <catch2/catch.hpp>

#include "auth_harness.hpp"
#include "support/test_env.hpp"

using namespace netpulse;
using auth::Role;
using core::Errc;
using test::kAdminEmail;
using test::kAdminPassword;
using test::test_options;
using Harness = test::AuthHarness;

namespace {

double counter_value(core::MetricsRegistry& m, const std::string& name,
                     const std::string& outcome) {
  return test::counter_value(m, name, "outcome", outcome);
}

}  // namespace

TEST_CASE("auth service: bootstrap creates the system org and its admin exactly once",
          "[auth][service]") {
  Harness h;
  auto again = h.service->ensure_bootstrap("other@example.com", std::nullopt);
  REQUIRE(again);
  CHECK_FALSE(again->created);
  auto users = h.service->list_all_users_sync();
  REQUIRE(users);
  REQUIRE(users->size() == 1);
  CHECK((*users)[0].email == kAdminEmail);
  CHECK((*users)[0].role == Role::kAdmin);

  auto p = h.admin();
  CHECK(p.is_system_admin());
  CHECK(p.actor == kAdminEmail);
  auto org = h.service->get_own_org(auth::scope_of(p));
  REQUIRE(org);
  CHECK(org->slug == "system");
  CHECK(org->is_system);
}

TEST_CASE("auth service: bootstrap generates a password when none is given", "[auth][service]") {
  test::TempDir dir;
  core::ManualClock clock;
  core::Logger log{clock, [](std::string_view) {}, core::LogLevel::kOff};
  boost::asio::io_context io;
  db::Options dbo;
  dbo.path = dir.file("netpulse.db");
  test::TestEnv te(clock, log);
  auto database = db::Database::open(dbo, te.env());
  REQUIRE(database);
  auto svc = auth::AuthService::open(test_options(dir.path()), te.env(), **database);
  REQUIRE(svc);
  auto bad = (*svc)->ensure_bootstrap(kAdminEmail, std::string("short"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::kInvalidInput);
  auto boot = (*svc)->ensure_bootstrap(kAdminEmail, std::nullopt);
  REQUIRE(boot);
  CHECK(boot->created);
  REQUIRE(boot->generated_password);
  CHECK(boot->generated_password->size() == 20);
  CHECK(boot->generated_password->find_first_of("0O1lI") == std::string::npos);
  auto second = (*svc)->ensure_bootstrap(kAdminEmail, std::nullopt);
  REQUIRE(second);
  CHECK_FALSE(second->created);
  CHECK_FALSE(second->generated_password);
}

TEST_CASE("auth service: login failures all look the same", "[auth][service]") {
  Harness h;
  auto ok = h.login(kAdminEmail, kAdminPassword);
  REQUIRE(ok);
  CHECK_FALSE(ok->access_token.empty());
  CHECK_FALSE(ok->refresh_token.empty());
  CHECK(ok->expires_in == 900);
  CHECK(h.login("ADMIN@example.com", kAdminPassword));  // emails ignore case

  auto p = h.admin();
  auto inactive = h.add_user(p.org_id, "gone@example.com", Role::kViewer, "gone-password-1");
  auto patched = h.wait<auth::User>([&](auth::Callback<auth::User> cb) {
    auth::UserPatch patch;
    patch.active = false;
    h.service->update_user(auth::scope_of(p), inactive.id, patch, cb);
  });
  REQUIRE(patched);

  auto wrong = h.login(kAdminEmail, "not-the-password", "192.0.2.1");
  auto unknown = h.login("nobody@example.com", kAdminPassword, "192.0.2.2");
  auto disabled = h.login("gone@example.com", "gone-password-1", "192.0.2.3");
  auto empty = h.login("", "", "192.0.2.4");
  for (auto* r : {&wrong, &unknown, &disabled, &empty}) {
    REQUIRE_FALSE(*r);
    CHECK(r->error().code == Errc::kInvalidCredentials);
    CHECK(r->error().message == "invalid email or password");
  }
  CHECK(counter_value(h.metrics, "netpulse_auth_logins_total", "failure") == 4);
}

TEST_CASE("auth service: repeated failures throttle the account, even with the right password",
          "[auth][service]") {
  Harness h;
  for (int i = 0; i < 3; ++i) {
    auto r = h.login(kAdminEmail, "wrong-password");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kInvalidCredentials);
  }
  auto locked = h.login(kAdminEmail, kAdminPassword);
  REQUIRE_FALSE(locked);
  CHECK(locked.error().code == Errc::kRateLimitExceeded);
  CHECK(locked.error().details.at("retry_after_s").as_int64() == 1);
  CHECK(h.service->throttle_remaining_s(kAdminEmail, test::kDefaultIp) == 1);
  // Locked for that address only.
  CHECK(h.service->throttle_remaining_s(kAdminEmail, "198.51.100.1") == 0);
  CHECK(counter_value(h.metrics, "netpulse_auth_logins_total", "throttled") == 1);

  h.clock.advance(std::chrono::seconds(1));
  auto wrong_again = h.login(kAdminEmail, "wrong-password");
  REQUIRE_FALSE(wrong_again);
  CHECK(h.service->throttle_remaining_s(kAdminEmail, test::kDefaultIp) == 2);  // doubled
  h.clock.advance(std::chrono::seconds(2));
  CHECK(h.login(kAdminEmail, kAdminPassword));
  CHECK(h.service->throttle_remaining_s(kAdminEmail, test::kDefaultIp) == 0);
}

TEST_CASE("auth service: refresh rotates tokens and replay revokes the family", "[auth][service]") {
  Harness h;
  auto first = h.login(kAdminEmail, kAdminPassword);
  REQUIRE(first);
  auto second = h.refresh(first->refresh_token);
  REQUIRE(second);
  CHECK(second->refresh_token != first->refresh_token);
  CHECK(second->access_token != first->access_token);
  CHECK(h.service->authenticate(second->access_token));
  auto third = h.refresh(second->refresh_token);
  REQUIRE(third);

  // A stolen copy of an already used token is presented: the whole session dies.
  auto replay = h.refresh(first->refresh_token);
  REQUIRE_FALSE(replay);
  CHECK(replay.error().code == Errc::kTokenInvalid);
  CHECK(replay.error().message == "refresh token reuse detected; session revoked");
  auto newest = h.refresh(third->refresh_token);
  REQUIRE_FALSE(newest);
  CHECK(newest.error().code == Errc::kTokenInvalid);
  CHECK(counter_value(h.metrics, "netpulse_auth_token_refresh_total", "reuse") >= 1);

  // Another session of the same user is untouched.
  auto other = h.login(kAdminEmail, kAdminPassword);
  REQUIRE(other);
  CHECK(h.refresh(other->refresh_token));

  auto bogus = h.refresh("not-a-token");
  REQUIRE_FALSE(bogus);
  CHECK(bogus.error().code == Errc::kTokenInvalid);
}

TEST_CASE("auth service: two concurrent refreshes of one token cannot both succeed",
          "[auth][service]") {
  Harness h;
  auto tokens = h.login(kAdminEmail, kAdminPassword);
  REQUIRE(tokens);
  std::vector<core::Result<auth::TokenPair>> results;
  auto collect = [&](core::Result<auth::TokenPair> r) { results.push_back(std::move(r)); };
  h.service->refresh(tokens->refresh_token, collect);
  h.service->refresh(tokens->refresh_token, collect);
  h.io.restart();
  auto guard = boost::asio::make_work_guard(h.io);
  while (results.size() < 2) {
    if (h.io.run_one_for(std::chrono::seconds(30)) == 0) break;
  }
  REQUIRE(results.size() == 2);
  const auto successes =
      std::count_if(results.begin(), results.end(), [](const auto& r) { return r.has_value(); });
  CHECK(successes == 1);
  for (const auto& r : results) {
    if (r) CHECK_FALSE(h.refresh(r->refresh_token));  // the family was revoked by the replay
  }
}

TEST_CASE("auth service: refresh tokens expire", "[auth][service]") {
  Harness h;
  auto tokens = h.login(kAdminEmail, kAdminPassword);
  REQUIRE(tokens);
  h.clock.advance(std::chrono::seconds(2592000));
  auto r = h.refresh(tokens->refresh_token);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kTokenInvalid);
}

TEST_CASE("auth service: access tokens expire and unknown bearers are refused", "[auth][service]") {
  Harness h;
  auto tokens = h.login(kAdminEmail, kAdminPassword);
  REQUIRE(tokens);
  h.clock.advance(std::chrono::seconds(899));
  CHECK(h.service->authenticate(tokens->access_token));
  h.clock.advance(std::chrono::seconds(1));
  auto expired = h.service->authenticate(tokens->access_token);
  REQUIRE_FALSE(expired);
  CHECK(expired.error().code == Errc::kTokenExpired);

  auto none = h.service->authenticate("");
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::kAuthenticationRequired);
  auto junk = h.service->authenticate("definitely.not.jwt");
  REQUIRE_FALSE(junk);
  CHECK(junk.error().code == Errc::kTokenInvalid);
  auto huge = h.service->authenticate(std::string(10000, 'a'));
  REQUIRE_FALSE(huge);
  CHECK(huge.error().code == Errc::kTokenInvalid);
}

TEST_CASE("auth service: logout revokes the access token and the refresh family, across restarts",
          "[auth][service]") {
  Harness h;
  auto tokens = h.login(kAdminEmail, kAdminPassword);
  REQUIRE(tokens);
  auto p = h.service->authenticate(tokens->access_token);
  REQUIRE(p);
  auto out = h.wait<void>(
      [&](auth::Callback<void> cb) { h.service->logout(*p, tokens->refresh_token, cb); });
  REQUIRE(out);
  auto after = h.service->authenticate(tokens->access_token);
  REQUIRE_FALSE(after);
  CHECK(after.error().code == Errc::kTokenInvalid);
  CHECK_FALSE(h.refresh(tokens->refresh_token));

  h.reopen();
  auto after_restart = h.service->authenticate(tokens->access_token);
  REQUIRE_FALSE(after_restart);
  CHECK(after_restart.error().code == Errc::kTokenInvalid);
}

TEST_CASE("auth service: logout ignores a refresh token of another user", "[auth][service]") {
  Harness h;
  auto admin = h.admin();
  h.add_user(admin.org_id, "op@example.com", Role::kOperator, "operator-pass-1");
  auto victim = h.login(kAdminEmail, kAdminPassword);
  REQUIRE(victim);
  auto op = h.principal_for("op@example.com", "operator-pass-1");
  auto out = h.wait<void>(
      [&](auth::Callback<void> cb) { h.service->logout(op, victim->refresh_token, cb); });
  REQUIRE(out);
  CHECK(h.refresh(victim->refresh_token));
}

TEST_CASE("auth service: role changes and deactivation apply to the next request",
          "[auth][service]") {
  Harness h;
  auto admin = h.admin();
  auto user = h.add_user(admin.org_id, "op@example.com", Role::kOperator, "operator-pass-1");
  auto tokens = h.login("op@example.com", "operator-pass-1");
  REQUIRE(tokens);
  auto before = h.service->authenticate(tokens->access_token);
  REQUIRE(before);
  CHECK(before->role == Role::kOperator);
  CHECK(before->org_is_system);

  auto demote = h.wait<auth::User>([&](auth::Callback<auth::User> cb) {
    auth::UserPatch patch;
    patch.role = Role::kViewer;
    h.service->update_user(auth::scope_of(admin), user.id, patch, cb);
  });
  REQUIRE(demote);
  CHECK(demote->role == Role::kViewer);
  auto demoted = h.service->authenticate(tokens->access_token);
  REQUIRE(demoted);
  CHECK(demoted->role == Role::kViewer);

  auto deactivate = h.wait<auth::User>([&](auth::Callback<auth::User> cb) {
    auth::UserPatch patch;
    patch.active = false;
    h.service->update_user(auth::scope_of(admin), user.id, patch, cb);
  });
  REQUIRE(deactivate);
  auto dead = h.service->authenticate(tokens->access_token);
  REQUIRE_FALSE(dead);
  CHECK(dead.error().code == Errc::kTokenInvalid);
  CHECK_FALSE(h.refresh(tokens->refresh_token));
}

TEST_CASE("auth service: change_password checks the current one and ends other sessions",
          "[auth][service]") {
  Harness h;
  auto tokens = h.login(kAdminEmail, kAdminPassword);
  REQUIRE(tokens);
  auto p = h.service->authenticate(tokens->access_token);
  REQUIRE(p);
  auto change = [&](std::string current, std::string next) {
    return h.wait<void>(
        [&](auth::Callback<void> cb) { h.service->change_password(*p, current, next, cb); });
  };
  auto wrong = change("not-current", "brand-new-password");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == Errc::kInvalidInput);
  CHECK(wrong.error().details.at("field").as_string() == "current_password");
  auto weak = change(kAdminPassword, "short");
  REQUIRE_FALSE(weak);
  CHECK(weak.error().code == Errc::kInvalidInput);
  REQUIRE(change(kAdminPassword, "brand-new-password"));

  CHECK_FALSE(h.refresh(tokens->refresh_token));
  CHECK_FALSE(h.login(kAdminEmail, kAdminPassword));
  CHECK(h.login(kAdminEmail, "brand-new-password"));
}

TEST_CASE("auth service: users CRUD with validation and duplicates", "[auth][service]") {
  Harness h;
  auto admin = h.admin();
  const auto scope = auth::scope_of(admin);
  auto alice = h.add_user(admin.org_id, "alice@example.com", Role::kOperator);
  CHECK(alice.name == "Test alice@example.com");

  auth::NewUser dup;
  dup.email = "ALICE@example.com";
  dup.password = "whatever-pass-1";
  auto dup_r = h.wait<auth::User>(
      [&](auth::Callback<auth::User> cb) { h.service->create_user(scope, dup, cb); });
  REQUIRE_FALSE(dup_r);
  CHECK(dup_r.error().code == Errc::kUserAlreadyExists);

  auth::NewUser bad;
  bad.email = "not an email";
  bad.password = "whatever-pass-1";
  auto bad_r = h.wait<auth::User>(
      [&](auth::Callback<auth::User> cb) { h.service->create_user(scope, bad, cb); });
  REQUIRE_FALSE(bad_r);
  CHECK(bad_r.error().code == Errc::kInvalidInput);
  CHECK(bad_r.error().details.at("field").as_string() == "email");

  for (int i = 0; i < 4; ++i)
    h.add_user(admin.org_id, "u" + std::to_string(i) + "@x.org", Role::kViewer);
  auto page = h.service->list_users(scope, core::Page{2, 2});
  REQUIRE(page);
  CHECK(page->total == 6);
  REQUIRE(page->items.size() == 2);
  CHECK(page->items[0].email == "u0@x.org");
  auto clamped = h.service->list_users(scope, core::Page{0, 100000});
  REQUIRE(clamped);
  CHECK(clamped->items.size() == 6);

  auto renamed = h.wait<auth::User>([&](auth::Callback<auth::User> cb) {
    auth::UserPatch patch;
    patch.name = "Alice";
    patch.email = "u1@x.org";
    h.service->update_user(scope, alice.id, patch, cb);
  });
  REQUIRE_FALSE(renamed);
  CHECK(renamed.error().code == Errc::kUserAlreadyExists);

  auto got = h.service->get_user(scope, alice.id);
  REQUIRE(got);
  CHECK(got->email == "alice@example.com");
  CHECK_FALSE(got->last_login_at);

  auto reset = h.wait<void>([&](auth::Callback<void> cb) {
    h.service->set_password(scope, alice.id, "reset-password-1", cb);
  });
  REQUIRE(reset);
  CHECK(h.login("alice@example.com", "reset-password-1"));
  got = h.service->get_user(scope, alice.id);
  REQUIRE(got);
  CHECK(got->last_login_at);

  auto removed =
      h.wait<void>([&](auth::Callback<void> cb) { h.service->delete_user(scope, alice.id, cb); });
  REQUIRE(removed);
  auto missing = h.service->get_user(scope, alice.id);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::kUserNotFound);
  CHECK_FALSE(h.login("alice@example.com", "reset-password-1"));
}

TEST_CASE("auth service: a deleted user's id and token do not carry over to a new user",
          "[auth][service]") {
  Harness h;
  auto admin = h.admin();
  auto first = h.add_user(admin.org_id, "first@example.com", Role::kOperator);
  auto tokens = h.login("first@example.com", "user-password-1");
  REQUIRE(tokens);
  auto removed = h.wait<void>([&](auth::Callback<void> cb) {
    h.service->delete_user(auth::scope_of(admin), first.id, cb);
  });
  REQUIRE(removed);
  h.clock.advance(std::chrono::seconds(1));
  auto second = h.add_user(admin.org_id, "second@example.com", Role::kOperator);
  CHECK(second.id > first.id);  // AUTOINCREMENT (0010): ids, and audit rows under them, not reused
  auto r = h.service->authenticate(tokens->access_token);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kTokenInvalid);
}

TEST_CASE("auth service: the last active system admin cannot be removed, demoted or disabled",
          "[auth][service]") {
  Harness h;
  auto admin = h.admin();
  const auto scope = auth::scope_of(admin);
  auto patch_admin = [&](std::int64_t id, auth::UserPatch patch) {
    return h.wait<auth::User>(
        [&](auth::Callback<auth::User> cb) { h.service->update_user(scope, id, patch, cb); });
  };
  auth::UserPatch demote;
  demote.role = Role::kOperator;
  auth::UserPatch disable;
  disable.active = false;
  auto r1 = patch_admin(admin.user_id, demote);
  REQUIRE_FALSE(r1);
  CHECK(r1.error().code == Errc::kConflict);
  auto r2 = patch_admin(admin.user_id, disable);
  REQUIRE_FALSE(r2);
  CHECK(r2.error().code == Errc::kConflict);
  auto r3 = h.wait<void>(
      [&](auth::Callback<void> cb) { h.service->delete_user(scope, admin.user_id, cb); });
  REQUIRE_FALSE(r3);
  CHECK(r3.error().code == Errc::kConflict);
  auth::UserPatch rename;
  rename.name = "Still admin";
  CHECK(patch_admin(admin.user_id, rename));

  // With a second admin, the first may step down.
  h.add_user(admin.org_id, "admin2@example.com", Role::kAdmin);
  CHECK(patch_admin(admin.user_id, demote));
}

TEST_CASE("auth service: a tenant organization keeps at least one active admin too",
          "[auth][service]") {
  Harness h;
  auto acme = h.add_org("Acme ISP", "acme");
  auto only = h.add_user(acme.id, "boss@acme.net", Role::kAdmin, "acme-boss-pass");
  const auto scope = core::OrgScope::trusted(acme.id);
  auto removed =
      h.wait<void>([&](auth::Callback<void> cb) { h.service->delete_user(scope, only.id, cb); });
  REQUIRE_FALSE(removed);
  CHECK(removed.error().code == Errc::kConflict);
  auth::UserPatch demote;
  demote.role = Role::kViewer;
  auto demoted = h.wait<auth::User>(
      [&](auth::Callback<auth::User> cb) { h.service->update_user(scope, only.id, demote, cb); });
  REQUIRE_FALSE(demoted);
  CHECK(demoted.error().code == Errc::kConflict);
  // An operator of the same organization is not an admin: removing it is fine.
  auto op = h.add_user(acme.id, "op@acme.net", Role::kOperator, "acme-op-pass-1");
  CHECK(h.wait<void>([&](auth::Callback<void> cb) { h.service->delete_user(scope, op.id, cb); }));
}

TEST_CASE("auth service: organizations", "[auth][service]") {
  Harness h;
  auto sys = auth::SystemScope::trusted();
  auto acme = h.add_org("Acme ISP", "acme");
  CHECK_FALSE(acme.is_system);
  auto dup = h.wait<auth::Organization>([&](auth::Callback<auth::Organization> cb) {
    h.service->create_org(sys, "Other", "acme", cb);
  });
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == Errc::kOrganizationAlreadyExists);
  auto bad_slug = h.wait<auth::Organization>([&](auth::Callback<auth::Organization> cb) {
    h.service->create_org(sys, "Other", "Not A Slug", cb);
  });
  REQUIRE_FALSE(bad_slug);
  CHECK(bad_slug.error().code == Errc::kInvalidInput);

  auto renamed = h.wait<auth::Organization>([&](auth::Callback<auth::Organization> cb) {
    h.service->update_org(sys, acme.id, std::string("Acme Networks"), cb);
  });
  REQUIRE(renamed);
  CHECK(renamed->name == "Acme Networks");
  auto list = h.service->list_orgs(sys, core::Page{});
  REQUIRE(list);
  CHECK(list->total == 2);

  auto admin = h.admin();
  auto system_delete =
      h.wait<void>([&](auth::Callback<void> cb) { h.service->delete_org(sys, admin.org_id, cb); });
  REQUIRE_FALSE(system_delete);
  CHECK(system_delete.error().code == Errc::kConflict);

  h.add_user(acme.id, "acme-admin@acme.net", Role::kAdmin, "acme-admin-pass");
  auto deleted =
      h.wait<void>([&](auth::Callback<void> cb) { h.service->delete_org(sys, acme.id, cb); });
  REQUIRE(deleted);
  auto gone = h.service->get_org(sys, acme.id);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == Errc::kOrganizationNotFound);
  CHECK_FALSE(h.login("acme-admin@acme.net", "acme-admin-pass"));
  // Acme had the highest id; the next organization must not get it (records keyed by org_id,
  // such as audit entries and metrics, would pass to it).
  auto next = h.add_org("Next ISP", "next");
  CHECK(next.id > acme.id);
}

TEST_CASE("auth service: API keys authenticate until revoked and never exceed their creator",
          "[auth][service]") {
  Harness h;
  auto admin = h.admin();
  auto created = h.add_key(admin, Role::kApiUser, "poller");
  REQUIRE(created);
  const auto& secret = created->secret;
  REQUIRE(secret.size() == 64);
  CHECK(secret.rfind("np_" + created->key.prefix + "_", 0) == 0);

  auto p = h.service->authenticate(secret);
  REQUIRE(p);
  CHECK(p->api_key_id == created->key.id);
  CHECK(p->user_id == 0);
  CHECK(p->role == Role::kApiUser);
  CHECK(p->actor == "apikey:poller");
  CHECK(p->org_is_system);
  CHECK(p->can(auth::Permission::kMetricsWrite));
  CHECK_FALSE(p->can(auth::Permission::kUsersRead));

  auto forged = secret;
  forged.back() = forged.back() == '0' ? '1' : '0';
  auto forged_r = h.service->authenticate(forged);
  REQUIRE_FALSE(forged_r);
  CHECK(forged_r.error().code == Errc::kTokenInvalid);
  CHECK_FALSE(h.service->authenticate("np_short"));

  h.flush();  // the last_used_at write
  auto keys = h.service->list_api_keys(auth::scope_of(admin), core::Page{});
  REQUIRE(keys);
  REQUIRE(keys->total == 1);
  CHECK(keys->items[0].last_used_at);
  CHECK(keys->items[0].created_by == admin.user_id);

  auto revoked = h.wait<void>([&](auth::Callback<void> cb) {
    h.service->revoke_api_key(auth::scope_of(admin), created->key.id, cb);
  });
  REQUIRE(revoked);
  auto after = h.service->authenticate(secret);
  REQUIRE_FALSE(after);
  CHECK(after.error().code == Errc::kTokenInvalid);

  h.add_user(admin.org_id, "op@example.com", Role::kOperator, "operator-pass-1");
  auto op = h.principal_for("op@example.com", "operator-pass-1");
  auto escalate = h.add_key(op, Role::kAdmin);
  REQUIRE_FALSE(escalate);
  CHECK(escalate.error().code == Errc::kInsufficientPermissions);
  h.add_user(admin.org_id, "viewer@example.com", Role::kViewer, "viewer-pass-1");
  auto viewer = h.principal_for("viewer@example.com", "viewer-pass-1");
  auto from_viewer = h.add_key(viewer, Role::kViewer);
  REQUIRE_FALSE(from_viewer);
  CHECK(from_viewer.error().code == Errc::kInsufficientPermissions);
}

TEST_CASE("auth service: one organization cannot reach another's users or keys",
          "[auth][service]") {
  Harness h;
  auto admin_a = h.admin();
  const auto scope_a = auth::scope_of(admin_a);
  auto org_b = h.add_org("Org B", "org-b");
  auto user_b = h.add_user(org_b.id, "b-admin@b.example", Role::kAdmin, "b-admin-pass-1");
  auto admin_b = h.principal_for("b-admin@b.example", "b-admin-pass-1");
  CHECK(admin_b.org_id == org_b.id);
  CHECK_FALSE(admin_b.is_system_admin());
  auto key_b = h.add_key(admin_b, Role::kApiUser);
  REQUIRE(key_b);

  auto get = h.service->get_user(scope_a, user_b.id);
  REQUIRE_FALSE(get);
  CHECK(get.error().code == Errc::kUserNotFound);
  auto update = h.wait<auth::User>([&](auth::Callback<auth::User> cb) {
    auth::UserPatch patch;
    patch.role = Role::kViewer;
    h.service->update_user(scope_a, user_b.id, patch, cb);
  });
  REQUIRE_FALSE(update);
  CHECK(update.error().code == Errc::kUserNotFound);
  auto remove = h.wait<void>(
      [&](auth::Callback<void> cb) { h.service->delete_user(scope_a, user_b.id, cb); });
  REQUIRE_FALSE(remove);
  CHECK(remove.error().code == Errc::kUserNotFound);
  auto reset = h.wait<void>([&](auth::Callback<void> cb) {
    h.service->set_password(scope_a, user_b.id, "hijacked-pass-1", cb);
  });
  REQUIRE_FALSE(reset);
  CHECK(reset.error().code == Errc::kUserNotFound);
  auto revoke = h.wait<void>(
      [&](auth::Callback<void> cb) { h.service->revoke_api_key(scope_a, key_b->key.id, cb); });
  REQUIRE_FALSE(revoke);
  CHECK(revoke.error().code == Errc::kApiKeyNotFound);

  auto users_a = h.service->list_users(scope_a, core::Page{});
  REQUIRE(users_a);
  CHECK(users_a->total == 1);
  auto keys_a = h.service->list_api_keys(scope_a, core::Page{});
  REQUIRE(keys_a);
  CHECK(keys_a->total == 0);

  // Org B's admin is unharmed and still works; B's key still authenticates into B.
  CHECK(h.service->get_user(auth::scope_of(admin_b), user_b.id));
  auto key_principal = h.service->authenticate(key_b->secret);
  REQUIRE(key_principal);
  CHECK(key_principal->org_id == org_b.id);
  CHECK_FALSE(key_principal->org_is_system);
}

TEST_CASE("auth service: the audit log is per organization, newest first, filterable",
          "[auth][service]") {
  Harness h;
  auto admin = h.admin();
  auto org_b = h.add_org("Org B", "org-b");
  auto record = [&](std::int64_t org, const std::string& action, std::int64_t at, bool ok) {
    auth::AuditEntry e;
    e.at = at;
    e.org_id = org;
    e.user_id = admin.user_id;
    e.actor = admin.actor;
    e.action = action;
    e.target = "users/1";
    e.status = ok ? 200 : 403;
    e.success = ok;
    h.service->record_audit(e);
  };
  record(admin.org_id, "POST /api/v1/users", 1000, true);
  record(admin.org_id, "DELETE /api/v1/users/5", 2000, false);
  record(admin.org_id, "POST /api/v1/api-keys", 3000, true);
  record(org_b.id, "POST /api/v1/users", 2500, true);
  h.flush();

  // Only the rows recorded here (the admin's login, in 2026, is audited too).
  auth::AuditFilter recorded;
  recorded.until = 5000;
  auto mine = h.service->list_audit(auth::scope_of(admin), recorded, core::Page{});
  REQUIRE(mine);
  CHECK(mine->total == 3);
  REQUIRE(mine->items.size() == 3);
  CHECK(mine->items[0].at == 3000);
  CHECK(mine->items[2].at == 1000);
  CHECK_FALSE(mine->items[1].success);
  CHECK(mine->items[1].status == 403);

  auth::AuditFilter users_only = recorded;
  users_only.action_prefix = "POST /api/v1/users";
  auto filtered = h.service->list_audit(auth::scope_of(admin), users_only, core::Page{});
  REQUIRE(filtered);
  CHECK(filtered->total == 1);

  auth::AuditFilter window;
  window.since = 2000;
  window.until = 3000;
  auto windowed = h.service->list_audit(auth::scope_of(admin), window, core::Page{});
  REQUIRE(windowed);
  REQUIRE(windowed->total == 1);
  CHECK(windowed->items[0].at == 2000);

  auto all = h.service->list_audit_all(auth::SystemScope::trusted(), recorded, core::Page{1, 2});
  REQUIRE(all);
  CHECK(all->total == 4);
  CHECK(all->items.size() == 2);
  CHECK(all->items[1].at == 2500);
}

TEST_CASE("auth service: CLI helpers work without the loop", "[auth][service]") {
  Harness h;
  auto admin = h.admin();
  auth::NewUser u;
  u.email = "cli@example.com";
  u.password = "cli-password-1";
  u.role = Role::kOperator;
  auto created = h.service->create_user_sync(core::OrgScope::trusted(admin.org_id), u);
  REQUIRE(created);
  CHECK(created->role == Role::kOperator);
  REQUIRE(h.service->set_password_sync("CLI@example.com", std::nullopt, "new-cli-password"));
  CHECK(h.login("cli@example.com", "new-cli-password"));
  auto missing =
      h.service->set_password_sync("ghost@example.com", std::nullopt, "new-cli-password");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::kUserNotFound);
  auto all = h.service->list_all_users_sync();
  REQUIRE(all);
  CHECK(all->size() == 2);
}
