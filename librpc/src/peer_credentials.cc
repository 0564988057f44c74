#include "peer_credentials.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "unix_socket.h"

namespace k6t::rpc {

absl::StatusOr<Peer> PeerOf(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return absl::InternalError(absl::StrCat("SO_PEERCRED: ", ErrnoText(errno)));
  }
  return Peer{cred.pid, cred.uid, cred.gid};
}

UidAllowList::UidAllowList(std::vector<uid_t> uids) : uids_(std::move(uids)) {
  if (uids_.empty()) uids_ = {0, geteuid()};
  std::sort(uids_.begin(), uids_.end());
  uids_.erase(std::unique(uids_.begin(), uids_.end()), uids_.end());
}

bool UidAllowList::Allows(uid_t uid) const {
  return std::binary_search(uids_.begin(), uids_.end(), uid);
}

std::string UidAllowList::ToString() const { return absl::StrJoin(uids_, ","); }

}  // namespace k6t::rpc
