// passt for every interface whose plan uses it, run and supervised by the launcher, since
// Debian 12's libvirt 9 rejects <backend type='passt'/> (a libvirt with native passt,
// DomainOptions::native_passt, runs it itself: this service then does nothing).
//
// QEMU 7.2's `-netdev stream` connects once and never reconnects, so passt does not own the
// socket QEMU dials: the launcher listens on <state_dir>/passt/<iface>.sock, accepts QEMU's
// connection and hands it to passt (`--fd`). When passt dies the launcher still holds that
// connection and a new passt takes it over, so the guest keeps its NIC and its lease (the
// new passt derives the same addresses from the same pod interface) — the network KubeVirt
// users lose for good when passt dies (kubevirt#14647). Restarts are rate-limited and each
// one is logged. A frame passt was halfway through when it died is lost with it. A launcher
// killed outright leaves passt serving QEMU (both exit when the VM does); the launcher that
// adopts the VM cannot reconnect QEMU 7.2 and does not supervise that passt.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "domain_xml.h"
#include "k6t/binding/plan.h"
#include "k6t/launcher/launcher.h"

namespace k6t::launcher {

inline constexpr char kDefaultPasst[] = "/usr/bin/passt";

// passt's command line for one plan: foreground, the connected socket `fd`, its log, the
// pod interface it copies addresses and routes from, the MTU to offer, and the plan's port
// forwards (`-t`/`-u` lists; every port of both protocols when the plan declares none).
std::vector<std::string> PasstArgv(const binding::PasstPlan& plan, const std::string& passt, int fd,
                                   const std::string& log_file);

struct PasstServiceOptions {
  std::string state_dir;
  std::string passt = kDefaultPasst;
  // More deaths than this within restart_window and the interface is left without passt.
  int max_restarts = 5;
  absl::Duration restart_window = absl::Minutes(1);
  absl::Duration stop_grace = absl::Seconds(2);
  // QEMU connects to the socket as this user: it owns the socket (mode 0600) and its dir is
  // reachable by its group. Root: left root's.
  QemuUser qemu_user{0, 0};
};

class PasstService : public LauncherService {
 public:
  explicit PasstService(PasstServiceOptions options);
  ~PasstService() override;  // Stop()

  std::string name() const override { return "passt"; }
  // Listen() on the launcher's plans, unless libvirt runs passt itself (native_passt).
  absl::Status Start(Launcher& launcher) override;
  // Listens on one socket per plan that uses passt; passt starts when QEMU connects.
  absl::Status Listen(const std::vector<binding::InterfacePlan>& plans);
  void ContributeDomainOptions(DomainOptions& options) override;
  void Stop() override;

  // Socket QEMU connects to, for an interface that uses passt.
  static std::string SocketPath(const std::string& state_dir, const std::string& iface);
  // How often passt of `iface` was restarted after dying.
  int restarts(const std::string& iface) const;

 private:
  class Instance;
  PasstServiceOptions options_;
  std::map<std::string, std::unique_ptr<Instance>> instances_;
};

}  // namespace k6t::launcher
