// Netlink on libnl-route-3: links here (lookups are single RTM_GETLINK requests; a link
// change is one RTM_SETLINK carrying every changed attribute; nothing dumps all links except
// ListLinks itself), addresses and routes in netlink_addr_route.cc.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "k6t/api/net.h"
#include "k6t/binding/kernel.h"
#include "kernel/link_query.h"
#include "kernel/netlink_addr_route.h"
#include "kernel/nl_socket.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

using kernel::LinkDetails;
using kernel::NlSocket;

// Process-wide: link kinds depend on the kernel, not on the namespace.
std::mutex g_kinds_mu;
std::map<std::string, bool> g_kinds;

class NetlinkImpl : public Netlink {
 public:
  absl::StatusOr<std::optional<Link>> GetLink(const std::string& name) override {
    auto s = Sock();
    if (!s.ok()) return s.status();
    return Strip(kernel::QueryLink(**s, name, 0));
  }

  absl::StatusOr<std::optional<Link>> GetLinkByIndex(int index) override {
    auto s = Sock();
    if (!s.ok()) return s.status();
    return Strip(kernel::QueryLink(**s, "", index));
  }

  absl::StatusOr<std::vector<Link>> ListLinks() override {
    auto s = Sock();
    if (!s.ok()) return s.status();
    auto all = kernel::DumpLinks(**s);
    if (!all.ok()) return all.status();
    std::vector<Link> out;
    out.reserve(all->size());
    for (auto& d : *all) out.push_back(std::move(d.link));
    return out;
  }

  absl::Status CreateLink(const std::string& name, const std::string& kind, const std::string& mac,
                          int mtu) override {
    const std::string what = absl::StrCat("create link ", name, " (", kind, ")");
    if (!kernel::ValidLinkName(name))
      return absl::InvalidArgumentError(what + ": invalid interface name");
    if (kind.empty()) return absl::InvalidArgumentError(what + ": empty kind");
    std::optional<api::MacAddress> hw;
    if (!mac.empty()) {
      auto m = api::MacAddress::Parse(mac);
      if (!m.ok())
        return absl::InvalidArgumentError(absl::StrCat(what, ": ", m.status().message()));
      hw = *m;
    }
    if (auto st = NewLink(what, name, kind, hw ? hw->bytes().data() : nullptr,
                          api::MacAddress::kSize, mtu);
        !st.ok())
      return st;
    spdlog::debug("netlink: created {} link {}", kind, name);
    return absl::OkStatus();
  }

  absl::Status CreateVeth(const std::string& name, const std::string& peer,
                          int peer_netns_fd) override {
    const std::string what = absl::StrCat("create veth ", name, " peer ", peer);
    if (!kernel::ValidLinkName(name) || !kernel::ValidLinkName(peer))
      return absl::InvalidArgumentError(what + ": invalid interface name");
    auto s = Sock();
    if (!s.ok()) return s.status();
    // Built by hand: the peer (and its namespace fd) is a nested ifinfomsg in VETH_INFO_PEER,
    // which creates the peer directly in its namespace instead of moving it afterwards.
    nl_msg* msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    if (!msg) return absl::ResourceExhaustedError(what + ": out of memory");
    ifinfomsg ifi = {};
    bool ok = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0 &&
              nla_put_string(msg, IFLA_IFNAME, name.c_str()) == 0;
    nlattr* info = ok ? nla_nest_start(msg, IFLA_LINKINFO) : nullptr;
    ok = info && nla_put_string(msg, IFLA_INFO_KIND, "veth") == 0;
    nlattr* data = ok ? nla_nest_start(msg, IFLA_INFO_DATA) : nullptr;
    nlattr* peer_attr = data ? nla_nest_start(msg, VETH_INFO_PEER) : nullptr;
    ok = peer_attr && nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0 &&
         nla_put_string(msg, IFLA_IFNAME, peer.c_str()) == 0 &&
         (peer_netns_fd < 0 || nla_put_u32(msg, IFLA_NET_NS_FD, peer_netns_fd) == 0);
    if (!ok) {
      nlmsg_free(msg);
      return absl::ResourceExhaustedError(what + ": message too large");
    }
    nla_nest_end(msg, peer_attr);
    nla_nest_end(msg, data);
    nla_nest_end(msg, info);
    if (int err = (*s)->Request(msg); err < 0) return (*s)->Error(err, what);
    return absl::OkStatus();
  }

  absl::Status DeleteLink(const std::string& name) override {
    const std::string what = "delete link " + name;
    if (!kernel::ValidLinkName(name))
      return absl::InvalidArgumentError(what + ": invalid interface name");
    auto s = Sock();
    if (!s.ok()) return s.status();
    nl_msg* msg = nlmsg_alloc_simple(RTM_DELLINK, 0);
    if (!msg) return absl::ResourceExhaustedError(what + ": out of memory");
    ifinfomsg ifi = {};
    if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
        nla_put_string(msg, IFLA_IFNAME, name.c_str()) < 0) {
      nlmsg_free(msg);
      return absl::ResourceExhaustedError(what + ": out of memory");
    }
    if (int err = (*s)->Request(msg); err < 0) {
      // Teardown is idempotent: a link that is already gone is what the caller wanted.
      if ((*s)->last_errno() == ENODEV) return absl::OkStatus();
      return (*s)->Error(err, what);
    }
    return absl::OkStatus();
  }

  absl::Status ChangeLink(const std::string& name, const LinkChange& change) override {
    auto s = Sock();
    if (!s.ok()) return s.status();
    auto cur = kernel::QueryLink(**s, name, 0);
    if (!cur.ok()) return cur.status();
    if (!*cur) return absl::NotFoundError("change link " + name + ": no such link");
    return Change(**s, (*cur)->link, change);
  }

  absl::Status ChangeKnownLink(const Link& current, const LinkChange& change) override {
    auto s = Sock();
    if (!s.ok()) return s.status();
    return Change(**s, current, change);
  }

  absl::Status SetPortLearning(const std::string& name, bool learning) override {
    const std::string what = absl::StrCat("set learning ", learning ? "on" : "off", " on ", name);
    auto s = Sock();
    if (!s.ok()) return s.status();
    auto cur = kernel::QueryLink(**s, name, 0);
    if (!cur.ok()) return cur.status();
    if (!*cur) return absl::NotFoundError(what + ": no such link");
    if ((*cur)->link.master_index == 0)
      return absl::FailedPreconditionError(what + ": not a bridge port");
    if (int err = SendLearning(**s, (*cur)->link.index, learning); err < 0)
      return (*s)->Error(err, what);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Address>> ListAddresses(int link_index) override {
    auto s = Sock();
    if (!s.ok()) return s.status();
    return kernel::ListAddresses(**s, link_index);
  }

  absl::Status AddAddress(int link_index, const std::string& cidr) override {
    return ChangeAddress(true, link_index, cidr);
  }

  absl::Status DeleteAddress(int link_index, const std::string& cidr) override {
    return ChangeAddress(false, link_index, cidr);
  }

  absl::StatusOr<std::vector<RouteEntry>> ListRoutes() override {
    auto s = Sock();
    if (!s.ok()) return s.status();
    return kernel::ListRoutes(**s);
  }

  absl::Status AddRoute(const RouteEntry& route) override {
    auto s = Sock();
    if (!s.ok()) return s.status();
    return kernel::AddRoute(**s, route);
  }

  bool SupportsKind(const std::string& kind) override {
    {
      std::lock_guard<std::mutex> lock(g_kinds_mu);
      if (auto it = g_kinds.find(kind); it != g_kinds.end()) return it->second;
    }
    bool supported = Probe(kind);
    std::lock_guard<std::mutex> lock(g_kinds_mu);
    g_kinds[kind] = supported;
    return supported;
  }

 private:
  struct SetLink {
    int index = 0;
    std::optional<std::string> name;
    bool set_mac = false;
    api::MacAddress mac;
    std::optional<int> mtu;
    std::optional<int> master;
    std::optional<bool> up;
  };

  // The socket belongs to the namespace it was opened in; follow the caller if it moved.
  absl::StatusOr<NlSocket*> Sock() {
    auto ns = kernel::CurrentNetns();
    if (!ns.ok()) return ns.status();
    if (!sock_ || !(sock_->netns() == *ns)) {
      auto s = NlSocket::Open();
      if (!s.ok()) return s.status();
      sock_ = std::move(*s);
    }
    return sock_.get();
  }

  static absl::StatusOr<std::optional<Link>> Strip(absl::StatusOr<std::optional<LinkDetails>> d) {
    if (!d.ok()) return d.status();
    if (!*d) return std::optional<Link>();
    return std::optional<Link>(std::move((*d)->link));
  }

  // Everything `change` asks for that `old` does not have yet, in as few messages as the
  // kernel allows: [set down, when renaming a running link] + one RTM_SETLINK + [AF_BRIDGE
  // learning, once the link is a port].
  absl::Status Change(NlSocket& s, const Link& old, const LinkChange& change) {
    const std::string what = "change link " + old.name;
    SetLink want;
    want.index = old.index;
    if (change.name && *change.name != old.name) {
      if (!kernel::ValidLinkName(*change.name))
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": invalid new name \"", *change.name, "\""));
      want.name = *change.name;
    }
    if (change.mac) {
      auto mac = api::MacAddress::Parse(*change.mac);
      if (!mac.ok())
        return absl::InvalidArgumentError(absl::StrCat(what, ": ", mac.status().message()));
      want.mac = *mac;
      want.set_mac = mac->ToString() != old.mac;
    }
    if (change.mtu && *change.mtu != old.mtu) {
      if (*change.mtu <= 0)
        return absl::InvalidArgumentError(absl::StrCat(what, ": bad MTU ", *change.mtu));
      want.mtu = *change.mtu;
    }
    if (change.master_index && *change.master_index != old.master_index)
      want.master = *change.master_index;
    if (change.up && *change.up != old.admin_up) want.up = *change.up;
    // A link that joins a bridge starts with learning on.
    const int master = want.master.value_or(old.master_index);
    const bool learning_now = want.master ? true : old.learning;
    const bool set_learning = change.learning && *change.learning != learning_now;
    if (set_learning && master == 0)
      return absl::FailedPreconditionError(what + ": set learning: not a bridge port");
    const bool main = want.name || want.set_mac || want.mtu || want.master || want.up;
    if (main)
      if (auto st = SetLinkAttributes(s, old, want, change.up, what); !st.ok()) return st;
    if (!set_learning) return absl::OkStatus();
    if (int err = SendLearning(s, old.index, *change.learning); err < 0) {
      absl::Status st = s.Error(err, what + ": set learning");
      if (main) Restore(s, old, want, /*downed=*/true);
      return st;
    }
    return absl::OkStatus();
  }

  // The RTM_SETLINK part of Change.
  absl::Status SetLinkAttributes(NlSocket& s, const Link& old, const SetLink& want,
                                 std::optional<bool> up, const std::string& what) {
    // The kernel refuses to rename a running link (EBUSY), and some drivers refuse a MAC
    // change while up: take it down first, and bring it back up in the same message.
    bool down_first = want.name && old.admin_up;
    int err = 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
      SetLink msg = want;
      if (down_first) {
        SetLink down;
        down.index = old.index;
        down.up = false;
        if (err = Send(s, down); err < 0) return s.Error(err, what + ": set down");
        msg.up = up.value_or(true);
      }
      err = Send(s, msg);
      if (err >= 0) return absl::OkStatus();
      if (!down_first && old.admin_up && want.set_mac && s.last_errno() == EBUSY) {
        down_first = true;
        continue;
      }
      break;
    }
    absl::Status st = s.Error(err, what);
    Restore(s, old, want, down_first);
    return st;
  }

  // AF_BRIDGE RTM_SETLINK with IFLA_PROTINFO reaches the bridge's port settings.
  static int SendLearning(NlSocket& s, int index, bool learning) {
    nl_msg* msg = nlmsg_alloc_simple(RTM_SETLINK, 0);
    if (!msg) return -NLE_NOMEM;
    ifinfomsg ifi = {};
    ifi.ifi_family = AF_BRIDGE;
    ifi.ifi_index = index;
    nlattr* proto = nullptr;
    bool ok = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0 &&
              (proto = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) != nullptr &&
              nla_put_u8(msg, IFLA_BRPORT_LEARNING, learning ? 1 : 0) == 0;
    if (!ok) {
      nlmsg_free(msg);
      return -NLE_NOMEM;
    }
    nla_nest_end(msg, proto);
    return s.Request(msg);
  }

  // One RTM_SETLINK; the kernel applies MAC, MTU, name, flags, master in that order.
  static int Send(NlSocket& s, const SetLink& c) {
    nl_msg* msg = nlmsg_alloc_simple(RTM_SETLINK, 0);
    if (!msg) return -NLE_NOMEM;
    ifinfomsg ifi = {};
    ifi.ifi_index = c.index;
    if (c.up) {
      ifi.ifi_change = IFF_UP;
      ifi.ifi_flags = *c.up ? IFF_UP : 0;
    }
    bool ok = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0 &&
              (!c.name || nla_put_string(msg, IFLA_IFNAME, c.name->c_str()) == 0) &&
              (!c.set_mac ||
               nla_put(msg, IFLA_ADDRESS, api::MacAddress::kSize, c.mac.bytes().data()) == 0) &&
              (!c.mtu || nla_put_u32(msg, IFLA_MTU, static_cast<uint32_t>(*c.mtu)) == 0) &&
              (!c.master || nla_put_u32(msg, IFLA_MASTER, static_cast<uint32_t>(*c.master)) == 0);
    if (!ok) {
      nlmsg_free(msg);
      return -NLE_NOMEM;
    }
    return s.Request(msg);
  }

  // The kernel stops at the first attribute it rejects and keeps the ones before it: put
  // back what this call may have changed so a failed ChangeLink leaves the link as it was.
  static void Restore(NlSocket& s, const Link& old, const SetLink& tried, bool downed) {
    SetLink back;
    back.index = old.index;
    if (tried.name) back.name = old.name;
    if (auto mac = api::MacAddress::Parse(old.mac); tried.set_mac && mac.ok()) {
      back.mac = *mac;
      back.set_mac = true;
    }
    if (tried.mtu) back.mtu = old.mtu;
    if (tried.master) back.master = old.master_index;
    if (tried.up || downed) back.up = old.admin_up;
    // Each attribute on its own: one that is already as it was must not block the others.
    auto one = [&](SetLink c) {
      c.index = old.index;
      if (Send(s, c) < 0)
        spdlog::warn("netlink: could not restore link {} after a failed change", old.name);
    };
    if (back.set_mac) {
      SetLink mac;
      mac.set_mac = true;
      mac.mac = back.mac;
      one(mac);
    }
    if (back.mtu) one(SetLink{.mtu = back.mtu});
    if (back.master) one(SetLink{.master = back.master});
    if (back.name) {
      auto now = kernel::QueryLink(s, "", old.index);
      if (now.ok() && *now && (*now)->link.name != old.name) {
        if ((*now)->link.admin_up) one(SetLink{.up = false});
        one(SetLink{.name = back.name});
      }
    }
    if (back.up) one(SetLink{.up = back.up});
  }

  absl::Status ChangeAddress(bool add, int link_index, const std::string& cidr) {
    auto s = Sock();
    if (!s.ok()) return s.status();
    return kernel::ChangeAddress(**s, add, link_index, cidr);
  }

  // A create request that only a present driver can refuse as invalid: its 1-byte
  // IFLA_ADDRESS fails the driver's validate() (bridge, dummy, ifb, macvlan, veth: EINVAL)
  // before any device exists, while a kind with no driver is "Unknown device type"
  // (EOPNOTSUPP). Creating and deleting a real probe link instead costs the deletion's RCU
  // grace period (15-40 ms measured), paid by every one-shot setup on a full kernel.
  absl::Status ProbeCreate(const std::string& name, const std::string& kind) {
    const uint8_t short_addr[1] = {0x02};
    return NewLink(absl::StrCat("probe link kind ", kind), name, kind, short_addr,
                   sizeof(short_addr), 0);
  }

  // One RTM_NEWLINK (create, exclusive) with an optional hardware address and MTU.
  absl::Status NewLink(const std::string& what, const std::string& name, const std::string& kind,
                       const uint8_t* hw, size_t hw_len, int mtu) {
    auto s = Sock();
    if (!s.ok()) return s.status();
    rtnl_link* link = rtnl_link_alloc();
    if (!link) return absl::ResourceExhaustedError(what + ": out of memory");
    rtnl_link_set_name(link, name.c_str());
    int err = rtnl_link_set_type(link, kind.c_str());
    if (err == 0 && hw) {
      nl_addr* addr = nl_addr_build(AF_LLC, hw, hw_len);
      if (!addr) {
        err = -NLE_NOMEM;
      } else {
        rtnl_link_set_addr(link, addr);
        nl_addr_put(addr);
      }
    }
    if (err == 0 && mtu > 0) rtnl_link_set_mtu(link, static_cast<unsigned>(mtu));
    nl_msg* msg = nullptr;
    if (err == 0) err = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, &msg);
    rtnl_link_put(link);
    if (err == 0) err = (*s)->Request(msg);
    if (err < 0) return (*s)->Error(err, what);
    return absl::OkStatus();
  }

  bool Probe(const std::string& kind) {
    if (kind == "tun" || kind == "tap") {
      int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
      if (fd >= 0) close(fd);
      return fd >= 0;
    }
    std::random_device rd;
    std::string name = absl::StrFormat("k6tp%08x", rd());
    absl::Status st =
        kind == "veth" ? CreateVeth(name, absl::StrCat(name, "p"), -1) : ProbeCreate(name, kind);
    if (st.code() == absl::StatusCode::kInvalidArgument) {
      spdlog::debug("netlink: link kind {} is supported (its driver validated the probe)", kind);
      return true;
    }
    // A driver without validate() took the probe and made a link: remove it.
    if (st.ok()) {
      if (auto del = DeleteLink(name); !del.ok())
        spdlog::warn("netlink: could not delete probe link {}: {}", name,
                     std::string(del.message()));
      spdlog::debug("netlink: link kind {} is supported", kind);
      return true;
    }
    // EOPNOTSUPP: the kernel has no driver for the kind. Any other refusal (a kind that
    // needs more attributes, like macvlan's lower link) means the driver exists.
    bool known = st.code() != absl::StatusCode::kUnimplemented &&
                 st.code() != absl::StatusCode::kPermissionDenied;
    spdlog::info("netlink: link kind {} {} ({})", kind, known ? "is supported" : "is not available",
                 std::string(st.message()));
    return known;
  }

  std::unique_ptr<NlSocket> sock_;
};

}  // namespace

std::unique_ptr<Netlink> NewNetlink() { return std::make_unique<NetlinkImpl>(); }

}  // namespace k6t::binding
