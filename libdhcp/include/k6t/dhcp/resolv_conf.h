// The pod's /etc/resolv.conf, read the way the glibc resolver reads it, with limits: it is
// the source of the DNS servers (DHCPv4 6, DHCPv6 23) and search domains (119, 24) the guest
// gets. Invalid entries are skipped and counted, not fatal: a guest with most of its DNS
// configuration beats no guest.
//
// WithPodDns completes a plan's offers from the pod's file, as KubeVirt's virt-launcher does;
// the launcher and the hook sidecar both serve what it returns.
//
// Errors: ReadResolvConf only, NotFound when the file cannot be opened, Internal when a read
// fails, each with the path and errno text. Thread-safety: pure functions apart from that
// read. Privileges: read access to the file.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/dhcp_offer.h"

namespace k6t::dhcp {

struct ResolvConfLimits {
  size_t max_file_bytes = 64 * 1024;  // the rest of a larger file is ignored
  size_t max_line_length = 1024;      // longer lines are skipped
  size_t max_nameservers = 16;        // per family
  size_t max_search_domains = 32;
};

struct ResolvConf {
  std::vector<std::string> nameservers_v4;
  std::vector<std::string> nameservers_v6;
  std::vector<std::string> search;  // lower-case, no trailing dot, in file order, no duplicates
  size_t skipped = 0;               // lines or entries ignored as invalid or over a limit
  bool truncated = false;           // the file exceeded max_file_bytes
};

// Recognises `nameserver ADDR`, `search D...` and `domain D` (the last search/domain line
// wins, as in glibc); `#` and `;` start comments.
ResolvConf ParseResolvConf(std::string_view text, const ResolvConfLimits& limits = {});

// Reads at most limits.max_file_bytes of `path`. Fails only when the file cannot be read.
absl::StatusOr<ResolvConf> ReadResolvConf(const std::string& path,
                                          const ResolvConfLimits& limits = {});

// `plan` with DNS servers and search domains from the resolv.conf at `path` where its offers
// have none. KubeVirt's fallbacks apply: 8.8.8.8 when the file names no nameserver (or cannot
// be read: logged), cluster.local when it has no search line.
api::DhcpPlan WithPodDns(api::DhcpPlan plan, const std::string& path);

}  // namespace k6t::dhcp
