#include "kernel/link_query.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>

#include "absl/strings/str_cat.h"
#include "k6t/api/net.h"

namespace k6t::binding::kernel {
namespace {

void ParseTunData(nlattr* data, TunDetails& tun) {
  nlattr* tb[IFLA_TUN_MAX + 1] = {};
  if (nla_parse_nested(tb, IFLA_TUN_MAX, data, nullptr) < 0) return;
  if (tb[IFLA_TUN_TYPE]) tun.tap = nla_get_u8(tb[IFLA_TUN_TYPE]) == IFF_TAP;
  if (tb[IFLA_TUN_OWNER]) tun.owner = nla_get_u32(tb[IFLA_TUN_OWNER]);
  if (tb[IFLA_TUN_GROUP]) tun.group = nla_get_u32(tb[IFLA_TUN_GROUP]);
  if (tb[IFLA_TUN_MULTI_QUEUE]) tun.multi_queue = nla_get_u8(tb[IFLA_TUN_MULTI_QUEUE]) != 0;
  if (tb[IFLA_TUN_PERSIST]) tun.persist = nla_get_u8(tb[IFLA_TUN_PERSIST]) != 0;
}

void ParseLinkInfo(nlattr* info, LinkDetails& out) {
  nlattr* tb[IFLA_INFO_MAX + 1] = {};
  if (nla_parse_nested(tb, IFLA_INFO_MAX, info, nullptr) < 0) return;
  if (tb[IFLA_INFO_KIND]) out.link.kind = nla_get_string(tb[IFLA_INFO_KIND]);
  if (out.link.kind == "tun") {
    out.tun.emplace();
    if (tb[IFLA_INFO_DATA]) ParseTunData(tb[IFLA_INFO_DATA], *out.tun);
  }
  // Bridge-port flags ride along in every RTM_NEWLINK of a port, so reading `learning`
  // costs no extra AF_BRIDGE request.
  if (tb[IFLA_INFO_SLAVE_KIND] && tb[IFLA_INFO_SLAVE_DATA] &&
      std::string(nla_get_string(tb[IFLA_INFO_SLAVE_KIND])) == "bridge") {
    nlattr* port[IFLA_BRPORT_MAX + 1] = {};
    if (nla_parse_nested(port, IFLA_BRPORT_MAX, tb[IFLA_INFO_SLAVE_DATA], nullptr) == 0 &&
        port[IFLA_BRPORT_LEARNING])
      out.link.learning = nla_get_u8(port[IFLA_BRPORT_LEARNING]) != 0;
  }
}

nl_msg* GetLinkRequest(int flags, const std::string& name, int index) {
  nl_msg* msg = nlmsg_alloc_simple(RTM_GETLINK, flags);
  if (!msg) return nullptr;
  ifinfomsg ifi = {};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
      (!name.empty() && nla_put_string(msg, IFLA_IFNAME, name.c_str()) < 0) ||
      nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
    nlmsg_free(msg);
    return nullptr;
  }
  return msg;
}

}  // namespace

bool ValidLinkName(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f) return false;
  return true;
}

std::optional<LinkDetails> ParseLink(nlmsghdr* hdr) {
  if (hdr->nlmsg_type != RTM_NEWLINK) return std::nullopt;
  nlattr* tb[IFLA_MAX + 1] = {};
  if (nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0) return std::nullopt;
  auto* ifi = static_cast<ifinfomsg*>(nlmsg_data(hdr));
  LinkDetails out;
  Link& l = out.link;
  l.index = ifi->ifi_index;
  if (tb[IFLA_IFNAME]) l.name = nla_get_string(tb[IFLA_IFNAME]);
  if (tb[IFLA_ADDRESS])
    l.mac = api::FormatHardwareAddress({static_cast<const uint8_t*>(nla_data(tb[IFLA_ADDRESS])),
                                        static_cast<size_t>(nla_len(tb[IFLA_ADDRESS]))});
  if (tb[IFLA_MTU]) l.mtu = static_cast<int>(nla_get_u32(tb[IFLA_MTU]));
  if (tb[IFLA_MASTER]) l.master_index = static_cast<int>(nla_get_u32(tb[IFLA_MASTER]));
  l.admin_up = (ifi->ifi_flags & IFF_UP) != 0;
  uint8_t oper =
      tb[IFLA_OPERSTATE] ? nla_get_u8(tb[IFLA_OPERSTATE]) : static_cast<uint8_t>(IF_OPER_UNKNOWN);
  bool carrier =
      tb[IFLA_CARRIER] ? nla_get_u8(tb[IFLA_CARRIER]) != 0 : (ifi->ifi_flags & IFF_LOWER_UP) != 0;
  l.oper_up = l.admin_up && (oper == IF_OPER_UP || (oper == IF_OPER_UNKNOWN && carrier));
  if (tb[IFLA_LINKINFO]) ParseLinkInfo(tb[IFLA_LINKINFO], out);
  return out;
}

absl::StatusOr<std::optional<LinkDetails>> QueryLink(NlSocket& sock, const std::string& name,
                                                     int index) {
  std::string what = name.empty() ? absl::StrCat("get link #", index) : "get link " + name;
  if (!name.empty() && !ValidLinkName(name))
    return absl::InvalidArgumentError(absl::StrCat(what, ": invalid interface name"));
  if (name.empty() && index <= 0) return std::optional<LinkDetails>();
  nl_msg* msg = GetLinkRequest(0, name, name.empty() ? index : 0);
  if (!msg) return absl::ResourceExhaustedError(what + ": out of memory");
  std::optional<LinkDetails> out;
  int err = sock.Request(msg, [&](nlmsghdr* hdr) {
    if (auto l = ParseLink(hdr)) out = std::move(*l);
    return NL_OK;
  });
  if (err < 0) {
    int e = sock.last_errno();
    if (e == ENODEV || e == ENOENT) return std::optional<LinkDetails>();
    return sock.Error(err, what);
  }
  return out;
}

absl::StatusOr<std::vector<LinkDetails>> DumpLinks(NlSocket& sock) {
  std::vector<LinkDetails> out;
  int err = sock.Dump(
      [&] {
        out.clear();
        return GetLinkRequest(NLM_F_DUMP, "", 0);
      },
      [&](nlmsghdr* hdr) {
        if (auto l = ParseLink(hdr)) out.push_back(std::move(*l));
        return NL_OK;
      });
  if (err < 0) return sock.Error(err, "list links");
  return out;
}

}  // namespace k6t::binding::kernel
