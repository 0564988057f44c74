// The address and route half of the Netlink adapter (kernel.h documents the semantics and
// errors): one link's addresses, the main routing table, each change one request on the
// caller's socket. Not thread-safe (the socket is not). Privileges: CAP_NET_ADMIN in the
// socket's namespace to change anything.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "k6t/binding/kernel.h"
#include "kernel/nl_socket.h"

namespace k6t::binding::kernel {

absl::StatusOr<std::vector<Address>> ListAddresses(NlSocket& s, int link_index);
// `add` true: RTM_NEWADDR (EXCL; IPv4 with the subnet broadcast, IPv6 without DAD);
// false: RTM_DELADDR, already gone counts as done.
absl::Status ChangeAddress(NlSocket& s, bool add, int link_index, const std::string& cidr);
absl::StatusOr<std::vector<RouteEntry>> ListRoutes(NlSocket& s);
// The same route already present counts as done; another to that destination does not.
absl::Status AddRoute(NlSocket& s, const RouteEntry& route);

}  // namespace k6t::binding::kernel
