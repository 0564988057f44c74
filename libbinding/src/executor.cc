#include "k6t/binding/executor.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <type_traits>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "k6t/api/hash.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

using Undo = std::function<absl::Status()>;

// Stable across processes (unlike std::hash): marks an nftables table with the plan that
// produced it, so re-applying an unchanged table is skipped and its counters survive.
std::string Fingerprint(const std::string& s) {
  return absl::StrFormat("%016x", api::Fnv1a64(s, api::kFnv1a64K6tSeed));
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

absl::Status Annotate(const absl::Status& st, const std::string& what) {
  if (st.ok()) return st;
  return absl::Status(st.code(), absl::StrCat(what, ": ", st.message()));
}

// The link a rename/MAC/MTU/master/up/learning operation sets an attribute of; nullptr for
// any other operation (RenameLink too: it names the link before and after).
const std::string* AttributeLink(const Operation& op) {
  return std::visit(
      [](const auto& o) -> const std::string* {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, SetLinkMac> || std::is_same_v<T, SetLinkMtu> ||
                      std::is_same_v<T, SetLinkMaster> || std::is_same_v<T, SetLinkUp> ||
                      std::is_same_v<T, SetPortLearning>)
          return &o.link;
        return nullptr;
      },
      op);
}

// One past the last operation of the run that starts at `i` and that the executor applies as
// one link change: a rename or attribute operation followed by attribute operations on the
// same link (the bridge binding's "rename, MAC, master, up, learning"). A run never spans a
// fault-injection point, so failing or crashing at operation N still finds 0..N-1 done.
size_t LinkRunEnd(const std::vector<Operation>& ops, size_t i, const ExecutorOptions& opt) {
  const auto* rename = std::get_if<RenameLink>(&ops[i]);
  const std::string* link = rename ? &rename->to : AttributeLink(ops[i]);
  if (!link) return i + 1;
  size_t j = i + 1;
  while (j < ops.size()) {
    const int n = static_cast<int>(j);
    const std::string* next = AttributeLink(ops[j]);
    if (n == opt.fail_at_op || n == opt.crash_after_ops || !next || *next != *link) break;
    ++j;
  }
  return j;
}

// Applies one operation; pushes the undo steps of whatever it changed onto `undo`.
class OpApplier {
 public:
  OpApplier(const Kernel& k, std::vector<Undo>& undo) : k_(k), undo_(undo) {}
  bool changed() const { return changed_; }

  // A run of operations on one link (LinkRunEnd) as one change: one lookup of the link and
  // of its master, one ChangeKnownLink (set down for a rename, one RTM_SETLINK, learning),
  // one undo step. `changed[k]` tells whether operation k had something to do.
  absl::Status Run(const Operation* ops, size_t count, std::vector<char>& changed) {
    const auto* rename = std::get_if<RenameLink>(&ops[0]);
    absl::StatusOr<Link> cur = rename ? RenameSubject(*rename) : Must(*AttributeLink(ops[0]));
    if (!cur.ok()) return cur.status();
    LinkChange c, undo;
    int master = cur->master_index;
    bool up = cur->admin_up;
    bool learning = cur->learning;
    for (size_t k = 0; k < count; ++k) {
      const Operation& op = ops[k];
      bool diff = false;
      if (const auto* o = std::get_if<RenameLink>(&op)) {
        if ((diff = cur->name != o->to)) {
          c.name = o->to;
          undo.name = cur->name;
        }
      } else if (const auto* o = std::get_if<SetLinkMac>(&op)) {
        if ((diff = !o->mac.empty() && c.mac.value_or(cur->mac) != o->mac)) {
          c.mac = o->mac;
          undo.mac = cur->mac;
        }
      } else if (const auto* o = std::get_if<SetLinkMtu>(&op)) {
        if ((diff = o->mtu > 0 && c.mtu.value_or(cur->mtu) != o->mtu)) {
          c.mtu = o->mtu;
          undo.mtu = cur->mtu;
        }
      } else if (const auto* o = std::get_if<SetLinkMaster>(&op)) {
        auto m = Must(o->master);
        if (!m.ok()) return m.status();
        if ((diff = master != m->index)) {
          c.master_index = master = m->index;
          undo.master_index = cur->master_index;
          learning = true;  // a new port starts with learning on
        }
      } else if (const auto* o = std::get_if<SetLinkUp>(&op)) {
        if ((diff = up != o->up)) {
          c.up = up = o->up;
          undo.up = cur->admin_up;
        }
      } else if (const auto* o = std::get_if<SetPortLearning>(&op)) {
        if ((diff = learning != o->learning)) {
          c.learning = learning = o->learning;
          // Released from a new master, the link gets its learning flag back by itself.
          if (!undo.master_index) undo.learning = cur->learning;
        }
      }
      changed[k] = diff;
    }
    if (std::none_of(changed.begin(), changed.end(), [](char x) { return x; }))
      return absl::OkStatus();
    if (auto st = k_.netlink->ChangeKnownLink(*cur, c); !st.ok()) return st;
    Changed([this, name = c.name.value_or(cur->name), undo] {
      return k_.netlink->ChangeLink(name, undo);
    });
    return absl::OkStatus();
  }

  // Links are created first and looked at only when the kernel says the name is taken: a
  // fresh apply needs no lookup, a repeated one finds out with one request more.
  absl::Status operator()(const CreateBridge& o) {
    auto l = CreateOrGet(o.name, "bridge", o.mac, o.mtu);
    if (!l.ok() || !*l) return l.status();
    if ((*l)->kind != "bridge")
      return absl::FailedPreconditionError(
          absl::StrCat(o.name, " exists and is a ", Kind(**l), ", not a bridge"));
    return EnsureMacMtu(**l, o.mac, o.mtu);
  }

  absl::Status operator()(const CreateTap& o) {
    auto l = Get(o.name);
    if (!l.ok()) return l.status();
    if (*l && (*l)->kind != "tun")
      return absl::FailedPreconditionError(
          absl::StrCat(o.name, " exists and is a ", Kind(**l), ", not a tap"));
    if (auto st = k_.tun->CreateTap(TapSpec{o.name, o.owner, o.group, o.queues, o.mtu}); !st.ok())
      return st;
    if (!*l) {
      Changed([this, name = o.name] { return k_.netlink->DeleteLink(name); });
      return absl::OkStatus();
    }
    return EnsureMacMtu(**l, "", o.mtu);
  }

  absl::Status operator()(const CreatePlaceholder& o) {
    const char* kind = o.kind == PlaceholderKind::kDummy ? "dummy" : "ifb";
    auto l = CreateOrGet(o.name, kind, o.mac, o.mtu);
    if (!l.ok() || !*l) return l.status();
    if ((*l)->kind != kind)
      return absl::FailedPreconditionError(absl::StrCat(
          o.name, " exists and is a ", Kind(**l), ", not the ", kind,
          " placeholder: the CNI link still has its name (was the rename undone by hand?)"));
    if (auto st = EnsureMacMtu(**l, o.mac, o.mtu); !st.ok()) return st;
    return EnsureUp(**l, false);
  }

  absl::Status operator()(const RenameLink& o) {
    auto l = RenameSubject(o);
    if (!l.ok()) return l.status();
    if (l->name == o.to) return absl::OkStatus();
    LinkChange c;
    c.name = o.to;
    if (auto st = k_.netlink->ChangeKnownLink(*l, c); !st.ok()) return st;
    Changed([this, from = o.from, to = o.to] {
      LinkChange r;
      r.name = from;
      return k_.netlink->ChangeLink(to, r);
    });
    return absl::OkStatus();
  }

  absl::Status operator()(const SetLinkMac& o) {
    auto l = Must(o.link);
    if (!l.ok()) return l.status();
    return EnsureMacMtu(*l, o.mac, 0);
  }

  absl::Status operator()(const SetLinkMtu& o) {
    auto l = Must(o.link);
    if (!l.ok()) return l.status();
    return EnsureMacMtu(*l, "", o.mtu);
  }

  absl::Status operator()(const SetLinkMaster& o) {
    auto l = Must(o.link);
    if (!l.ok()) return l.status();
    auto m = Must(o.master);
    if (!m.ok()) return m.status();
    if (l->master_index == m->index) return absl::OkStatus();
    LinkChange c;
    c.master_index = m->index;
    if (auto st = k_.netlink->ChangeKnownLink(*l, c); !st.ok()) return st;
    Changed([this, name = o.link, old = l->master_index] {
      LinkChange r;
      r.master_index = old;
      return k_.netlink->ChangeLink(name, r);
    });
    return absl::OkStatus();
  }

  absl::Status operator()(const SetLinkUp& o) {
    auto l = Must(o.link);
    if (!l.ok()) return l.status();
    return EnsureUp(*l, o.up);
  }

  absl::Status operator()(const SetPortLearning& o) {
    auto l = Must(o.link);
    if (!l.ok()) return l.status();
    if (l->learning == o.learning) return absl::OkStatus();
    LinkChange c;
    c.learning = o.learning;
    if (auto st = k_.netlink->ChangeKnownLink(*l, c); !st.ok()) return st;
    Changed([this, name = o.link, old = l->learning] {
      return k_.netlink->SetPortLearning(name, old);
    });
    return absl::OkStatus();
  }

  // Added first; listed only when the kernel says it exists (it also says so for the same
  // IPv6 address with another prefix length, which stays an error).
  absl::Status operator()(const AddAddress& o) {
    auto l = Must(o.link);
    if (!l.ok()) return l.status();
    absl::Status st = k_.netlink->AddAddress(l->index, o.cidr);
    if (st.ok()) {
      Changed([this, index = l->index, cidr = o.cidr] {
        return k_.netlink->DeleteAddress(index, cidr);
      });
      return st;
    }
    if (st.code() != absl::StatusCode::kAlreadyExists) return st;
    auto addrs = k_.netlink->ListAddresses(l->index);
    if (!addrs.ok()) return addrs.status();
    for (const auto& a : *addrs)
      if (a.cidr == o.cidr) return absl::OkStatus();
    return st;
  }

  absl::Status operator()(const FlushAddresses& o) {
    absl::StatusOr<std::optional<Link>> l =
        o.index > 0 ? k_.netlink->GetLinkByIndex(o.index) : k_.netlink->GetLink(o.link);
    if (!l.ok()) return l.status();
    if (!*l) return absl::NotFoundError(absl::StrCat("no link ", o.link));
    const int index = (*l)->index;
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
    Changed([this, mine] {
      for (const auto& r : mine)
        if (auto st = k_.netlink->AddRoute(r); !st.ok()) return st;
      return absl::OkStatus();
    });
    for (const auto& a : addrs) {
      if (auto st = k_.netlink->DeleteAddress(index, a.cidr); !st.ok()) return st;
      Changed([this, index, cidr = a.cidr] { return k_.netlink->AddAddress(index, cidr); });
    }
    return absl::OkStatus();
  }

  absl::Status operator()(const AddRoute& o) {
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

  absl::Status operator()(const SetSysctl& o) {
    auto old = k_.sysctl->Read(o.key);
    if (!old.ok()) return old.status();
    if (*old == o.value) return absl::OkStatus();
    if (auto st = k_.sysctl->Write(o.key, o.value); !st.ok()) return st;
    Changed([this, key = o.key, v = *old] { return k_.sysctl->Write(key, v); });
    return absl::OkStatus();
  }

  absl::Status operator()(const NftTable& o) {
    auto old = k_.nft->ListTable(o.family, o.name);
    if (!old.ok()) return old.status();
    const std::string comment = NftComment(o);
    if (*old && (*old)->find(comment) != std::string::npos) return absl::OkStatus();
    std::string body = absl::StrCat("\tcomment \"", comment, "\"\n", o.body);
    if (auto st = k_.nft->ReplaceTable(o.family, o.name, body); !st.ok()) return st;
    Changed([this, o, old = *old]() -> absl::Status {
      if (!old) return k_.nft->DeleteTable(o.family, o.name);
      return k_.nft->ReplaceTable(o.family, o.name, TableBody(*old));
    });
    return absl::OkStatus();
  }

  absl::Status operator()(const DeleteLink& o) {
    auto l = Get(o.name);
    if (!l.ok()) return l.status();
    if (!*l) return absl::OkStatus();
    if ((*l)->kind != o.kind) {
      spdlog::warn("teardown: not deleting {}: it is a {}, k6t created a {}", o.name, Kind(**l),
                   o.kind);
      return absl::OkStatus();
    }
    changed_ = true;
    return k_.netlink->DeleteLink(o.name);
  }

  absl::Status operator()(const DeleteNftTable& o) {
    auto old = k_.nft->ListTable(o.family, o.name);
    if (!old.ok()) return old.status();
    if (!*old) return absl::OkStatus();
    changed_ = true;
    return k_.nft->DeleteTable(o.family, o.name);
  }

 private:
  static std::string Kind(const Link& l) { return l.kind.empty() ? "device" : l.kind; }

  void Changed(Undo u) {
    changed_ = true;
    undo_.push_back(std::move(u));
  }

  absl::StatusOr<std::optional<Link>> Get(const std::string& name) {
    return k_.netlink->GetLink(name);
  }

  absl::StatusOr<Link> Must(const std::string& name) {
    auto l = Get(name);
    if (!l.ok()) return l.status();
    if (!*l) return absl::NotFoundError(absl::StrCat("no link ", name));
    return **l;
  }

  // The link a RenameLink acts on, whatever it is called now: by ifindex when the plan knows
  // it, else by either name.
  absl::StatusOr<Link> RenameSubject(const RenameLink& o) {
    if (o.index > 0) {
      auto l = k_.netlink->GetLinkByIndex(o.index);
      if (!l.ok()) return l.status();
      if (*l) {
        if ((*l)->name != o.to && (*l)->name != o.from)
          return absl::FailedPreconditionError(absl::StrCat("link #", o.index, " is now called ",
                                                            (*l)->name, ", expected ", o.from,
                                                            " or ", o.to));
        return **l;
      }
    }
    auto from = Get(o.from);
    if (!from.ok()) return from.status();
    auto to = Get(o.to);
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
  absl::StatusOr<std::optional<Link>> CreateOrGet(const std::string& name, const std::string& kind,
                                                  const std::string& mac, int mtu) {
    absl::Status st = k_.netlink->CreateLink(name, kind, mac, mtu);
    if (st.ok()) {
      Changed([this, name] { return k_.netlink->DeleteLink(name); });
      return std::optional<Link>();
    }
    if (st.code() != absl::StatusCode::kAlreadyExists) return st;
    auto l = Get(name);
    if (!l.ok()) return l.status();
    if (!*l) return st;  // gone again: report the kernel's refusal
    return l;
  }

  absl::Status EnsureMacMtu(const Link& l, const std::string& mac, int mtu) {
    LinkChange c, undo;
    if (!mac.empty() && l.mac != mac) {
      c.mac = mac;
      undo.mac = l.mac;
    }
    if (mtu > 0 && l.mtu != mtu) {
      c.mtu = mtu;
      undo.mtu = l.mtu;
    }
    if (!c.mac && !c.mtu) return absl::OkStatus();
    if (auto st = k_.netlink->ChangeKnownLink(l, c); !st.ok()) return st;
    Changed([this, name = l.name, undo] { return k_.netlink->ChangeLink(name, undo); });
    return absl::OkStatus();
  }

  absl::Status EnsureUp(const Link& l, bool up) {
    if (l.admin_up == up) return absl::OkStatus();
    LinkChange c;
    c.up = up;
    if (auto st = k_.netlink->ChangeKnownLink(l, c); !st.ok()) return st;
    Changed([this, name = l.name, old = l.admin_up] {
      LinkChange r;
      r.up = old;
      return k_.netlink->ChangeLink(name, r);
    });
    return absl::OkStatus();
  }

  const Kernel& k_;
  std::vector<Undo>& undo_;
  bool changed_ = false;
};

int EnvInt(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return (end && *end == '\0' && n >= 0 && n < (1 << 20)) ? static_cast<int>(n) : -1;
}

}  // namespace

Executor::Executor(Kernel kernel, ExecutorOptions options) : kernel_(kernel), options_(options) {}

ExecutorOptions Executor::OptionsFromEnvironment() {
  ExecutorOptions o;
  o.fail_at_op = EnvInt("K6T_FAULT_FAIL_AT_OP");
  o.crash_after_ops = EnvInt("K6T_FAULT_CRASH_AFTER_OPS");
  return o;
}

absl::StatusOr<ApplyReport> Executor::Apply(const std::vector<Operation>& ops, ApplyMode mode) {
  const absl::Time start = absl::Now();
  ApplyReport report;
  std::vector<Undo> undo;
  absl::Status first_error;
  for (size_t i = 0; i < ops.size();) {
    const int n = static_cast<int>(i);
    if (n == options_.crash_after_ops) {
      spdlog::warn("fault injection: SIGKILL after {} operations", n);
      ::raise(SIGKILL);
    }
    // Teardown keeps every step on its own: one that fails must not hold back the others.
    const size_t end = mode == ApplyMode::kTransactional && n != options_.fail_at_op
                           ? LinkRunEnd(ops, i, options_)
                           : i + 1;
    OpApplier applier(kernel_, undo);
    std::vector<char> changed(end - i, 0);
    absl::Status st;
    if (n == options_.fail_at_op) {
      st = absl::InternalError("fault injection (K6T_FAULT_FAIL_AT_OP)");
    } else if (end - i > 1) {
      st = applier.Run(&ops[i], end - i, changed);
    } else {
      st = std::visit(applier, ops[i]);
      changed[0] = applier.changed();
    }
    std::string what;
    for (size_t k = i; k < end; ++k) {
      const std::string d = Describe(ops[k]);
      absl::StrAppend(&what, k > i ? "; " : "", d);
      ++report.operations;
      if (changed[k - i]) {
        ++report.changed;
        report.changes.push_back(d);
      }
      spdlog::debug("op {} {}: {}{}", k, d, st.ok() ? "ok" : st.ToString(),
                    changed[k - i] ? " (changed)" : "");
    }
    const std::string where =
        end - i > 1 ? absl::StrCat("operation ", n, "..", end - 1) : absl::StrCat("operation ", n);
    i = end;
    if (st.ok()) continue;
    st = Annotate(st, absl::StrCat(where, " (", what, ")"));
    if (mode == ApplyMode::kBestEffort) {
      spdlog::warn("{}", std::string(st.message()));
      if (first_error.ok()) first_error = st;
      continue;
    }
    spdlog::warn("{}; rolling back {} change(s)", std::string(st.message()), undo.size());
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      if (auto u = (*it)(); !u.ok()) spdlog::error("rollback step failed: {}", u.ToString());
    }
    return st;
  }
  if (options_.crash_after_ops >= 0 &&
      static_cast<size_t>(options_.crash_after_ops) == ops.size()) {
    ::raise(SIGKILL);
  }
  report.elapsed = absl::Now() - start;
  if (!first_error.ok()) return first_error;
  return report;
}

}  // namespace k6t::binding
