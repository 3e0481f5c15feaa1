// What the tests that build network namespaces share (as root; the [netns] capability): running
// `ip` commands, and removing the namespaces of earlier runs that died before cleaning up.
#pragma once

#include <string>
#include <string_view>

namespace netpulse::test {

// Runs a shell command; its exit status.
int sh(const std::string& cmd);

// Namespaces "<ns_prefix><pid>" whose test process (the pid) is gone are deleted, with our end of
// their link "<link_prefix><pid>": left by a run killed before its destructor ran.
void remove_stale_namespaces(std::string_view ns_prefix, std::string_view link_prefix);

}  // namespace netpulse::test
