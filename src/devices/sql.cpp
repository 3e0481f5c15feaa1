// The inventory's SQL for devices and what the pollers report about them; see detail/sql.hpp
// (groups are in groups_sql.cpp, custom OIDs in custom_oids_sql.cpp, service checks in
// service_checks_sql.cpp, the event log in event_log_sql.cpp). Columns are listed once
// (kSelectDevices, bind_columns) so that the reader and the writers cannot drift apart.
#include "detail/sql.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <netpulse/core/json.hpp>

#include "detail/validation.hpp"

namespace netpulse::devices::detail {

namespace {

constexpr std::string_view kSelectDevices =
    "SELECT id, org_id, name, address, type, vendor, model, os, serial, sys_descr, "
    "sys_object_id, location, notes, enabled, maintenance, poll_interval_s, status, "
    "status_changed_at, last_seen, uptime_s, snmp_version, snmp_port, snmp_user, "
    "snmp_auth_protocol, snmp_priv_protocol, snmp_context, snmp_secrets, created_at, updated_at "
    "FROM devices";

core::Error corrupt(std::string what) {
  return core::Error(core::Errc::kDatabaseError, "device inventory: " + std::move(what));
}

std::string seal_secrets(const core::SecretBox& box, std::int64_t org_id, const SnmpSecrets& s) {
  boost::json::object o{{"community", s.community},
                        {"auth_password", s.auth_password},
                        {"priv_password", s.priv_password}};
  return box.seal(core::to_json_text(o), secrets_binding(org_id));
}

core::Result<SnmpSecrets> open_secrets(const core::SecretBox& box, std::int64_t org_id,
                                       std::string_view sealed) {
  auto plain = box.open(sealed, secrets_binding(org_id));
  if (!plain) return std::move(plain).error();
  boost::system::error_code ec;
  auto v = boost::json::parse(*plain, ec);
  if (ec || !v.is_object()) return corrupt("sealed SNMP secrets are not a JSON object");
  SnmpSecrets s;
  auto field = [&](const char* name, std::string& out) {
    if (auto* p = v.as_object().if_contains(name); p && p->is_string()) {
      out = std::string(p->as_string());
    }
  };
  field("community", s.community);
  field("auth_password", s.auth_password);
  field("priv_password", s.priv_password);
  return s;
}

core::Result<DeviceRow> read_row(const db::Statement& st, const core::SecretBox& box) {
  DeviceRow row;
  auto& d = row.device;
  d.id = st.get_int64(0);
  d.org_id = st.get_int64(1);
  d.name = st.get_text(2);
  d.address = st.get_text(3);
  auto type = parse_device_type(st.get_text(4));
  if (!type) return corrupt("device " + std::to_string(d.id) + " has an unknown type");
  d.type = *type;
  d.vendor = st.get_text(5);
  d.model = st.get_text(6);
  d.os = st.get_text(7);
  d.serial = st.get_text(8);
  d.sys_descr = st.get_text(9);
  d.sys_object_id = st.get_text(10);
  d.location = st.get_text(11);
  d.notes = st.get_text(12);
  d.enabled = st.get_int64(13) != 0;
  d.maintenance = st.get_int64(14) != 0;
  d.poll_interval_s = static_cast<int>(st.get_int64(15));
  auto status = parse_device_status(st.get_text(16));
  if (!status) return corrupt("device " + std::to_string(d.id) + " has an unknown status");
  d.polled_status = *status;
  d.status_changed_at = st.get_optional_int64(17);
  d.last_seen = st.get_optional_int64(18);
  d.uptime_s = st.get_optional_int64(19);
  const auto version = st.get_text(20);
  if (!version.empty()) {
    SnmpSettings s;
    auto v = parse_snmp_version(version);
    auto auth = parse_snmp_auth(st.get_text(23).empty() ? "none" : st.get_text(23));
    auto priv = parse_snmp_priv(st.get_text(24).empty() ? "none" : st.get_text(24));
    if (!v || !auth || !priv) {
      return corrupt("device " + std::to_string(d.id) + " has unknown SNMP settings");
    }
    s.version = *v;
    s.port = static_cast<std::uint16_t>(st.get_int64(21));
    s.user = st.get_text(22);
    s.auth = *auth;
    s.priv = *priv;
    s.context = st.get_text(25);
    d.snmp = s;
    if (st.is_null(26)) return corrupt("device " + std::to_string(d.id) + " lacks SNMP secrets");
    auto secrets = open_secrets(box, d.org_id, st.get_blob(26));
    if (!secrets) {
      return corrupt("device " + std::to_string(d.id) + ": " + secrets.error().message +
                     " (was credentials.key replaced?)");
    }
    row.secrets = std::move(*secrets);
  }
  d.created_at = st.get_int64(27);
  d.updated_at = st.get_int64(28);
  return row;
}

// Binds the device columns from ?2 (name) to ?25 (updated_at) in the order both writers use.
void bind_columns(db::Statement& st, const core::SecretBox& box, const DeviceRow& row) {
  const auto& d = row.device;
  st.bind(2, d.name)
      .bind(3, d.address)
      .bind(4, device_type_name(d.type))
      .bind(5, d.vendor)
      .bind(6, d.model)
      .bind(7, d.os)
      .bind(8, d.serial)
      .bind(9, d.sys_descr)
      .bind(10, d.sys_object_id)
      .bind(11, d.location)
      .bind(12, d.notes)
      .bind(13, d.enabled)
      .bind(14, d.maintenance)
      .bind(15, d.poll_interval_s)
      .bind(16, device_status_name(d.polled_status))
      .bind(17, d.status_changed_at)
      .bind(18, d.last_seen)
      .bind(19, d.uptime_s);
  if (d.snmp && row.secrets) {
    const auto& s = *d.snmp;
    st.bind(20, snmp_version_name(s.version))
        .bind(21, static_cast<std::int64_t>(s.port))
        .bind(22, s.user)
        .bind(23, s.version == SnmpVersion::kV3 ? snmp_auth_name(s.auth) : "")
        .bind(24, s.version == SnmpVersion::kV3 ? snmp_priv_name(s.priv) : "")
        .bind(25, s.context)
        .bind_blob(26, seal_secrets(box, d.org_id, *row.secrets));
  } else {
    st.bind(20, "").bind(21, 161).bind(22, "").bind(23, "").bind(24, "").bind(25, "");
    st.bind(26, std::nullopt);
  }
  st.bind(27, d.updated_at);
}

core::Result<void> write_links(db::Connection& c, const DeviceRow& row) {
  const auto id = row.device.id;
  for (auto sql : {"DELETE FROM device_tags WHERE device_id = ?1",
                   "DELETE FROM device_group_members WHERE device_id = ?1",
                   "DELETE FROM device_parents WHERE device_id = ?1"}) {
    auto st = c.prepare(sql);
    if (!st) return st.error();
    if (auto r = st->bind(1, id).run(); !r) return r;
  }
  auto tag = c.prepare("INSERT INTO device_tags (device_id, tag) VALUES (?1, ?2)");
  if (!tag) return tag.error();
  for (auto& t : row.device.tags) {
    if (auto r = tag->bind(1, id).bind(2, t).run(); !r) return r;
    tag->reset();
  }
  auto member = c.prepare("INSERT INTO device_group_members (group_id, device_id) VALUES (?1, ?2)");
  if (!member) return member.error();
  for (auto g : row.group_ids) {
    if (auto r = member->bind(1, g).bind(2, id).run(); !r) return r;
    member->reset();
  }
  auto parent = c.prepare("INSERT INTO device_parents (device_id, parent_id) VALUES (?1, ?2)");
  if (!parent) return parent.error();
  for (auto p : row.device.parents) {
    if (auto r = parent->bind(1, id).bind(2, p).run(); !r) return r;
    parent->reset();
  }
  return core::ok();
}

}  // namespace

DeviceRow new_row(NewDevice&& in, std::int64_t org_id, std::int64_t now) {
  DeviceRow row;
  auto& d = row.device;
  d.org_id = org_id;
  d.name = std::move(in.name);
  d.address = std::move(in.address);
  d.type = in.type;
  d.vendor = std::move(in.vendor);
  d.model = std::move(in.model);
  d.os = std::move(in.os);
  d.serial = std::move(in.serial);
  d.location = std::move(in.location);
  d.notes = std::move(in.notes);
  d.tags = std::move(in.tags);
  d.parents = std::move(in.parents);
  d.enabled = in.enabled;
  d.maintenance = in.maintenance;
  d.poll_interval_s = in.poll_interval_s;
  if (in.snmp) {
    d.snmp = in.snmp->settings;
    row.secrets = in.snmp->secrets;
  }
  d.created_at = d.updated_at = now;
  return row;
}

std::string secrets_binding(std::int64_t org_id) {
  return "netpulse/devices/snmp/org/" + std::to_string(org_id);
}

core::Result<std::vector<DeviceRow>> load_devices(db::Connection& c, const core::SecretBox& box,
                                                  std::optional<std::int64_t> only_id) {
  std::vector<DeviceRow> rows;
  std::unordered_map<std::int64_t, std::size_t> index;
  {
    auto st = c.prepare(only_id ? std::string(kSelectDevices) + " WHERE id = ?1"
                                : std::string(kSelectDevices) + " ORDER BY id");
    if (!st) return st.error();
    if (only_id) st->bind(1, *only_id);
    while (true) {
      auto more = st->step();
      if (!more) return more.error();
      if (!*more) break;
      auto row = read_row(*st, box);
      if (!row) return std::move(row).error();
      index[row->device.id] = rows.size();
      rows.push_back(std::move(*row));
    }
  }
  if (rows.empty()) return rows;
  struct Link {
    std::string_view sql;
    int kind;  // 0 tags, 1 groups, 2 parents
  };
  const std::string where = only_id ? " WHERE device_id = ?1" : "";
  for (auto [sql, kind] : {Link{"SELECT device_id, tag FROM device_tags", 0},
                           Link{"SELECT device_id, group_id FROM device_group_members", 1},
                           Link{"SELECT device_id, parent_id FROM device_parents", 2}}) {
    auto st = c.prepare(std::string(sql) + where);
    if (!st) return st.error();
    if (only_id) st->bind(1, *only_id);
    while (true) {
      auto more = st->step();
      if (!more) return more.error();
      if (!*more) break;
      auto it = index.find(st->get_int64(0));
      if (it == index.end()) continue;
      auto& row = rows[it->second];
      if (kind == 0) row.device.tags.push_back(st->get_text(1));
      if (kind == 1) row.group_ids.push_back(st->get_int64(1));
      if (kind == 2) row.device.parents.push_back(st->get_int64(1));
    }
  }
  for (auto& row : rows) {
    std::sort(row.device.tags.begin(), row.device.tags.end());
    std::sort(row.group_ids.begin(), row.group_ids.end());
    std::sort(row.device.parents.begin(), row.device.parents.end());
  }
  return rows;
}

core::Result<void> check_address_free(db::Connection& c, std::int64_t org_id,
                                      const std::string& address, std::int64_t except_id) {
  auto st =
      c.prepare("SELECT id, name FROM devices WHERE org_id = ?1 AND address = ?2 AND id <> ?3");
  if (!st) return st.error();
  st->bind(1, org_id).bind(2, address).bind(3, except_id);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return core::ok();
  return core::Error(core::Errc::kDeviceAlreadyExists,
                     "device " + std::to_string(st->get_int64(0)) + " (\"" + st->get_text(1) +
                         "\") already has the address " + address,
                     {{"field", "address"}, {"device_id", st->get_int64(0)}});
}

core::Result<void> check_parents(db::Connection& c, std::int64_t org_id, std::int64_t device_id,
                                 const std::vector<std::int64_t>& parents, std::string_view field) {
  if (parents.empty()) return core::ok();
  std::unordered_map<std::int64_t, std::string> names;  // the organization's devices
  {
    auto st = c.prepare("SELECT id, name FROM devices WHERE org_id = ?1");
    if (!st) return st.error();
    st->bind(1, org_id);
    while (true) {
      auto more = st->step();
      if (!more) return more.error();
      if (!*more) break;
      names.emplace(st->get_int64(0), st->get_text(1));
    }
  }
  for (auto p : parents) {
    if (p == device_id) return core::invalid_field(field, "a device cannot be its own parent");
    if (!names.count(p)) {
      return core::invalid_field(field, "there is no device " + std::to_string(p));
    }
  }
  // child -> parents, without the device's own current links (they are being replaced).
  auto links = load_parent_links(c, org_id, device_id);
  if (!links) return links.error();
  const LinkMap& up = *links;
  // Depth-first from each new parent upwards; reaching device_id closes a cycle.
  for (auto start : parents) {
    std::unordered_map<std::int64_t, std::int64_t> came_from{{start, 0}};
    std::vector<std::int64_t> stack{start};
    while (!stack.empty()) {
      const auto at = stack.back();
      stack.pop_back();
      if (at == device_id) {
        std::vector<std::int64_t> path{device_id};
        std::vector<std::int64_t> chain;
        for (auto n = at; n != 0; n = came_from[n]) chain.push_back(n);
        // chain runs device_id ... start; the cycle is device_id -> start -> ... -> device_id.
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) path.push_back(*it);
        std::string text;
        boost::json::array ids;
        for (auto id : path) {
          if (!text.empty()) text += " -> ";
          text += names[id];
          ids.push_back(id);
        }
        return core::Error(core::Errc::kConflict,
                           "parent " + std::to_string(start) + " would close a cycle: " + text,
                           {{"field", std::string(field)}, {"path", std::move(ids)}});
      }
      if (auto it = up.find(at); it != up.end()) {
        for (auto next : it->second) {
          if (came_from.emplace(next, at).second) stack.push_back(next);
        }
      }
    }
  }
  // The longest chain through the device: above its new parents, one link to them, below it.
  std::unordered_map<std::int64_t, std::size_t> above_memo;
  std::size_t above = 0;
  for (auto p : parents) above = std::max(above, longest_chain(up, p, above_memo) + 1);
  std::size_t below = 0;
  if (device_id != 0) {
    LinkMap down;
    for (const auto& [child, ps] : up) {
      for (auto p : ps) down[p].push_back(child);
    }
    std::unordered_map<std::int64_t, std::size_t> below_memo;
    below = longest_chain(down, device_id, below_memo);
  }
  if (above + below > kMaxParentChainDepth) {
    return core::invalid_field(
        field, "would make a chain of " + std::to_string(above + below) + " parent links (" +
                   std::to_string(above) + " above the device, " + std::to_string(below) +
                   " below it); at most " + std::to_string(kMaxParentChainDepth) + " are allowed");
  }
  return core::ok();
}

core::Result<LinkMap> load_parent_links(db::Connection& c, std::int64_t org_id,
                                        std::int64_t except_child) {
  LinkMap up;
  auto st = c.prepare(
      "SELECT p.device_id, p.parent_id FROM device_parents p JOIN devices d "
      "ON d.id = p.device_id WHERE d.org_id = ?1");
  if (!st) return st.error();
  st->bind(1, org_id);
  while (true) {
    auto more = st->step();
    if (!more) return more.error();
    if (!*more) break;
    if (st->get_int64(0) == except_child) continue;
    up[st->get_int64(0)].push_back(st->get_int64(1));
  }
  return up;
}

std::size_t longest_chain(const LinkMap& links, std::int64_t start,
                          std::unordered_map<std::int64_t, std::size_t>& memo) {
  if (auto done = memo.find(start); done != memo.end()) return done->second;
  // Depth-first post-order with an explicit stack: (node, index of the next link to follow).
  std::vector<std::pair<std::int64_t, std::size_t>> stack{{start, 0}};
  std::unordered_set<std::int64_t> on_path{start};
  while (!stack.empty()) {
    const auto node = stack.back().first;
    const auto it = links.find(node);
    const std::size_t next_index = stack.back().second;
    if (it != links.end() && next_index < it->second.size()) {
      ++stack.back().second;
      const auto next = it->second[next_index];
      if (memo.count(next) || on_path.count(next)) continue;
      on_path.insert(next);
      stack.emplace_back(next, 0);
      continue;
    }
    std::size_t longest = 0;
    if (it != links.end()) {
      for (auto next : it->second) {
        if (auto m = memo.find(next); m != memo.end()) longest = std::max(longest, m->second + 1);
      }
    }
    memo[node] = longest;
    on_path.erase(node);
    stack.pop_back();
  }
  return memo[start];
}

core::Result<std::int64_t> insert_device(db::Connection& c, const core::SecretBox& box,
                                         const DeviceRow& row) {
  auto st = c.prepare(
      "INSERT INTO devices (org_id, name, address, type, vendor, model, os, serial, sys_descr, "
      "sys_object_id, location, notes, enabled, maintenance, poll_interval_s, status, "
      "status_changed_at, last_seen, uptime_s, snmp_version, snmp_port, snmp_user, "
      "snmp_auth_protocol, snmp_priv_protocol, snmp_context, snmp_secrets, updated_at, "
      "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
      "?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)");
  if (!st) return st.error();
  st->bind(1, row.device.org_id);
  bind_columns(*st, box, row);
  st->bind(28, row.device.created_at);
  if (auto r = st->run(); !r) return r.error();
  DeviceRow stored = row;
  stored.device.id = c.last_insert_rowid();
  if (auto r = write_links(c, stored); !r) return r.error();
  return stored.device.id;
}

core::Result<void> update_device(db::Connection& c, const core::SecretBox& box,
                                 const DeviceRow& row) {
  auto st = c.prepare(
      "UPDATE devices SET name = ?2, address = ?3, type = ?4, vendor = ?5, model = ?6, os = ?7, "
      "serial = ?8, sys_descr = ?9, sys_object_id = ?10, location = ?11, notes = ?12, "
      "enabled = ?13, maintenance = ?14, poll_interval_s = ?15, status = ?16, "
      "status_changed_at = ?17, last_seen = ?18, uptime_s = ?19, snmp_version = ?20, "
      "snmp_port = ?21, snmp_user = ?22, snmp_auth_protocol = ?23, snmp_priv_protocol = ?24, "
      "snmp_context = ?25, snmp_secrets = ?26, updated_at = ?27 WHERE id = ?1");
  if (!st) return st.error();
  st->bind(1, row.device.id);
  bind_columns(*st, box, row);
  if (auto r = st->run(); !r) return r;
  return write_links(c, row);
}

core::Result<std::int64_t> count_devices(db::Connection& c, std::int64_t org_id) {
  auto st = c.prepare("SELECT COUNT(*) FROM devices WHERE org_id = ?1");
  if (!st) return st.error();
  st->bind(1, org_id);
  auto row = st->step();
  if (!row) return row.error();
  return st->get_int64(0);
}

core::Result<bool> delete_device(db::Connection& c, std::int64_t id, std::int64_t org_id) {
  auto st = c.prepare("DELETE FROM devices WHERE id = ?1 AND org_id = ?2");
  if (!st) return st.error();
  if (auto r = st->bind(1, id).bind(2, org_id).run(); !r) return r.error();
  return c.changes() != 0;
}

core::Result<void> store_status(db::Connection& c, std::int64_t device_id, DeviceStatus status,
                                std::int64_t changed_at, std::optional<std::int64_t> last_seen) {
  auto st = c.prepare(
      "UPDATE devices SET status = ?2, status_changed_at = ?3, last_seen = ?4 "
      "WHERE id = ?1");
  if (!st) return st.error();
  return st->bind(1, device_id)
      .bind(2, device_status_name(status))
      .bind(3, changed_at)
      .bind(4, last_seen)
      .run();
}

core::Result<void> store_system_info(db::Connection& c, const Device& d) {
  auto st = c.prepare(
      "UPDATE devices SET sys_descr = ?2, sys_object_id = ?3, vendor = ?4, model = ?5, "
      "os = ?6, location = ?7, uptime_s = ?8 WHERE id = ?1");
  if (!st) return st.error();
  return st->bind(1, d.id)
      .bind(2, d.sys_descr)
      .bind(3, d.sys_object_id)
      .bind(4, d.vendor)
      .bind(5, d.model)
      .bind(6, d.os)
      .bind(7, d.location)
      .bind(8, d.uptime_s)
      .run();
}

core::Result<void> store_last_seen(db::Connection& c,
                                   const std::vector<std::pair<std::int64_t, std::int64_t>>& seen) {
  auto st = c.prepare("UPDATE devices SET last_seen = ?2 WHERE id = ?1");
  if (!st) return st.error();
  for (auto [id, at] : seen) {
    if (auto r = st->bind(1, id).bind(2, at).run(); !r) return r;
    st->reset();
  }
  return core::ok();
}

}  // namespace netpulse::devices::detail
