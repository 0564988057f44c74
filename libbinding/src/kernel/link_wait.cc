#include "k6t/binding/link_wait.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
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

int CollectLinkName(nl_msg* msg, void* names_arg) {
  auto* names = static_cast<std::vector<std::string>*>(names_arg);
  nlmsghdr* hdr = nlmsg_hdr(msg);
  if (hdr->nlmsg_type != RTM_NEWLINK && hdr->nlmsg_type != RTM_DELLINK) return NL_OK;
  nlattr* name = nlmsg_find_attr(hdr, sizeof(ifinfomsg), IFLA_IFNAME);
  if (!name) return NL_OK;
  std::string n(
      static_cast<const char*>(nla_data(name)),
      strnlen(static_cast<const char*>(nla_data(name)), static_cast<size_t>(nla_len(name))));
  if (std::find(names->begin(), names->end(), n) == names->end()) names->push_back(std::move(n));
  return NL_OK;
}

}  // namespace

struct LinkEvents::Impl {
  std::unique_ptr<nl_sock, SockDeleter> sk;
  std::vector<std::string> names;  // of the Drain() in progress
};

LinkEvents::LinkEvents(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LinkEvents::~LinkEvents() = default;

absl::StatusOr<std::unique_ptr<LinkEvents>> LinkEvents::Open() {
  auto impl = std::make_unique<Impl>();
  impl->sk.reset(nl_socket_alloc());
  if (!impl->sk) return absl::ResourceExhaustedError("link events: nl_socket_alloc failed");
  nl_sock* sk = impl->sk.get();
  nl_socket_disable_seq_check(sk);
  nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, &CollectLinkName, &impl->names);
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

std::vector<std::string> LinkEvents::Drain() {
  impl_->names.clear();
  // Ends with -NLE_AGAIN once the socket is empty. An overrun (ENOBUFS) lost messages, which
  // is harmless here: the caller re-reads the state, it does not replay the messages.
  while (nl_recvmsgs_default(impl_->sk.get()) >= 0) {
  }
  return std::move(impl_->names);
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
    if (rc > 0) woken += static_cast<int>((*events)->Drain().size());
  }
}

absl::Status WaitForLink(const std::string& name, absl::Duration timeout) {
  return WaitForLinkCondition(
      absl::StrCat("pod link ", name, " to appear"),
      [&]() -> absl::StatusOr<bool> { return if_nametoindex(name.c_str()) != 0; }, timeout);
}

}  // namespace k6t::binding
