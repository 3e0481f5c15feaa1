// Row readers for the auth module's tables and the page arithmetic shared by every list query.
#include "detail/sql.hpp"

#include <algorithm>

namespace netpulse::auth::detail {

Role stored_role(std::string_view name) noexcept {
  return parse_role(name).value_or(Role::kApiUser);
}

User read_user(const db::Statement& st) {
  User u;
  u.id = st.get_int64(0);
  u.org_id = st.get_int64(1);
  u.email = st.get_text(2);
  u.name = st.get_text(3);
  u.role = stored_role(st.get_text(4));
  u.active = st.get_int64(5) != 0;
  u.created_at = st.get_int64(6);
  u.updated_at = st.get_int64(7);
  u.last_login_at = st.get_optional_int64(8);
  return u;
}

Organization read_org(const db::Statement& st) {
  Organization o;
  o.id = st.get_int64(0);
  o.name = st.get_text(1);
  o.slug = st.get_text(2);
  o.is_system = st.get_int64(3) != 0;
  o.created_at = st.get_int64(4);
  o.updated_at = st.get_int64(5);
  return o;
}

ApiKey read_api_key(const db::Statement& st) {
  ApiKey k;
  k.id = st.get_int64(0);
  k.org_id = st.get_int64(1);
  k.name = st.get_text(2);
  k.prefix = st.get_text(3);
  k.role = stored_role(st.get_text(4));
  k.created_by = st.get_optional_int64(5);
  k.created_at = st.get_int64(6);
  k.last_used_at = st.get_optional_int64(7);
  k.expires_at = st.get_optional_int64(8);
  k.revoked_at = st.get_optional_int64(9);
  return k;
}

AuditEntry read_audit(const db::Statement& st) {
  AuditEntry e;
  e.id = st.get_int64(0);
  e.at = st.get_int64(1);
  e.org_id = st.get_optional_int64(2);
  e.user_id = st.get_optional_int64(3);
  e.api_key_id = st.get_optional_int64(4);
  e.actor = st.get_text(5);
  e.action = st.get_text(6);
  e.target = st.get_text(7);
  e.source_ip = st.get_text(8);
  e.request_id = st.get_text(9);
  e.status = static_cast<int>(st.get_int64(10));
  e.success = st.get_text(11) == "success";
  return e;
}

PageWindow page_window(Page page) noexcept {
  PageWindow w;
  w.limit = std::clamp(page.per_page, 1, 500);
  w.offset = (static_cast<std::int64_t>(std::max(page.page, 1)) - 1) * w.limit;
  return w;
}

}  // namespace netpulse::auth::detail
