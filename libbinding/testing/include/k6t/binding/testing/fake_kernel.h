// An in-memory kernel for unit tests: links, addresses, routes, sysctls and nftables tables
// kept in maps, behaving like the real adapters (indexes from 1, NotFound for absent links,
// idempotent deletes). Any mutating call can be made to fail by its sequence number, which
// is how the executor's rollback is tested without root; failing every mutation from one on
// stands for a process killed there (nothing after it, the rollback included, takes effect).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "k6t/binding/kernel.h"

namespace k6t::binding::testing {

class FakeKernel : public Netlink, public Tun, public Sysctl, public Nft {
 public:
  FakeKernel();

  Kernel kernel() { return Kernel{this, this, this, this}; }

  // ---- Failure injection: the Nth mutating call (0-based, counted from now) fails with
  // `status`. Mutations counted: every Create*/Delete*/Change*/Add*/Write/Replace/Set*.
  // Several may be armed at once (a failure, then one in the rollback that follows).
  void FailMutation(int n, absl::Status status = absl::InternalError("injected failure"));
  // Every mutating call from the Nth on fails (a crash there), until Recover().
  void FailMutationsFrom(int n, absl::Status status = absl::AbortedError("injected crash"));
  void Recover();
  int mutations() const { return mutations_; }

  // ---- Building a pod.
  int AddLink(Link link);  // returns the index
  void AddPodAddress(const std::string& link, const std::string& cidr);
  void AddPodRoute(const std::string& link, const std::string& dst, const std::string& gw);
  void SetSysctlValue(const std::string& key, const std::string& value);
  void SetSupportedKinds(std::set<std::string> kinds) { kinds_ = std::move(kinds); }

  // ---- A canonical text dump of the whole state, for "exactly as before" comparisons.
  std::string Dump() const;

  struct TapInfo {
    uint32_t owner = 0, group = 0;
    int queues = 1;
  };
  std::optional<TapInfo> Tap(const std::string& name) const;
  std::map<std::string, std::string> nft_tables() const;  // "family name" -> body

  // Netlink
  absl::StatusOr<std::optional<Link>> GetLink(const std::string& name) override;
  absl::StatusOr<std::optional<Link>> GetLinkByIndex(int index) override;
  absl::StatusOr<std::vector<Link>> ListLinks() override;
  absl::Status CreateLink(const std::string& name, const std::string& kind, const std::string& mac,
                          int mtu) override;
  absl::Status CreateVeth(const std::string& name, const std::string& peer,
                          int peer_netns_fd) override;
  absl::Status DeleteLink(const std::string& name) override;
  absl::Status ChangeLink(const std::string& name, const LinkChange& change) override;
  absl::Status SetPortLearning(const std::string& name, bool learning) override;
  absl::StatusOr<std::vector<Address>> ListAddresses(int link_index) override;
  absl::Status AddAddress(int link_index, const std::string& cidr) override;
  absl::Status DeleteAddress(int link_index, const std::string& cidr) override;
  absl::StatusOr<std::vector<RouteEntry>> ListRoutes() override;
  absl::Status AddRoute(const RouteEntry& route) override;
  bool SupportsKind(const std::string& kind) override { return kinds_.count(kind) > 0; }
  // Tun
  absl::Status CreateTap(const TapSpec& spec) override;
  // Sysctl
  absl::StatusOr<std::string> Read(const std::string& key) override;
  absl::Status Write(const std::string& key, const std::string& value) override;
  // Nft
  absl::Status ReplaceTable(const std::string& family, const std::string& name,
                            const std::string& body) override;
  absl::Status DeleteTable(const std::string& family, const std::string& name) override;
  absl::StatusOr<std::optional<std::string>> ListTable(const std::string& family,
                                                       const std::string& name) override;

 private:
  absl::Status Mutate();  // counts a mutation; returns the injected failure when due
  Link* FindByName(const std::string& name);
  Link* FindByIndex(int index);
  static std::string GeneratedMac(const std::string& name);

  std::map<int, Link> links_;
  std::map<int, std::set<std::string>> addresses_;
  std::vector<RouteEntry> routes_;
  std::map<std::string, std::string> sysctls_;
  std::map<std::string, std::string> nft_;
  std::map<std::string, TapInfo> taps_;
  std::set<std::string> kinds_;
  int next_index_ = 1;
  int mutations_ = 0;
  std::map<int, absl::Status> fail_at_;  // by mutation sequence number
  std::optional<int> fail_from_;
  absl::Status fail_from_status_;
};

}  // namespace k6t::binding::testing
