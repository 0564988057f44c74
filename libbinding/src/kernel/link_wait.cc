#include "k6t/binding/link_wait.h"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

struct SockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};

int CountMessage(nl_msg*, void* count) {
  ++*static_cast<int*>(count);
  return NL_OK;
}

}  // namespace

struct LinkEvents::Impl {
  std::unique_ptr<nl_sock, SockDeleter> sk;
  int received = 0;
};

LinkEvents::LinkEvents(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LinkEvents::~LinkEvents() = default;

absl::StatusOr<std::unique_ptr<LinkEvents>> LinkEvents::Open() {
  auto impl = std::make_unique<Impl>();
  impl->sk.reset(nl_socket_alloc());
  if (!impl->sk) return absl::ResourceExhaustedError("link events: nl_socket_alloc failed");
  nl_sock* sk = impl->sk.get();
  nl_socket_disable_seq_check(sk);
  nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, &CountMessage, &impl->received);
  if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0)
    return absl::InternalError(absl::StrCat("link events: connect: ", nl_geterror(err)));
  if (int err = nl_socket_add_membership(sk, RTNLGRP_LINK); err < 0)
    return absl::InternalError(
        absl::StrCat("link events: subscribe RTNLGRP_LINK: ", nl_geterror(err)));
  if (int err = nl_socket_set_nonblocking(sk); err < 0)
    return absl::InternalError(absl::StrCat("link events: non-blocking: ", nl_geterror(err)));
  return std::unique_ptr<LinkEvents>(new LinkEvents(std::move(impl)));
}

int LinkEvents::fd() const { return nl_socket_get_fd(impl_->sk.get()); }

int LinkEvents::Drain() {
  impl_->received = 0;
  // Ends with -NLE_AGAIN once the socket is empty. An overrun (ENOBUFS) lost messages, which
  // is harmless here: the caller re-reads the state, it does not replay the messages.
  while (nl_recvmsgs_default(impl_->sk.get()) >= 0) {
  }
  return impl_->received;
}

absl::Status WaitForLinkCondition(const std::string& what,
                                  absl::FunctionRef<absl::StatusOr<bool>()> ready,
                                  absl::Duration timeout, absl::Duration recheck) {
  const absl::Time deadline = absl::Now() + timeout;
  // Subscribed before the first look, so a link created in between still wakes us.
  auto events = LinkEvents::Open();
  if (!events.ok())
    return absl::Status(events.status().code(),
                        absl::StrCat("wait for ", what, ": ", events.status().message()));
  int woken = 0;
  for (;;) {
    absl::StatusOr<bool> ok = ready();
    if (!ok.ok()) return ok.status();
    if (*ok) {
      spdlog::debug("wait for {}: ready after {} link event(s)", what, woken);
      return absl::OkStatus();
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration())
      return absl::DeadlineExceededError(
          absl::StrCat(what, ": not within ", absl::FormatDuration(timeout)));
    const absl::Duration nap = std::min(left, recheck);
    pollfd p{(*events)->fd(), POLLIN, 0};
    const int rc = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(nap)) + 1);
    if (rc < 0 && errno != EINTR)
      return absl::InternalError(absl::StrCat("wait for ", what, ": poll: ", strerror(errno)));
    if (rc > 0) woken += (*events)->Drain();
  }
}

absl::Status WaitForLink(const std::string& name, absl::Duration timeout) {
  return WaitForLinkCondition(
      absl::StrCat("pod link ", name, " to appear"),
      [&]() -> absl::StatusOr<bool> { return if_nametoindex(name.c_str()) != 0; }, timeout);
}

}  // namespace k6t::binding
