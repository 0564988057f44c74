// DecodeManifest + ApplyDefaults + Validate + EncodeVmiJson on any input: no crash, no hang,
// no sanitizer report; a decoded VM re-encodes to JSON that decodes to the same model
// (networks, interfaces, volumes and disks).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "k6t/api/decode.h"
#include "k6t/api/naming.h"
#include "k6t/api/validate.h"

namespace {

// Where a disk stood in its source document is not part of the model: the encoding leaves
// out the disks the decoder dropped (no name, not an object), so later positions shift.
std::vector<k6t::api::Disk> WithoutSourcePositions(std::vector<k6t::api::Disk> disks) {
  for (auto& d : disks) d.source_index = -1;
  return disks;
}

}  // namespace

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
                      WithoutSourcePositions(back->spec.domain.disks) !=
                          WithoutSourcePositions(vmi.spec.domain.disks)))
      std::abort();
  }
  return 0;
}
