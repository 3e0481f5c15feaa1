// Device CSV import and export; see detail/csv_import.hpp and docs/devices.md.
#include "detail/csv_import.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/csv.hpp>

#include "detail/sql.hpp"
#include "detail/validation.hpp"

namespace netpulse::devices::detail {

namespace {

enum Col {
  kName,
  kAddress,
  kType,
  kLocation,
  kTags,
  kGroups,
  kParents,
  kEnabled,
  kMaintenance,
  kPollInterval,
  kVendor,
  kModel,
  kOs,
  kSerial,
  kNotes,
  kSnmpVersion,
  kSnmpPort,
  kSnmpCommunity,
  kSnmpUser,
  kSnmpAuthProtocol,
  kSnmpAuthPassword,
  kSnmpPrivProtocol,
  kSnmpPrivPassword,
  kSnmpContext,
  kColumnCount
};

constexpr std::array<std::string_view, kColumnCount> kColumnNames{"name",
                                                                  "address",
                                                                  "type",
                                                                  "location",
                                                                  "tags",
                                                                  "groups",
                                                                  "parents",
                                                                  "enabled",
                                                                  "maintenance",
                                                                  "poll_interval_s",
                                                                  "vendor",
                                                                  "model",
                                                                  "os",
                                                                  "serial",
                                                                  "notes",
                                                                  "snmp_version",
                                                                  "snmp_port",
                                                                  "snmp_community",
                                                                  "snmp_user",
                                                                  "snmp_auth_protocol",
                                                                  "snmp_auth_password",
                                                                  "snmp_priv_protocol",
                                                                  "snmp_priv_password",
                                                                  "snmp_context"};

// Columns of the export that the import accepts and ignores, so an export reads back in.
constexpr std::array<std::string_view, 3> kIgnoredColumns{"id", "status", "last_seen"};

constexpr std::size_t kMaxCells = 64;

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    auto item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  return std::nullopt;
}

// One parsed row: the device, its parents by address, the file line.
struct PendingRow {
  std::size_t line = 0;
  NewDevice device;
  std::vector<std::string> parent_addresses;
  bool ok = true;
};

class Importer {
 public:
  Importer(db::Connection& c, const core::SecretBox& box, std::int64_t org_id, std::int64_t now,
           std::size_t max_rows, std::size_t max_devices, const core::OutboundPolicy& outbound)
      : c_(c),
        box_(box),
        org_(org_id),
        now_(now),
        max_rows_(max_rows),
        max_devices_(max_devices),
        outbound_(outbound) {}

  core::Result<ImportOutcome> run(std::string_view body) {
    if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
    core::CsvReader reader(body);
    std::vector<core::CsvCell> cells;
    std::string buffer;
    std::size_t bytes = 0;
    std::size_t cell_count = 0;
    if (reader.at_end()) {
      issue(1, "", "the body is empty: expected a header row (name,address,...)");
      return std::move(out_);
    }
    if (auto problem = reader.read(cells, kMaxCells, bytes, cell_count); !problem.empty()) {
      issue(reader.record_line(), "", std::string(problem));
      return std::move(out_);
    }
    if (!read_header(cells, cell_count, buffer)) return std::move(out_);

    std::vector<PendingRow> rows;
    while (!reader.at_end()) {
      auto problem = reader.read(cells, kMaxCells, bytes, cell_count);
      const auto line = reader.record_line();
      if (problem.empty() && cell_count == 1 && cells[0].raw.empty()) continue;  // blank line
      if (++out_.rows > max_rows_) {
        issue(line, "", "more than " + std::to_string(max_rows_) + " rows; split the file");
        break;
      }
      if (!problem.empty()) {
        issue(line, "", std::string(problem));
        continue;
      }
      if (cell_count != columns_.size()) {
        issue(line, "",
              "has " + std::to_string(cell_count) + " cells; the header has " +
                  std::to_string(columns_.size()));
        continue;
      }
      rows.push_back(parse_row(line, cells, buffer));
    }
    if (!out_.issues.empty() && rows.empty()) return std::move(out_);

    if (auto r = check_across(rows); !r) return r.error();
    if (!out_.issues.empty()) return std::move(out_);
    if (auto r = insert_all(rows); !r) return r.error();
    return std::move(out_);
  }

 private:
  void issue(std::size_t line, std::string column, std::string message) {
    if (out_.issues.size() == kMaxImportIssues) {
      out_.issues.push_back({line, "", "further issues are not listed"});
    }
    if (out_.issues.size() > kMaxImportIssues) return;
    out_.issues.push_back({line, std::move(column), std::move(message)});
  }

  bool read_header(const std::vector<core::CsvCell>& cells, std::size_t cell_count,
                   std::string& buffer) {
    if (cell_count > kMaxCells) {
      issue(1, "", "the header has more than " + std::to_string(kMaxCells) + " columns");
      return false;
    }
    bool ok = true;
    std::unordered_set<std::string> seen;
    for (auto& cell : cells) {
      std::string name(core::csv_cell_text(cell, buffer));
      while (!name.empty() && name.back() == ' ') name.pop_back();
      while (!name.empty() && name.front() == ' ') name.erase(0, 1);
      if (!seen.insert(name).second) {
        issue(1, name, "the column appears twice");
        ok = false;
        continue;
      }
      auto known = std::find(kColumnNames.begin(), kColumnNames.end(), name);
      if (known != kColumnNames.end()) {
        columns_.push_back(static_cast<int>(known - kColumnNames.begin()));
      } else if (std::find(kIgnoredColumns.begin(), kIgnoredColumns.end(), name) !=
                 kIgnoredColumns.end()) {
        columns_.push_back(-1);
      } else {
        issue(1, name, "unknown column");
        ok = false;
      }
    }
    for (auto required : {kName, kAddress}) {
      if (!seen.count(std::string(kColumnNames[required]))) {
        issue(1, std::string(kColumnNames[required]), "the header lacks this required column");
        ok = false;
      }
    }
    return ok;
  }

  PendingRow parse_row(std::size_t line, const std::vector<core::CsvCell>& cells,
                       std::string& buffer) {
    PendingRow row;
    row.line = line;
    auto& d = row.device;
    std::array<std::string, kColumnCount> v;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i] < 0) continue;
      v[static_cast<std::size_t>(columns_[i])] =
          std::string(core::csv_uncell_formula(core::csv_cell_text(cells[i], buffer)));
    }
    auto bad = [&](int col, std::string message) {
      issue(line, std::string(kColumnNames[static_cast<std::size_t>(col)]), std::move(message));
      row.ok = false;
    };
    d.name = v[kName];
    d.address = v[kAddress];
    if (!v[kType].empty()) {
      auto type = parse_device_type(v[kType]);
      if (!type) bad(kType, "must be one of router, switch, olt, server, cpe, ap, other");
      d.type = type.value_or(DeviceType::kOther);
    }
    d.location = v[kLocation];
    d.tags = split_list(v[kTags]);
    d.groups = split_list(v[kGroups]);
    row.parent_addresses = split_list(v[kParents]);
    if (row.parent_addresses.size() > kMaxParents) {
      bad(kParents, "may hold at most " + std::to_string(kMaxParents) + " parents");
    }
    for (auto [col, field] : {std::pair<int, bool*>{kEnabled, &d.enabled},
                              std::pair<int, bool*>{kMaintenance, &d.maintenance}}) {
      if (v[static_cast<std::size_t>(col)].empty()) continue;
      auto b = parse_bool(v[static_cast<std::size_t>(col)]);
      if (!b) bad(col, "must be true or false");
      *field = b.value_or(*field);
    }
    if (!v[kPollInterval].empty()) {
      int n = 0;
      auto& text = v[kPollInterval];
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || p != text.data() + text.size()) {
        bad(kPollInterval, "must be a whole number of seconds");
      } else {
        d.poll_interval_s = n;
      }
    }
    d.vendor = v[kVendor];
    d.model = v[kModel];
    d.os = v[kOs];
    d.serial = v[kSerial];
    d.notes = v[kNotes];
    if (!v[kSnmpVersion].empty()) {
      SnmpCredentials snmp;
      auto version = parse_snmp_version(v[kSnmpVersion]);
      if (!version) bad(kSnmpVersion, "must be 1, 2c or 3");
      snmp.settings.version = version.value_or(SnmpVersion::kV2c);
      if (!v[kSnmpPort].empty()) {
        unsigned port = 0;
        auto& text = v[kSnmpPort];
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
        if (ec != std::errc() || p != text.data() + text.size() || port == 0 || port > 65535) {
          bad(kSnmpPort, "must be 1 to 65535");
        } else {
          snmp.settings.port = static_cast<std::uint16_t>(port);
        }
      }
      snmp.secrets.community = v[kSnmpCommunity];
      snmp.settings.user = v[kSnmpUser];
      if (!v[kSnmpAuthProtocol].empty()) {
        auto a = parse_snmp_auth(v[kSnmpAuthProtocol]);
        if (!a)
          bad(kSnmpAuthProtocol, "must be none, MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512");
        snmp.settings.auth = a.value_or(SnmpAuth::kNone);
      }
      snmp.secrets.auth_password = v[kSnmpAuthPassword];
      if (!v[kSnmpPrivProtocol].empty()) {
        auto p = parse_snmp_priv(v[kSnmpPrivProtocol]);
        if (!p) bad(kSnmpPrivProtocol, "must be none, DES, AES, AES-128, AES-192 or AES-256");
        snmp.settings.priv = p.value_or(SnmpPriv::kNone);
      }
      snmp.secrets.priv_password = v[kSnmpPrivPassword];
      snmp.settings.context = v[kSnmpContext];
      d.snmp = std::move(snmp);
    } else {
      for (auto col : {kSnmpPort, kSnmpCommunity, kSnmpUser, kSnmpAuthProtocol, kSnmpAuthPassword,
                       kSnmpPrivProtocol, kSnmpPrivPassword, kSnmpContext}) {
        if (!v[static_cast<std::size_t>(col)].empty()) {
          bad(col, "needs snmp_version");
          break;
        }
      }
    }
    if (!row.ok) return row;
    if (auto r = check_new_device(d, outbound_); !r) {
      std::string column = "";
      if (auto* f = r.error().details.if_contains("field"); f && f->is_string()) {
        column = std::string(f->as_string());
        std::replace(column.begin(), column.end(), '.', '_');
      }
      issue(line, column, r.error().message);
      row.ok = false;
      return row;
    }
    for (auto& address : row.parent_addresses) {
      auto normalized = normalize_address(address, "parents");
      if (!normalized) {
        bad(kParents, "\"" + address + "\" is not an address");
        return row;
      }
      address = std::move(*normalized);
    }
    return row;
  }

  // Lookups against the database and between rows.
  core::Result<void> check_across(std::vector<PendingRow>& rows) {
    auto count = count_devices(c_, org_);
    if (!count) return count.error();
    if (static_cast<std::size_t>(*count) + rows.size() > max_devices_) {
      issue(1, "",
            "the organization would exceed its limit of " + std::to_string(max_devices_) +
                " devices");
    }
    std::map<std::string, std::size_t> in_file;  // address -> row index
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto& row = rows[i];
      if (!row.ok) continue;
      auto [it, fresh] = in_file.emplace(row.device.address, i);
      if (!fresh) {
        issue(row.line, "address",
              "the address " + row.device.address + " is also on line " +
                  std::to_string(rows[it->second].line));
        row.ok = false;
        continue;
      }
      if (auto r = check_address_free(c_, org_, row.device.address, 0); !r) {
        if (r.error().code != core::Errc::kDeviceAlreadyExists) return r;
        issue(row.line, "address", r.error().message);
        row.ok = false;
      }
      for (auto& name : row.device.groups) {
        auto id = group_id(name);
        if (!id) return std::move(id).error();
        if (*id == 0) {
          issue(row.line, "groups", "there is no group named \"" + name + "\"");
          row.ok = false;
        }
      }
    }
    for (auto& row : rows) {
      if (!row.ok) continue;
      for (auto& address : row.parent_addresses) {
        if (address == row.device.address) {
          issue(row.line, "parents", "a device cannot be its own parent");
          continue;
        }
        if (in_file.count(address)) continue;
        auto id = existing_id(address);
        if (!id) return std::move(id).error();
        if (*id == 0) {
          issue(row.line, "parents", "no device has the address " + address);
        }
      }
    }
    if (!out_.issues.empty()) return core::ok();
    // Cycles among the new rows (existing devices have no link to them, so cannot close one).
    if (!order_rows(rows, in_file)) return core::ok();
    return check_depth(rows, in_file);
  }

  // Puts the rows in order_, parents before children (a post-order of the parent links), or
  // records the issue of a cycle and returns false. Iterative: a file may hold a chain of as
  // many rows as the import takes, far deeper than a thread's stack.
  bool order_rows(const std::vector<PendingRow>& rows,
                  const std::map<std::string, std::size_t>& in_file) {
    enum State : unsigned char { kNew, kOnPath, kDone };
    std::vector<State> state(rows.size(), kNew);
    std::vector<std::pair<std::size_t, std::size_t>> stack;  // (row, next parent to follow)
    for (std::size_t first = 0; first < rows.size(); ++first) {
      if (state[first] != kNew) continue;
      state[first] = kOnPath;
      stack.emplace_back(first, 0);
      while (!stack.empty()) {
        const auto [i, k] = stack.back();
        const auto& parents = rows[i].parent_addresses;
        if (k == parents.size()) {
          state[i] = kDone;
          order_.push_back(i);
          stack.pop_back();
          continue;
        }
        ++stack.back().second;
        auto it = in_file.find(parents[k]);
        if (it == in_file.end() || state[it->second] == kDone) continue;
        const auto j = it->second;
        if (state[j] == kOnPath) {
          issue(rows[j].line, "parents",
                "the parents in this file form a cycle through " + rows[j].device.address);
          return false;
        }
        state[j] = kOnPath;
        stack.emplace_back(j, 0);
      }
    }
    return true;
  }

  // Holds every chain of parent links to kMaxParentChainDepth, counting the links above the
  // parents already in the database; one issue per row that would sit deeper, in line order.
  core::Result<void> check_depth(const std::vector<PendingRow>& rows,
                                 const std::map<std::string, std::size_t>& in_file) {
    std::optional<LinkMap> stored_links;  // loaded when a row has a stored parent
    std::unordered_map<std::int64_t, std::size_t> stored_depth;
    std::vector<std::size_t> depth(rows.size(), 0);
    std::vector<std::size_t> too_deep;
    for (auto i : order_) {
      for (auto& address : rows[i].parent_addresses) {
        std::size_t above = 0;
        if (auto it = in_file.find(address); it != in_file.end()) {
          above = depth[it->second];
        } else {
          auto id = existing_id(address);
          if (!id) return std::move(id).error();
          if (!stored_links) {
            auto links = load_parent_links(c_, org_);
            if (!links) return std::move(links).error();
            stored_links = std::move(*links);
          }
          above = longest_chain(*stored_links, *id, stored_depth);
        }
        depth[i] = std::max(depth[i], above + 1);
      }
      if (depth[i] > kMaxParentChainDepth) too_deep.push_back(i);
    }
    std::sort(too_deep.begin(), too_deep.end(),
              [&](std::size_t a, std::size_t b) { return rows[a].line < rows[b].line; });
    for (auto i : too_deep) {
      issue(rows[i].line, "parents",
            "this device would sit " + std::to_string(depth[i]) +
                " parent links below the top of its chain; at most " +
                std::to_string(kMaxParentChainDepth) + " are allowed");
    }
    return core::ok();
  }

  core::Result<std::int64_t> group_id(const std::string& name) {
    if (auto it = group_ids_.find(name); it != group_ids_.end()) return it->second;
    auto st = c_.prepare(kSelectGroupIdByName);
    if (!st) return st.error();
    st->bind(1, org_).bind(2, name);
    auto row = st->step();
    if (!row) return row.error();
    const std::int64_t id = *row ? st->get_int64(0) : 0;
    group_ids_[name] = id;
    return id;
  }

  core::Result<std::int64_t> existing_id(const std::string& address) {
    if (auto it = ids_by_address_.find(address); it != ids_by_address_.end()) return it->second;
    auto st = c_.prepare(kSelectDeviceIdByAddress);
    if (!st) return st.error();
    st->bind(1, org_).bind(2, address);
    auto row = st->step();
    if (!row) return row.error();
    const std::int64_t id = *row ? st->get_int64(0) : 0;
    ids_by_address_[address] = id;
    return id;
  }

  // Parents before children (order_ is a post-order of the parent links).
  core::Result<void> insert_all(std::vector<PendingRow>& rows) {
    for (auto i : order_) {
      auto& in = rows[i].device;
      auto names = std::move(in.groups);
      DeviceRow row = new_row(std::move(in), org_, now_);
      auto& d = row.device;
      for (auto& name : names) row.group_ids.push_back(group_ids_.at(name));
      std::sort(row.group_ids.begin(), row.group_ids.end());
      for (auto& address : rows[i].parent_addresses) {
        auto id = existing_id(address);
        if (!id) return id.error();
        d.parents.push_back(*id);
      }
      std::sort(d.parents.begin(), d.parents.end());
      d.parents.erase(std::unique(d.parents.begin(), d.parents.end()), d.parents.end());
      auto id = insert_device(c_, box_, row);
      if (!id) return id.error();
      d.id = *id;
      ids_by_address_[d.address] = *id;
      out_.created.push_back(std::move(row));
    }
    return core::ok();
  }

  db::Connection& c_;
  const core::SecretBox& box_;
  std::int64_t org_;
  std::int64_t now_;
  std::size_t max_rows_;
  std::size_t max_devices_;
  const core::OutboundPolicy& outbound_;
  std::vector<int> columns_;  // per header cell: a Col, or -1 for an ignored column
  std::vector<std::size_t> order_;
  std::map<std::string, std::int64_t> group_ids_;       // 0: no such group
  std::map<std::string, std::int64_t> ids_by_address_;  // 0: no such device
  ImportOutcome out_;
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (auto& item : items) {
    if (!out.empty()) out += ';';
    out += item;
  }
  return out;
}

}  // namespace

core::Result<ImportOutcome> import_devices(db::Connection& c, const core::SecretBox& box,
                                           std::int64_t org_id, std::string_view body,
                                           std::int64_t now, std::size_t max_rows,
                                           std::size_t max_devices,
                                           const core::OutboundPolicy& outbound) {
  Importer importer(c, box, org_id, now, max_rows, max_devices, outbound);
  return importer.run(body);
}

std::string export_devices(const std::vector<Device>& devices,
                           const std::unordered_map<std::int64_t, std::string>& addresses) {
  std::string out =
      "id,name,address,type,status,last_seen,location,tags,groups,parents,enabled,maintenance,"
      "poll_interval_s,vendor,model,os,serial,notes,snmp_version,snmp_port,snmp_user,"
      "snmp_auth_protocol,snmp_priv_protocol,snmp_context\r\n";
  for (auto& d : devices) {
    std::vector<std::string> parents;
    for (auto p : d.parents) {
      if (auto it = addresses.find(p); it != addresses.end()) parents.push_back(it->second);
    }
    std::vector<std::string> cells{std::to_string(d.id),
                                   d.name,
                                   d.address,
                                   std::string(device_type_name(d.type)),
                                   std::string(device_status_name(d.status())),
                                   d.last_seen ? core::format_rfc3339_seconds(*d.last_seen) : "",
                                   d.location,
                                   join(d.tags),
                                   join(d.groups),
                                   join(parents),
                                   d.enabled ? "true" : "false",
                                   d.maintenance ? "true" : "false",
                                   std::to_string(d.poll_interval_s),
                                   d.vendor,
                                   d.model,
                                   d.os,
                                   d.serial,
                                   d.notes};
    if (d.snmp) {
      const bool v3 = d.snmp->version == SnmpVersion::kV3;
      cells.push_back(std::string(snmp_version_name(d.snmp->version)));
      cells.push_back(std::to_string(d.snmp->port));
      cells.push_back(d.snmp->user);
      cells.push_back(v3 ? std::string(snmp_auth_name(d.snmp->auth)) : "");
      cells.push_back(v3 ? std::string(snmp_priv_name(d.snmp->priv)) : "");
      cells.push_back(d.snmp->context);
    } else {
      cells.insert(cells.end(), 6, "");
    }
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) out += ',';
      out += core::csv_quote(cells[i]);
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace netpulse::devices::detail
