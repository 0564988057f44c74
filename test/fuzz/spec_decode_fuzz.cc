// DecodeManifest + ApplyDefaults + Validate + EncodeVmiJson on any input: no crash, no hang,
// no sanitizer report; a decoded VM re-encodes to JSON that decodes to the same model
// (networks, interfaces, volumes and disks).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "k6t/api/decode.h"
#include "k6t/api/naming.h"
#include "k6t/api/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  k6t::api::DecodeLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_nodes = 1 << 16;  // keeps each run fast while still exercising the bound
  auto report = k6t::api::DecodeManifestReport(text, "fuzz", limits);
  for (const auto& vmi : report.manifest.vms) {
    (void)k6t::api::Validate(vmi);
    (void)k6t::api::PodInterfaceNames(vmi);
    const std::string json = k6t::api::EncodeVmiJson(vmi);
    auto back = k6t::api::DecodeSingleVmi(json, "fuzz-roundtrip");
    // Anything the decoder produced must survive its own encoding unchanged.
    if (back.ok() && (back->spec.networks != vmi.spec.networks ||
                      back->spec.domain.interfaces != vmi.spec.domain.interfaces ||
                      back->spec.volumes != vmi.spec.volumes ||
                      back->spec.domain.disks != vmi.spec.domain.disks))
      std::abort();
  }
  return 0;
}
