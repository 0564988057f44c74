// A launcher on a FakeLibvirt, for unit tests: a temporary state dir with the interface plans
// k6t-handler would have cached, a VMI "default/vm" with a masquerade interface "default",
// options that need no root (QEMU "runs" as the test's own user, TCG, no shared caps cache).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "k6t/api/vmi.h"
#include "k6t/binding/cache.h"
#include "k6t/launcher/launcher.h"
#include "k6t/launcher/testing/fake_libvirt.h"

namespace k6t::launcher::test {

inline constexpr char kDomain[] = "default_vm";

// A tap interface's plan: device fragment with alias ua-<name>, DHCP on bridge k6t-<name>.
binding::InterfacePlan TapPlan(const std::string& name, const std::string& mac);

// The smallest domain XML the fake takes: name, one root port, one interface.
std::string MinimalDomainXml(const std::string& name);

// Waits (bounded) for the VM to end, as main() does.
std::optional<Outcome> WaitEnd(Launcher& l, absl::Duration within = absl::Seconds(10));

class LauncherEnv {
 public:
  LauncherEnv();
  ~LauncherEnv();  // removes the state dir
  LauncherEnv(const LauncherEnv&) = delete;
  LauncherEnv& operator=(const LauncherEnv&) = delete;

  // Caches `plan` in the state dir (what `k6t-handler setup` leaves).
  void CachePlan(const binding::InterfacePlan& plan,
                 binding::PlumbingPhase phase = binding::PlumbingPhase::kFinished);
  // A VMI interface (bridge binding on a Multus network of the same name) and its plan.
  void AddInterface(const std::string& name, const std::string& mac);

  // A launcher on the fake, not started.
  std::unique_ptr<Launcher> NewLauncher() const;

  std::shared_ptr<testing::FakeLibvirt> libvirt = std::make_shared<testing::FakeLibvirt>();
  std::string state_dir;
  api::Vmi vmi;
  LauncherOptions options;

 private:
  std::string root_;
};

}  // namespace k6t::launcher::test
