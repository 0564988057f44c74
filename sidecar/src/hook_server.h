// KubeVirt's hook API served on a unix socket: Info (name, hook points, versions) and the
// Callbacks of v1alpha2 and v1alpha3. virt-launcher finds the socket in a subdirectory of
// /var/run/kubevirt-hooks/ (the sidecar container's own mount of it), asks Info, then calls
// OnDefineDomain before defining the domain and Shutdown when the VM is gone.
//
//   OnDefineDomain  DefineDomain (define_domain.h); the plans go to the PlanSink (DHCP)
//   PreCloudInitIso the cloud-init data back unchanged (k6t has nothing to add there)
//   Shutdown        Wait() returns; the caller stops the server (in-flight calls finish)
//
// One OnDefineDomain at a time (they observe the pod and feed one DHCP server). A refused
// call is a gRPC error whose code is the absl one (same numbering) and whose message names
// the interface or field; the server goes on serving.
//
// Errors: Start fails (Unavailable/AlreadyExists with the path) when the socket cannot be
// bound. Thread-safety: Wait from one thread; Stop from any. Privileges: write access to the
// hooks directory; DefineDomain's (netlink reads in the pod).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "define_domain.h"
#include "sidecar_dhcp.h"

namespace k6t::sidecar {

inline constexpr char kHookPointOnDefineDomain[] = "OnDefineDomain";
inline constexpr char kHookPointPreCloudInitIso[] = "PreCloudInitIso";
inline constexpr char kHookPointShutdown[] = "Shutdown";

struct HookServerOptions {
  std::string socket_path;  // <hooks dir>/k6t.sock
  std::string name = "k6t";
  int priority = 0;  // virt-launcher calls higher first
  DefineDomainOptions define;
  // KubeVirt's downward-API network-info file, read at each OnDefineDomain when it exists.
  std::string network_info;
};

class HookServer {
 public:
  // Binds `options.socket_path` (a stale socket there is replaced) and serves on gRPC's
  // threads. `pod`: how DefineDomain observes the pod; `sink` may be null (no DHCP).
  static absl::StatusOr<std::unique_ptr<HookServer>> Start(HookServerOptions options,
                                                           binding::PodNetworkRequest pod,
                                                           PlanSink* sink);
  ~HookServer();

  // Blocks until Shutdown was called over the socket or Stop() was called.
  void Wait();
  // Stops accepting calls, lets in-flight ones finish (a few seconds at most), removes the
  // socket. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit HookServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace k6t::sidecar
