// Organizations: the tenants. Listing, creating, renaming and deleting them takes a SystemScope
// (a system-organization admin); reading one's own takes an OrgScope. Slugs are unique and
// stable; the system organization, made at bootstrap, cannot be deleted. Deleting an
// organization removes its users, tokens and API keys in the same write (other modules' tables
// rely on ON DELETE CASCADE); the audit log keeps its records. What other modules hold in memory
// goes when the caller publishes core::OrgDeleted after `done` (the API does; docs/security.md,
// "Tenancy").
#include <fmt/format.h>

#include "detail/auth_service_impl.hpp"
#include "detail/sql.hpp"
#include "detail/validation.hpp"

namespace netpulse::auth::detail {

namespace {

core::Error org_not_found() {
  return core::Error(core::Errc::kOrganizationNotFound, "organization not found");
}

core::Result<std::optional<Organization>> find_org(db::Connection& conn, std::int64_t org_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM organizations WHERE id = ?", kOrgColumns);
  auto st = prepare(conn, sql, org_id);
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<Organization>{};
  return std::optional<Organization>(read_org(*st));
}

}  // namespace

core::Result<Organization> AuthServiceImpl::get_org(SystemScope, std::int64_t org_id) {
  auto org = db_.read([&](db::Connection& conn) { return find_org(conn, org_id); });
  if (!org) return std::move(org).error();
  if (!*org) return org_not_found();
  return std::move(**org);
}

core::Result<Organization> AuthServiceImpl::get_own_org(OrgScope scope) {
  auto org = db_.read([&](db::Connection& conn) { return find_org(conn, scope.org_id()); });
  if (!org) return std::move(org).error();
  if (!*org) return org_not_found();
  return std::move(**org);
}

core::Result<PageOf<Organization>> AuthServiceImpl::list_orgs(SystemScope, Page page) {
  const auto window = page_window(page);
  return db_.read([&](db::Connection& conn) -> core::Result<PageOf<Organization>> {
    PageOf<Organization> out;
    auto total = query_int(conn, 0, "SELECT COUNT(*) FROM organizations");
    if (!total) return std::move(total).error();
    out.total = *total;
    static const std::string sql =
        fmt::format("SELECT {} FROM organizations ORDER BY id LIMIT ? OFFSET ?", kOrgColumns);
    auto st = prepare(conn, sql, window.limit, window.offset);
    if (!st) return st.error();
    auto rows =
        for_each_row(*st, [&](const db::Statement& r) { out.items.push_back(read_org(r)); });
    if (!rows) return std::move(rows).error();
    return out;
  });
}

void AuthServiceImpl::create_org(SystemScope, std::string name, std::string slug,
                                 Callback<Organization> done) {
  if (auto r = check_name(name, "name", true); !r) {
    return reply(std::move(done), std::move(r).error());
  }
  if (auto r = check_slug(slug); !r) return reply(std::move(done), std::move(r).error());
  db_.write<Organization>(
      [this, name = std::move(name),
       slug = std::move(slug)](db::Connection& conn) -> core::Result<Organization> {
        auto taken = query_int(conn, 0, "SELECT COUNT(*) FROM organizations WHERE slug = ?", slug);
        if (!taken) return std::move(taken).error();
        if (*taken > 0) {
          return core::Error(core::Errc::kOrganizationAlreadyExists,
                             "an organization with this slug already exists",
                             boost::json::object{{"field", "slug"}});
        }
        Organization org;
        org.name = name;
        org.slug = slug;
        org.created_at = now_s();
        org.updated_at = org.created_at;
        auto inserted = execute(conn,
                                "INSERT INTO organizations (id, name, slug, is_system, "
                                "created_at, updated_at) VALUES ((SELECT value + 1 FROM "
                                "id_watermarks WHERE name = 'organizations'), ?, ?, 0, ?, ?)",
                                org.name, org.slug, org.created_at, org.updated_at);
        if (!inserted) return std::move(inserted).error();
        org.id = conn.last_insert_rowid();
        return org;
      },
      loop_, std::move(done));
}

void AuthServiceImpl::update_org(SystemScope, std::int64_t org_id, std::optional<std::string> name,
                                 Callback<Organization> done) {
  if (name) {
    if (auto r = check_name(*name, "name", true); !r) {
      return reply(std::move(done), std::move(r).error());
    }
  }
  db_.write<Organization>(
      [this, org_id, name = std::move(name)](db::Connection& conn) -> core::Result<Organization> {
        auto found = find_org(conn, org_id);
        if (!found) return std::move(found).error();
        if (!*found) return org_not_found();
        Organization org = **found;
        if (!name) return org;
        org.name = *name;
        org.updated_at = now_s();
        auto updated =
            execute(conn, "UPDATE organizations SET name = ?, updated_at = ? WHERE id = ?",
                    org.name, org.updated_at, org_id);
        if (!updated) return std::move(updated).error();
        return org;
      },
      loop_, std::move(done));
}

void AuthServiceImpl::delete_org(SystemScope, std::int64_t org_id, Callback<void> done) {
  db_.write(
      [org_id](db::Connection& conn) -> core::Result<void> {
        auto found = find_org(conn, org_id);
        if (!found) return std::move(found).error();
        if (!*found) return org_not_found();
        if ((*found)->is_system) {
          return core::Error(core::Errc::kConflict, "the system organization cannot be deleted");
        }
        for (std::string_view sql :
             {"DELETE FROM refresh_tokens WHERE org_id = ?",
              "DELETE FROM api_keys WHERE org_id = ?", "DELETE FROM users WHERE org_id = ?",
              "DELETE FROM organizations WHERE id = ?"}) {
          if (auto r = execute(conn, sql, org_id); !r) return r;
        }
        return core::ok();
      },
      loop_, std::move(done));
}

}  // namespace netpulse::auth::detail
