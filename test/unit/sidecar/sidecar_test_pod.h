// The pod the sidecar's unit tests observe: BuildPod's eth0 and blue link (test/unit/binding),
// plumbed by k6t's pod-network session on a FakeKernel exactly as k6t-cni would plumb it
// (masquerade on `default`, bridge on `blue`), and the KubeVirt-shaped inputs in testdata/.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "define_domain.h"
#include "k6t/binding/pod_network.h"
#include "k6t/binding/testing/fake_kernel.h"

namespace k6t::sidecar::testing {

std::string ReadTestdata(const std::string& name);

struct PluggedPod {
  std::unique_ptr<binding::testing::FakeKernel> kernel;
  std::vector<binding::InterfacePlan> cni_plans;  // what "k6t-cni" planned and applied
  // How DefineDomain observes this pod (InlineNetns on the fake).
  binding::PodNetworkRequest Observer() const;
};

// Plumbs the interfaces of `vmi_json` that `options` selects, before any hook call.
PluggedPod PlumbPod(const std::string& vmi_json, const DefineDomainOptions& options = {});

}  // namespace k6t::sidecar::testing
