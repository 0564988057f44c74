#include "k6t/binding/testing/fake_kernel.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace k6t::binding::testing {

FakeKernel::FakeKernel() {
  kinds_ = {"bridge", "dummy", "ifb", "veth", "tun"};
  Link lo;
  lo.name = "lo";
  lo.kind = "loopback";
  lo.mac = "00:00:00:00:00:00";
  lo.mtu = 65536;
  lo.admin_up = lo.oper_up = true;
  AddLink(lo);
}

void FakeKernel::FailMutation(int n, absl::Status status) {
  fail_at_[mutations_ + n] = std::move(status);
}

void FakeKernel::FailMutationsFrom(int n, absl::Status status) {
  fail_from_ = mutations_ + n;
  fail_from_status_ = std::move(status);
}

void FakeKernel::Recover() {
  fail_at_.clear();
  fail_from_.reset();
}

absl::Status FakeKernel::Mutate() {
  const int n = mutations_++;
  if (fail_from_ && n >= *fail_from_) return fail_from_status_;
  if (auto it = fail_at_.find(n); it != fail_at_.end()) return it->second;
  return absl::OkStatus();
}

int FakeKernel::AddLink(Link link) {
  link.index = next_index_++;
  if (link.mac.empty()) link.mac = GeneratedMac(link.name);
  links_[link.index] = link;
  return link.index;
}

void FakeKernel::AddPodAddress(const std::string& link, const std::string& cidr) {
  addresses_[FindByName(link)->index].insert(cidr);
}

void FakeKernel::AddPodRoute(const std::string& link, const std::string& dst,
                             const std::string& gw) {
  RouteEntry r;
  r.link_index = FindByName(link)->index;
  r.destination = dst;
  r.gateway = gw;
  r.ipv6 = dst.find(':') != std::string::npos;
  routes_.push_back(r);
}

void FakeKernel::SetSysctlValue(const std::string& key, const std::string& value) {
  sysctls_[key] = value;
}

// Derived from the name, not the order of creation: a namespace reached by another order
// (a resumed setup) dumps the same.
std::string FakeKernel::GeneratedMac(const std::string& name) {
  const size_t h = std::hash<std::string>{}(name);
  return absl::StrFormat("52:54:00:%02x:%02x:%02x", (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
}

Link* FakeKernel::FindByName(const std::string& name) {
  for (auto& [i, l] : links_)
    if (l.name == name) return &l;
  return nullptr;
}

Link* FakeKernel::FindByIndex(int index) {
  auto it = links_.find(index);
  return it == links_.end() ? nullptr : &it->second;
}

std::string FakeKernel::Dump() const {
  // Links by name, not by index: a namespace reached by another order of creation (a resumed
  // setup) dumps the same.
  std::map<std::string, std::vector<std::string>> links;
  for (const auto& [i, l] : links_) {
    std::string master = "-";
    if (auto it = links_.find(l.master_index); l.master_index && it != links_.end())
      master = it->second.name;
    std::vector<std::string>& block = links[l.name];
    block.push_back(absl::StrCat("link ", l.name, " kind=", l.kind, " mac=", l.mac, " mtu=", l.mtu,
                                 " master=", master, " up=", l.admin_up, " learning=", l.learning));
    if (auto a = addresses_.find(i); a != addresses_.end())
      for (const auto& c : a->second) block.push_back(absl::StrCat("  addr ", c));
    if (auto t = taps_.find(l.name); t != taps_.end())
      block.push_back(absl::StrCat("  tap owner=", t->second.owner, " group=", t->second.group,
                                   " queues=", t->second.queues));
  }
  std::vector<std::string> lines;
  for (auto& [name, block] : links) lines.insert(lines.end(), block.begin(), block.end());
  std::vector<std::string> routes;
  for (const auto& r : routes_) {
    auto it = links_.find(r.link_index);
    routes.push_back(absl::StrCat("route ", r.destination, " via ", r.gateway, " dev ",
                                  it == links_.end() ? "?" : it->second.name));
  }
  std::sort(routes.begin(), routes.end());
  lines.insert(lines.end(), routes.begin(), routes.end());
  for (const auto& [k, v] : sysctls_) lines.push_back(absl::StrCat("sysctl ", k, "=", v));
  for (const auto& [k, v] : nft_) lines.push_back(absl::StrCat("nft ", k, " {", v, "}"));
  return absl::StrJoin(lines, "\n");
}

std::optional<FakeKernel::TapInfo> FakeKernel::Tap(const std::string& name) const {
  auto it = taps_.find(name);
  if (it == taps_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, std::string> FakeKernel::nft_tables() const { return nft_; }

absl::StatusOr<std::optional<Link>> FakeKernel::GetLink(const std::string& name) {
  if (Link* l = FindByName(name)) return std::optional<Link>(*l);
  return std::optional<Link>();
}

absl::StatusOr<std::optional<Link>> FakeKernel::GetLinkByIndex(int index) {
  if (Link* l = FindByIndex(index)) return std::optional<Link>(*l);
  return std::optional<Link>();
}

absl::StatusOr<std::vector<Link>> FakeKernel::ListLinks() {
  std::vector<Link> out;
  for (const auto& [i, l] : links_) out.push_back(l);
  return out;
}

absl::Status FakeKernel::CreateLink(const std::string& name, const std::string& kind,
                                    const std::string& mac, int mtu) {
  if (auto st = Mutate(); !st.ok()) return st;
  if (FindByName(name)) return absl::AlreadyExistsError(absl::StrCat("create ", name, ": exists"));
  if (!kinds_.count(kind))
    return absl::UnimplementedError(absl::StrCat("create ", name, ": kind ", kind, " unsupported"));
  Link l;
  l.name = name;
  l.kind = kind;
  l.mac = mac;
  l.mtu = mtu ? mtu : 1500;
  AddLink(l);
  return absl::OkStatus();
}

absl::Status FakeKernel::CreateVeth(const std::string& name, const std::string& peer, int) {
  if (auto st = CreateLink(name, "veth", "", 0); !st.ok()) return st;
  return CreateLink(peer, "veth", "", 0);
}

absl::Status FakeKernel::DeleteLink(const std::string& name) {
  if (auto st = Mutate(); !st.ok()) return st;
  Link* l = FindByName(name);
  if (!l) return absl::OkStatus();
  int idx = l->index;
  for (auto& [i, other] : links_)
    if (other.master_index == idx) {
      other.master_index = 0;
      other.learning = true;  // port flags go with the port
    }
  addresses_.erase(idx);
  std::erase_if(routes_, [idx](const RouteEntry& r) { return r.link_index == idx; });
  taps_.erase(name);
  std::erase_if(sysctls_, [&](const auto& kv) {
    return kv.first.find("/conf/" + name + "/") != std::string::npos;
  });
  links_.erase(idx);
  return absl::OkStatus();
}

absl::Status FakeKernel::ChangeLink(const std::string& name, const LinkChange& c) {
  if (auto st = Mutate(); !st.ok()) return st;
  Link* l = FindByName(name);
  if (!l) return absl::NotFoundError(absl::StrCat("change ", name, ": no such link"));
  if (c.learning && !c.master_index.value_or(l->master_index))
    return absl::FailedPreconditionError(name + " is not a bridge port");
  if (c.name && *c.name != name) {
    if (FindByName(*c.name))
      return absl::AlreadyExistsError(absl::StrCat("rename ", name, " -> ", *c.name, ": exists"));
    if (auto t = taps_.extract(name)) {
      t.key() = *c.name;
      taps_.insert(std::move(t));
    }
    l->name = *c.name;
  }
  if (c.mac) l->mac = *c.mac;
  if (c.mtu) l->mtu = *c.mtu;
  if (c.master_index) {
    if (*c.master_index && !FindByIndex(*c.master_index))
      return absl::NotFoundError("master: no such link");
    l->master_index = *c.master_index;
    if (!*c.master_index) l->learning = true;
  }
  if (c.up) l->admin_up = l->oper_up = *c.up;
  if (c.learning) l->learning = *c.learning;
  return absl::OkStatus();
}

absl::Status FakeKernel::SetPortLearning(const std::string& name, bool learning) {
  if (auto st = Mutate(); !st.ok()) return st;
  Link* l = FindByName(name);
  if (!l) return absl::NotFoundError(absl::StrCat("learning ", name, ": no such link"));
  if (!l->master_index) return absl::FailedPreconditionError(name + " is not a bridge port");
  l->learning = learning;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Address>> FakeKernel::ListAddresses(int link_index) {
  std::vector<Address> out;
  if (auto it = addresses_.find(link_index); it != addresses_.end())
    for (const auto& c : it->second) out.push_back(Address{link_index, c});
  return out;
}

absl::Status FakeKernel::AddAddress(int link_index, const std::string& cidr) {
  if (auto st = Mutate(); !st.ok()) return st;
  if (!FindByIndex(link_index)) return absl::NotFoundError("add address: no such link");
  if (!addresses_[link_index].insert(cidr).second)
    return absl::AlreadyExistsError(absl::StrCat("address ", cidr, " exists"));
  return absl::OkStatus();
}

absl::Status FakeKernel::DeleteAddress(int link_index, const std::string& cidr) {
  if (auto st = Mutate(); !st.ok()) return st;
  addresses_[link_index].erase(cidr);
  // Like the kernel: routes through a link that lost its last address of a family go away.
  bool v6 = cidr.find(':') != std::string::npos;
  bool left = false;
  for (const auto& c : addresses_[link_index]) left |= (c.find(':') != std::string::npos) == v6;
  if (!left)
    std::erase_if(routes_,
                  [&](const RouteEntry& r) { return r.link_index == link_index && r.ipv6 == v6; });
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RouteEntry>> FakeKernel::ListRoutes() { return routes_; }

absl::Status FakeKernel::AddRoute(const RouteEntry& route) {
  if (auto st = Mutate(); !st.ok()) return st;
  // As Linux: a route's device must be up (ENETDOWN, "Device for nexthop is not up").
  if (Link* l = FindByIndex(route.link_index); l && !l->admin_up)
    return absl::UnavailableError(
        absl::StrCat("add route via ", l->name, ": Device for nexthop is not up"));
  for (const auto& r : routes_)
    if (r.link_index == route.link_index && r.destination == route.destination &&
        r.gateway == route.gateway)
      return absl::OkStatus();
  routes_.push_back(route);
  return absl::OkStatus();
}

absl::Status FakeKernel::CreateTap(const TapSpec& spec) {
  if (auto st = Mutate(); !st.ok()) return st;
  if (Link* l = FindByName(spec.name)) {
    auto t = taps_.find(spec.name);
    if (t == taps_.end() || t->second.owner != spec.owner || t->second.group != spec.group ||
        (t->second.queues > 1) != (spec.queues > 1))
      return absl::AlreadyExistsError(absl::StrCat("tap ", spec.name, ": exists and differs"));
    (void)l;
    return absl::OkStatus();
  }
  Link l;
  l.name = spec.name;
  l.kind = "tun";
  // The kernel gives a new tap a random locally administered MAC; the fake derives one from the
  // name, so a namespace reached by another order of creation dumps the same.
  const size_t h = std::hash<std::string>{}(spec.name);
  l.mac = absl::StrFormat("02:%02x:%02x:%02x:%02x:%02x", h & 0xff, (h >> 8) & 0xff,
                          (h >> 16) & 0xff, (h >> 24) & 0xff, (h >> 32) & 0xff);
  l.mtu = spec.mtu ? spec.mtu : 1500;
  AddLink(l);
  taps_[spec.name] = TapInfo{spec.owner, spec.group, spec.queues};
  return absl::OkStatus();
}

absl::StatusOr<std::string> FakeKernel::Read(const std::string& key) {
  auto it = sysctls_.find(key);
  if (it == sysctls_.end()) {
    // Per-link keys exist while the link does.
    if (key.find("/conf/") != std::string::npos) return std::string("0");
    return absl::NotFoundError(absl::StrCat("sysctl ", key, ": no such key"));
  }
  return it->second;
}

absl::Status FakeKernel::Write(const std::string& key, const std::string& value) {
  if (auto st = Mutate(); !st.ok()) return st;
  sysctls_[key] = value;
  return absl::OkStatus();
}

absl::Status FakeKernel::ReplaceTable(const std::string& family, const std::string& name,
                                      const std::string& body) {
  if (auto st = Mutate(); !st.ok()) return st;
  nft_[family + " " + name] = body;
  return absl::OkStatus();
}

absl::Status FakeKernel::DeleteTable(const std::string& family, const std::string& name) {
  if (auto st = Mutate(); !st.ok()) return st;
  nft_.erase(family + " " + name);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> FakeKernel::ListTable(const std::string& family,
                                                                 const std::string& name) {
  auto it = nft_.find(family + " " + name);
  if (it == nft_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

}  // namespace k6t::binding::testing
