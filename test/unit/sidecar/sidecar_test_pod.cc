#include "sidecar_test_pod.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "hook_input.h"
#include "k6t/binding/testing/fake_pod.h"
#include "test/support/shell.h"
#include "test/unit/binding/test_pod.h"

namespace k6t::sidecar::testing {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(testsupport::SourceDir() + "/test/unit/sidecar/testdata/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

binding::PodNetworkRequest PluggedPod::Observer() const {
  binding::PodNetworkRequest req;
  binding::testing::UseFakeKernel(req, *kernel);
  return req;
}

PluggedPod PlumbPod(const std::string& vmi_json, const DefineDomainOptions& options) {
  PluggedPod pod;
  pod.kernel = std::make_unique<binding::testing::FakeKernel>();
  binding::testing::BuildPod(*pod.kernel);
  auto input = ParseHookInput("<domain/>", vmi_json);
  EXPECT_TRUE(input.ok()) << input.status();
  if (!input.ok()) return pod;
  auto selected = SelectInterfaces(input->vmi, options.selection);
  EXPECT_TRUE(selected.ok()) << selected.status();
  // One attachment per network, each planned alone, as k6t-cni plumbs them.
  for (const auto& one : *selected) {
    binding::PodNetworkRequest req;
    binding::testing::UseFakeKernel(req, *pod.kernel);
    req.vmi = PlannerVmi(input->vmi, one);
    req.state_dir = testsupport::TempDir();
    auto setup = binding::SetupPodNetwork(req);
    EXPECT_TRUE(setup.ok()) << one.name << ": " << setup.status();
    if (!setup.ok()) continue;
    for (const auto& p : setup->plans) pod.cni_plans.push_back(p);
  }
  return pod;
}

}  // namespace k6t::sidecar::testing
