// Who is at the other end of a connection (SO_PEERCRED, as the kernel recorded it at
// connect()), and whether the server talks to them.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace k6t::rpc {

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// kInternal with the errno text when the kernel does not say.
absl::StatusOr<Peer> PeerOf(int fd);

class UidAllowList {
 public:
  // Empty means {0, geteuid()}: root and whoever runs the server.
  explicit UidAllowList(std::vector<uid_t> uids = {});
  bool Allows(uid_t uid) const;
  std::string ToString() const;  // "0,107"

 private:
  std::vector<uid_t> uids_;  // sorted, unique
};

}  // namespace k6t::rpc
