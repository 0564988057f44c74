// domxml::ParseXml on any input (the KubeVirt hook sidecar reads KubeVirt's domain XML with
// it; the launcher reads libvirt's). What parses is emitted; the emitted document must parse
// back and emit the same bytes (the emitter loses nothing it would need the second time).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "k6t/domxml/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = k6t::domxml::ParseXml(text, "fuzz");
  if (!doc.ok()) return 0;
  const std::string once = doc->Emit();
  auto again = k6t::domxml::ParseXml(once, "fuzz");
  if (!again.ok() || again->Emit() != once) std::abort();
  return 0;
}
