#include "k6t/binding/drift.h"

#include <algorithm>
#include <map>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace k6t::binding {
namespace {

class DriftFinder {
 public:
  DriftFinder(const InterfacePlan& plan, const PodState& pod, Nft& nft)
      : plan_(plan), pod_(pod), nft_(nft) {
    for (const auto& [name, l] : pod.links) by_index_[l.link.index] = name;
  }

  std::vector<Drift> Find() {
    if (!plan_.pod_interface.empty() && !pod_.Find(plan_.pod_interface))
      Add(DriftKind::kPodLinkMissing,
          absl::StrCat("pod interface ", plan_.pod_interface, " is missing"));
    for (const auto& op : plan_.ops) std::visit([this](const auto& o) { Check(o); }, op);
    return std::move(out_);
  }

 private:
  void Add(DriftKind kind, std::string message) {
    out_.push_back(Drift{plan_.interface_name, kind, std::move(message)});
  }

  const Link* Must(const std::string& name) {
    const ObservedLink* l = pod_.Find(name);
    if (!l) Add(DriftKind::kLinkMissing, absl::StrCat(name, " is missing"));
    return l ? &l->link : nullptr;
  }

  const Link* OfKind(const std::string& name, const std::string& want) {
    const Link* l = Must(name);
    if (l && l->kind != want)
      Add(DriftKind::kLinkKind,
          absl::StrCat(name, " is a ", l->kind.empty() ? "device" : l->kind, ", not a ", want));
    return l;
  }

  void Mac(const Link* l, const std::string& want) {
    if (l && !want.empty() && l->mac != want)
      Add(DriftKind::kMac, absl::StrCat(l->name, " has MAC ", l->mac, ", expected ", want));
  }

  void Check(const CreateBridge& o) { Mac(OfKind(o.name, "bridge"), o.mac); }
  void Check(const CreateTap& o) { OfKind(o.name, "tun"); }
  void Check(const CreatePlaceholder& o) {
    Mac(OfKind(o.name, o.kind == PlaceholderKind::kDummy ? "dummy" : "ifb"), o.mac);
  }
  void Check(const RenameLink& o) {
    const Link* l = Must(o.to);
    if (l && o.index > 0 && l->index != o.index)
      Add(DriftKind::kLinkReplaced,
          absl::StrCat(o.to, " is link #", l->index, ", not the CNI's link #", o.index));
  }
  void Check(const SetLinkMac& o) { Mac(Must(o.link), o.mac); }
  void Check(const SetLinkMaster& o) {
    const Link* l = Must(o.link);
    if (!l) return;
    auto m = by_index_.find(l->master_index);
    const std::string master = m == by_index_.end() ? "" : m->second;
    if (master != o.master)
      Add(DriftKind::kMaster,
          absl::StrCat(o.link, " is enslaved to ", master.empty() ? "nothing" : master,
                       ", expected ", o.master));
  }
  void Check(const SetLinkUp& o) {
    const Link* l = Must(o.link);
    if (l && l->admin_up != o.up)
      Add(DriftKind::kAdminState, absl::StrCat(o.link, " is ", l->admin_up ? "up" : "down"));
  }
  void Check(const AddAddress& o) {
    const ObservedLink* l = pod_.Find(o.link);
    if (l && std::find(l->addresses.begin(), l->addresses.end(), o.cidr) == l->addresses.end())
      Add(DriftKind::kAddress, absl::StrCat(o.link, " lacks address ", o.cidr));
  }
  void Check(const NftTable& o) {
    auto t = nft_.ListTable(o.family, o.name);
    if (!t.ok())
      Add(DriftKind::kNftTable,
          absl::StrCat("nftables table ", o.family, " ", o.name, ": ", t.status().message()));
    else if (!*t)
      Add(DriftKind::kNftTable,
          absl::StrCat("nftables table ", o.family, " ", o.name, " is missing"));
  }
  // The rest leave nothing the plan alone decided: an MTU or a sysctl may be changed by
  // others, a flush or a route is the CNI's state, the deletes are teardown's.
  template <typename T>
  void Check(const T&) {}

  const InterfacePlan& plan_;
  const PodState& pod_;
  Nft& nft_;
  std::map<int, std::string> by_index_;
  std::vector<Drift> out_;
};

}  // namespace

const char* DriftKindName(DriftKind kind) {
  switch (kind) {
    case DriftKind::kUnfinished:
      return "unfinished";
    case DriftKind::kPodLinkMissing:
      return "pod_link_missing";
    case DriftKind::kLinkMissing:
      return "link_missing";
    case DriftKind::kLinkKind:
      return "link_kind";
    case DriftKind::kLinkReplaced:
      return "link_replaced";
    case DriftKind::kMac:
      return "mac";
    case DriftKind::kMaster:
      return "master";
    case DriftKind::kAdminState:
      return "admin_state";
    case DriftKind::kAddress:
      return "address";
    case DriftKind::kNftTable:
      return "nft_table";
  }
  return "unknown";
}

std::string DescribeDrift(const std::vector<Drift>& drift) {
  return absl::StrJoin(drift, "; ", [](std::string* out, const Drift& d) {
    absl::StrAppend(out, d.interface, ": ", d.message);
  });
}

std::vector<Drift> FindDrift(const InterfacePlan& plan, const PodState& pod, Nft& nft) {
  return DriftFinder(plan, pod, nft).Find();
}

}  // namespace k6t::binding
