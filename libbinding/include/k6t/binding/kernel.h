// The kernel as k6t sees it: four small interfaces, each with a real implementation
// (libnl3, /dev/net/tun, /proc/sys, libnftables) and an in-memory fake for unit tests.
// All calls act on the network namespace of the calling thread: run them on a NetnsThread
// (netns.h) to act on a pod. Errors carry the operation, the link and the kernel's text.
//
// Errors: the kernel's errno mapped onto a status code by the tree's one table
// (api::StatusCodeForErrno, k6t/api/errno_status.h): EEXIST AlreadyExists; ENODEV, ENOENT,
// EADDRNOTAVAIL, ESRCH NotFound; EPERM, EACCES PermissionDenied; EOPNOTSUPP Unimplemented;
// EINVAL, ERANGE, ENAMETOOLONG InvalidArgument; EBUSY, EROFS FailedPrecondition; ENOMEM,
// ENOBUFS, ENOSPC, EMFILE, ENFILE ResourceExhausted; EAGAIN, EINTR Unavailable; anything
// else the kernel says here Internal. Reads of an absent object are not errors (nullopt),
// see each call.
// Thread-safety: an adapter object is not thread-safe and belongs to the thread (and so the
// netns) that made it; separate objects may be used on separate threads.
// Privileges: reads need none; every change needs CAP_NET_ADMIN over the namespace, taps
// also /dev/net/tun, sysctl writes a writable /proc/sys/net (not a read-only mount).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace k6t::binding {

struct Link {
  int index = 0;
  std::string name;
  std::string kind;  // "bridge", "tun", "veth", "dummy", "ifb", "macvlan", "" (physical)
  std::string mac;   // lower-case aa:bb:cc:dd:ee:ff
  int mtu = 0;
  int master_index = 0;   // 0: no master
  bool admin_up = false;  // IFF_UP
  bool oper_up = false;   // IF_OPER_UP or IF_OPER_UNKNOWN with carrier
  bool learning = true;   // bridge port learning, when the link is a bridge port
};

struct Address {
  int link_index = 0;
  std::string cidr;  // "10.88.0.5/16", "fd00::5/64"
  bool ipv6() const { return cidr.find(':') != std::string::npos; }
};

struct RouteEntry {
  int link_index = 0;
  std::string destination;  // CIDR, "0.0.0.0/0" / "::/0" for default
  std::string gateway;      // "" when on-link
  bool ipv6 = false;
};

// Only what changes; unset fields are left alone. Applied as one RTM_SETLINK where the
// kernel allows it (a rename needs the link down); `learning` follows in its own AF_BRIDGE
// message, once the link is a bridge port (the master may be set by the same change).
struct LinkChange {
  std::optional<std::string> name;
  std::optional<std::string> mac;
  std::optional<int> mtu;
  std::optional<int> master_index;  // 0 = release from master
  std::optional<bool> up;
  std::optional<bool> learning;  // bridge-port learning; FailedPrecondition if not a port
};

class Netlink {
 public:
  virtual ~Netlink() = default;
  // nullopt when no such link; an error only when the kernel could not answer.
  virtual absl::StatusOr<std::optional<Link>> GetLink(const std::string& name) = 0;
  virtual absl::StatusOr<std::optional<Link>> GetLinkByIndex(int index) = 0;
  virtual absl::StatusOr<std::vector<Link>> ListLinks() = 0;
  // Creates a link of `kind` ("bridge", "dummy", "ifb") with optional MAC and MTU.
  virtual absl::Status CreateLink(const std::string& name, const std::string& kind,
                                  const std::string& mac, int mtu) = 0;
  // Test helper kind: a veth pair, `peer` created in the netns open at `peer_netns_fd`
  // (-1: same netns).
  virtual absl::Status CreateVeth(const std::string& name, const std::string& peer,
                                  int peer_netns_fd) = 0;
  virtual absl::Status DeleteLink(const std::string& name) = 0;
  virtual absl::Status ChangeLink(const std::string& name, const LinkChange& change) = 0;
  // ChangeLink for a link whose state the caller has just read (or made): `current` stands
  // for the kernel's view, so no lookup of its own. A failed change leaves the link as it was.
  virtual absl::Status ChangeKnownLink(const Link& current, const LinkChange& change) {
    return ChangeLink(current.name, change);
  }
  virtual absl::Status SetPortLearning(const std::string& name, bool learning) = 0;
  virtual absl::StatusOr<std::vector<Address>> ListAddresses(int link_index) = 0;
  virtual absl::Status AddAddress(int link_index, const std::string& cidr) = 0;
  virtual absl::Status DeleteAddress(int link_index, const std::string& cidr) = 0;
  // Main-table unicast routes of both families.
  virtual absl::StatusOr<std::vector<RouteEntry>> ListRoutes() = 0;
  // Main-table unicast route via `route.link_index`; an identical existing route is success.
  virtual absl::Status AddRoute(const RouteEntry& route) {
    (void)route;
    return absl::UnimplementedError("AddRoute");
  }
  // Kinds the running kernel can create (probed once, cached): used to pick ifb when dummy
  // is missing.
  virtual bool SupportsKind(const std::string& kind) = 0;
};

struct TapSpec {
  std::string name;
  uint32_t owner = 0;
  uint32_t group = 0;
  int queues = 1;
  int mtu = 0;
};

class Tun {
 public:
  virtual ~Tun() = default;
  // Creates a persistent tap. An existing tap of that name with the same owner, group and
  // queue mode is success (idempotent); one that differs is an error.
  virtual absl::Status CreateTap(const TapSpec& spec) = 0;
};

class Sysctl {
 public:
  virtual ~Sysctl() = default;
  // `key` relative to /proc/sys/net ("ipv4/ip_forward"). Values are trimmed.
  virtual absl::StatusOr<std::string> Read(const std::string& key) = 0;
  virtual absl::Status Write(const std::string& key, const std::string& value) = 0;
};

class Nft {
 public:
  virtual ~Nft() = default;
  // Replaces table `family name` with `body` in one atomic transaction (created if absent).
  virtual absl::Status ReplaceTable(const std::string& family, const std::string& name,
                                    const std::string& body) = 0;
  // Deletes the table; absent is success.
  virtual absl::Status DeleteTable(const std::string& family, const std::string& name) = 0;
  // The table as `nft list table` prints it; nullopt when absent.
  virtual absl::StatusOr<std::optional<std::string>> ListTable(const std::string& family,
                                                               const std::string& name) = 0;
};

// The four together, as the executor and planner use them.
struct Kernel {
  Netlink* netlink = nullptr;
  Tun* tun = nullptr;
  Sysctl* sysctl = nullptr;
  Nft* nft = nullptr;
};

// Real implementations, acting on the calling thread's netns. Each opens its own
// socket/context and must be used from one thread at a time.
std::unique_ptr<Netlink> NewNetlink();
std::unique_ptr<Tun> NewTun();
std::unique_ptr<Sysctl> NewSysctl();
std::unique_ptr<Nft> NewNft();

// The four real adapters as one owned set. Each adapter binds to the netns of the thread
// that creates it, so make a RealKernel inside a NetnsThread closure and use it only there:
//
//   ns->Call<PodState>([] { RealKernel k; return ObservePod(k.kernel()); });
//
// Creating it needs no privilege; what the adapters then do needs CAP_NET_ADMIN in the
// namespace (links, nftables, /proc/sys/net writes) and /dev/net/tun for taps.
struct RealKernel {
  std::unique_ptr<Netlink> netlink = NewNetlink();
  std::unique_ptr<Tun> tun = NewTun();
  std::unique_ptr<Sysctl> sysctl = NewSysctl();
  std::unique_ptr<Nft> nft = NewNft();
  Kernel kernel() const { return {netlink.get(), tun.get(), sysctl.get(), nft.get()}; }
};

}  // namespace k6t::binding
