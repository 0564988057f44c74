#include "k6t/binding/executor.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <functional>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

using Undo = std::function<absl::Status()>;

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

absl::Status Annotate(const absl::Status& st, const std::string& what) {
  if (st.ok()) return st;
  return absl::Status(st.code(), absl::StrCat(what, ": ", st.message()));
}

// Applies one operation; pushes the undo steps of whatever it changed onto `undo`.
class OpApplier {
 public:
  OpApplier(const Kernel& k, std::vector<Undo>& undo) : k_(k), undo_(undo) {}
  bool changed() const { return changed_; }

  absl::Status operator()(const CreateBridge& o) {
    auto l = Get(o.name);
    if (!l.ok()) return l.status();
    if (*l) {
      if ((*l)->kind != "bridge")
        return absl::FailedPreconditionError(
            absl::StrCat(o.name, " exists and is a ", Kind(**l), ", not a bridge"));
      return EnsureMacMtu(**l, o.mac, o.mtu);
    }
    if (auto st = k_.netlink->CreateLink(o.name, "bridge", o.mac, o.mtu); !st.ok()) return st;
    Changed([this, name = o.name] { return k_.netlink->DeleteLink(name); });
    return absl::OkStatus();
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
    auto l = Get(o.name);
    if (!l.ok()) return l.status();
    if (*l) {
      if ((*l)->kind != kind)
        return absl::FailedPreconditionError(absl::StrCat(
            o.name, " exists and is a ", Kind(**l), ", not the ", kind,
            " placeholder: the CNI link still has its name (was the rename undone by hand?)"));
      if (auto st = EnsureMacMtu(**l, o.mac, o.mtu); !st.ok()) return st;
      return EnsureUp(**l, false);
    }
    if (auto st = k_.netlink->CreateLink(o.name, kind, o.mac, o.mtu); !st.ok()) return st;
    Changed([this, name = o.name] { return k_.netlink->DeleteLink(name); });
    return absl::OkStatus();
  }

  absl::Status operator()(const RenameLink& o) {
    if (o.index > 0) {
      auto l = k_.netlink->GetLinkByIndex(o.index);
      if (!l.ok()) return l.status();
      if (*l) {
        if ((*l)->name == o.to) return absl::OkStatus();
        if ((*l)->name != o.from)
          return absl::FailedPreconditionError(absl::StrCat("link #", o.index, " is now called ",
                                                            (*l)->name, ", expected ", o.from,
                                                            " or ", o.to));
        return Rename(o.from, o.to);
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
      return Rename(o.from, o.to);
    }
    if (*to) return absl::OkStatus();
    return absl::NotFoundError(absl::StrCat("neither ", o.from, " nor ", o.to, " exists"));
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
    if (auto st = k_.netlink->ChangeLink(o.link, c); !st.ok()) return st;
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
    if (auto st = k_.netlink->SetPortLearning(o.link, o.learning); !st.ok()) return st;
    Changed([this, name = o.link, old = l->learning] {
      return k_.netlink->SetPortLearning(name, old);
    });
    return absl::OkStatus();
  }

  absl::Status operator()(const AddAddress& o) {
    auto l = Must(o.link);
    if (!l.ok()) return l.status();
    auto addrs = k_.netlink->ListAddresses(l->index);
    if (!addrs.ok()) return addrs.status();
    for (const auto& a : *addrs)
      if (a.cidr == o.cidr) return absl::OkStatus();
    if (auto st = k_.netlink->AddAddress(l->index, o.cidr); !st.ok()) return st;
    Changed(
        [this, index = l->index, cidr = o.cidr] { return k_.netlink->DeleteAddress(index, cidr); });
    return absl::OkStatus();
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

  absl::Status Rename(const std::string& from, const std::string& to) {
    LinkChange c;
    c.name = to;
    if (auto st = k_.netlink->ChangeLink(from, c); !st.ok()) return st;
    Changed([this, from, to] {
      LinkChange r;
      r.name = from;
      return k_.netlink->ChangeLink(to, r);
    });
    return absl::OkStatus();
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
    if (auto st = k_.netlink->ChangeLink(l.name, c); !st.ok()) return st;
    Changed([this, name = l.name, undo] { return k_.netlink->ChangeLink(name, undo); });
    return absl::OkStatus();
  }

  absl::Status EnsureUp(const Link& l, bool up) {
    if (l.admin_up == up) return absl::OkStatus();
    LinkChange c;
    c.up = up;
    if (auto st = k_.netlink->ChangeLink(l.name, c); !st.ok()) return st;
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
  for (size_t i = 0; i < ops.size(); ++i) {
    const int n = static_cast<int>(i);
    if (n == options_.crash_after_ops) {
      spdlog::warn("fault injection: SIGKILL after {} operations", n);
      ::raise(SIGKILL);
    }
    const std::string what = Describe(ops[i]);
    OpApplier applier(kernel_, undo);
    absl::Status st = n == options_.fail_at_op
                          ? absl::InternalError("fault injection (K6T_FAULT_FAIL_AT_OP)")
                          : std::visit(applier, ops[i]);
    ++report.operations;
    if (applier.changed()) {
      ++report.changed;
      report.changes.push_back(what);
    }
    spdlog::debug("op {} {}: {}{}", n, what, st.ok() ? "ok" : st.ToString(),
                  applier.changed() ? " (changed)" : "");
    if (st.ok()) continue;
    st = Annotate(st, absl::StrCat("operation ", n, " (", what, ")"));
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
