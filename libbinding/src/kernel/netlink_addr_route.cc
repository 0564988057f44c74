// Addresses and routes over rtnetlink: listed with kernel-side filtering (one link's
// addresses, the main table's routes), changed one request at a time.
#include "kernel/netlink_addr_route.h"

#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>

#include <cerrno>
#include <optional>

#include "absl/strings/str_cat.h"
#include "k6t/api/net.h"

namespace k6t::binding::kernel {
namespace {

int AddrLen(int family) { return family == AF_INET6 ? 16 : 4; }

int Family(const api::IpAddress& a) { return a.is_v6() ? AF_INET6 : AF_INET; }

// The address of `family` in `bytes`, a netlink attribute of at least AddrLen(family).
api::IpAddress AddressAt(int family, const void* bytes) {
  return *api::IpAddress::FromBytes(
      {static_cast<const uint8_t*>(bytes), static_cast<size_t>(AddrLen(family))});
}

std::string FormatCidr(int family, const void* bytes, int prefix) {
  return absl::StrCat(AddressAt(family, bytes).ToString(), "/", prefix);
}

void ParseRoute(nlmsghdr* hdr, std::vector<RouteEntry>& out) {
  if (hdr->nlmsg_type != RTM_NEWROUTE) return;
  auto* rtm = static_cast<rtmsg*>(nlmsg_data(hdr));
  if (rtm->rtm_type != RTN_UNICAST) return;
  if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) return;
  nlattr* tb[RTA_MAX + 1] = {};
  if (nlmsg_parse(hdr, sizeof(*rtm), tb, RTA_MAX, nullptr) < 0) return;
  uint32_t table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
  if (table != RT_TABLE_MAIN) return;
  const int fam = rtm->rtm_family;
  const int len = AddrLen(fam);
  uint8_t zero[16] = {};
  const void* dst = tb[RTA_DST] && nla_len(tb[RTA_DST]) >= len ? nla_data(tb[RTA_DST]) : zero;
  RouteEntry base;
  base.ipv6 = fam == AF_INET6;
  base.destination = FormatCidr(fam, dst, rtm->rtm_dst_len);
  auto gw_of = [&](nlattr* g) {
    return g && nla_len(g) >= len ? AddressAt(fam, nla_data(g)).ToString() : std::string();
  };
  if (tb[RTA_MULTIPATH]) {
    auto* nh = static_cast<rtnexthop*>(nla_data(tb[RTA_MULTIPATH]));
    int rem = nla_len(tb[RTA_MULTIPATH]);
    while (rem >= static_cast<int>(sizeof(*nh)) && nh->rtnh_len >= sizeof(*nh) &&
           nh->rtnh_len <= rem) {
      RouteEntry r = base;
      r.link_index = nh->rtnh_ifindex;
      nlattr* ntb[RTA_MAX + 1] = {};
      int alen = nh->rtnh_len - static_cast<int>(RTNH_ALIGN(sizeof(*nh)));
      if (alen > 0 &&
          nla_parse(ntb, RTA_MAX, reinterpret_cast<nlattr*>(RTNH_DATA(nh)), alen, nullptr) == 0)
        r.gateway = gw_of(ntb[RTA_GATEWAY]);
      out.push_back(r);
      rem -= RTNH_ALIGN(nh->rtnh_len);
      nh = RTNH_NEXT(nh);
    }
    return;
  }
  base.link_index = tb[RTA_OIF] ? static_cast<int>(nla_get_u32(tb[RTA_OIF])) : 0;
  base.gateway = gw_of(tb[RTA_GATEWAY]);
  out.push_back(base);
}

}  // namespace

absl::StatusOr<std::vector<Address>> ListAddresses(NlSocket& s, int link_index) {
  std::vector<Address> out;
  int err = s.Dump(
      [&]() -> nl_msg* {
        out.clear();
        nl_msg* msg = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
        if (!msg) return nullptr;
        ifaddrmsg ifa = {};
        ifa.ifa_index = static_cast<uint32_t>(link_index);  // filtered by the kernel
        if (nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0) {
          nlmsg_free(msg);
          return nullptr;
        }
        return msg;
      },
      [&](nlmsghdr* hdr) {
        if (hdr->nlmsg_type != RTM_NEWADDR) return NL_OK;
        auto* ifa = static_cast<ifaddrmsg*>(nlmsg_data(hdr));
        if (static_cast<int>(ifa->ifa_index) != link_index) return NL_OK;
        nlattr* tb[IFA_MAX + 1] = {};
        if (nlmsg_parse(hdr, sizeof(*ifa), tb, IFA_MAX, nullptr) < 0) return NL_OK;
        // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point.
        nlattr* a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        if (!a || nla_len(a) < AddrLen(ifa->ifa_family)) return NL_OK;
        out.push_back(
            Address{link_index, FormatCidr(ifa->ifa_family, nla_data(a), ifa->ifa_prefixlen)});
        return NL_OK;
      });
  if (err < 0) return s.Error(err, absl::StrCat("list addresses of link #", link_index));
  return out;
}

absl::Status ChangeAddress(NlSocket& s, bool add, int link_index, const std::string& cidr) {
  const std::string what =
      absl::StrCat(add ? "add" : "delete", " address ", cidr, " on link #", link_index);
  auto c = api::IpPrefix::Parse(cidr);
  if (!c.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", c.status().message()));
  rtnl_addr* addr = rtnl_addr_alloc();
  if (!addr) return absl::ResourceExhaustedError(what + ": out of memory");
  const api::IpAddress& ip = c->address();
  nl_addr* local = nl_addr_build(Family(ip), ip.bytes().data(), ip.bytes().size());
  int err = local ? 0 : -NLE_NOMEM;
  if (err == 0) {
    nl_addr_set_prefixlen(local, c->length());
    rtnl_addr_set_ifindex(addr, link_index);
    err = rtnl_addr_set_local(addr, local);
    rtnl_addr_set_prefixlen(addr, c->length());
  }
  if (err == 0 && add && ip.is_v4() && c->length() < 31) {
    // Like `ip addr add ... brd +` and the CNI plugins: the subnet broadcast address, the
    // last one of the prefix.
    const api::IpAddress brd = *c->Host((uint64_t{1} << (32 - c->length())) - 1);
    nl_addr* b = nl_addr_build(AF_INET, brd.bytes().data(), brd.bytes().size());
    if (b) {
      err = rtnl_addr_set_broadcast(addr, b);
      nl_addr_put(b);
    }
  }
  // No duplicate address detection on addresses k6t assigns in a namespace it owns: the
  // guest must be able to use the gateway at once, not after DAD finishes.
  if (err == 0 && add && ip.is_v6()) rtnl_addr_set_flags(addr, IFA_F_NODAD);
  nl_msg* msg = nullptr;
  if (err == 0)
    err = add ? rtnl_addr_build_add_request(addr, NLM_F_CREATE | NLM_F_EXCL, &msg)
              : rtnl_addr_build_delete_request(addr, 0, &msg);
  if (local) nl_addr_put(local);
  rtnl_addr_put(addr);
  if (err == 0) err = s.Request(msg);
  if (err >= 0) return absl::OkStatus();
  int e = s.last_errno();
  if (!add && (e == EADDRNOTAVAIL || e == ENODEV)) return absl::OkStatus();
  return s.Error(err, what);
}

absl::StatusOr<std::vector<RouteEntry>> ListRoutes(NlSocket& s) {
  std::vector<RouteEntry> out;
  int err = s.Dump(
      [&]() -> nl_msg* {
        out.clear();
        nl_msg* msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);
        if (!msg) return nullptr;
        rtmsg rtm = {};
        rtm.rtm_table = RT_TABLE_MAIN;  // filtered by the kernel
        if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0) {
          nlmsg_free(msg);
          return nullptr;
        }
        return msg;
      },
      [&](nlmsghdr* hdr) {
        ParseRoute(hdr, out);
        return NL_OK;
      });
  if (err < 0) return s.Error(err, "list routes");
  return out;
}

absl::Status AddRoute(NlSocket& s, const RouteEntry& route) {
  const std::string what = absl::StrCat("add route ", route.destination,
                                        route.gateway.empty() ? "" : " via " + route.gateway,
                                        " dev #", route.link_index);
  auto dst = api::IpPrefix::Parse(route.destination);
  if (!dst.ok())
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", dst.status().message()));
  std::optional<api::IpAddress> gw;
  if (!route.gateway.empty()) {
    auto g = api::IpAddress::Parse(route.gateway);
    if (!g.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", g.status().message()));
    if (g->family() != dst->family())
      return absl::InvalidArgumentError(what + ": gateway and destination families differ");
    gw = *g;
  }
  nl_msg* msg = nlmsg_alloc_simple(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  if (!msg) return absl::ResourceExhaustedError(what + ": out of memory");
  rtmsg rtm = {};
  rtm.rtm_family = static_cast<uint8_t>(Family(dst->address()));
  rtm.rtm_dst_len = static_cast<uint8_t>(dst->length());
  rtm.rtm_table = RT_TABLE_MAIN;
  rtm.rtm_protocol = RTPROT_BOOT;
  rtm.rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rtm.rtm_type = RTN_UNICAST;
  bool ok =
      nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) == 0 &&
      (dst->length() == 0 || nla_put(msg, RTA_DST, static_cast<int>(dst->address().bytes().size()),
                                     dst->address().bytes().data()) == 0) &&
      (!gw ||
       nla_put(msg, RTA_GATEWAY, static_cast<int>(gw->bytes().size()), gw->bytes().data()) == 0) &&
      nla_put_u32(msg, RTA_OIF, static_cast<uint32_t>(route.link_index)) == 0;
  if (!ok) {
    nlmsg_free(msg);
    return absl::ResourceExhaustedError(what + ": out of memory");
  }
  int err = s.Request(msg);
  if (err >= 0) return absl::OkStatus();
  absl::Status st = s.Error(err, what);
  if (s.last_errno() != EEXIST) return st;
  // The kernel says "exists" for any route to that destination; only the same one is ours.
  auto routes = ListRoutes(s);
  if (!routes.ok()) return st;
  std::string want_dst = dst->ToString();
  std::string want_gw = gw ? gw->ToString() : "";
  for (const auto& r : *routes)
    if (r.link_index == route.link_index && r.destination == want_dst && r.gateway == want_gw)
      return absl::OkStatus();
  return st;
}

}  // namespace k6t::binding::kernel
