// Persistent taps through /dev/net/tun, the way libvirt and KubeVirt's virt-chroot create
// them: TUNSETIFF (IFF_TUN_EXCL so an existing device is detected, never silently reused),
// owner, group, MTU, and TUNSETPERSIST last, so a failure half-way leaves nothing behind
// (the device dies with the fd unless it was made persistent).
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "k6t/api/errno_status.h"
#include "k6t/binding/kernel.h"
#include "kernel/link_query.h"
#include "kernel/nl_socket.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

std::string Owner(const std::optional<uint32_t>& v) {
  return v ? std::to_string(*v) : std::string("unset");
}

// SIOCSIFMTU through a datagram socket of the calling thread's namespace.
absl::Status SetMtu(const std::string& name, int mtu, const std::string& what) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return api::ErrnoStatus(what + ": socket", errno);
  absl::Cleanup close_s = [s] { close(s); };
  ifreq ifr = {};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_mtu = mtu;
  if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
    return api::ErrnoStatus(absl::StrCat(what, ": set MTU ", mtu), errno);
  return absl::OkStatus();
}

class TunImpl : public Tun {
 public:
  absl::Status CreateTap(const TapSpec& spec) override {
    const std::string what = "create tap " + spec.name;
    if (!kernel::ValidLinkName(spec.name))
      return absl::InvalidArgumentError(what + ": invalid interface name");
    if (spec.queues < 0) return absl::InvalidArgumentError(what + ": negative queue count");
    const bool multi = spec.queues > 1;

    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return api::ErrnoStatus(what + ": open /dev/net/tun", errno);
    absl::Cleanup close_fd = [fd] { close(fd); };

    ifreq ifr = {};
    std::strncpy(ifr.ifr_name, spec.name.c_str(), IFNAMSIZ - 1);
    // KubeVirt/libvirt flags. Only IFF_MULTI_QUEUE is binding for whoever opens the tap
    // later (QEMU/libvirt pass their own PI/vnet_hdr flags); IFF_ONE_QUEUE is a no-op kept
    // for parity.
    ifr.ifr_flags =
        IFF_TAP | IFF_TUN_EXCL | (multi ? (IFF_MULTI_QUEUE | IFF_NO_PI) : IFF_ONE_QUEUE);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
      int e = errno;
      if (e == EBUSY) return CheckExisting(spec, what);
      return api::ErrnoStatus(what + ": TUNSETIFF", e);
    }
    if (ioctl(fd, TUNSETOWNER, static_cast<unsigned long>(spec.owner)) < 0)
      return api::ErrnoStatus(absl::StrCat(what, ": TUNSETOWNER ", spec.owner), errno);
    if (ioctl(fd, TUNSETGROUP, static_cast<unsigned long>(spec.group)) < 0)
      return api::ErrnoStatus(absl::StrCat(what, ": TUNSETGROUP ", spec.group), errno);
    if (spec.mtu > 0)
      if (auto st = SetMtu(spec.name, spec.mtu, what); !st.ok()) return st;
    if (ioctl(fd, TUNSETPERSIST, 1UL) < 0) return api::ErrnoStatus(what + ": TUNSETPERSIST", errno);
    spdlog::debug("tun: created tap {} owner {} group {} queues {}", spec.name, spec.owner,
                  spec.group, spec.queues);
    return absl::OkStatus();
  }

 private:
  // A device of that name exists. /sys is no help here (it shows the namespace sysfs was
  // mounted in, not the caller's), so ask rtnetlink for the tun attributes.
  absl::Status CheckExisting(const TapSpec& spec, const std::string& what) {
    auto ns = kernel::CurrentNetns();
    if (!ns.ok()) return ns.status();
    if (!sock_ || !(sock_->netns() == *ns)) {
      auto s = kernel::NlSocket::Open();
      if (!s.ok()) return s.status();
      sock_ = std::move(*s);
    }
    auto cur = kernel::QueryLink(*sock_, spec.name, 0);
    if (!cur.ok()) return cur.status();
    if (!*cur) return absl::UnavailableError(what + ": exists and vanished while checking it");
    const Link& l = (*cur)->link;
    if (!(*cur)->tun || !(*cur)->tun->tap)
      return absl::AlreadyExistsError(absl::StrCat(
          what, ": a ", l.kind.empty() ? std::string("non-tap") : l.kind, " link has that name"));
    const kernel::TunDetails& t = *(*cur)->tun;
    const bool multi = spec.queues > 1;
    if (t.owner != std::optional<uint32_t>(spec.owner) ||
        t.group != std::optional<uint32_t>(spec.group) || t.multi_queue != multi || !t.persist)
      return absl::AlreadyExistsError(
          absl::StrCat(what, ": exists with owner ", Owner(t.owner), " group ", Owner(t.group),
                       t.multi_queue ? " multi-queue" : " single-queue",
                       t.persist ? "" : " (not persistent)", "; wanted owner ", spec.owner,
                       " group ", spec.group, multi ? " multi-queue" : " single-queue"));
    if (spec.mtu > 0 && l.mtu != spec.mtu) return SetMtu(spec.name, spec.mtu, what);
    return absl::OkStatus();
  }

  std::unique_ptr<kernel::NlSocket> sock_;
};

}  // namespace

std::unique_ptr<Tun> NewTun() { return std::make_unique<TunImpl>(); }

}  // namespace k6t::binding
