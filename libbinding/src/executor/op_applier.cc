#include "executor/op_applier.h"

#include <algorithm>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

template <typename T>
constexpr bool kIsAttribute = std::is_same_v<T, SetLinkMac> || std::is_same_v<T, SetLinkMtu> ||
                              std::is_same_v<T, SetLinkMaster> || std::is_same_v<T, SetLinkUp> ||
                              std::is_same_v<T, SetPortLearning>;

std::string KindOf(const Link& l) { return l.kind.empty() ? "device" : l.kind; }

// Stable across processes (unlike std::hash): marks an nftables table with the plan that
// produced it, so re-applying an unchanged table is skipped and its counters survive.
std::string Fingerprint(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("%016x", h);
}

std::string NftComment(const NftTable& t) {
  return absl::StrCat("k6t-", Fingerprint(t.family + t.name + t.body));
}

// `nft list table` prints "table F N {\n<body>\n}"; the body is what ReplaceTable takes.
std::string TableBody(const std::string& listing) {
  size_t open = listing.find('{');
  size_t close = listing.rfind('}');
  if (open == std::string::npos || close == std::string::npos || close <= open) return listing;
  return listing.substr(open + 1, close - open - 1);
}

// "set link x-nic name=pod1 mac=0a:58:.. master=#0 down", the undo of a link change.
std::string DescribeChange(const std::string& link, const LinkChange& c) {
  std::vector<std::string> parts;
  if (c.name) parts.push_back(absl::StrCat("name=", *c.name));
  if (c.mac) parts.push_back(absl::StrCat("mac=", *c.mac));
  if (c.mtu) parts.push_back(absl::StrCat("mtu=", *c.mtu));
  if (c.master_index)
    parts.push_back(*c.master_index ? absl::StrCat("master=#", *c.master_index)
                                    : std::string("nomaster"));
  if (c.up) parts.push_back(*c.up ? "up" : "down");
  if (c.learning) parts.push_back(*c.learning ? "learning=on" : "learning=off");
  return absl::StrCat("set link ", link, " ", absl::StrJoin(parts, " "));
}

}  // namespace

const std::string* AttributeLink(const Operation& op) {
  return std::visit(
      [](const auto& o) -> const std::string* {
        if constexpr (kIsAttribute<std::decay_t<decltype(o)>>) return &o.link;
        return nullptr;
      },
      op);
}

const std::string* RunLink(const Operation& op) {
  if (const auto* r = std::get_if<RenameLink>(&op)) return &r->to;
  return AttributeLink(op);
}

absl::Status OpApplier::Apply(std::span<const Operation> ops, std::vector<char>& changed) {
  if (RunLink(ops[0])) {
    const auto* rename = std::get_if<RenameLink>(&ops[0]);
    absl::StatusOr<Link> cur = rename ? RenameSubject(*rename) : Must(*AttributeLink(ops[0]));
    if (!cur.ok()) return cur.status();
    return ChangeAttributes(*cur, ops, changed);
  }
  changed_ = false;
  absl::Status st = std::visit(
      [this](const auto& o) -> absl::Status {
        if constexpr (kIsAttribute<std::decay_t<decltype(o)>> ||
                      std::is_same_v<std::decay_t<decltype(o)>, RenameLink>)
          return absl::InternalError("unreachable: a link run");
        else
          return Do(o);
      },
      ops[0]);
  changed[0] = changed_;
  return st;
}

absl::Status OpApplier::ChangeAttributes(const Link& cur, std::span<const Operation> ops,
                                         std::vector<char>& changed) {
  LinkChange c, undo;
  int master = cur.master_index;
  bool up = cur.admin_up;
  bool learning = cur.learning;
  for (size_t k = 0; k < ops.size(); ++k) {
    const Operation& op = ops[k];
    bool diff = false;
    if (const auto* o = std::get_if<RenameLink>(&op)) {
      if ((diff = cur.name != o->to)) {
        c.name = o->to;
        undo.name = cur.name;
      }
    } else if (const auto* o = std::get_if<SetLinkMac>(&op)) {
      if ((diff = !o->mac.empty() && c.mac.value_or(cur.mac) != o->mac)) {
        c.mac = o->mac;
        undo.mac = cur.mac;
      }
    } else if (const auto* o = std::get_if<SetLinkMtu>(&op)) {
      if ((diff = o->mtu > 0 && c.mtu.value_or(cur.mtu) != o->mtu)) {
        c.mtu = o->mtu;
        undo.mtu = cur.mtu;
      }
    } else if (const auto* o = std::get_if<SetLinkMaster>(&op)) {
      auto m = Must(o->master);
      if (!m.ok()) return m.status();
      if ((diff = master != m->index)) {
        c.master_index = master = m->index;
        undo.master_index = cur.master_index;
        learning = true;  // a new port starts with learning on
      }
    } else if (const auto* o = std::get_if<SetLinkUp>(&op)) {
      if ((diff = up != o->up)) {
        c.up = up = o->up;
        undo.up = cur.admin_up;
      }
    } else if (const auto* o = std::get_if<SetPortLearning>(&op)) {
      if ((diff = learning != o->learning)) {
        c.learning = learning = o->learning;
        // Released from a new master, the link gets its learning flag back by itself.
        if (!undo.master_index) undo.learning = cur.learning;
      }
    }
    changed[k] = diff;
  }
  if (std::none_of(changed.begin(), changed.end(), [](char x) { return x; }))
    return absl::OkStatus();
  if (auto st = k_.netlink->ChangeKnownLink(cur, c); !st.ok()) return st;
  const std::string now = c.name.value_or(cur.name);
  Changed(DescribeChange(now, undo),
          [this, now, undo] { return k_.netlink->ChangeLink(now, undo); });
  return absl::OkStatus();
}

absl::Status OpApplier::Correct(const Link& cur, std::span<const Operation> ops) {
  std::vector<char> changed(ops.size(), 0);
  return ChangeAttributes(cur, ops, changed);
}

// Links are created first and looked at only when the kernel says the name is taken: a
// fresh apply needs no lookup, a repeated one finds out with one request more.
absl::Status OpApplier::Do(const CreateBridge& o) {
  auto l = CreateOrGet(o.name, "bridge", o.mac, o.mtu);
  if (!l.ok() || !*l) return l.status();
  if ((*l)->kind != "bridge")
    return absl::FailedPreconditionError(
        absl::StrCat(o.name, " exists and is a ", KindOf(**l), ", not a bridge"));
  const Operation fix[] = {SetLinkMac{o.name, o.mac}, SetLinkMtu{o.name, o.mtu}};
  return Correct(**l, fix);
}

absl::Status OpApplier::Do(const CreateTap& o) {
  auto l = k_.netlink->GetLink(o.name);
  if (!l.ok()) return l.status();
  if (*l && (*l)->kind != "tun")
    return absl::FailedPreconditionError(
        absl::StrCat(o.name, " exists and is a ", KindOf(**l), ", not a tap"));
  if (auto st = k_.tun->CreateTap(TapSpec{o.name, o.owner, o.group, o.queues, o.mtu}); !st.ok())
    return st;
  if (!*l) {
    Changed(absl::StrCat("delete tap ", o.name),
            [this, name = o.name] { return k_.netlink->DeleteLink(name); });
    return absl::OkStatus();
  }
  const Operation fix[] = {SetLinkMtu{o.name, o.mtu}};
  return Correct(**l, fix);
}

absl::Status OpApplier::Do(const CreatePlaceholder& o) {
  const char* kind = o.kind == PlaceholderKind::kDummy ? "dummy" : "ifb";
  auto l = CreateOrGet(o.name, kind, o.mac, o.mtu);
  if (!l.ok() || !*l) return l.status();
  if ((*l)->kind != kind)
    return absl::FailedPreconditionError(absl::StrCat(
        o.name, " exists and is a ", KindOf(**l), ", not the ", kind,
        " placeholder: the CNI link still has its name (was the rename undone by hand?)"));
  const Operation fix[] = {SetLinkMac{o.name, o.mac}, SetLinkMtu{o.name, o.mtu},
                           SetLinkUp{o.name, false}};
  return Correct(**l, fix);
}

// Added first; listed only when the kernel says it exists (it also says so for the same
// IPv6 address with another prefix length, which stays an error).
absl::Status OpApplier::Do(const AddAddress& o) {
  auto l = Must(o.link);
  if (!l.ok()) return l.status();
  absl::Status st = k_.netlink->AddAddress(l->index, o.cidr);
  if (st.ok()) {
    Changed(
        absl::StrCat("delete address ", o.cidr, " of ", o.link),
        [this, index = l->index, cidr = o.cidr] { return k_.netlink->DeleteAddress(index, cidr); });
    return st;
  }
  if (st.code() != absl::StatusCode::kAlreadyExists) return st;
  auto addrs = k_.netlink->ListAddresses(l->index);
  if (!addrs.ok()) return addrs.status();
  for (const auto& a : *addrs)
    if (a.cidr == o.cidr) return absl::OkStatus();
  return st;
}

absl::Status OpApplier::Do(const FlushAddresses& o) {
  absl::StatusOr<std::optional<Link>> l =
      o.index > 0 ? k_.netlink->GetLinkByIndex(o.index) : k_.netlink->GetLink(o.link);
  if (!l.ok()) return l.status();
  if (!*l) return absl::NotFoundError(absl::StrCat("no link ", o.link));
  const int index = (*l)->index;
  const std::string name = (*l)->name;
  auto listed = k_.netlink->ListAddresses(index);
  if (!listed.ok()) return listed.status();
  // IPv6 link-local addresses stay unless asked: the kernel regenerates them whenever the
  // link comes up, and they carry nothing the CNI gave.
  std::vector<Address> addrs;
  for (auto& a : *listed)
    if (o.link_local || a.cidr.rfind("fe80:", 0) != 0) addrs.push_back(std::move(a));
  if (addrs.empty()) return absl::OkStatus();
  auto routes = k_.netlink->ListRoutes();
  if (!routes.ok()) return routes.status();
  std::vector<RouteEntry> mine;
  for (const auto& r : *routes)
    if (r.link_index == index) mine.push_back(r);
  // Undo re-adds the addresses, then the routes the kernel dropped with them.
  Changed(absl::StrCat("add back the ", mine.size(), " route(s) of ", name), [this, mine] {
    for (const auto& r : mine)
      if (auto st = k_.netlink->AddRoute(r); !st.ok()) return st;
    return absl::OkStatus();
  });
  for (const auto& a : addrs) {
    if (auto st = k_.netlink->DeleteAddress(index, a.cidr); !st.ok()) return st;
    Changed(absl::StrCat("add back address ", a.cidr, " of ", name),
            [this, index, cidr = a.cidr] { return k_.netlink->AddAddress(index, cidr); });
  }
  return absl::OkStatus();
}

absl::Status OpApplier::Do(const AddRoute& o) {
  auto l = Must(o.link);
  if (!l.ok()) return l.status();
  RouteEntry r;
  r.link_index = l->index;
  r.destination = o.destination;
  r.gateway = o.gateway;
  r.ipv6 = o.destination.find(':') != std::string::npos;
  auto routes = k_.netlink->ListRoutes();
  if (!routes.ok()) return routes.status();
  for (const auto& e : *routes)
    if (e.link_index == r.link_index && e.destination == r.destination && e.gateway == r.gateway)
      return absl::OkStatus();
  if (auto st = k_.netlink->AddRoute(r); !st.ok()) return st;
  changed_ = true;  // only used by teardown, which does not roll back
  return absl::OkStatus();
}

absl::Status OpApplier::Do(const SetSysctl& o) {
  auto old = k_.sysctl->Read(o.key);
  if (!old.ok()) return old.status();
  if (*old == o.value) return absl::OkStatus();
  if (auto st = k_.sysctl->Write(o.key, o.value); !st.ok()) return st;
  Changed(absl::StrCat("write back ", o.key, "=", *old),
          [this, key = o.key, v = *old] { return k_.sysctl->Write(key, v); });
  return absl::OkStatus();
}

absl::Status OpApplier::Do(const NftTable& o) {
  auto old = k_.nft->ListTable(o.family, o.name);
  if (!old.ok()) return old.status();
  const std::string comment = NftComment(o);
  if (*old && (*old)->find(comment) != std::string::npos) return absl::OkStatus();
  std::string body = absl::StrCat("\tcomment \"", comment, "\"\n", o.body);
  if (auto st = k_.nft->ReplaceTable(o.family, o.name, body); !st.ok()) return st;
  Changed(absl::StrCat(*old ? "restore" : "delete", " nftables table ", o.family, " ", o.name),
          [this, o, old = *old]() -> absl::Status {
            if (!old) return k_.nft->DeleteTable(o.family, o.name);
            return k_.nft->ReplaceTable(o.family, o.name, TableBody(*old));
          });
  return absl::OkStatus();
}

absl::Status OpApplier::Do(const DeleteLink& o) {
  auto l = k_.netlink->GetLink(o.name);
  if (!l.ok()) return l.status();
  if (!*l) return absl::OkStatus();
  if ((*l)->kind != o.kind) {
    spdlog::warn("teardown: not deleting {}: it is a {}, k6t created a {}", o.name, KindOf(**l),
                 o.kind);
    return absl::OkStatus();
  }
  changed_ = true;
  return k_.netlink->DeleteLink(o.name);
}

absl::Status OpApplier::Do(const DeleteNftTable& o) {
  auto old = k_.nft->ListTable(o.family, o.name);
  if (!old.ok()) return old.status();
  if (!*old) return absl::OkStatus();
  changed_ = true;
  return k_.nft->DeleteTable(o.family, o.name);
}

void OpApplier::Changed(std::string what, std::function<absl::Status()> undo) {
  changed_ = true;
  undo_.push_back(UndoStep{std::move(what), std::move(undo)});
}

absl::StatusOr<Link> OpApplier::Must(const std::string& name) {
  auto l = k_.netlink->GetLink(name);
  if (!l.ok()) return l.status();
  if (!*l) return absl::NotFoundError(absl::StrCat("no link ", name));
  return **l;
}

// The link a RenameLink acts on, whatever it is called now: by ifindex when the plan knows
// it, else by either name.
absl::StatusOr<Link> OpApplier::RenameSubject(const RenameLink& o) {
  if (o.index > 0) {
    auto l = k_.netlink->GetLinkByIndex(o.index);
    if (!l.ok()) return l.status();
    if (*l) {
      if ((*l)->name != o.to && (*l)->name != o.from)
        return absl::FailedPreconditionError(absl::StrCat(
            "link #", o.index, " is now called ", (*l)->name, ", expected ", o.from, " or ", o.to));
      return **l;
    }
  }
  auto from = k_.netlink->GetLink(o.from);
  if (!from.ok()) return from.status();
  auto to = k_.netlink->GetLink(o.to);
  if (!to.ok()) return to.status();
  if (*from) {
    if (*to)
      return absl::AlreadyExistsError(
          absl::StrCat("cannot rename ", o.from, " to ", o.to, ": ", o.to, " exists"));
    return **from;
  }
  if (*to) return **to;
  return absl::NotFoundError(absl::StrCat("neither ", o.from, " nor ", o.to, " exists"));
}

// Creates the link (undo: delete it) and returns nullopt; when the name is taken, returns
// the link that has it.
absl::StatusOr<std::optional<Link>> OpApplier::CreateOrGet(const std::string& name,
                                                           const std::string& kind,
                                                           const std::string& mac, int mtu) {
  absl::Status st = k_.netlink->CreateLink(name, kind, mac, mtu);
  if (st.ok()) {
    Changed(absl::StrCat("delete ", kind, " ", name),
            [this, name] { return k_.netlink->DeleteLink(name); });
    return std::optional<Link>();
  }
  if (st.code() != absl::StatusCode::kAlreadyExists) return st;
  auto l = k_.netlink->GetLink(name);
  if (!l.ok()) return l.status();
  if (!*l) return st;  // gone again: report the kernel's refusal
  return l;
}

}  // namespace k6t::binding
