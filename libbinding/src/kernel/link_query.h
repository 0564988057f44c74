// Reading links over rtnetlink: one RTM_GETLINK per lookup (never a dump when a name or
// index is known), parsed into k6t's Link plus the tun details taps need.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/binding/kernel.h"
#include "kernel/nl_socket.h"

namespace k6t::binding::kernel {

// IFLA_TUN_* of a tun/tap link (kernel >= 4.15).
struct TunDetails {
  bool tap = false;
  std::optional<uint32_t> owner;  // absent: no owner set
  std::optional<uint32_t> group;
  bool multi_queue = false;
  bool persist = false;
};

struct LinkDetails {
  Link link;
  std::optional<TunDetails> tun;  // set when kind == "tun"
};

bool ValidLinkName(const std::string& name);

// Parses one RTM_NEWLINK message; nullopt for other message types.
std::optional<LinkDetails> ParseLink(nlmsghdr* hdr);

// `name` empty: look up by `index`. nullopt when the kernel says there is no such link.
absl::StatusOr<std::optional<LinkDetails>> QueryLink(NlSocket& sock, const std::string& name,
                                                     int index);
absl::StatusOr<std::vector<LinkDetails>> DumpLinks(NlSocket& sock);

}  // namespace k6t::binding::kernel
