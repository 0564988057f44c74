// The pod-network session (pod_network.h) on a FakeKernel: the session runs on the calling
// thread (InlineNetns) with the fake's adapters, so a unit test drives setup, resume,
// teardown and drift checks without root or a namespace. The fake must outlive `req`'s use.
#pragma once

#include "k6t/binding/pod_network.h"
#include "k6t/binding/testing/fake_kernel.h"

namespace k6t::binding::testing {

inline void UseFakeKernel(PodNetworkRequest& req, FakeKernel& kernel) {
  req.netns = std::make_shared<InlineNetns>();
  req.kernel = [&kernel](absl::FunctionRef<absl::Status(const Kernel&)> fn) {
    return fn(kernel.kernel());
  };
}

}  // namespace k6t::binding::testing
