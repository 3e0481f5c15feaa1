// Command-line parsing, usage text, and the small sub-commands (check-config, migrate, backup,
// user, api-key; settings is in cli_settings.cpp, serve in serve.cpp). The user and api-key
// commands write the database another process (the server) may be using; their changes take
// effect there at once (the server reads users and keys on every request) and are audited with
// the actor "cli".
#include "cli.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/config.hpp>
#include <netpulse/core/random.hpp>
#include <netpulse/db/database.hpp>

#include "options.hpp"
#include "support.hpp"

namespace netpulse::app {

namespace {

constexpr std::string_view kUsage = R"(NetPulse — network monitoring server

Usage:
  netpulse serve [--config FILE]             run the server
  netpulse check-config FILE                 report every problem in a config file
  netpulse migrate [--dry-run] [--config FILE]
                                             apply (or list) pending database migrations
  netpulse backup PATH [--config FILE]       consistent copy of the database, while running
  netpulse user add --email E --role R [--name N] [--password P] [--org SLUG] [--config FILE]
  netpulse user passwd --email E [--org SLUG] [--password P] [--config FILE]
                                             set a password; ends the user's sessions
  netpulse user unlock --email E [--org SLUG] [--config FILE]
                                             lift the user's login lock-outs
  netpulse user list [--config FILE]
  netpulse api-key list [--org SLUG] [--config FILE]
  netpulse api-key revoke ID [--config FILE]
  netpulse settings list [--config FILE]     the settings saved in the web UI
  netpulse settings reset KEY... | --all [--config FILE]
                                             take saved settings back (the file's values
                                             apply at the next start)
  netpulse version                           print the version
  netpulse help                              this text

Without --config the embedded defaults apply (see config/netpulse.toml); any setting can be
overridden by NETPULSE_<SECTION>_<KEY> environment variables. Where no --password is given, a
password is generated and printed once. --org names the organization (its slug) where an email
is in several.
)";

constexpr std::array<std::string_view, 6> kValued = {"config", "email",    "role",
                                                     "name",   "password", "org"};

}  // namespace

bool CommandLine::has_flag(const std::string& f) const {
  return std::find(flags.begin(), flags.end(), f) != flags.end();
}

std::optional<std::string> CommandLine::option(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> parse_command_line(int argc, char** argv, CommandLine& out) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      auto name = a.substr(2);
      std::optional<std::string> value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      if (std::find(kValued.begin(), kValued.end(), name) != kValued.end()) {
        if (!value) {
          if (i + 1 >= argc) return fmt::format("option --{} needs a value", name);
          value = argv[++i];
        }
        out.options[name] = *value;
      } else if (name == "help" || name == "version" || name == "dry-run" || name == "all") {
        out.flags.push_back(name);
      } else {
        return fmt::format("unknown option --{}", name);
      }
    } else if (a == "-h") {
      out.flags.push_back("help");
    } else if (out.command.empty()) {
      out.command = a;
    } else {
      out.positional.push_back(a);
    }
  }
  return std::nullopt;
}

int cmd_check_config(const CommandLine& cl) {
  std::optional<std::string> file;
  if (!cl.positional.empty()) file = cl.positional[0];
  if (auto c = cl.option("config")) file = *c;
  if (!file) {
    std::fprintf(stderr, "netpulse check-config: give the config file to check\n");
    return 2;
  }
  if (!std::filesystem::exists(*file)) {
    std::fprintf(stderr, "netpulse check-config: %s: no such file\n", file->c_str());
    return 1;
  }
  std::vector<std::string> warnings;
  auto problems = core::check_config(file, core::process_environment(), &warnings);
  for (auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (problems.empty()) {
    std::printf("%s: OK\n", file->c_str());
    return 0;
  }
  for (auto& p : problems) std::fprintf(stderr, "%s\n", p.to_string().c_str());
  std::fprintf(stderr, "%zu problem(s) found\n", problems.size());
  return 1;
}

int cmd_migrate(const CommandLine& cl) {
  auto config = load_config_or_report(cl);
  if (!config) return 2;
  auto path = database_path(*config);
  if (cl.has_flag("dry-run")) {
    auto pending = db::Database::pending_migrations(path);
    if (!pending) {
      std::fprintf(stderr, "netpulse migrate: %s\n", pending.error().message.c_str());
      return 1;
    }
    if (pending->empty()) {
      std::printf("%s: schema is up to date; nothing to apply\n", path.c_str());
      return 0;
    }
    std::printf("%s: %zu pending migration(s):\n", path.c_str(), pending->size());
    for (auto& m : *pending) std::printf("  %04d_%s\n", m.version, m.name.c_str());
    return 0;
  }
  Runtime rt(*config);
  auto database = rt.open_database();
  if (!database) return 1;
  std::printf("%s: schema at version %d\n", path.c_str(), (*database)->schema_version());
  return 0;
}

int cmd_backup(const CommandLine& cl) {
  if (cl.positional.size() != 1) {
    std::fprintf(stderr, "netpulse backup: give exactly one destination PATH\n");
    return 2;
  }
  auto config = load_config_or_report(cl);
  if (!config) return 2;
  auto src = database_path(*config);
  if (!std::filesystem::exists(src)) {
    std::fprintf(stderr, "netpulse backup: %s does not exist\n", src.c_str());
    return 1;
  }
  auto r = db::backup_file(src, cl.positional[0]);
  if (!r) {
    std::fprintf(stderr, "netpulse backup: %s\n", r.error().message.c_str());
    return 1;
  }
  std::printf("backed up %s to %s\n", src.c_str(), cl.positional[0].c_str());
  return 0;
}

int cmd_user(const CommandLine& cl) {
  if (cl.positional.empty()) {
    std::fprintf(stderr, "netpulse user: add, passwd, unlock or list\n");
    return 2;
  }
  auto config = load_config_or_report(cl);
  if (!config) return 2;
  Runtime rt(*config);
  auto database = rt.open_database();
  if (!database) return 1;
  auto service = rt.open_auth(**database);
  if (!service) return 1;
  auto& auth = **service;
  const auto& sub = cl.positional[0];

  if (sub == "list") {
    auto users = auth.list_all_users_sync();
    if (!users) {
      std::fprintf(stderr, "netpulse user list: %s\n", users.error().message.c_str());
      return 1;
    }
    std::printf("%-6s %-6s %-32s %-9s %-6s %s\n", "ID", "ORG", "EMAIL", "ROLE", "ACTIVE", "NAME");
    for (auto& u : *users) {
      std::printf("%-6lld %-6lld %-32s %-9s %-6s %s\n", static_cast<long long>(u.id),
                  static_cast<long long>(u.org_id), u.email.c_str(),
                  std::string(auth::role_name(u.role)).c_str(), u.active ? "yes" : "no",
                  u.name.c_str());
    }
    return 0;
  }

  auto email = cl.option("email");
  if (!email) {
    std::fprintf(stderr, "netpulse user %s: --email is required\n", sub.c_str());
    return 2;
  }
  if (sub == "unlock") {
    auto r = auth.unlock_user_sync(*email, cl.option("org"));
    if (!r) {
      std::fprintf(stderr, "netpulse user unlock: %s\n", r.error().message.c_str());
      return 1;
    }
    std::printf("login lock-outs of <%s> lifted\n", email->c_str());
    return 0;
  }
  auto password = cl.option("password");
  bool generated = !password;
  if (generated) password = generate_password();

  if (sub == "add") {
    auto role_name = cl.option("role").value_or("viewer");
    auto role = auth::parse_role(role_name);
    if (!role) {
      std::fprintf(stderr,
                   "netpulse user add: --role must be admin, operator, viewer or api_user\n");
      return 2;
    }
    std::int64_t org_id = 0;
    auto slug = cl.option("org").value_or("system");
    auto orgs = auth.list_orgs(auth::SystemScope::trusted(), {1, 500});
    if (orgs) {
      for (auto& o : orgs->items) {
        if (o.slug == slug) org_id = o.id;
      }
    }
    if (org_id == 0) {
      std::fprintf(stderr, "netpulse user add: no organization with slug \"%s\"\n", slug.c_str());
      return 1;
    }
    auth::NewUser u{*email, cl.option("name").value_or(""), *role, *password, true};
    auto created = auth.create_user_sync(core::OrgScope::trusted(org_id), std::move(u));
    if (!created) {
      std::fprintf(stderr, "netpulse user add: %s\n", created.error().message.c_str());
      return 1;
    }
    std::printf("created user %lld <%s> (%s) in %s\n", static_cast<long long>(created->id),
                created->email.c_str(), role_name.c_str(), slug.c_str());
  } else if (sub == "passwd") {
    auto r = auth.set_password_sync(*email, cl.option("org"), *password);
    if (!r) {
      std::fprintf(stderr, "netpulse user passwd: %s\n", r.error().message.c_str());
      return 1;
    }
    std::printf("password changed for <%s>; their sessions were ended\n", email->c_str());
  } else {
    std::fprintf(stderr, "netpulse user: unknown sub-command \"%s\" (add, passwd, unlock, list)\n",
                 sub.c_str());
    return 2;
  }
  if (generated) std::printf("password: %s\n", password->c_str());
  return 0;
}

int cmd_api_key(const CommandLine& cl) {
  if (cl.positional.empty() || (cl.positional[0] != "list" && cl.positional[0] != "revoke")) {
    std::fprintf(stderr, "netpulse api-key: list or revoke ID\n");
    return 2;
  }
  const auto& sub = cl.positional[0];
  std::int64_t key_id = 0;
  if (sub == "revoke") {
    const auto* text = cl.positional.size() == 2 ? &cl.positional[1] : nullptr;
    auto [end, ec] = text ? std::from_chars(text->data(), text->data() + text->size(), key_id)
                          : std::from_chars_result{nullptr, std::errc::invalid_argument};
    if (!text || ec != std::errc() || end != text->data() + text->size() || key_id <= 0) {
      std::fprintf(stderr, "netpulse api-key revoke: give the key's id (see api-key list)\n");
      return 2;
    }
  }
  auto config = load_config_or_report(cl);
  if (!config) return 2;
  Runtime rt(*config);
  auto database = rt.open_database();
  if (!database) return 1;
  auto service = rt.open_auth(**database);
  if (!service) return 1;
  auto& auth = **service;

  if (sub == "revoke") {
    auto r = auth.revoke_api_key_sync(key_id);
    if (!r) {
      std::fprintf(stderr, "netpulse api-key revoke: %s\n", r.error().message.c_str());
      return 1;
    }
    std::printf("API key %lld revoked\n", static_cast<long long>(key_id));
    return 0;
  }

  std::optional<std::int64_t> only_org;
  auto orgs = auth.list_orgs(auth::SystemScope::trusted(), {1, 500});
  if (!orgs) {
    std::fprintf(stderr, "netpulse api-key list: %s\n", orgs.error().message.c_str());
    return 1;
  }
  std::map<std::int64_t, std::string> slugs;
  for (auto& o : orgs->items) slugs[o.id] = o.slug;
  if (auto slug = cl.option("org")) {
    for (auto& [id, s] : slugs) {
      if (s == *slug) only_org = id;
    }
    if (!only_org) {
      std::fprintf(stderr, "netpulse api-key list: no organization with slug \"%s\"\n",
                   slug->c_str());
      return 1;
    }
  }
  auto keys = auth.list_all_api_keys_sync();
  if (!keys) {
    std::fprintf(stderr, "netpulse api-key list: %s\n", keys.error().message.c_str());
    return 1;
  }
  auto when = [](const std::optional<std::int64_t>& t) {
    return t ? core::format_rfc3339_seconds(*t) : std::string("-");
  };
  std::printf("%-6s %-12s %-14s %-9s %-8s %-20s %-20s %-20s %s\n", "ID", "ORG", "PREFIX", "ROLE",
              "CREATOR", "LAST USED", "EXPIRES", "REVOKED", "NAME");
  for (auto& k : *keys) {
    if (only_org && k.org_id != *only_org) continue;
    auto org = slugs.count(k.org_id) ? slugs[k.org_id] : std::to_string(k.org_id);
    auto creator = k.created_by ? std::to_string(*k.created_by) : std::string("-");
    std::printf("%-6lld %-12s %-14s %-9s %-8s %-20s %-20s %-20s %s\n", static_cast<long long>(k.id),
                org.c_str(), k.prefix.c_str(), std::string(auth::role_name(k.role)).c_str(),
                creator.c_str(), when(k.last_used_at).c_str(), when(k.expires_at).c_str(),
                when(k.revoked_at).c_str(), k.name.c_str());
  }
  return 0;
}

int run(int argc, char** argv) {
  CommandLine cl;
  if (auto err = parse_command_line(argc, argv, cl)) {
    std::fprintf(stderr, "netpulse: %s\n\n%s", err->c_str(), std::string(kUsage).c_str());
    return 2;
  }
  if (cl.has_flag("version") || cl.command == "version") {
    std::printf("netpulse %s\n", NETPULSE_VERSION);
    return 0;
  }
  if (cl.has_flag("help") || cl.command == "help" || cl.command.empty()) {
    std::printf("%s", std::string(kUsage).c_str());
    return cl.command.empty() && !cl.has_flag("help") ? 2 : 0;
  }
  if (cl.command == "serve") return cmd_serve(cl);
  if (cl.command == "check-config") return cmd_check_config(cl);
  if (cl.command == "migrate") return cmd_migrate(cl);
  if (cl.command == "backup") return cmd_backup(cl);
  if (cl.command == "user") return cmd_user(cl);
  if (cl.command == "api-key") return cmd_api_key(cl);
  if (cl.command == "settings") return cmd_settings(cl);
  std::fprintf(stderr, "netpulse: unknown command \"%s\"\n\n%s", cl.command.c_str(),
               std::string(kUsage).c_str());
  return 2;
}

}  // namespace netpulse::app
