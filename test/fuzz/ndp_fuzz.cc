// Router solicitation parsing (what a guest sends to the RA server) and the RA codec.
#include <cstdint>
#include <cstdlib>

#include "k6t/dhcp/ndp_packet.h"

using namespace k6t::dhcp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  auto rs = ParseRouterSolicit(in);
  if (rs.ok() && (size < 8 || data[0] != kIcmpv6RouterSolicit)) abort();
  auto ra = ParseRouterAdvert(in);
  if (ra.ok()) {
    // What we parsed re-encodes into something that parses to the same values.
    auto again = ParseRouterAdvert(EncodeRouterAdvert(*ra));
    if (!again.ok() || again->prefix != ra->prefix || again->mtu != ra->mtu ||
        again->router_lifetime != ra->router_lifetime || again->managed != ra->managed)
      abort();
  }
  return 0;
}
