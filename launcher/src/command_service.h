// The launcher's command socket as a LauncherService: librpc's server (k6t/rpc/server.h) with
// every method of k6t/api/rpc.h bound to the Launcher (lifecycle) and to Hotplug (devices,
// status). The socket
// is served from before the domain is defined (Ping answers while the VM boots) until the
// launcher stops; its threads are stopped before the domain goes away.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "hotplug.h"
#include "k6t/launcher/launcher.h"
#include "k6t/rpc/server.h"
#include "migration_job.h"

namespace k6t::launcher {

class DhcpService;

class CommandService : public LauncherService {
 public:
  // `dhcp` (may be null) is the DHCP service hotplug adds interfaces to.
  CommandService(rpc::ServerOptions options, DhcpService* dhcp,
                 absl::Duration default_shutdown_timeout);
  ~CommandService() override;

  std::string name() const override { return "command-socket"; }
  absl::Status Start(Launcher& launcher) override;
  void BeforeDomainStop() override;
  void AfterIncoming() override;
  void Stop() override;

 private:
  void RegisterMethods();
  // Wraps a method so that BeforeDomainStop() can wait for the calls in flight.
  rpc::MethodHandler Counted(rpc::MethodHandler h);

  rpc::ServerOptions options_;
  DhcpService* dhcp_;
  absl::Duration default_shutdown_timeout_;
  Launcher* launcher_ = nullptr;
  std::unique_ptr<Hotplug> hotplug_;
  std::unique_ptr<MigrationJob> migration_;
  std::unique_ptr<rpc::Server> server_;
  std::atomic<int> in_flight_{0};
};

}  // namespace k6t::launcher
