// `k6t-handler sync`: a controller-style reconcile of a running VM's NICs. The desired state
// is the VMI spec; the applied state is the state dir (pod plumbing) and the launcher's
// GetDomain (devices). The difference is converged in an order that never leaves half a NIC:
//   plug:   pod link present and in the network-status (its CNI ADD returned)? -> free root
//           port? -> plumbing (planned, applied, cached) -> launcher attaches the device and
//           serves DHCP; an attach the launcher refused removes the plumbing, one left without
//           an answer (launcher gone, timeout) keeps it for the next round to look at.
//   unplug: launcher detaches (waits for the guest) and stops DHCP -> plumbing removed, the CNI
//           link given back as the CNI left it.
//   link:   launcher updates the live link state.
// What cannot change live (binding, MAC, model of a plugged NIC) is reported as "restart
// required" and left alone. A second sync with nothing new changes nothing.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k6t/binding/pod_network.h"
#include "k6t/rpc/launcher_client.h"

namespace k6t::handler {

struct SyncRequest {
  binding::PodNetworkRequest net;  // vmi, pod netns, state dir, network-status, planner options
  // Re-read before each plug (Multus rewrites it when a network is added); may be empty.
  std::string network_status_file;
  // How long to wait for a pod link the CNI has not finished yet (link made and listed in the
  // network-status); zero: do not wait.
  absl::Duration wait_for_links = absl::ZeroDuration();
};

struct SyncReport {
  std::vector<std::string> changes;           // "attached blue", "detached red", ...
  std::vector<std::string> waiting;           // interfaces whose pod link is not there yet
  std::vector<std::string> restart_required;  // "blue: macAddress ... (restart required)"
  std::vector<std::string> errors;            // per-interface failures (nothing half-done)
  absl::Duration elapsed;
  bool ok() const { return errors.empty(); }
};

// Errors of the whole call (launcher unreachable or gone during the round: kUnavailable; no
// running domain; unreadable state dir) are returned; a failure of one interface goes into
// report.errors and the others go on.
absl::StatusOr<SyncReport> SyncVmi(const SyncRequest& req, rpc::LauncherClient& launcher);

}  // namespace k6t::handler
