// Translates one CNI attachment into a pod-network session request: a synthesized VMI with
// one interface on one network (the binding from the config, the pod link = CNI_IFNAME) and
// the network-status entry Multus would write for it, built from prevResult.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "cni/cni_config.h"
#include "k6t/api/naming.h"
#include "k6t/binding/pod_network.h"

namespace k6t::handler::cni {

// <stateDir>/<network name>/: the state of one network's attachments (its GC's scope).
std::string NetworkStateDir(const Config& config);
// <stateDir>/<network name>/<containerid>/<ifname>: one attachment's k6t state dir. Keyed by
// network too: one container may attach the same ifname on two networks over time, and a
// network's GC must never reach another network's attachments.
std::string AttachmentDir(const Config& config, const Env& env);

// The links k6t builds for this attachment (k6t-<x>, tap<x>, <x>-nic; tap0 for a primary
// binding): what DEL removes when no state was recorded.
api::PodLinkNames DerivedNames(const Config& config, const Env& env);

// Code 4 when the pod link (CNI_IFNAME or podInterface) cannot carry k6t's derived names (k6t-<x>,
// tap<x>, <x>-nic must fit IFNAMSIZ).
absl::StatusOr<binding::PodNetworkRequest> BuildRequest(const Config& config, const Env& env);

}  // namespace k6t::handler::cni
