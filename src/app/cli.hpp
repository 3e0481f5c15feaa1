// The `netpulse` command line: sub-commands and their options.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace netpulse::app {

struct CommandLine {
  std::string command;                         // "serve", "check-config", ...
  std::vector<std::string> positional;         // after the command
  std::map<std::string, std::string> options;  // --name value
  std::vector<std::string> flags;              // --name (no value)
  bool has_flag(const std::string& f) const;
  std::optional<std::string> option(const std::string& name) const;
};

// Parses argv. Options that take a value are listed in `valued`; an unknown `--x` is a flag.
// Returns an error message on malformed input (e.g. a valued option at the end).
std::optional<std::string> parse_command_line(int argc, char** argv, CommandLine& out);

int cmd_serve(const CommandLine& cl);
int cmd_check_config(const CommandLine& cl);
int cmd_migrate(const CommandLine& cl);
int cmd_backup(const CommandLine& cl);
int cmd_user(const CommandLine& cl);
int cmd_api_key(const CommandLine& cl);
int cmd_settings(const CommandLine& cl);  // cli_settings.cpp

// Runs the command line; returns the exit status.
int run(int argc, char** argv);

}  // namespace netpulse::app
