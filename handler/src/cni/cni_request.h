// Translates one CNI attachment into a pod-network session request: a synthesized VMI with
// one interface on one network (the binding from the config, the pod link = CNI_IFNAME) and
// the network-status entry Multus would write for it, built from prevResult.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "cni/cni_config.h"
#include "k6t/binding/pod_network.h"

namespace k6t::handler::cni {

// <stateDir>/<containerid>/<ifname>: one attachment's k6t state dir.
std::string AttachmentDir(const Config& config, const Env& env);

// Code 4 when the pod link (CNI_IFNAME or podInterface) cannot carry k6t's derived names (k6t-<x>,
// tap<x>, <x>-nic must fit IFNAMSIZ).
absl::StatusOr<binding::PodNetworkRequest> BuildRequest(const Config& config, const Env& env);

}  // namespace k6t::handler::cni
