#include "k6t/binding/link_wait.h"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

struct SockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};

int IgnoreMessage(nl_msg*, void*) { return NL_OK; }

}  // namespace

absl::Status WaitForLinkCondition(const std::string& what,
                                  absl::FunctionRef<absl::StatusOr<bool>()> ready,
                                  absl::Duration timeout, absl::Duration recheck) {
  const absl::Time deadline = absl::Now() + timeout;
  std::unique_ptr<nl_sock, SockDeleter> sk(nl_socket_alloc());
  if (!sk) return absl::ResourceExhaustedError("wait for link: nl_socket_alloc failed");
  nl_socket_disable_seq_check(sk.get());
  nl_socket_modify_cb(sk.get(), NL_CB_VALID, NL_CB_CUSTOM, &IgnoreMessage, nullptr);
  if (int err = nl_connect(sk.get(), NETLINK_ROUTE); err < 0)
    return absl::InternalError(absl::StrCat("wait for ", what, ": connect: ", nl_geterror(err)));
  // Subscribed before the first look, so a link created in between still wakes us.
  if (int err = nl_socket_add_membership(sk.get(), RTNLGRP_LINK); err < 0)
    return absl::InternalError(
        absl::StrCat("wait for ", what, ": subscribe RTNLGRP_LINK: ", nl_geterror(err)));
  nl_socket_set_nonblocking(sk.get());
  int events = 0;
  for (;;) {
    absl::StatusOr<bool> ok = ready();
    if (!ok.ok()) return ok.status();
    if (*ok) {
      spdlog::debug("wait for {}: ready after {} link event(s)", what, events);
      return absl::OkStatus();
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration())
      return absl::DeadlineExceededError(
          absl::StrCat(what, ": not within ", absl::FormatDuration(timeout)));
    const absl::Duration nap = std::min(left, recheck);
    pollfd p{nl_socket_get_fd(sk.get()), POLLIN, 0};
    const int rc = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(nap)) + 1);
    if (rc < 0 && errno != EINTR)
      return absl::InternalError(absl::StrCat("wait for ", what, ": poll: ", strerror(errno)));
    if (rc > 0) {
      ++events;
      // Drained only to re-arm poll; the messages' content does not matter, `ready()` does.
      while (nl_recvmsgs_default(sk.get()) >= 0) {
      }
    }
  }
}

absl::Status WaitForLink(const std::string& name, absl::Duration timeout) {
  return WaitForLinkCondition(
      absl::StrCat("pod link ", name, " to appear"),
      [&]() -> absl::StatusOr<bool> { return if_nametoindex(name.c_str()) != 0; }, timeout);
}

}  // namespace k6t::binding
