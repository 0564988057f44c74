// The network values of k6t/api/net.h on any text: no crash, no sanitizer report, and
// whatever parses prints in a canonical form that parses back to the same value (so decoding
// a spec twice, or a plan's text in the kernel adapters, can never drift).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "k6t/api/net.h"

namespace {

template <typename T>
void RoundTrip(std::string_view text) {
  auto v = T::Parse(text);
  if (!v.ok()) return;
  const std::string canonical = v->ToString();
  auto again = T::Parse(canonical);
  if (!again.ok() || !(*again == *v) || again->ToString() != canonical) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  RoundTrip<k6t::api::MacAddress>(text);
  RoundTrip<k6t::api::IpAddress>(text);
  RoundTrip<k6t::api::IpPrefix>(text);
  RoundTrip<k6t::api::PciAddress>(text);
  if (auto p = k6t::api::IpPrefix::Parse(text); p.ok()) {
    // A prefix contains its own address, its network and every host it can name.
    if (!p->Contains(p->address()) || !p->Contains(p->Network())) std::abort();
    for (uint64_t offset : {uint64_t{0}, uint64_t{1}, uint64_t{255}, ~uint64_t{0}})
      if (auto h = p->Host(offset); h && !p->Contains(*h)) std::abort();
  }
  return 0;
}
