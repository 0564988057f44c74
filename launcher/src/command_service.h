// The launcher's command socket as a LauncherService: the CommandServer with every method of
// k6t/api/rpc.h bound to the Launcher (lifecycle) and to Hotplug (devices, status). The socket
// is served from before the domain is defined (Ping answers while the VM boots) until the
// launcher stops; its threads are stopped before the domain goes away.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "command_server.h"
#include "hotplug.h"
#include "k6t/launcher/launcher.h"

namespace k6t::launcher {

class DhcpService;

class CommandService : public LauncherService {
 public:
  // `dhcp` (may be null) is the DHCP service hotplug adds interfaces to.
  CommandService(CommandServerOptions options, DhcpService* dhcp,
                 absl::Duration default_shutdown_timeout);
  ~CommandService() override;

  std::string name() const override { return "command-socket"; }
  absl::Status Start(Launcher& launcher) override;
  void BeforeDomainStop() override;
  void Stop() override;

 private:
  void RegisterMethods();
  // Wraps a method so that BeforeDomainStop() can wait for the calls in flight.
  CommandServer::Handler Counted(CommandServer::Handler h);

  CommandServerOptions options_;
  DhcpService* dhcp_;
  absl::Duration default_shutdown_timeout_;
  Launcher* launcher_ = nullptr;
  std::unique_ptr<Hotplug> hotplug_;
  std::unique_ptr<CommandServer> server_;
  std::atomic<int> in_flight_{0};
};

}  // namespace k6t::launcher
