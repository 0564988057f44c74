// What k6t-sidecar reads from OnDefineDomain: the domain XML and the VMI JSON, in one input
// split at its first NUL byte (domain first). Parsed at the edge (ParseHookInput), and when
// both are understood, the whole hook runs against a fixed pod (FakeKernel: eth0 and the
// `blue` network's link) — selection, planning, rewrite. Whatever it accepts it must accept
// again on its own output, unchanged (KubeVirt calls the hook again on a migration target).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "define_domain.h"
#include "hook_input.h"
#include "k6t/binding/testing/fake_kernel.h"
#include "k6t/binding/testing/fake_pod.h"
#include "spdlog/spdlog.h"
#include "test/unit/binding/test_pod.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static k6t::binding::testing::FakeKernel* kernel = [] {
    spdlog::set_level(spdlog::level::off);
    auto* k = new k6t::binding::testing::FakeKernel();
    k6t::binding::testing::BuildPod(*k);
    return k;
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t nul = text.find('\0');
  if (nul == std::string_view::npos) return 0;
  const std::string_view domain = text.substr(0, nul), vmi = text.substr(nul + 1);
  if (!k6t::sidecar::ParseHookInput(domain, vmi).ok()) return 0;

  k6t::binding::PodNetworkRequest pod;
  k6t::binding::testing::UseFakeKernel(pod, *kernel);
  auto once = k6t::sidecar::DefineDomain(domain, vmi, {}, pod);
  if (!once.ok()) return 0;
  auto twice = k6t::sidecar::DefineDomain(once->domain_xml, vmi, {}, pod);
  if (!twice.ok() || twice->domain_xml != once->domain_xml) std::abort();
  return 0;
}
