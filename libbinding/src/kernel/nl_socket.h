// One rtnetlink socket with the plumbing every adapter needs: the kernel's own error text
// (extended ack) with its errno mapped by api::StatusCodeForErrno, and request/dump helpers
// whose replies are handed to a callback as raw messages. Not thread-safe: one thread at a
// time.
#pragma once

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace k6t::binding::kernel {

// Identity of the calling thread's network namespace (device + inode of its nsfs file),
// read from /proc once per thread: a thread changes namespace only by calling setns(2)
// itself, which in k6t only NetnsThread does, once, before it runs anything (DESIGN §4).
// The path walk would otherwise cost a few microseconds on every netlink request.
struct NetnsId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const NetnsId&) const = default;
};
absl::StatusOr<NetnsId> CurrentNetns();

class NlSocket {
 public:
  // Opens a NETLINK_ROUTE socket in the calling thread's netns.
  static absl::StatusOr<std::unique_ptr<NlSocket>> Open();
  ~NlSocket();
  NlSocket(const NlSocket&) = delete;
  NlSocket& operator=(const NlSocket&) = delete;

  nl_sock* sock() { return sk_; }
  const NetnsId& netns() const { return netns_; }

  // Called with every reply message; return NL_OK to go on.
  using OnMessage = std::function<int(nlmsghdr*)>;

  // Sends `msg` (consumed) and waits for its ack; replies go to `on_reply` when given.
  // Returns a libnl error code (0 or negative NLE_*).
  int Request(nl_msg* msg, const OnMessage& on_reply = nullptr);
  // Sends a dump request (consumed); every message until NLMSG_DONE goes to `on_reply`.
  // Retries (up to 5 times) when the kernel flags the dump as interrupted.
  int Dump(const std::function<nl_msg*()>& build, const OnMessage& on_reply);

  // Turns the result of the last failed call into a Status: `what` names the operation and
  // the object ("create link br0"), followed by the kernel's text and errno text.
  absl::Status Error(int nl_err, const std::string& what) const;
  // errno of the last NLMSG_ERROR the kernel sent (0 when the failure was local).
  int last_errno() const { return last_errno_; }

  // Records errno and extended-ack text of a kernel error; used as libnl's error callback.
  static int OnError(sockaddr_nl*, nlmsgerr* err, void* self);

 private:
  NlSocket(nl_sock* sk, NetnsId ns) : sk_(sk), netns_(ns) {}
  void ClearError() {
    last_errno_ = 0;
    last_ext_ack_.clear();
  }
  nl_sock* sk_;
  NetnsId netns_;
  int last_errno_ = 0;
  std::string last_ext_ack_;
};

}  // namespace k6t::binding::kernel
