// An in-memory launcher for unit tests of what talks to a launcher (sync, watch, status):
// one domain with its NIC devices and free PCIe root ports, answering the LauncherClient calls
// the way k6t-launcher does (idempotent attach/detach/link state, `restart required` with no
// free root port, NotFound for a link state of a device that is not there). Any call can be
// made to fail by its sequence number, and the launcher can go away at a call (kUnavailable
// from then on, as a closed socket reads) and come back later, holding the same domain, as a
// restarted launcher adopting the VM does.
//
// Errors: only those injected or listed above. Thread-safety: every member is thread-safe
// (calls are serialized on one mutex), so a fake can be served over a real rpc::Server.
// Privileges: none.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "k6t/api/rpc.h"
#include "k6t/rpc/launcher_client.h"

namespace k6t::rpc::testing {

class FakeLauncher : public LauncherClient {
 public:
  // A running domain named "default_vm" with no NICs and no free root port.
  FakeLauncher();

  // ---- Building the domain.
  void SetState(std::string state);  // GetDomain's state: "running", "stopped", "none", ...
  void SetFreeRootPorts(int64_t n);
  // A device already in the domain (matched by name, as GetDomain names it).
  void AddDevice(api::rpc::DomainInterface device);
  // Where AttachInterface finds the device of an interface, as the real launcher reads the
  // interface's plan from the state dir. Its error (no plan, plumbing not finished) is returned
  // as is and nothing changes. Unset: every name has a plan, a virtio NIC with alias
  // ua-<name>, target tap-<name>, link up and MAC 02:00:00:00:00:<n>.
  using PlanLookup =
      std::function<absl::StatusOr<api::rpc::DomainInterface>(const std::string& name)>;
  void SetPlanLookup(PlanLookup lookup);

  // ---- Failure injection. Every call counts (Ping included), from 0, counted from now.
  // Call `n` fails with `status` and changes nothing.
  void FailCall(int n, absl::Status status = absl::InternalError("injected failure"));
  // The launcher goes away at call `n`: it and every later call fail kUnavailable. With
  // `after_effect`, call n takes effect before the launcher goes (it died before answering).
  void GoAwayAt(int n, bool after_effect = false);
  // The launcher is back (same domain); calls succeed again.
  void ComeBack();
  bool gone() const;
  // A new connection to this launcher, as Connect would give (kUnavailable while gone). It
  // shares the domain and the call counter with this object.
  absl::StatusOr<std::unique_ptr<LauncherClient>> Connect();

  // ---- Observing.
  int calls() const;
  // One line per call, e.g. "AttachInterface blue", "SetLinkState blue down", "GetDomain".
  std::vector<std::string> call_log() const;
  // Calls of `method` (an rpc.h method name) made so far.
  int CallsOf(const std::string& method) const;
  std::optional<api::rpc::DomainInterface> Device(const std::string& name) const;
  int64_t free_root_ports() const;
  std::string last_vmi_json() const;
  // A canonical text of the domain (state, free root ports, each device by name), for
  // "exactly as before" comparisons.
  std::string Dump() const;

  // LauncherClient
  absl::StatusOr<api::rpc::PingResult> Ping() override;
  absl::StatusOr<api::rpc::SyncVmiResult> SyncVMI(const std::string& vmi_json) override;
  absl::Status Shutdown(int64_t timeout_seconds) override;
  absl::Status Kill() override;
  absl::StatusOr<api::rpc::GetDomainResult> GetDomain() override;
  absl::StatusOr<api::rpc::GetStatusResult> GetStatus() override;
  absl::StatusOr<bool> AttachInterface(const std::string& name) override;
  absl::StatusOr<bool> DetachInterface(const std::string& name) override;
  absl::StatusOr<bool> SetLinkState(const std::string& name, bool up) override;

 private:
  // Counts the call, logs it, and applies the injected failures around `effect`.
  template <typename T>
  absl::StatusOr<T> Run(std::string log_line, const std::function<absl::StatusOr<T>()>& effect);
  absl::Status Running(const std::string& what) const;
  api::rpc::DomainInterface DefaultDevice(const std::string& name);

  mutable std::mutex mu_;
  std::string state_ = "running";
  std::string domain_name_ = "default_vm";
  int64_t free_root_ports_ = 0;
  std::map<std::string, api::rpc::DomainInterface> devices_;
  PlanLookup plan_lookup_;
  int next_mac_ = 1;
  std::string last_vmi_json_;
  int calls_ = 0;
  std::vector<std::string> log_;
  std::map<int, absl::Status> fail_at_;
  std::optional<int> go_away_at_;
  bool go_away_after_effect_ = false;
  bool gone_ = false;
};

}  // namespace k6t::rpc::testing
