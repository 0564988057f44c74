// A pod as the CNI leaves it, in the fake kernel, and VMIs built in code (no decoder).
#pragma once

#include <string>

#include "k6t/api/vmi.h"
#include "k6t/binding/testing/fake_kernel.h"

namespace k6t::binding::testing {

// eth0 (10.244.0.5/24, fd00:10:244::5/64, mtu 1400, default routes) and, for `blue`,
// pod16477688c0e (192.168.100.10/24 with a route to 10.10.0.0/16 via 192.168.100.1).
void BuildPod(FakeKernel& k, bool ipv6 = false, bool blue = true);
// eth0 (10.244.0.5/24, mtu 1400) with only its subnet route: BuildPod's eth0 before its
// default route, for tests that choose the routes.
void AddEth0(FakeKernel& k);

api::Interface MakeInterface(const std::string& name, api::BindingMethod m);
api::Network PodNetwork(const std::string& name = "default");
api::Network MultusNetwork(const std::string& name, const std::string& nad,
                           bool is_default = false);
// VMI "vm1" in namespace "ns" with a masquerade `default` interface on the pod network.
api::Vmi MasqueradeVmi();
// MasqueradeVmi plus a bridge interface `blue` on Multus network blue-net.
api::Vmi MasqueradeAndBridgeVmi();

}  // namespace k6t::binding::testing
