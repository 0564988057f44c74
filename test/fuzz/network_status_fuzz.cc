// ParseNetworkStatus / ParseNetworkInfo on any input; what parses must serialize and parse
// back to the same number of entries.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "k6t/api/network_status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto status = k6t::api::ParseNetworkStatus(text);
  if (status.ok()) {
    auto again = k6t::api::ParseNetworkStatus(k6t::api::SerializeNetworkStatus(*status));
    if (!again.ok() || again->size() != status->size()) std::abort();
  }
  (void)k6t::api::ParseNetworkInfo(text);
  return 0;
}
