// A canonical text of what a network namespace holds, read with `ip -j` and `nft`, for
// "exactly as before" assertions: links (name, kind, MAC, MTU, master, up), addresses and
// main-table routes (link-local ones left out: the kernel regenerates them), the nftables
// ruleset and the sysctls k6t may change.
#pragma once

#include <string>

namespace k6t::testsupport {

std::string NetnsSnapshot(const std::string& netns_name);

}  // namespace k6t::testsupport
