// k6t-cni's commands (ADD, DEL, CHECK, VERSION, STATUS, GC) over libbinding's pod-network
// session (k6t/binding/pod_network.h): SetupPodNetwork, TeardownPodNetwork, CheckPodNetwork. What
// main() prints and returns, computed from the environment and stdin so tests can drive it
// in-process.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "cni/cni_config.h"
#include "k6t/binding/pod_network.h"

namespace k6t::handler::cni {

struct Outcome {
  int exit_code = 0;
  std::string output;  // stdout: a result, VERSION's answer, an error JSON, or nothing
};

// Applied to every session request before use: tests run the plugin on a FakeKernel
// (binding::testing::UseFakeKernel); empty: the real sandbox and kernel.
using RequestHook = std::function<void(binding::PodNetworkRequest&)>;

Outcome RunPlugin(const EnvLookup& getenv, std::string_view stdin_text,
                  const RequestHook& hook = {});

}  // namespace k6t::handler::cni
