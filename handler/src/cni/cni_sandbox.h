// k6t-cni's own reads and clean-up in the sandbox, next to the pod-network session and through
// its seams (binding::RunInPod: the request's netns runner and kernel adapters), so unit tests
// run them on a FakeKernel: the MACs the ADD result reports, whether the pod link is there yet,
// and DEL's clean-up when no state was recorded.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/naming.h"
#include "k6t/binding/pod_network.h"

namespace k6t::handler::cni {

// The MAC of each of `links`, in order. NotFound naming the link that is absent or has none
// (a runtime rejects a result interface without a MAC).
absl::StatusOr<std::vector<std::string>> SandboxMacs(const binding::PodNetworkRequest& req,
                                                     const std::vector<std::string>& links);

// Whether k6t has a pod link to plumb: `names.pod`, or `names.nic` once k6t renamed it.
absl::StatusOr<bool> PodLinkPresent(const binding::PodNetworkRequest& req,
                                    const api::PodLinkNames& names);

// DEL with no state recorded (lost, or written by an older layout): removes what k6t builds
// for `names`, found by name and kind: the tap, the bridge, the placeholder standing in for the
// pod link, whose MAC the pod link (renamed back from <x>-nic, released and down) gets again.
// Nothing of k6t's there: changes nothing. Idempotent. Masquerade's nftables table is not
// derived from the names and is left to the sandbox's removal.
absl::Status RemoveDerivedLinks(const binding::PodNetworkRequest& req,
                                const api::PodLinkNames& names);

}  // namespace k6t::handler::cni
